//! `cargo xtask tidy`: rustfmt, clippy with warnings as errors, a `//!` first line in every Rust file,
//! the layout rules (no import circle, no file over 800 lines: `layout`), the deployment docs in step
//! with the vars the worker reads (`deploy_docs`), the committed JSON Schema up to date.

use crate::util::{self, output, step};
use std::path::{Path, PathBuf};

/// Runs every tidy check; fails on the first problem.
pub fn run(root: &Path) -> Result<(), String> {
    step("tidy: cargo fmt --check");
    run_checked(
        root,
        "cargo",
        &["fmt", "--all", "--", "--check"],
        "run `cargo fmt --all`",
    )?;
    step("tidy: cargo clippy -D warnings");
    run_checked(
        root,
        "cargo",
        &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--quiet",
            "--",
            "-D",
            "warnings",
        ],
        "fix the clippy findings above",
    )?;
    step("tidy: //! doc line at the top of every Rust file");
    let files = rust_files(root)?;
    let missing: Vec<String> = files
        .iter()
        .filter(|f| {
            std::fs::read_to_string(f)
                .map(|t| !t.lines().take(3).any(|l| l.starts_with("//!")))
                .unwrap_or(true)
        })
        .map(|f| f.strip_prefix(root).unwrap_or(f).display().to_string())
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "Rust files without a `//!` first line: {}",
            missing.join(", ")
        ));
    }
    layout(root)?;
    step("tidy: every var and secret in docs/deploy.md and wrangler.toml is read by the worker, and documented");
    crate::deploy_docs::check(root)?;
    step("tidy: docs/dialogue.schema.json matches the types");
    let committed =
        std::fs::read_to_string(root.join("docs/dialogue.schema.json")).unwrap_or_default();
    if committed != dynchat_engine::schema_json() {
        return Err("docs/dialogue.schema.json is stale: run `cargo run -p dynchat-cli -- schema > docs/dialogue.schema.json`".into());
    }
    eprintln!("tidy: {} Rust files checked", files.len());
    Ok(())
}

/// Only the layout rules (`cargo xtask tidy layout`): import circles and file sizes.
pub fn layout(root: &Path) -> Result<(), String> {
    step("tidy: no import circle between modules, no non-test source file over 800 lines");
    let tracked = output(
        root,
        "git",
        &["ls-files", "--cached", "--others", "--exclude-standard"],
    )?;
    let rel: Vec<String> = tracked
        .lines()
        .filter(|l| !l.is_empty() && root.join(l).is_file())
        .map(str::to_string)
        .collect();
    crate::layout::check(root, &rel)
}

fn run_checked(root: &Path, program: &str, args: &[&str], hint: &str) -> Result<(), String> {
    util::run(root, program, args).map_err(|e| format!("{e}: {hint}"))
}

/// Tracked and untracked-but-not-ignored Rust files.
fn rust_files(root: &Path) -> Result<Vec<PathBuf>, String> {
    let list = output(
        root,
        "git",
        &[
            "ls-files",
            "--cached",
            "--others",
            "--exclude-standard",
            "*.rs",
        ],
    )?;
    Ok(list
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| root.join(l))
        .filter(|p| p.is_file())
        .collect())
}
