//! Idempotent installation of what the build and the tests need: wasm target, wasm-bindgen-cli, npm packages, Chromium, Python peers.

use crate::util::{have, output, run, step};
use std::path::Path;

/// The wasm-bindgen version pinned in the workspace; the CLI must match it exactly.
pub const WASM_BINDGEN: &str = "0.2.130";
/// worker-build version matching `worker` in edge-worker.
pub const WORKER_BUILD: &str = "0.8.7";

/// What to install.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Build and run the product.
    Run,
    /// Also browsers and test servers.
    Test,
}

/// Installs whatever is missing; does nothing when all is present.
pub fn ensure(root: &Path, need: Need) -> Result<(), String> {
    step("setup: checking tools");
    let targets = output(root, "rustup", &["target", "list", "--installed"]).unwrap_or_default();
    if !targets
        .lines()
        .any(|l| l.trim() == "wasm32-unknown-unknown")
    {
        run(root, "rustup", &["target", "add", "wasm32-unknown-unknown"])?;
    }
    let wb = output(
        root,
        "sh",
        &["-c", "wasm-bindgen --version 2>/dev/null || true"],
    )
    .unwrap_or_default();
    if !wb.contains(WASM_BINDGEN) {
        run(
            root,
            "cargo",
            &["install", "wasm-bindgen-cli", "--version", WASM_BINDGEN],
        )?;
    }
    if root.join("edge-worker/Cargo.toml").is_file() {
        let v = output(
            root,
            "sh",
            &["-c", "worker-build --version 2>/dev/null || true"],
        )
        .unwrap_or_default();
        if !v.contains(WORKER_BUILD) {
            run(
                root,
                "cargo",
                &["install", "worker-build", "--version", WORKER_BUILD],
            )?;
        }
    }
    npm(root)?;
    let mut apt: Vec<&str> = Vec::new();
    if !have("brotli") {
        apt.push("brotli");
    }
    // The widget build demangles the chat module's std names with `c++filt` (xtask/src/demangle.rs).
    if !have("c++filt") {
        apt.push("binutils");
    }
    if need == Need::Test {
        if !Path::new("/usr/bin/chromium").exists() {
            apt.push("chromium");
        }
        if !Path::new("/usr/bin/chromedriver").exists() {
            apt.push("chromium-driver");
        }
    }
    if !apt.is_empty() {
        apt_install(root, &apt)?;
    }
    python(root)?;
    Ok(())
}

fn npm(root: &Path) -> Result<(), String> {
    let lock = root.join("package-lock.json");
    let stamp = root.join("node_modules/.package-lock.json");
    let fresh = match (std::fs::metadata(&lock), std::fs::metadata(&stamp)) {
        (Ok(l), Ok(s)) => match (l.modified(), s.modified()) {
            (Ok(lm), Ok(sm)) => sm >= lm,
            _ => false,
        },
        _ => false,
    };
    if !fresh {
        step("setup: npm ci (from the committed lock file)");
        run(root, "npm", &["ci", "--no-audit", "--no-fund"])?;
    }
    Ok(())
}

fn apt_install(root: &Path, pkgs: &[&str]) -> Result<(), String> {
    step(&format!("setup: apt-get install {}", pkgs.join(" ")));
    let sudo = if output(root, "id", &["-u"]).unwrap_or_default().trim() == "0" {
        ""
    } else {
        "sudo "
    };
    let cmd = format!(
        "{sudo}apt-get update -qq && DEBIAN_FRONTEND=noninteractive {sudo}apt-get install -y -qq {}",
        pkgs.join(" ")
    );
    run(root, "sh", &["-c", &cmd])
}

fn python(root: &Path) -> Result<(), String> {
    let req = root.join("tests/peers/requirements.txt");
    if !req.is_file() {
        return Ok(());
    }
    let ok = crate::util::capture(root, "python3", &["-c", "import radicale, aiosmtpd"])
        .is_ok_and(|(code, _, _)| code == 0);
    if !ok {
        step("setup: pip install -r tests/peers/requirements.txt");
        run(
            root,
            "python3",
            &[
                "-m",
                "pip",
                "install",
                "-q",
                "-r",
                "tests/peers/requirements.txt",
            ],
        )?;
    }
    Ok(())
}
