//! Lead field names and the validators for what visitors type (email, phone, name).

use serde::{Deserialize, Serialize};

/// A lead or company field name, compared without regard to case (`FirstName` = `firstName`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct FieldName(String);

impl FieldName {
    /// Normalises a field name.
    pub fn new(name: &str) -> Self {
        FieldName(name.trim().to_ascii_lowercase())
    }
    /// The normalised name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The one limit on what a visitor types (a free-text answer or a capture), in characters
/// (Unicode scalar values) after trimming. Longer answers are re-prompted with [`too_long`], never
/// cut; the widget reads this constant and must not cut the input before the engine sees it.
pub const MAX_ANSWER_CHARS: usize = 1000;

/// The most UTF-8 bytes an accepted answer can take (4 per character): what a host that stores
/// answers (the worker's `/leads` and events) must accept for one value.
pub const MAX_ANSWER_BYTES: usize = 4 * MAX_ANSWER_CHARS;

/// Most transcript lines one lead may carry (the worker refuses more with a 400).
pub const LEAD_TRANSCRIPT_LINES: usize = 500;

/// Most bytes of transcript text one lead carries: the lead's body is capped at 64 KiB and its
/// answers and fields must fit beside it.
pub const LEAD_TRANSCRIPT_BYTES: usize = 32 * 1024;

/// Which transcript lines a lead carries, given each line's length in bytes (each already at most
/// [`MAX_ANSWER_BYTES`]): the index of the first line kept. The most recent lines are kept (they
/// hold the capture), as many as fit [`LEAD_TRANSCRIPT_LINES`] and [`LEAD_TRANSCRIPT_BYTES`]
/// with room for one marker line that says how many were left out; 0 keeps them all and needs
/// no marker. A lead is never refused for the length of its conversation.
pub fn transcript_cut(line_bytes: &[usize]) -> usize {
    let total: usize = line_bytes.iter().sum();
    if line_bytes.len() <= LEAD_TRANSCRIPT_LINES && total <= LEAD_TRANSCRIPT_BYTES {
        return 0;
    }
    // Room for the marker: one line and a few dozen bytes.
    let (max_lines, max_bytes) = (LEAD_TRANSCRIPT_LINES - 1, LEAD_TRANSCRIPT_BYTES - 64);
    let mut first = line_bytes.len();
    let mut bytes = 0;
    while first > 0 {
        let next = bytes + line_bytes[first - 1];
        if line_bytes.len() - first >= max_lines || next > max_bytes {
            break;
        }
        bytes = next;
        first -= 1;
    }
    first.max(1)
}

/// The number of characters (Unicode scalar values) in `s`, as `s.chars().count()`: the bytes
/// that do not continue a character. A plain loop: `chars().count()` links an unrolled counter
/// (about 1 KB of the browser's wasm).
pub fn char_count(s: &str) -> usize {
    s.bytes().filter(|b| b & 0xC0 != 0x80).count()
}

/// The first `n` characters of `s` (all of it when shorter), as `s.chars().take(n)` collected,
/// without a copy: the bytes that start a character counted, as [`char_count`].
pub fn char_prefix(s: &str, n: usize) -> &str {
    let mut seen = 0;
    for (i, b) in s.bytes().enumerate() {
        if b & 0xC0 != 0x80 {
            if seen == n {
                return s.get(..i).unwrap_or(s);
            }
            seen += 1;
        }
    }
    s
}

/// Is a (trimmed) answer over [`MAX_ANSWER_CHARS`]?
pub fn answer_too_long(v: &str) -> bool {
    // Cheap for short answers: fewer bytes than the limit means fewer characters too.
    v.len() > MAX_ANSWER_CHARS && char_count(v) > MAX_ANSWER_CHARS
}

/// The re-prompt for an answer over the limit; it says what the limit is.
pub fn too_long() -> String {
    too_long_in("en")
}

/// [`too_long`] in a conversation's language (`i18n`'s `reprompt.too_long`).
pub fn too_long_in(lang: &str) -> String {
    // No `format!`: the browser's chat module carries no `core::fmt` formatting.
    let max = crate::json::int_string(MAX_ANSWER_CHARS as i64);
    crate::i18n::message_with(lang, "reprompt.too_long", &[("max", &max)])
}

/// Is this an email address we accept? The one product-wide rule lives in
/// [`crate::rules::valid_email`] (ASCII-only); this path stays for existing callers.
pub use crate::rules::valid_email;

/// Is this a plausible phone number? 7 to 15 digits (E.164), optional leading `+`,
/// separators `space - . ( )` and an extension `x123`.
pub fn valid_phone(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    let main = match crate::cut::cut(&lower, b'x') {
        Some((m, ext)) => {
            if ext.trim().is_empty() || !ext.trim().chars().all(|c| c.is_ascii_digit()) {
                return false;
            }
            m.to_string()
        }
        None => s.to_string(),
    };
    let main = main.trim();
    let body = main.strip_prefix('+').unwrap_or(main);
    let mut digits = 0;
    for c in body.chars() {
        match c {
            '0'..='9' => digits += 1,
            ' ' | '-' | '.' | '(' | ')' => {}
            _ => return false,
        }
    }
    (7..=15).contains(&digits)
}

/// Lower-cases an email for deduplication and storage.
pub fn normalise_email(s: &str) -> String {
    s.trim().to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn char_prefix_takes_what_chars_take_would() {
        for s in ["", "a", "abc", "é", "aé😀b", "😀😀"] {
            for n in 0..5 {
                let want: String = s.chars().take(n).collect();
                assert_eq!(char_prefix(s, n), want, "{s:?} {n}");
            }
        }
    }

    #[test]
    fn phones() {
        for ok in [
            "+1 (415) 555-0100",
            "020 7946 0958",
            "+31.20.123.4567",
            "5550100 x12",
        ] {
            assert!(valid_phone(ok), "{ok}");
        }
        for bad in [
            "",
            "12345",
            "phone",
            "+1 415 555 0100 0000 0000",
            "555-0100 x",
            "1<script>",
        ] {
            assert!(!valid_phone(bad), "{bad}");
        }
    }
}
