//! The binaryen stages of `cargo xtask widget`: the `wasm-opt` pipeline each stubbed, minified module goes through.
//!
//! Std-only: `widget.rs` includes it with `#[path]`, and so do the e2e tests that include that.
//!
//! Chosen by brotli size (q 11), not raw size, from a scripted search over candidate pipelines on
//! the stubbed modules (5 Dec 2026; each step measured, docs/widget.md). Two settings apply to
//! every pass of both stages:
//! - `--one-caller-inline-max-function-size 30`: binaryen inlines a function with one caller
//!   whatever its size by default; the copies left as calls compress better (raw +0.8 KB, brotli
//!   chat -690 B). 0, 10, 20, 40, 50, 60, 80, 100 and 150 all pay too (-350 to -690 B).
//! - `--low-memory-unused`: constant offsets fold into loads and stores (`i32.load offset=8`
//!   instead of an `i32.add`). Sound for Rust's wasm32 layout: the lowest KiB is the far end of
//!   the 1 MiB stack, and only a wrapping (negative) address, which Rust never computes, would
//!   reach it through a folded offset.
//!
//! Both modules now take the same stages (the targeting module with `--merge-similar-functions`
//! too: it pays there once the two settings above apply).

use std::path::Path;
use std::process::Command;

use super::stage::run;

/// The settings every `wasm-opt` run of the pipeline gets (see the module doc).
const SETTINGS: [&str; 3] = [
    "--one-caller-inline-max-function-size",
    "30",
    "--low-memory-unused",
];

/// The stages, in order, each one `wasm-opt` run: first `-Oz` to a fixed point and the
/// toolchain's sections stripped; then whole-program type flow, the control flow flattened and
/// re-structured (earlier rounds: chat 61201 -> 60675 B, targeting 17073 -> 16799 B), and
/// functions that differ only in constants merged (chat 58885 -> 58613 B).
const STAGES: [&[&str]; 2] = [
    &[
        "-Oz",
        "--converge",
        "--strip-debug",
        "--strip-producers",
        "--strip-target-features",
    ],
    &[
        "--gufa-optimizing",
        "-Oz",
        "--flatten",
        "--rereloop",
        "-Oz",
        "--merge-similar-functions",
        "-Oz",
    ],
];

/// Optimises the stubbed module `input` into `out` (a new file) with [`STAGES`]; `features` are
/// the target features the modules use.
pub fn optimise(
    wasm_opt: &Path,
    features: &[&str],
    input: &Path,
    out: &Path,
) -> Result<(), String> {
    let mut from = input;
    for stage in STAGES {
        run(Command::new(wasm_opt)
            .args(stage)
            .args(SETTINGS)
            .args(features)
            .arg(from)
            .arg("-o")
            .arg(out))?;
        from = out;
    }
    Ok(())
}
