//! What the chat module borrows from the browser instead of shipping it: `RegExp` for capture-card patterns and `toLowerCase`; and the page's globals it uses (`document`, `setTimeout`).
//!
//! The engine asks for them through `compile::set_pattern_matcher` and `targeting::set_lowercase`
//! when it is built without its `regex` and `unicode` features, as both browser modules build it;
//! `tests/browser_text.rs` checks the patterns against regex-lite, which the worker validates with.

use wasm_bindgen::prelude::*;

#[wasm_bindgen(
    inline_js = "export function pattern_test(p, s) { const i = p.startsWith('(?i)'), b = i ? p.slice(4) : p; for (const u of ['u', '']) { try { return new RegExp('^(?:' + b + ')$', (i ? 'i' : '') + u).test(s); } catch (e) {} } return false; }"
)]
extern "C" {
    /// Whole-answer test with the browser's `RegExp`: Unicode mode, or, for a pattern only the
    /// lenient mode accepts (escaped punctuation such as `\#`), without it; a leading `(?i)`
    /// becomes the `i` flag. A pattern the browser cannot build matches nothing.
    fn pattern_test(pattern: &str, text: &str) -> bool;
}

#[wasm_bindgen]
extern "C" {
    /// The page's `document`, read as a global: `web_sys::window()` would look the global object
    /// up through four accessors (`globalThis`, `self`, `window`, `global`) and check that it is a
    /// `Window`, glue the widget does not need to find a `document`.
    #[wasm_bindgen(thread_local_v2, js_name = document)]
    pub static DOCUMENT: web_sys::Document;
    /// The global `setTimeout(handler, ms)`.
    #[wasm_bindgen(js_name = setTimeout)]
    pub fn set_timeout(handler: &JsValue, ms: i32);
}

/// Does the whole answer match the capture card's pattern? (The browser's own regex engine.)
pub fn pattern_matches(pattern: &str, text: &str) -> bool {
    pattern_test(pattern, text)
}

/// Full Unicode lower-casing by the browser (branch conditions on answers).
pub fn lowercase(text: &str) -> String {
    String::from(js_sys::JsString::from(text).to_lower_case())
}
