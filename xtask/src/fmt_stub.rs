//! `core::fmt`'s machinery in the chat module, stubbed to `unreachable` after the panic entry points (`widget::stub_panics`): it is reached only from the panic payloads and the function table.
//!
//! Std-only: `widget.rs` includes it with `#[path]`, and so do the e2e tests that include that.
//!
//! With the panic entry points stubbed, nothing on the chat module's paths formats (no `format!`,
//! no `to_string` of a `Display` type, no `write!`: docs/widget.md), yet `core::fmt::write`,
//! `Formatter::pad`, `pad_integral` and the `Display` impls they call stay: the panic payloads and
//! the `Display` impls sit in the function table, which binaryen cannot prove unused. Stubbing the
//! few entries below drops them (about 1.1 KB of brotli). A stubbed function that something
//! calls by name would trap where it used to format, so the build fails instead when any of
//! them is named anywhere but at its own definition and in the function table: a `format!` on
//! the chat module's path calls `core::fmt::write` by name, a `to_string()` its type's `Display`.

/// The functions stubbed, by their names with the crates' hashes (`core[0123456789abcdef]`)
/// removed. One that the module does not have is skipped (not stubbing is always safe).
pub const CHAT_FMT_ENTRIES: [&str; 15] = [
    "core::fmt::write",
    "<alloc::string::String as core::fmt::Write>::write_fmt",
    "<u32 as core::fmt::Display>::fmt",
    "<&str as core::fmt::Display>::fmt",
    "<core::cell::BorrowError as core::fmt::Display>::fmt",
    "<core::cell::BorrowMutError as core::fmt::Display>::fmt",
    "<std::panicking::panic_handler::FormatStringPayload as core::fmt::Display>::fmt",
    "<std::panicking::panic_handler::FormatStringPayload as core::panic::PanicPayload>::take_box",
    "<std::panicking::panic_handler::FormatStringPayload as core::panic::PanicPayload>::get",
    "core::ptr::drop_in_place::<std::panicking::panic_handler::FormatStringPayload>",
    "<std::panicking::panic_handler::StaticStrPayload as core::fmt::Display>::fmt",
    "<std::panicking::panic_handler::StaticStrPayload as core::panic::PanicPayload>::take_box",
    "<std::panicking::panic_handler::StaticStrPayload as core::panic::PanicPayload>::get",
    "<std::panicking::panic_handler::StaticStrPayload as core::panic::PanicPayload>::as_str",
    "<std::panicking::begin_panic::Payload<&str> as core::panic::PanicPayload>::as_str",
];

/// `name` without the crates' hashes: `core[c5930c85a12de822]::fmt` -> `core::fmt`.
pub fn unhashed(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut rest = name;
    while let Some(i) = rest.find('[') {
        let tail = &rest[i + 1..];
        let hash = tail.len() > 16
            && tail.as_bytes()[16] == b']'
            && tail.as_bytes()[..16].iter().all(u8::is_ascii_hexdigit);
        out.push_str(&rest[..i]);
        if hash {
            rest = &tail[17..];
        } else {
            out.push('[');
            rest = tail;
        }
    }
    out.push_str(rest);
    out
}

/// The name (`$x` or `$"..."`, as written) of the function a binaryen text line `line` defines.
fn func_name(line: &str) -> Option<&str> {
    let rest = line.strip_prefix(" (func $")?;
    if let Some(quoted) = rest.strip_prefix('"') {
        let mut escaped = false;
        for (i, b) in quoted.bytes().enumerate() {
            match b {
                b'\\' if !escaped => escaped = true,
                b'"' if !escaped => return Some(&rest[..i + 2]),
                _ => escaped = false,
            }
        }
        None
    } else {
        let end = rest.find([' ', ')']).unwrap_or(rest.len());
        Some(&rest[..end])
    }
}

/// `wat` (binaryen's text form) with the body of each function named in `entries`
/// ([`CHAT_FMT_ENTRIES`], hashes removed) replaced by `unreachable`, and how many were stubbed;
/// an error naming the first stubbed function that is named anywhere but at its definition and
/// in the function table (`(elem ...)`): something calls it, so it must stay.
pub fn stub_fmt(wat: &str, entries: &[&str]) -> Result<(String, usize), String> {
    let mut stubbed: Vec<String> = Vec::new();
    let out = super::stub_where(wat, |line| match func_name(line) {
        Some(name) if entries.contains(&unhashed(name.trim_matches('"')).as_str()) => {
            stubbed.push(["$", name].concat());
            true
        }
        _ => false,
    });
    let mut within = "";
    for line in out.lines() {
        if let Some(f) = func_name(line) {
            within = f;
            continue;
        }
        if line.starts_with(" (elem ") {
            continue;
        }
        if let Some(name) = stubbed.iter().find(|n| names(line, n)) {
            return Err(format!(
                "{name} is used by name in ${within} ({}): a format on the chat module's path? It cannot be stubbed",
                line.trim()
            ));
        }
    }
    Ok((out, stubbed.len()))
}

/// Whether `line` names `name` (`$x` or `$"..."`) as a whole identifier.
fn names(line: &str, name: &str) -> bool {
    line.match_indices(name).any(|(i, _)| {
        name.ends_with('"')
            || !line[i + name.len()..]
                .starts_with(|c: char| c.is_ascii_alphanumeric() || "_.$:<>[]".contains(c))
    })
}

/// `wat` with the source paths of panic locations (the file names of `Location`s, which only the
/// stubbed panic entry points read) in its data segments overwritten with zero bytes, which
/// binaryen's memory packing then leaves out; and how many bytes were zeroed. A path starts
/// with one of `roots` (`/rustc/`, the cargo home, the workspace's top directories: strings
/// are packed without separators, so the root tells where the path begins), has `/src/` and
/// ends in `.rs`. The messages of the standard library's own panics ([`PANIC_MESSAGES`], read
/// only by the stubbed entry points and `fmt` functions, never shown) are zeroed too.
pub fn zero_panic_paths(wat: &str, roots: &[String]) -> (String, usize) {
    let mut zeroed = 0;
    let out = map_data(wat, |_, bytes| {
        zeroed += zero_paths(bytes, roots) + zero_messages(bytes)
    });
    (out, zeroed)
}

/// `wat` with the bytes of each data segment passed through `f` (with the segment's address,
/// `(i32.const N)`, or 0 for a passive one) and written back.
fn map_data(wat: &str, mut f: impl FnMut(u64, &mut Vec<u8>)) -> String {
    let mut out = String::with_capacity(wat.len());
    for line in wat.lines() {
        let body = line
            .strip_prefix(" (data ")
            .and_then(|_| line.find(") \""))
            .filter(|_| line.ends_with("\")"));
        let Some(start) = body.map(|i| i + 3) else {
            out.push_str(line);
            out.push('\n');
            continue;
        };
        let Some(mut bytes) = unescape(&line[start..line.len() - 2]) else {
            out.push_str(line);
            out.push('\n');
            continue;
        };
        let addr = line
            .split_once("(i32.const ")
            .and_then(|(_, r)| r.split_once(')'))
            .and_then(|(n, _)| n.parse().ok())
            .unwrap_or(0);
        f(addr, &mut bytes);
        out.push_str(&line[..start]);
        for b in bytes {
            if b.is_ascii_graphic() && b != b'"' && b != b'\\' || b == b' ' {
                out.push(char::from(b));
            } else {
                out.push_str(&format!("\\{b:02x}"));
            }
        }
        out.push_str("\")\n");
    }
    out
}

/// `core::fmt`'s table of two-digit pairs (`"00"` to `"99"`), which its integer formatting
/// reads and nothing else: with the panic entry points (and the chat module's `fmt` entries)
/// stubbed, 200 B of data nobody reads.
pub fn digit_pairs() -> Vec<u8> {
    (0..200u8)
        .map(|i| b'0' + if i % 2 == 0 { i / 20 } else { i / 2 % 10 })
        .collect()
}

/// `wat` with the digit-pair table ([`digit_pairs`]) zeroed, which binaryen's memory packing then
/// leaves out, and the table's address (`None`: not found, nothing zeroed). Whether anything
/// still reads it is known only once the module is optimised: [`check_unread`].
pub fn zero_digit_pairs(wat: &str) -> (String, Option<u64>) {
    let pairs = digit_pairs();
    let mut at = None;
    let out = map_data(wat, |addr, bytes| {
        if let Some(i) = bytes.windows(pairs.len()).position(|w| w == pairs) {
            bytes[i..i + pairs.len()].fill(0);
            at = Some(addr + i as u64);
        }
    });
    (out, at)
}

/// An error naming the first line of `wat` (binaryen's text of the optimised module) outside its
/// data segments with a number in `addr .. addr + len`: an instruction that can read the zeroed
/// table (a constant address or a load's `offset=`), so the zeroing would change what it reads.
/// Binaryen keeps data at its linked addresses and LLVM addresses a table from its start.
pub fn check_unread(wat: &str, addr: u64, len: u64) -> Result<(), String> {
    for line in wat.lines().filter(|l| !l.starts_with(" (data ")) {
        let hit = line
            .split(|c: char| !c.is_ascii_digit())
            .filter_map(|n| n.parse::<u64>().ok())
            .any(|n| (addr..addr + len).contains(&n));
        if hit {
            return Err(format!(
                "the zeroed digit-pair table at {addr} may be read ({}): integer formatting on the chat module's path?",
                line.trim()
            ));
        }
    }
    Ok(())
}

/// The bytes of a binaryen string literal's inside (`\xx`, `\t`, `\n`, `\r`, `\"`, `\'`, `\\`).
fn unescape(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'\\' {
            out.push(b[i]);
            i += 1;
            continue;
        }
        let c = *b.get(i + 1)?;
        let simple = match c {
            b't' => Some(b'\t'),
            b'n' => Some(b'\n'),
            b'r' => Some(b'\r'),
            b'"' | b'\'' | b'\\' => Some(c),
            _ => None,
        };
        if let Some(v) = simple {
            out.push(v);
            i += 2;
        } else {
            let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        }
    }
    Some(out)
}

/// Zeroes every path (see [`zero_panic_paths`]) in `bytes`; the number of bytes zeroed.
fn zero_paths(bytes: &mut [u8], roots: &[String]) -> usize {
    let path = |b: u8| b.is_ascii_alphanumeric() || b"_.-/[]".contains(&b);
    let mut zeroed = 0;
    let mut i = 0;
    while i < bytes.len() {
        if !path(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && path(bytes[i]) {
            i += 1;
        }
        // The longest prefix of the run that ends in `.rs` (a path can run into the next
        // string), from the first root on (the previous string can run into it).
        let run = &bytes[start..i];
        let Some(end) = (3..=run.len()).rev().find(|&e| run[..e].ends_with(b".rs")) else {
            continue;
        };
        let from = (0..end).find(|&k| {
            roots.iter().any(|r| run[k..end].starts_with(r.as_bytes()))
                && run[k..end].windows(5).any(|w| w == b"/src/")
        });
        if let Some(k) = from {
            bytes[start + k..start + end].fill(0);
            zeroed += end - k;
        }
    }
    zeroed
}

/// The texts of panics in `core`, `alloc` and `std` that the chat module links (slice and index
/// checks, `unwrap` of `None`, `RefCell`, `Once`, capacity overflow...): only the stubbed panic
/// entry points and `fmt` functions read them (a panic traps before any message is formatted).
/// wasm-bindgen's own texts (`throw_str`: JavaScript errors) are not among them. One the module
/// does not have is skipped.
pub const PANIC_MESSAGES: [&str; 24] = [
    "slice index starts at ",
    " but ends at ",
    " index out of bounds: the len is ",
    " but the index is ",
    "range start index ",
    "range end index ",
    " out of range for slice of length ",
    "copy_from_slice: source slice length (",
    ") does not match destination slice length (",
    "insertion index (is ",
    ") should be <= len (is ",
    "removal index (is ",
    ") should be < len (is ",
    "internal error: entered unreachable code",
    "capacity overflow",
    "Once instance has previously been poisoned",
    "one-time initialization may not be performed recursively",
    "attempt to join into collection with len > usize::MAX",
    "Tried to shrink to a larger capacity",
    "called `Option::unwrap()` on a `None` value",
    "LazyCell instance has previously been poisoned",
    "attempt to calculate the remainder with a divisor of zero",
    "RefCell already mutably borrowed",
    "RefCell already borrowed",
];

/// Zeroes every occurrence of each of [`PANIC_MESSAGES`] in `bytes`; the number of bytes zeroed.
fn zero_messages(bytes: &mut [u8]) -> usize {
    let mut zeroed = 0;
    for m in PANIC_MESSAGES.map(str::as_bytes) {
        let mut i = 0;
        while i + m.len() <= bytes.len() {
            if &bytes[i..i + m.len()] == m {
                bytes[i..i + m.len()].fill(0);
                zeroed += m.len();
                i += m.len();
            } else {
                i += 1;
            }
        }
    }
    zeroed
}
