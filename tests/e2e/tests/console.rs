//! The console and demo-site browser suite (`tests/browser/console/run.mjs`) against the real
//! worker under workerd with the real Marketo peer: builds the demo site and the console exactly
//! as `cargo xtask` does, seeds the demo site and the console accounts, then runs Playwright.
//! Needs `dist/widget` (the widget build), Node with the root `node_modules`, /usr/bin/chromium.

#[allow(dead_code)]
#[path = "../../../xtask/src/console.rs"]
mod console;

use dynchat_e2e::{root, serial, worker, Peer, Worker, ADMIN_TOKEN};
use std::process::Command;

/// A fixed 32-byte AES key (base64) for the test worker's `CONSOLE_KEY`; never used elsewhere.
const TEST_CONSOLE_KEY: &str = "ZHluY2hhdC1jb25zb2xlLXRlc3Qta2V5LTMyLWJ5dGU=";

#[test]
fn console_and_demo_site_in_the_browser() {
    let _one_at_a_time = serial();
    let root = root();
    assert!(
        root.join("dist/widget/loader.js").exists(),
        "dist/widget is missing: build the widget first (xtask widget::build)"
    );
    console::build_site(&root).unwrap_or_else(|e| panic!("build_site: {e}"));
    console::build_console(&root).unwrap_or_else(|e| panic!("build_console: {e}"));
    let peer = Peer::start(&[]);
    let w = Worker::start("console", Some(&peer), &[("CONSOLE_KEY", TEST_CONSOLE_KEY)]);
    worker::seed_demo(&root, w.port, ADMIN_TOKEN).unwrap_or_else(|e| panic!("seed_demo: {e}"));
    console::seed_accounts(w.port, ADMIN_TOKEN).unwrap_or_else(|e| panic!("seed_accounts: {e}"));
    let endpoint = format!("http://127.0.0.1:{}", w.port);
    let status = Command::new("node")
        .arg(root.join("tests/browser/console/run.mjs"))
        .args(["--endpoint", &endpoint, "--peer", &peer.url()])
        .current_dir(&root)
        .status()
        .unwrap_or_else(|e| panic!("node: {e}"));
    assert!(
        status.success(),
        "console browser suite failed (see the FAIL lines above)"
    );
}
