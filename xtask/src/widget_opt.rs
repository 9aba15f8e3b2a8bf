//! The binaryen stages of `cargo xtask widget`: the `wasm-opt` pipeline each stubbed, minified module goes through.
//!
//! Std-only: `widget.rs` includes it with `#[path]`, and so do the e2e tests that include that.
//!
//! Chosen by brotli size (q 11), not raw size, from a scripted search over candidate pipelines on
//! the stubbed modules (5 Dec 2026; each step measured, docs/widget.md). Two settings apply to
//! every pass of both stages:
//! - `--one-caller-inline-max-function-size 30`: binaryen inlines a function with one caller
//!   whatever its size by default; the copies left as calls compress better (raw +1.7 KB, brotli
//!   chat -690 B). 0, 10, 20, 40, 50, 60, 80, 100 and 150 all pay too (-156 to -685 B).
//! - `--low-memory-unused`: constant offsets fold into loads and stores (`i32.load offset=8`
//!   instead of an `i32.add`). Sound for Rust's wasm32 layout: the lowest KiB is the far end of
//!   the 1 MiB stack, and only a wrapping (negative) address, which Rust never computes, would
//!   reach it through a folded offset.
//!
//! Both modules now take the same stages (the targeting module with `--merge-similar-functions`
//! too: it pays there once the two settings above apply), then a last `-Oz` with the functions
//! ordered for brotli ([`by_size`]: by signature, then size).

use std::fs;
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

/// Optimises the stubbed module `input` into `out` (a new file) with [`STAGES`], then puts its
/// functions in [`by_size`] order and runs `-Oz` once more; `features` are the target features
/// the modules use.
pub fn optimise(
    root: &Path,
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
    let wat = out.with_extension("wat");
    fs::write(&wat, by_size(&super::wat_of(root, out)?))
        .map_err(|e| format!("{}: {e}", wat.display()))?;
    run(Command::new(wasm_opt)
        .arg("-Oz")
        .args(SETTINGS)
        .args(features)
        .arg(&wat)
        .arg("-o")
        .arg(out))?;
    fs::remove_file(&wat).map_err(|e| format!("{}: {e}", wat.display()))
}

/// `wat` (binaryen's text form: one top-level item per line at one space of indentation) with
/// its function definitions together where the first one stood, grouped by signature (the rest
/// of the definition line after the name: params and results, in text order) and in each group
/// shortest first (in lines; equal ones in their order). Brotli finds more of a function in the
/// ones just before it this way (measured after the stages: chat wasm -649 B, targeting wasm
/// -121 B; by size alone -320 / -72 B; by characters or largest first did worse); binaryen
/// keeps the order through `-Oz`.
pub fn by_size(wat: &str) -> String {
    // Each top-level item with its lines; what comes before the first (`(module`) stays first.
    let mut items: Vec<Vec<&str>> = vec![Vec::new()];
    for line in wat.lines() {
        if line.starts_with(" (") || line.starts_with(')') {
            items.push(vec![line]);
        } else if let Some(last) = items.last_mut() {
            last.push(line);
        }
    }
    let is_func = |item: &[&str]| item.first().is_some_and(|l| l.starts_with(" (func "));
    let mut funcs: Vec<&[&str]> = items
        .iter()
        .map(Vec::as_slice)
        .filter(|i| is_func(i))
        .collect();
    funcs.sort_by(|a, b| (signature(a), a.len()).cmp(&(signature(b), b.len())));
    let mut out = String::with_capacity(wat.len() + 1);
    let mut placed = false;
    for item in &items {
        let lines: Vec<&[&str]> = if !is_func(item) {
            vec![item.as_slice()]
        } else if !placed {
            placed = true;
            funcs.clone()
        } else {
            continue;
        };
        for line in lines.into_iter().flatten() {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// A function definition's signature in binaryen's text: its first line after the name.
fn signature<'a>(func: &[&'a str]) -> &'a str {
    func.first()
        .and_then(|l| l.strip_prefix(" (func "))
        .and_then(|l| l.split_once(' '))
        .map_or("", |(_, sig)| sig)
}

#[cfg(test)]
mod tests {
    use super::by_size;

    #[test]
    fn functions_by_signature_then_shortest_first_where_the_first_stood() {
        let wat = "(module\n (type $0 (func))\n (import \"a\" \"b\" (func $i))\n (func $long\n  (nop)\n  (nop)\n )\n (func $p (param $0 i32)\n  (nop)\n )\n (func $short\n )\n (func $mid\n  (nop)\n )\n (export \"x\" (func $long))\n (func $tie\n  (drop)\n )\n)\n";
        let want = "(module\n (type $0 (func))\n (import \"a\" \"b\" (func $i))\n (func $short\n )\n (func $mid\n  (nop)\n )\n (func $tie\n  (drop)\n )\n (func $long\n  (nop)\n  (nop)\n )\n (func $p (param $0 i32)\n  (nop)\n )\n (export \"x\" (func $long))\n)\n";
        assert_eq!(by_size(wat), want);
    }
}
