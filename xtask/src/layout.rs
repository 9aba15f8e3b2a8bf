//! Layout rules for `cargo xtask tidy`: no import circle between a crate's modules, no non-test
//! source file over 800 lines. Today's offenders are listed in `xtask/tidy-allow.txt` (one path
//! per line); they are printed as warnings. The list may only shrink: a line whose file no longer
//! offends fails the check until it is deleted.

use crate::modgraph::{cycles, graph, module_of, ModFile};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Longest non-test source file allowed, in lines.
pub const MAX_LINES: usize = 800;
/// The allowlist, relative to the repository root.
pub const ALLOW: &str = "xtask/tidy-allow.txt";
/// Source files the size rule covers.
const SOURCE_EXT: [&str; 5] = ["rs", "js", "mjs", "ts", "py"];

/// Paths (relative, `/`-separated) listed in the allowlist; `#` starts a comment.
pub fn allowlist(text: &str) -> BTreeSet<String> {
    text.lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

/// A test file by its place: anything under a `tests/` or `benches/` folder.
fn under_tests(rel: &str) -> bool {
    rel.split('/')
        .rev()
        .skip(1)
        .any(|d| d == "tests" || d == "benches")
}

/// One import circle: the cycle to print and every file of its strongly connected component.
pub struct Circle {
    pub crate_dir: String,
    pub cycle: Vec<String>,
    pub files: BTreeSet<String>,
}

/// Import circles of every crate, and the files that are `#[cfg(test)]` modules.
pub fn circles(root: &Path, rel_files: &[String]) -> (Vec<Circle>, BTreeSet<String>) {
    // crate dir -> (module -> file)
    let mut crates: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for rel in rel_files.iter().filter(|f| f.ends_with(".rs")) {
        let Some((dir, in_src)) = rel
            .rfind("src/")
            .filter(|&i| i == 0 || rel.as_bytes()[i - 1] == b'/')
            .map(|i| (rel[..i].trim_end_matches('/'), &rel[i + 4..]))
        else {
            continue;
        };
        if in_src.starts_with("bin/") || !root.join(dir).join("Cargo.toml").is_file() {
            continue;
        }
        crates
            .entry(dir.to_string())
            .or_default()
            .insert(module_of(in_src), rel.clone());
    }
    let mut out = Vec::new();
    let mut test_files = BTreeSet::new();
    for (dir, mods) in crates {
        let files: Vec<ModFile> = mods
            .iter()
            .map(|(m, f)| ModFile {
                module: m.clone(),
                text: std::fs::read_to_string(root.join(f)).unwrap_or_default(),
            })
            .collect();
        let (g, tests) = graph(&files);
        test_files.extend(tests.iter().filter_map(|m| mods.get(m).cloned()));
        for (cycle, members) in cycles(&g) {
            let files = members
                .iter()
                .filter_map(|m| mods.get(m).cloned())
                .collect();
            out.push(Circle {
                crate_dir: if dir.is_empty() {
                    ".".into()
                } else {
                    dir.clone()
                },
                cycle,
                files,
            });
        }
    }
    (out, test_files)
}

/// Runs both rules over `rel_files` (tracked files, relative to `root`).
pub fn check(root: &Path, rel_files: &[String]) -> Result<(), String> {
    let allow_text = std::fs::read_to_string(root.join(ALLOW)).unwrap_or_default();
    let allow = allowlist(&allow_text);
    // Every file that breaks a rule, allowed or not: a listed file outside it is a stale line.
    let mut used: BTreeSet<String> = BTreeSet::new();
    let mut errors = Vec::new();
    let mut warnings = Vec::new();

    let (found, test_files) = circles(root, rel_files);
    for c in &found {
        let line = format!(
            "import circle in {}: {} (files: {})",
            c.crate_dir,
            c.cycle.join(" -> "),
            c.files.iter().cloned().collect::<Vec<_>>().join(", ")
        );
        used.extend(c.files.iter().cloned());
        if c.files.iter().all(|f| allow.contains(f)) {
            warnings.push(line);
        } else {
            errors.push(line);
        }
    }
    for rel in rel_files {
        let ext = rel.rsplit('.').next().unwrap_or("");
        if !SOURCE_EXT.contains(&ext) || under_tests(rel) || test_files.contains(rel) {
            continue;
        }
        let lines = std::fs::read_to_string(root.join(rel))
            .map(|t| t.lines().count())
            .unwrap_or(0);
        if lines > MAX_LINES {
            let line = format!("{rel}: {lines} lines (at most {MAX_LINES})");
            used.insert(rel.clone());
            if allow.contains(rel) {
                warnings.push(line);
            } else {
                errors.push(line);
            }
        }
    }
    for stale in allow.difference(&used) {
        errors.push(format!(
            "{ALLOW} lists {stale}, which no longer breaks a layout rule: delete its line (the list may only shrink)"
        ));
    }
    for w in &warnings {
        eprintln!("\x1b[33mwarning (allowed in {ALLOW}):\x1b[0m {w}");
    }
    if errors.is_empty() {
        eprintln!(
            "layout: no new import circle, no new file over {MAX_LINES} lines ({} allowed offenders left in {ALLOW})",
            warnings.len()
        );
        Ok(())
    } else {
        Err(format!(
            "layout rules broken:\n  {}\n(break the circle by moving the shared piece into a lower module; split the file)",
            errors.join("\n  ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allowlist_lines_and_comments() {
        let a = allowlist("# offenders\nedge-worker/src/a.rs\n\n  b.rs  # big\n");
        assert_eq!(
            a.into_iter().collect::<Vec<_>>(),
            vec!["b.rs".to_string(), "edge-worker/src/a.rs".to_string()]
        );
    }

    #[test]
    fn test_folders_are_recognised() {
        assert!(under_tests("tests/e2e/src/lib.rs"));
        assert!(under_tests("engine/core/tests/golden.rs"));
        assert!(under_tests("x/benches/b.rs"));
        assert!(!under_tests("engine/core/src/tests.rs"));
        assert!(!under_tests("edge-worker/src/edge/gate.rs"));
    }
}
