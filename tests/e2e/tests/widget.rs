//! The widget's browser tests (`tests/browser/run.mjs`, Chromium via playwright-core) against the
//! real worker on workerd, the Marketo peer, real Radicale (the sales agent's CalDAV calendar) and
//! the aiosmtpd mail catcher (meeting invitations). Builds the widget first when `dist/widget` is
//! missing. Runs in `cargo test -p dynchat-e2e -- --test-threads=1`.

#[allow(dead_code)]
#[path = "../../../xtask/src/widget.rs"]
mod widget;

use dynchat_e2e::{peers, root, serial, Peer, Worker, ADMIN_TOKEN};
use serde_json::Value;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const CALENDAR_KEY: &str = "8f1e2d3c4b5a69788796a5b4c3d2e1f00112233445566778899aabbccddeeff0";
/// Eighteen tests of at most 90 s each, plus the npm-pack/Vite build; normally about a minute.
const RUNNER_LIMIT: Duration = Duration::from_secs(20 * 60);

#[test]
fn widget_browser_tests_against_the_real_worker() {
    let _one = serial();
    let root = root();
    if !root.join("dist/widget/loader.js").exists() {
        if let Err(e) = widget::build(&root) {
            panic!("dist/widget is missing and the widget build failed: {e}");
        }
    }
    let (mail, smtp_port) = peers::mail_catcher();
    let radicale = peers::radicale(1, "widget");
    let marketo = Peer::start(&[]);
    let smtp = smtp_port.to_string();
    let worker = Worker::start(
        "widget",
        Some(&marketo),
        &[
            ("CALENDAR_KEY", CALENDAR_KEY),
            ("SMTP_HOST", "127.0.0.1"),
            ("SMTP_PORT", &smtp),
            ("SMTP_FROM", "meetings@dynchat.test"),
            ("RATE_IP_PER_MINUTE", "100000"),
            ("RATE_SITE_PER_MINUTE", "100000"),
        ],
    );

    let log_path = worker.persist.join("browser-tests.log");
    let log = std::fs::File::create(&log_path).expect("browser-tests.log");
    let log2 = log.try_clone().expect("browser-tests.log");
    let mut child = Command::new("node")
        .arg(root.join("tests/browser/run.mjs"))
        .args(["--endpoint", &worker.url(""), "--admin-token", ADMIN_TOKEN])
        .args(["--marketo", &marketo.url()])
        .args([
            "--caldav",
            &format!("{}/agent1/calendar/", radicale.urls[1]),
            "--caldav-user",
            "agent1",
            "--caldav-password",
            "pw1",
        ])
        .current_dir(&root)
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log2)
        .spawn()
        .expect("node tests/browser/run.mjs");
    let start = Instant::now();
    let mut status = None;
    for _ in 0..(RUNNER_LIMIT.as_millis() / 250) {
        if let Ok(Some(s)) = child.try_wait() {
            status = Some(s);
            break;
        }
        if start.elapsed() > RUNNER_LIMIT {
            break;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    if status.is_none() {
        let _ = child.kill();
        let _ = child.wait();
    }
    let out = std::fs::read_to_string(&log_path).unwrap_or_default();
    println!("{out}");
    match status {
        Some(s) if s.success() => {}
        Some(s) => panic!("browser tests failed ({s}):\n{out}"),
        None => panic!("browser tests still running after {RUNNER_LIMIT:?}:\n{out}"),
    }
    assert!(out.contains("all passed"), "runner output: {out}");

    // Cross-checks from outside the browser: what the peers received.
    let leads = marketo.state()["leads"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let from_chat = leads
        .iter()
        .filter(|l| l["chatInterest"] == "sales")
        .count();
    assert!(from_chat >= 4, "leads in Marketo: {leads:?}");
    let mails = peers::get(&format!("{}/_peer/state", mail.url()))["messages"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let invited = mails
        .iter()
        .any(|m| m.to_string().contains("acme.test") && m.to_string().contains("text/calendar"));
    assert!(invited, "no invitation mail to the visitor: {mails:?}");
    let stats = worker.stats("acme");
    assert_eq!(stats["dead_letters"], Value::from(0), "{stats}");
}
