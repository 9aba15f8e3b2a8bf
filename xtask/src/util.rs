//! Process helpers for xtask: run a command with a clear error, find tools, locate the repository root.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The repository root (the parent of `xtask/`).
pub fn root() -> PathBuf {
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    here.parent().map(Path::to_path_buf).unwrap_or(here)
}

/// Prints a step header.
pub fn step(msg: &str) {
    eprintln!("\n\x1b[1m==> {msg}\x1b[0m");
}

/// Runs a command in `dir`, inheriting stdio; fails with the command line on a non-zero exit.
pub fn run(dir: &Path, program: &str, args: &[&str]) -> Result<(), String> {
    run_env(dir, program, args, &[])
}

/// Like [`run`] with extra environment variables.
pub fn run_env(
    dir: &Path,
    program: &str,
    args: &[&str],
    env: &[(&str, &str)],
) -> Result<(), String> {
    let mut c = Command::new(program);
    c.args(args).current_dir(dir);
    for (k, v) in env {
        c.env(k, v);
    }
    let status = c
        .status()
        .map_err(|e| format!("cannot start `{program}`: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{program} {}` failed ({status})", args.join(" ")))
    }
}

/// Runs a command and captures stdout (stderr passes through); fails on non-zero exit.
pub fn output(dir: &Path, program: &str, args: &[&str]) -> Result<String, String> {
    let out = Command::new(program)
        .args(args)
        .current_dir(dir)
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot start `{program}`: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "`{program} {}` failed ({})",
            args.join(" "),
            out.status
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Runs a command, returning (exit code, stdout, stderr) without failing.
pub fn capture(dir: &Path, program: &str, args: &[&str]) -> Result<(i32, String, String), String> {
    let out = Command::new(program)
        .args(args)
        .current_dir(dir)
        .output()
        .map_err(|e| format!("cannot start `{program}`: {e}"))?;
    Ok((
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    ))
}

/// True when `program` is on PATH.
pub fn have(program: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Size of a file compressed with brotli at quality 11 (the `brotli` CLI).
pub fn brotli_size(file: &Path) -> Result<u64, String> {
    let out = Command::new("brotli")
        .args(["-q", "11", "-c"])
        .arg(file)
        .output()
        .map_err(|e| format!("cannot run brotli: {e}"))?;
    if !out.status.success() {
        return Err(format!("brotli failed on {}", file.display()));
    }
    Ok(out.stdout.len() as u64)
}

/// Timed stages of a long command: each prints its header, and [`Stages::summary`] prints how
/// long each took (with its start time, UTC) and whether it passed.
pub struct Stages {
    started: Instant,
    done: Vec<(String, String, Duration, bool)>,
}

impl Stages {
    pub fn new() -> Stages {
        Stages {
            started: Instant::now(),
            done: Vec::new(),
        }
    }

    /// Runs one stage under `name`.
    pub fn run<T>(
        &mut self,
        name: &str,
        f: impl FnOnce() -> Result<T, String>,
    ) -> Result<T, String> {
        let at = crate::worker::clock();
        step(&format!("[{at}] {name}"));
        let t = Instant::now();
        let r = f();
        self.done
            .push((name.to_string(), at, t.elapsed(), r.is_ok()));
        r
    }

    /// The timing table.
    pub fn summary(&self, title: &str) -> String {
        let mut out = format!("\n\x1b[1m{title}: timings\x1b[0m\n");
        for (name, at, took, ok) in &self.done {
            let mark = if *ok { "ok  " } else { "FAIL" };
            let short: String = name.chars().take(70).collect();
            out.push_str(&format!("  {at}  {:>8}  {mark} {short}\n", mmss(*took)));
        }
        out.push_str(&format!(
            "  {:>22}  total {}\n",
            "",
            mmss(self.started.elapsed())
        ));
        out
    }
}

/// `m:ss` (or `h:mm:ss`).
pub fn mmss(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}
