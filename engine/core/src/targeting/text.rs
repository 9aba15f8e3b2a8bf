//! Text, number and clock helpers of targeting, small enough for the browser build: substring
//! search, lower-casing, number parsing and printing without std's float formatting, weekdays.

/// Byte-wise substring search: both sides are UTF-8, so a match starts on a character boundary.
/// (Plain loops instead of `str::find`'s two-way searcher keep the browser's wasm small; rule
/// operands and page texts are short.)
pub fn find_str(hay: &str, needle: &str) -> Option<usize> {
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    if n.is_empty() {
        return Some(0);
    }
    if n.len() > h.len() {
        return None;
    }
    (0..=h.len() - n.len()).find(|&i| &h[i..i + n.len()] == n)
}

/// Stable insertion sort (few elements; much less code than the standard sorts).
pub(super) fn insertion_sort_by<T>(v: &mut [T], less: impl Fn(&T, &T) -> bool) {
    for i in 1..v.len() {
        let mut j = i;
        while j > 0 && less(&v[j], &v[j - 1]) {
            v.swap(j, j - 1);
            j -= 1;
        }
    }
}

/// Parses `HH:MM` into minutes since midnight.
pub fn parse_hhmm(s: &str) -> Option<f64> {
    let (h, m) = s.trim().split_once(':')?;
    let h = parse_uint(h)?;
    let m = parse_uint(m)?;
    (h < 24 && m < 60).then_some((h * 60 + m) as f64)
}

/// Digits only (an optional leading `+`, as `u32::from_str` accepts), at most 9 of them.
pub(super) fn parse_uint(s: &str) -> Option<u32> {
    let d = s.strip_prefix('+').unwrap_or(s);
    if d.is_empty() || d.len() > 9 || !d.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(d.bytes().fold(0, |n, b| n * 10 + u32::from(b - b'0')))
}

/// A leading `-` (true) or `+` at `b[*i]`, stepped over.
fn sign(b: &[u8], i: &mut usize) -> bool {
    match b.get(*i) {
        Some(&c @ (b'-' | b'+')) => {
            *i += 1;
            c == b'-'
        }
        _ => false,
    }
}

/// Parses a decimal number (`-12`, `3.5`, `.5`, `1e3`, surrounding whitespace allowed) without
/// the standard library's float parser, which would add tens of KB to the browser's wasm.
/// Up to 19 significant digits are exact; `inf`/`nan` are not numbers here.
pub fn parse_num(s: &str) -> Option<f64> {
    // `s.trim()` by hand: white space skipped here, and what follows the number must be white
    // space (`blank`); `trim`'s two-way scan is 0.5 KB of the browser's targeting module. `i` only
    // moves past ASCII bytes after the leading white space, so it is always a character boundary.
    let b = s.as_bytes();
    let mut i = s
        .char_indices()
        .find(|(_, c)| !c.is_whitespace())
        .map_or(s.len(), |(i, _)| i);
    let done = |i: usize| s.get(i..).is_some_and(blank);
    let neg = sign(b, &mut i);
    let (mut mant, mut exp, mut digits, mut sig) = (0u64, 0i32, 0usize, 0usize);
    let mut seen_dot = false;
    while i < b.len() {
        match b[i] {
            c @ b'0'..=b'9' => {
                digits += 1;
                if sig < 19 {
                    if mant > 0 || c != b'0' {
                        sig += 1;
                    }
                    mant = mant * 10 + u64::from(c - b'0');
                    if seen_dot {
                        exp -= 1;
                    }
                } else if !seen_dot {
                    exp += 1;
                }
            }
            b'.' if !seen_dot => seen_dot = true,
            _ => break,
        }
        i += 1;
    }
    if digits == 0 {
        return None;
    }
    if !done(i) {
        if b[i] != b'e' && b[i] != b'E' {
            return None;
        }
        i += 1;
        let eneg = sign(b, &mut i);
        let start = i;
        let mut e = 0i32;
        while i < b.len() && b[i].is_ascii_digit() {
            e = (e * 10 + i32::from(b[i] - b'0')).min(10_000);
            i += 1;
        }
        if i == start || !done(i) {
            return None;
        }
        exp += if eneg { -e } else { e };
    }
    let mut v = mant as f64;
    // Dividing by an exact power of ten (up to 1e22) is correctly rounded; beyond that, step.
    while exp < 0 {
        let k = (-exp).min(22);
        v /= POW10[k as usize];
        exp += k;
    }
    while exp > 0 && v.is_finite() {
        let k = exp.min(22);
        v *= POW10[k as usize];
        exp -= k;
    }
    Some(if neg { -v } else { v })
}

/// Empty or white space only (`s.trim().is_empty()` without `trim`).
pub(super) fn blank(s: &str) -> bool {
    s.chars().all(char::is_whitespace)
}

pub(super) const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// Decimal text of an integer, without `core::fmt`.
pub fn int_text(n: i128) -> String {
    let mut s = String::new();
    crate::json::write_wide_int(&mut s, n);
    s
}

/// Text of a number as rules compare it: integers without a fraction (`3`), others with the
/// fewest decimals (up to 9) that give the same value back (`2.5`, `0.1`).
pub fn num_text(n: f64) -> String {
    if !n.is_finite() {
        return if n.is_nan() {
            "NaN".into()
        } else if n > 0.0 {
            "inf".into()
        } else {
            "-inf".into()
        };
    }
    if n.fract() == 0.0 && n.abs() < 1e38 {
        return int_text(whole(n));
    }
    let mut k = 1;
    let mut scaled = (n * 10.0).round();
    while k < 9 && scaled / POW10[k] != n {
        k += 1;
        scaled = (n * POW10[k]).round();
    }
    // The digits of `|scaled|`, zero-padded on the left to at least `k + 1`, with a point before
    // the last `k` and trailing zeros of the fraction dropped; pushed one by one (no `repeat`,
    // split or trim: the browser's targeting module has this inlined into its rule evaluation).
    let digits = int_text(whole(scaled).abs());
    let d = digits.as_bytes();
    let pad = (k + 1).saturating_sub(d.len());
    let len = pad + d.len();
    let at = |i: usize| if i < pad { b'0' } else { d[i - pad] };
    let mut end = len;
    while end > len - k && at(end - 1) == b'0' {
        end -= 1;
    }
    let mut out = String::with_capacity(end + 2);
    if n < 0.0 {
        out.push('-');
    }
    for i in 0..end {
        if i == len - k {
            out.push('.');
        }
        out.push(char::from(at(i)));
    }
    out
}

/// `n as i128` for a whole, infinite or NaN `n` (saturating too), in two 64-bit halves: the
/// float-to-`i128` cast links compiler-rt's `__fixdfti` into the browser's modules (289 B in the
/// targeting module); float-to-`u64` is one wasm instruction. Both halves are exact: dividing by
/// 2^64 is exact, and the low half is the low bits of `n`'s mantissa.
fn whole(n: f64) -> i128 {
    const TWO64: f64 = 18_446_744_073_709_551_616.0;
    let a = n.abs();
    if a >= TWO64 * 9_223_372_036_854_775_808.0 {
        return if n < 0.0 { i128::MIN } else { i128::MAX };
    }
    let hi = (a / TWO64).trunc();
    let v = i128::from(hi as u64) << 64 | i128::from((a - hi * TWO64) as u64);
    if n < 0.0 {
        -v
    } else {
        v
    }
}

/// Lower-cases text the way rules compare it. With the `unicode` feature (default): full Unicode
/// (`str::to_lowercase`). Without it (the browser's modules, to leave out the Unicode case
/// tables): ASCII, Latin-1, Latin Extended-A, Greek and Cyrillic (the targeting module: its host
/// lower-cases page text itself before handing it over; the chat module lower-cases branch facts
/// with JavaScript's `toLowerCase` through its `machine::BranchJudge`, so it links none of this).
pub fn lower(s: &str) -> String {
    #[cfg(feature = "unicode")]
    {
        s.to_lowercase()
    }
    #[cfg(not(feature = "unicode"))]
    {
        // One loop for ASCII and the small fold alike (`fold_char` lower-cases ASCII as
        // `to_ascii_lowercase` does): a second, ASCII-only copy cost the targeting module bytes.
        let mut out = String::with_capacity(s.len());
        for c in s.chars() {
            out.push(fold_char(c));
        }
        out
    }
}

/// The small case fold used without the `unicode` feature.
#[cfg(any(not(feature = "unicode"), test))]
pub(crate) fn fold_char(c: char) -> char {
    let u = c as u32;
    let l = match u {
        0x41..=0x5A | 0xC0..=0xD6 | 0xD8..=0xDE | 0x391..=0x3A1 | 0x3A3..=0x3AB | 0x410..=0x42F => {
            u + 0x20
        }
        0x400..=0x40F => u + 0x50,
        0x386 => 0x3AC,
        0x388..=0x38A => u + 37,
        0x38C => 0x3CC,
        0x38E | 0x38F => u + 63,
        0x178 => 0xFF,
        0x130 => 0x69,
        0x100..=0x137 | 0x14A..=0x177 if u % 2 == 0 => u + 1,
        0x139..=0x148 | 0x179..=0x17E if u % 2 == 1 => u + 1,
        _ => u,
    };
    char::from_u32(l).unwrap_or(c)
}

pub(super) const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// A query-string component decoded: `+` is a space, `%xx` a byte, invalid UTF-8 replaced.
/// Hand-written on purpose: the `percent-encoding` crate adds about 2 KB to the browser's
/// targeting module (measured), which only needs this.
pub(super) fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                // Two hex digits, or a `+` and one (what `u8::from_str_radix(_, 16)` read here
                // before: it takes a leading `+`); by hand, which leaves std's integer parser out.
                let hex = match (b[i + 1], hex_digit(b[i + 2])) {
                    (b'+', lo) => lo,
                    (hi, lo) => hex_digit(hi).zip(lo).map(|(h, l)| h << 4 | l),
                };
                match hex {
                    Some(v) => {
                        out.push(v);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    // `String::from_utf8_lossy` by hand (each invalid sequence, as long as its valid prefix, is
    // one U+FFFD): its chunk iterator is 0.5 KB of the targeting module, `from_utf8` is there anyway.
    let mut text = String::with_capacity(out.len());
    let mut rest = &out[..];
    loop {
        match std::str::from_utf8(rest) {
            Ok(s) => {
                text.push_str(s);
                return text;
            }
            Err(e) => {
                let (ok, bad) = rest.split_at(e.valid_up_to());
                text.push_str(std::str::from_utf8(ok).unwrap_or_default());
                text.push('\u{fffd}');
                rest = bad
                    .get(e.error_len().unwrap_or(bad.len())..)
                    .unwrap_or_default();
            }
        }
    }
}

/// The value of one hex digit.
fn hex_digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Minutes since local midnight for a local-time instant (ms).
pub fn minute_of_day(local_ms: i64) -> i64 {
    local_ms.div_euclid(60_000).rem_euclid(1440)
}

/// Monday = 0 .. Sunday = 6 for a local-time instant (ms). 1970-01-01 was a Thursday.
pub fn weekday_index(local_ms: i64) -> usize {
    (local_ms.div_euclid(86_400_000) + 3).rem_euclid(7) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_fold_agrees_with_unicode_where_it_folds() {
        for u in 0u32..0x600 {
            let Some(c) = char::from_u32(u) else { continue };
            let f = fold_char(c);
            if f != c && u != 0x130 {
                assert_eq!(
                    c.to_lowercase().collect::<String>(),
                    f.to_string(),
                    "U+{u:04X}"
                );
            }
        }
        let folded = (0u32..0x600)
            .filter_map(char::from_u32)
            .filter(|&c| fold_char(c) != c)
            .count();
        assert!(folded >= 190, "{folded}");
    }

    #[test]
    fn numbers_without_std_float_text() {
        for (s, want) in [
            ("3", Some(3.0)),
            (" -12 ", Some(-12.0)),
            ("2.5", Some(2.5)),
            (".5", Some(0.5)),
            ("1e3", Some(1000.0)),
            ("1.5E-2", Some(0.015)),
            ("0.1", Some(0.1)),
            ("750", Some(750.0)),
            ("", None),
            ("-", None),
            ("1.2.3", None),
            ("12px", None),
            ("1e", None),
            ("inf", None),
        ] {
            assert_eq!(parse_num(s), want, "{s}");
            if let Some(w) = want {
                assert_eq!(parse_num(s), s.trim().parse::<f64>().ok(), "{s} vs std");
                let _ = w;
            }
        }
        for n in [
            0.0,
            3.0,
            -12.0,
            2.5,
            0.1,
            0.015,
            -0.5,
            1234.5678,
            1e20,
            123456789.25,
            -0.75,
            1e22,
            9007199254740993.0,
        ] {
            assert_eq!(num_text(n), n.to_string(), "{n}");
        }
        // `whole` is the cast it replaces, for whole numbers of every size and the infinities.
        let mut x = 1.0f64;
        for _ in 0..1600 {
            for n in [x, -x, x.trunc(), -(x * 0.7).trunc(), (x * 3.3).trunc()] {
                if n.fract() == 0.0 || n.is_infinite() {
                    assert_eq!(whole(n), n as i128, "{n}");
                }
            }
            x *= 1.6;
        }
        assert_eq!(whole(0.0), 0);
        assert_eq!(whole(-0.0), 0);
        assert_eq!(whole(f64::NAN), 0, "NaN as i128 is 0");
        assert_eq!(int_text(-1234567890123), "-1234567890123");
        assert_eq!(int_text(0), "0");
    }

    #[test]
    fn numbers_read_as_their_trimmed_text() {
        let spaces = ["", " ", "\t\n", "\u{a0}", "\u{2003} ", "\u{3000}"];
        let cores = [
            "3", "-12", "+2.5", ".5", "1e3", "1.5E-2", "", "-", "1 2", "1 e3", "1e 3", "1e", "e3",
            "12px", "1.2.3", "\u{a0}", "4\u{a0}5", "7é",
        ];
        for lead in spaces {
            for core in cores {
                for tail in spaces {
                    let s = [lead, core, tail].concat();
                    let want = s.trim().parse::<f64>().ok().filter(|n| n.is_finite());
                    assert_eq!(parse_num(&s), want, "{s:?}");
                }
            }
        }
        assert!(blank("") && blank(" \u{a0}\u{3000}\t") && !blank(" a "));
    }

    /// The fraction layout [`num_text`] had before it pushed its digits one by one.
    fn num_text_before(n: f64) -> String {
        if !n.is_finite() || (n.fract() == 0.0 && n.abs() < 1e38) {
            return num_text(n);
        }
        let mut k = 1;
        let mut scaled = (n * 10.0).round();
        while k < 9 && scaled / POW10[k] != n {
            k += 1;
            scaled = (n * POW10[k]).round();
        }
        let digits = int_text(whole(scaled).abs());
        let digits = if digits.len() <= k {
            let mut z = "0".repeat(k + 1 - digits.len());
            z.push_str(&digits);
            z
        } else {
            digits
        };
        let (int, frac) = digits.split_at(digits.len() - k);
        let frac = frac.trim_end_matches('0');
        let sign = if n < 0.0 { "-" } else { "" };
        let point = if frac.is_empty() { "" } else { "." };
        [sign, int, point, frac].concat()
    }

    #[test]
    fn number_text_as_before() {
        let mut x = 1e-12f64;
        let mut seen = 0;
        while x < 1e36 {
            for n in [
                x,
                -x,
                x * 1.37,
                x / 3.0,
                x + 0.5,
                x * 7.000_000_01,
                x.round() + 0.25,
            ] {
                assert_eq!(num_text(n), num_text_before(n), "{n:e}");
                seen += usize::from(n.fract() != 0.0);
            }
            x *= 1.9;
        }
        for i in -2000..2000 {
            let n = f64::from(i) / 1000.0;
            assert_eq!(num_text(n), num_text_before(n), "{n}");
        }
        assert!(seen > 300, "{seen}");
    }

    fn hex2(x: u8) -> String {
        let d = |v: u8| char::from(b"0123456789ABCDEF"[usize::from(v)]);
        [d(x >> 4), d(x & 15)].iter().collect()
    }

    #[test]
    fn query_values_are_percent_decoded() {
        for (raw, want) in [
            ("a+b", "a b"),
            ("%41%42", "AB"),
            ("%2B1", "+1"),
            ("100%", "100%"),
            ("%4", "%4"),
            ("%zz", "%zz"),
            ("%C3%A9t%C3%A9", "\u{e9}t\u{e9}"),
            ("%FF", "\u{fffd}"),
            ("%2b%2F", "+/"),
            ("%+4x", "\u{4}x"),
            ("%++4", "%  4"),
            ("%-4", "%-4"),
            ("%4+", "%4 "),
            ("", ""),
            ("%E2%82", "\u{fffd}"),
            (
                "a%E2%82b%F0%9F%98%80%C0%AF%ED%A0%80",
                "a\u{fffd}b\u{1f600}\u{fffd}\u{fffd}\u{fffd}\u{fffd}\u{fffd}",
            ),
        ] {
            assert_eq!(percent_decode(raw), want, "{raw}");
        }
        // Invalid UTF-8 is replaced as `String::from_utf8_lossy` does, for every three bytes
        // out of a set that covers each kind of lead, continuation and invalid byte.
        let some = [
            0x41u8, 0x80, 0xBF, 0xC0, 0xC2, 0xE0, 0xE2, 0xED, 0xF0, 0xF4, 0xF5, 0xFF,
        ];
        for a in some {
            for b in some {
                for c in some {
                    let raw: String = [a, b, c]
                        .iter()
                        .map(|x| ["%", &hex2(*x)].concat())
                        .collect();
                    let want = String::from_utf8_lossy(&[a, b, c]).into_owned();
                    assert_eq!(percent_decode(&raw), want, "{raw}");
                }
            }
        }
        // The same answers as the standard library's hex parser (which this reader replaced)
        // for a `%` and every two bytes after it.
        for hi in 0..=255u8 {
            for lo in 0..=255u8 {
                let b = [b'%', hi, lo, b'.'];
                let Ok(raw) = std::str::from_utf8(&b) else {
                    continue;
                };
                // Not hex: the `%` stays, and what follows it is read on its own.
                let want = match u8::from_str_radix(&raw[1..3], 16) {
                    Ok(v) => String::from_utf8_lossy(&[v, b'.']).into_owned(),
                    Err(_) => ["%", &percent_decode(&raw[1..])].concat(),
                };
                assert_eq!(percent_decode(raw), want, "{raw:?}");
            }
        }
    }
}
