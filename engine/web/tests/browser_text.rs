//! The browser's `RegExp` (through the chat module's matcher) decides capture-card patterns as regex-lite does, which the worker validates them with; run on wasm32 by wasm-bindgen-test-runner.
#![cfg(target_arch = "wasm32")]

use dynchat_web::browser_text::{lowercase, pattern_matches};
use wasm_bindgen_test::wasm_bindgen_test;

/// (pattern, answers): authors' typical patterns and the edges where the two engines could differ.
const CASES: &[(&str, &[&str])] = &[
    (
        r"[0-9]{4} ?[A-Z]{2}",
        &["1234 AB", "1234AB", "12 AB", "1234 ab", "", "1234 ABC"],
    ),
    (r"[0-9]+", &["12", "12a", "a12", ""]),
    (r"a|b", &["a", "b", "ab", ""]),
    (r"(?i)[a-z]{2}\d", &["AB1", "ab1", "abc", "Ab12"]),
    (r"\d{3}-\d{4}", &["555-1234", "5551234", "٣٣٣-1234"]),
    (
        r"[A-Z]{2}[0-9]{2}[A-Z0-9]{1,30}",
        &["NL91ABNA0417164300", "nl91", "NL9"],
    ),
    (r"\w+@\w+\.com", &["a@b.com", "a@b.org", "é@b.com"]),
    (r"\#\d+", &["#12", "12"]),
    (
        r"\+?[0-9 ]{7,15}",
        &["+31 20 123 4567", "123", "+3120123456789012"],
    ),
    (r".+", &["x", "é", "a\nb"]),
    (r"[^,]+", &["a,b", "ab"]),
    (r"é+", &["éé", "e", "É"]),
    (r"(\d+)-(\d+)", &["1-2", "1-", "-2"]),
    (r"\s*\S+\s*", &[" x ", "  ", "x"]),
    (r"[a-z]+(-[a-z]+)*", &["abc-def", "abc-", "-abc"]),
    (r"(", &["(", ""]),
    (r"[z-a]", &["a", "z"]),
];

#[wasm_bindgen_test]
fn browser_patterns_decide_as_regex_lite_does() {
    let mut checked = 0;
    for (pattern, answers) in CASES {
        let reference = regex_lite::Regex::new(&["^(?:", pattern, ")$"].concat()).ok();
        for a in *answers {
            let want = reference.as_ref().is_some_and(|r| r.is_match(a));
            assert_eq!(
                pattern_matches(pattern, a),
                want,
                "pattern {pattern:?} on {a:?}"
            );
            checked += 1;
        }
    }
    assert!(checked > 40);
}

#[wasm_bindgen_test]
fn browser_lowercase_is_unicode_lowercase() {
    for s in [
        "ÅSA",
        "ΣΊΣΥΦΟΣ",
        "İstanbul",
        "ÇA VA",
        "ԱՐԱՄ",
        "straße",
        "plain",
    ] {
        assert_eq!(lowercase(s), s.to_lowercase(), "{s}");
    }
}
