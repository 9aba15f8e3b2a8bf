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
    let mut out = String::with_capacity(wat.len());
    let mut stubbed: Vec<String> = Vec::new();
    let mut skipping = false;
    for line in wat.lines() {
        if line.starts_with(" (") || line.starts_with(')') {
            skipping = false;
            let name = func_name(line);
            let plain = name.map(|n| unhashed(n.trim_matches('"')));
            if let (Some(name), Some(plain)) = (name, plain) {
                if entries.contains(&plain.as_str()) {
                    stubbed.push(["$", name].concat());
                    out.push_str(line);
                    out.push_str("\n  (unreachable)\n )\n");
                    skipping = true;
                    continue;
                }
            }
        }
        if !skipping {
            out.push_str(line);
            out.push('\n');
        }
    }
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
