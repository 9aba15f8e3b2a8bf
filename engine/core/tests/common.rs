//! Shared test helpers: run one golden case through the engine.
#![allow(dead_code)] // each test binary uses a different part

#[path = "golden/cases.rs"]
pub mod cases;

use dynchat_engine::simulate::{header, options_from_header};
use dynchat_engine::{compile, parse_answers, simulate};

/// Runs a golden case and returns (actual, expected) transcripts.
pub fn run_case(answers: &str) -> String {
    let id = header(answers, "dialogue")
        .into_iter()
        .next()
        .unwrap_or_default();
    let json = cases::EXAMPLES
        .iter()
        .find(|(n, _)| *n == id)
        .map(|(_, j)| *j)
        .unwrap_or("");
    let flow = match compile(json) {
        Ok(f) => f,
        Err(d) => return format!("example `{id}` does not compile: {d:?}"),
    };
    simulate(
        &flow,
        &parse_answers(answers),
        &options_from_header(answers),
    )
}
