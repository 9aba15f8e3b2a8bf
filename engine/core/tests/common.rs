//! Shared test helpers: run one golden case through the engine.
#![allow(dead_code)] // each test binary uses a different part

#[path = "golden/cases.rs"]
pub mod cases;

use dynchat_engine::simulate::{header, options_from_header};
use dynchat_engine::{compile, parse_answers, simulate, CompiledFlow};

/// Runs a golden case and returns its transcript.
pub fn run_case(answers: &str) -> String {
    run_case_with(answers, false)
}

/// Runs a golden case on the flow as the browser gets it: compiled, written to its wire form by
/// serde (as the worker does) and read back with `CompiledFlow::from_wire` (the browser's reader).
pub fn run_case_via_wire(answers: &str) -> String {
    run_case_with(answers, true)
}

fn run_case_with(answers: &str, via_wire: bool) -> String {
    let id = header(answers, "dialogue")
        .into_iter()
        .next()
        .unwrap_or_default();
    let json = cases::EXAMPLES
        .iter()
        .find(|(n, _)| *n == id)
        .map(|(_, j)| *j)
        .unwrap_or("");
    let mut flow = match compile(json) {
        Ok(f) => f,
        Err(d) => return format!("example `{id}` does not compile: {d:?}"),
    };
    if via_wire {
        flow = match CompiledFlow::from_wire(&flow.to_wire()) {
            Ok(f) => f,
            Err(e) => return format!("example `{id}`: wire form unreadable: {e}"),
        };
    }
    simulate(
        &flow,
        &parse_answers(answers),
        &options_from_header(answers),
    )
}
