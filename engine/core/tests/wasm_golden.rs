//! The golden transcripts again, on wasm32 (run by wasm-bindgen-test-runner): the same inputs give the same outputs on both targets.
//! `cargo xtask test` runs them with `--no-default-features`, the engine as the browser's chat
//! module builds it, on the flow read back from its wire form as the browser reads it.
#![cfg(target_arch = "wasm32")]

mod common;
use common::{cases, run_case_via_wire};
use wasm_bindgen_test::wasm_bindgen_test;

#[wasm_bindgen_test]
fn golden_transcripts_on_wasm32() {
    // Without the `catalogues` feature only English is embedded: install the catalogues the
    // German and Arabic cases speak, as the browser's chat module installs the one it fetched.
    for (lang, text) in [
        ("de", include_str!("../i18n/de.json")),
        ("ar", include_str!("../i18n/ar.json")),
    ] {
        let c = dynchat_engine::i18n::Catalog::parse(lang, text).expect("catalogue");
        dynchat_engine::i18n::install(c);
    }
    for (name, answers, expected) in cases::CASES {
        assert_eq!(
            run_case_via_wire(answers),
            *expected,
            "golden case {name} differs on wasm32"
        );
    }
}
