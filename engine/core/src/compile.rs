//! `compile`: parses and validates a dialogue file, resolves card ids to indexes once, hashes its content.
//!
//! A [`CompiledFlow`] also has a wire form ([`CompiledFlow::to_wire`], serde JSON, /
//! [`CompiledFlow::from_wire`], read without serde by `wire`): the worker ships it next to the
//! authored dialogue so the browser runs a published flow without parsing the authoring format or
//! compiling it again. Enums are externally tagged, validation patterns travel as their pattern
//! text (built on first use), and `source` / `warnings` are not part of it.

use crate::diag::Diagnostic;

// Layers, top down: this file -> build -> variants / translate -> resolve / graph / hash / parse /
// wire -> flow -> limits.
mod build;
mod flow;
mod graph;
mod hash;
mod limits;
mod parse;
mod resolve;
mod translate;
mod variants;
mod wire;

pub use build::{compile_model, Options};
pub use flow::{
    set_pattern_matcher, CButton, CCard, CExperiment, CLang, CRoute, CText, CVariant, CardIx,
    CompiledFlow, Pattern, WireAudience,
};
pub use hash::content_hash;
pub use limits::{MAX_CARDS, MAX_FILE_BYTES, MAX_TEXT};
pub use parse::parse;
pub use variants::{MAX_VARIANTS, MAX_WEIGHT};
pub use wire::WireError;

/// Compiles a dialogue file with default options.
pub fn compile(json: &str) -> Result<CompiledFlow, Vec<Diagnostic>> {
    compile_with(json, &Options::default())
}

/// Compiles a dialogue file: every problem is reported at once, with its JSON path.
pub fn compile_with(json: &str, opts: &Options) -> Result<CompiledFlow, Vec<Diagnostic>> {
    let d = parse(json)?;
    compile_model(d, opts)
}
