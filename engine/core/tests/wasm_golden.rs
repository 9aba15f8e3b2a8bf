//! The golden transcripts again, on wasm32 (run by wasm-bindgen-test-runner): the same inputs give the same outputs on both targets.
//! `cargo xtask test` runs them with `--no-default-features`, the engine as the browser's chat
//! module builds it, on the flow read back from its wire form as the browser reads it.
#![cfg(target_arch = "wasm32")]

mod common;
use common::{cases, run_case_via_wire};
use wasm_bindgen_test::wasm_bindgen_test;

#[wasm_bindgen_test]
fn golden_transcripts_on_wasm32() {
    for (name, answers, expected) in cases::CASES {
        assert_eq!(
            run_case_via_wire(answers),
            *expected,
            "golden case {name} differs on wasm32"
        );
    }
}
