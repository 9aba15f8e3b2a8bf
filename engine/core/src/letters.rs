//! Whether an answer has a letter (the Unicode `Alphabetic` property), what a name answer needs:
//! std's table natively, the host's pattern matcher in the browser's chat module.

/// Does the text have a letter (the Unicode `Alphabetic` property, `char::is_alphabetic`)? What a
/// name answer needs. With the `unicode` or `regex` feature (the worker, CLI, console): std's
/// table. Without both (the browser's chat module, which leaves std's Alphabetic table out: about
/// 1.3 KB of its brotli'd wasm): an ASCII letter decides at once, and other text goes to the
/// host's whole-answer matcher (`compile::set_pattern_matcher`: the browser's `RegExp`, whose
/// `\p{Alphabetic}` is the same Unicode property).
pub fn has_letter(v: &str) -> bool {
    #[cfg(any(feature = "unicode", feature = "regex"))]
    return v.chars().any(char::is_alphabetic);
    #[cfg(not(any(feature = "unicode", feature = "regex")))]
    {
        v.bytes().any(|b| b.is_ascii_alphabetic())
            || (!v.is_ascii() && crate::compile::Pattern::new(HAS_LETTER.to_string()).is_match(v))
    }
}

/// The whole-answer pattern [`has_letter`] hands the host without the `unicode` and `regex`
/// features: anything with a letter (linear: no backtracking before the first letter).
pub const HAS_LETTER: &str = r"[^\p{Alphabetic}]*\p{Alphabetic}[\s\S]*";
