//! The golden transcripts again, on wasm32 (run by wasm-bindgen-test-runner): the same inputs give the same outputs on both targets.
#![cfg(target_arch = "wasm32")]

mod common;
use common::{cases, run_case};
use wasm_bindgen_test::wasm_bindgen_test;

#[wasm_bindgen_test]
fn golden_transcripts_on_wasm32() {
    for (name, answers, expected) in cases::CASES {
        assert_eq!(
            run_case(answers),
            *expected,
            "golden case {name} differs on wasm32"
        );
    }
}
