//! Text encodings shared by the iCalendar and email writers: escaping, folding, base64, RFC 2047.

/// iCalendar TEXT escaping (RFC 5545 3.3.11): `\ ; ,` and newlines; other control characters
/// are dropped because TEXT may not contain them.
pub(crate) fn ics_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push_str("\\n");
            }
            '\n' => out.push_str("\\n"),
            '\t' => out.push(' '),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// An iCalendar parameter value, always quoted; `"` and control characters cannot appear in
/// one (RFC 5545 3.1), so they are replaced.
pub(crate) fn ics_param(s: &str) -> String {
    let cleaned: String = s
        .chars()
        .map(|c| if c == '"' { '\'' } else { c })
        .filter(|c| !c.is_control())
        .collect();
    format!("\"{cleaned}\"")
}

/// Folds one content line at 75 octets without splitting a UTF-8 character, and ends it
/// with CRLF. Continuation lines start with a space, which counts toward their 75.
pub(crate) fn fold_ics_line(line: &str, out: &mut String) {
    let mut budget = 75;
    let mut used = 0;
    for c in line.chars() {
        let n = c.len_utf8();
        if used + n > budget {
            out.push_str("\r\n ");
            budget = 74;
            used = 0;
        }
        out.push(c);
        used += n;
    }
    out.push_str("\r\n");
}

/// Escapes text for HTML element content and attribute values: the engine's one rule.
pub use dynchat_engine::html::escape as html;

/// One line of text for a header or a token: CR, LF and other control characters become spaces.
pub(crate) fn single_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_owned()
}

/// Standard base64 with padding, on one line (the `base64` crate's standard alphabet).
pub(crate) fn base64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Base64 in lines of 76 characters, each ended with CRLF (a MIME body).
pub(crate) fn base64_body(bytes: &[u8]) -> String {
    let one = base64(bytes);
    let mut out = String::with_capacity(one.len() + one.len() / 76 * 2 + 2);
    for chunk in one.as_bytes().chunks(76) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push_str("\r\n");
    }
    out
}

/// Whether a phrase can go into a header as-is (printable ASCII atoms and spaces).
fn is_plain_phrase(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b" !#$%&'*+-/=?^_`{|}~.".contains(&b))
        && !s.starts_with(' ')
}

/// Header text as RFC 2047 `=?UTF-8?B?...?=` words (at most 39 source octets each, so a word
/// is at most 64 characters and fits a 78-character line after any header name used here), folded with CRLF SP between words. Plain ASCII text
/// without specials is left as is. The input is first made a single line.
pub(crate) fn header_words(s: &str) -> String {
    let s = single_line(s);
    if is_plain_phrase(&s) && s.len() <= 60 {
        return s;
    }
    let mut words = Vec::new();
    let mut start = 0;
    let mut end = 0;
    for (i, c) in s.char_indices() {
        if i + c.len_utf8() - start > 39 {
            words.push(&s[start..end]);
            start = i;
        }
        end = i + c.len_utf8();
    }
    if start < s.len() {
        words.push(&s[start..]);
    }
    words
        .iter()
        .map(|w| format!("=?UTF-8?B?{}?=", base64(w.as_bytes())))
        .collect::<Vec<_>>()
        .join("\r\n ")
}

/// FNV-1a, for deterministic MIME boundaries.
pub(crate) fn fnv1a(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_known_vectors() {
        for (input, expected) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(input.as_bytes()), expected);
        }
    }

    #[test]
    fn folding_keeps_characters_whole() {
        let mut out = String::new();
        fold_ics_line(&format!("SUMMARY:{}", "é".repeat(80)), &mut out);
        for line in out.split("\r\n").filter(|l| !l.is_empty()) {
            assert!(line.len() <= 75, "{} octets", line.len());
        }
        let joined: String = out.split("\r\n ").collect::<Vec<_>>().concat();
        assert_eq!(joined, format!("SUMMARY:{}\r\n", "é".repeat(80)));
    }

    #[test]
    fn escapes() {
        assert_eq!(ics_text("a,b;c\\d\r\ne\nf\u{7}"), "a\\,b\\;c\\\\d\\ne\\nf");
        assert_eq!(ics_param("Jane \"JJ\" Doe\r\n"), "\"Jane 'JJ' Doe\"");
        assert_eq!(
            html("<a href='x'>&\"</a>"),
            "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;"
        );
        assert_eq!(single_line("Hi\r\nBcc: x@y"), "Hi  Bcc: x@y");
        assert_eq!(header_words("Plain subject"), "Plain subject");
        assert!(header_words("Hi\r\nBcc: x@y").starts_with("=?UTF-8?B?"));
    }
}
