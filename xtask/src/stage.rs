//! Staged builds for `dist/`: a build is written under `target/stage/` and then swapped into
//! place, so a reader (a starting test worker taking its snapshot) never sees it half-written;
//! and [`run`], how every build step runs a tool.
//! Std-only: `console.rs` and `widget.rs` include it with `#[path]`, and so do the e2e tests
//! that include them.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Moves a finished build from `stage` to `out` (remove, then rename: a quick swap), so a reader
/// of `dist/`, such as a starting test worker taking its snapshot, never sees a half-written
/// build for long. A concurrent builder that published first is replaced.
pub fn publish(stage: &Path, out: &Path) -> Result<(), String> {
    for _ in 0..3 {
        if out.exists() {
            fs::remove_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
        }
        if let Some(p) = out.parent() {
            fs::create_dir_all(p).map_err(|e| format!("{}: {e}", p.display()))?;
        }
        if fs::rename(stage, out).is_ok() {
            return Ok(());
        }
    }
    Err(format!(
        "cannot move {} to {}",
        stage.display(),
        out.display()
    ))
}

/// A fresh, empty staging directory for this process under `target/stage/`.
pub fn stage_dir(root: &Path, name: &str) -> Result<PathBuf, String> {
    let d = root
        .join("target/stage")
        .join(format!("{name}-{}", std::process::id()));
    if d.exists() {
        fs::remove_dir_all(&d).map_err(|e| format!("{}: {e}", d.display()))?;
    }
    fs::create_dir_all(&d).map_err(|e| format!("{}: {e}", d.display()))?;
    Ok(d)
}

/// Runs a build tool; on failure the error holds the command and everything it printed.
pub fn run(cmd: &mut Command) -> Result<(), String> {
    let shown = format!("{cmd:?}");
    let out = cmd
        .output()
        .map_err(|e| format!("cannot run {shown}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{shown} failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}
