//! What the chat module borrows from the browser instead of shipping it: `RegExp` for capture-card patterns and `toLowerCase`.
//!
//! The engine asks for them through `compile::set_pattern_matcher` and `machine::BranchJudge::lower`
//! when it is built without its `regex` and `unicode` features, as both browser modules build it;
//! `tests/browser_text.rs` checks the patterns against regex-lite, which the worker validates with.

/// Does the whole answer match the capture card's pattern? (The browser's own regex engine:
/// `pattern` in `js/glue.js`: Unicode mode, or, for a pattern only the lenient mode accepts
/// (escaped punctuation such as `\#`), without it; a leading `(?i)` becomes the `i` flag. A
/// pattern the browser cannot build matches nothing.)
pub fn pattern_matches(pattern: &str, text: &str) -> bool {
    crate::ffi::pattern_test(pattern, text)
}

/// Full Unicode lower-casing by the browser (branch conditions on answers).
pub fn lowercase(text: &str) -> String {
    crate::ffi::case(text, false)
}
