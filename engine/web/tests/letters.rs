//! A name answer's letters as the chat module finds them (`letters::has_letter`: the browser's `\p{Alphabetic}` through its matcher) and as the worker does (`char::is_alphabetic`); run on wasm32 by wasm-bindgen-test-runner.
#![cfg(target_arch = "wasm32")]

use dynchat_engine::letters::{has_letter, HAS_LETTER};
use dynchat_web::browser_text::pattern_matches;
use wasm_bindgen_test::wasm_bindgen_test;

#[wasm_bindgen_test]
fn the_browser_finds_the_letters_std_finds() {
    dynchat_engine::compile::set_pattern_matcher(pattern_matches);
    for name in [
        "Ana",
        "José",
        "李小龙",
        "محمد",
        "Ωμέγα",
        "Ёжик",
        "שלום",
        "नमस्ते",
        "123",
        "١٢٣",
        "!!!",
        "😀",
        "😀a",
        " \u{301}",
        "ⅷ",
        "〇",
        "ª",
        "ʰ",
        "ा",
        "",
        "  ",
        "O'Brien-Smith",
        "𐐀",
    ] {
        assert_eq!(
            has_letter(name),
            name.chars().any(char::is_alphabetic),
            "{name:?}"
        );
    }
    let mut differ = Vec::new();
    for c in (0..0x11_0000u32)
        .filter_map(char::from_u32)
        .filter(|c| !c.is_ascii())
    {
        let mut b = [0; 4];
        if pattern_matches(HAS_LETTER, c.encode_utf8(&mut b)) != c.is_alphabetic() {
            differ.push(c as u32);
        }
    }
    assert!(differ.is_empty(), "{} differ: {differ:x?}", differ.len());
}
