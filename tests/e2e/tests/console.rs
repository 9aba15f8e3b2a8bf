//! The console and demo-site browser suite (`tests/browser/console/run.mjs`) against the real
//! worker under workerd with the real Marketo peer: builds the demo site and the console exactly
//! as `cargo xtask` does, seeds the demo site and the console accounts, then runs Playwright.
//! Meetings are real too: three agents with CalDAV calendars in real Radicale, the `sales` queue,
//! and the aiosmtpd mail catcher for the invitations (so the reorder test books real meetings).
//! Needs `dist/widget` (the widget build), Node with the root `node_modules`, /usr/bin/chromium.

#[allow(dead_code)]
#[path = "../../../xtask/src/console.rs"]
mod console;

use dynchat_e2e::peers;
use dynchat_e2e::{root, serial, worker, Peer, Worker, ADMIN_TOKEN};
use serde_json::json;
use std::process::Command;

/// A fixed 32-byte AES key (base64) for the test worker's `CONSOLE_KEY`; never used elsewhere.
const TEST_CONSOLE_KEY: &str = "ZHluY2hhdC1jb25zb2xlLXRlc3Qta2V5LTMyLWJ5dGU=";
/// A fixed AES-256 key (hex) for the test worker's `CALENDAR_KEY`; never used elsewhere.
const TEST_CALENDAR_KEY: &str = "3c0e8d1f2a4b6c7d8e9f00112233445566778899aabbccddeeff0011223344aa";

/// The queue `sales` in this order: (agent id, Radicale user, name). `alex-morgan` is the demo
/// agent account's agent.
const AGENTS: [(&str, &str, &str); 3] = [
    ("alex-morgan", "agent1", "Alex Morgan"),
    ("priya-shah", "agent2", "Priya Shah"),
    ("jonas-weber", "agent3", "Jonas Weber"),
];

/// Agents working 08:00-18:00 UTC every day (30-minute meetings, 60 minutes' notice) with empty
/// CalDAV calendars in Radicale, and the queue `sales` over them in `AGENTS` order.
fn seed_agents(w: &Worker, caldav: &str) {
    let day = json!([{"start": "08:00", "end": "18:00"}]);
    let hours =
        json!({"mon": day, "tue": day, "wed": day, "thu": day, "fri": day, "sat": day, "sun": day});
    for (n, (id, user, name)) in AGENTS.iter().enumerate() {
        let settings = json!({"time_zone": "UTC", "working_hours": hours, "meeting_minutes": 30, "min_notice_minutes": 60, "horizon_days": 14});
        let email = format!("{}@northwind.example", id.replace('-', "."));
        let a = w.admin(
            "PUT",
            &format!("/admin/sites/acme/agents/{id}"),
            Some(&json!({"name": name, "email": email, "settings": settings})),
        );
        assert_eq!(a.status, 200, "agent {id}: {}", a.body);
        let c = w.admin(
            "PUT",
            &format!("/admin/sites/acme/agents/{id}/calendar"),
            Some(&json!({"url": format!("{caldav}/{user}/calendar/"), "username": user, "password": format!("pw{}", n + 1)})),
        );
        assert_eq!(c.status, 200, "calendar of {id}: {}", c.body);
    }
    let ids: Vec<&str> = AGENTS.iter().map(|a| a.0).collect();
    let q = w.admin(
        "PUT",
        "/admin/sites/acme/queues/sales",
        Some(&json!({"name": "Sales", "agents": ids})),
    );
    assert_eq!(q.status, 200, "queue sales: {}", q.body);
}

/// Every answer under `/console/` (pages, files, redirects, 404s) carries the console's strict
/// CSP and is never framed; the page has no inline script. The browser suite checks that the
/// console runs under it without a CSP violation.
#[test]
fn console_pages_answer_with_a_strict_csp_and_are_never_framed() {
    let _one_at_a_time = serial();
    let root = root();
    console::build_site(&root).unwrap_or_else(|e| panic!("build_site: {e}"));
    console::build_console(&root).unwrap_or_else(|e| panic!("build_console: {e}"));
    let w = Worker::start("console-csp", None, &[]);
    for path in [
        "/console/",
        "/console/index.html",
        "/console/boot.js",
        "/console/console.js",
        "/console/console.css",
        "/console/console_bg.wasm",
        "/console/no-such-file",
    ] {
        let a = w.request("GET", path, &[], None);
        let csp = a.header("content-security-policy").unwrap_or_default();
        assert!(
            a.status == 200 || path.contains("no-such"),
            "{path}: {}",
            a.status
        );
        assert!(
            csp.contains("frame-ancestors 'none'")
                && csp.contains("script-src 'self' 'wasm-unsafe-eval'")
                && !csp.contains("unsafe-inline"),
            "{path}: CSP {csp:?}"
        );
        assert_eq!(a.header("x-frame-options"), Some("DENY"), "{path}");
    }
    let page = w.request("GET", "/console/", &[], None).body;
    let scripts: Vec<&str> = page.split("<script").skip(1).collect();
    assert!(
        !scripts.is_empty()
            && scripts
                .iter()
                .all(|s| s.split('>').next().unwrap_or("").contains(" src=")),
        "every script of the console page is a file: {page}"
    );
    // The demo site is not a console page: the editor's preview frames it.
    let site = w.request("GET", "/site/pricing", &[], None);
    assert_eq!(site.status, 200);
    assert!(site.header("x-frame-options").is_none());
    // The widget's files keep their own headers (the loader imports them from any origin).
    let loader = w.request("GET", "/widget/loader.js", &[], None);
    assert_eq!(loader.status, 200);
    assert_eq!(loader.header("access-control-allow-origin"), Some("*"));
    assert!(loader.header("x-frame-options").is_none());
}

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
    let (mail, smtp_port) = peers::mail_catcher();
    // One more Radicale user than agents: agent4 is globex's agent (tests/browser/console/globex.mjs).
    let radicale = peers::radicale(AGENTS.len() + 1, "console");
    let smtp = smtp_port.to_string();
    let w = Worker::start(
        "console",
        Some(&peer),
        &[
            ("CONSOLE_KEY", TEST_CONSOLE_KEY),
            ("CALENDAR_KEY", TEST_CALENDAR_KEY),
            ("SMTP_HOST", "127.0.0.1"),
            ("SMTP_PORT", &smtp),
            ("SMTP_FROM", "meetings@northwind.example"),
        ],
    );
    worker::seed_demo(&root, w.port, ADMIN_TOKEN).unwrap_or_else(|e| panic!("seed_demo: {e}"));
    console::seed_accounts(w.port, ADMIN_TOKEN).unwrap_or_else(|e| panic!("seed_accounts: {e}"));
    seed_agents(&w, &radicale.urls[1]);
    let endpoint = format!("http://127.0.0.1:{}", w.port);
    let status = Command::new("node")
        .arg(root.join("tests/browser/console/run.mjs"))
        .args(["--endpoint", &endpoint, "--peer", &peer.url()])
        .args(["--mail", mail.url()])
        // CONSOLE_ONLY=<part of a test name> runs only the matching browser tests.
        .args(
            std::env::var("CONSOLE_ONLY")
                .map(|o| vec!["--only".to_string(), o])
                .unwrap_or_default(),
        )
        .current_dir(&root)
        .status()
        .unwrap_or_else(|e| panic!("node: {e}"));
    assert!(
        status.success(),
        "console browser suite failed (see the FAIL lines above)"
    );
}
