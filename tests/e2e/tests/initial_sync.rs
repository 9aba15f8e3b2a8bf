//! End-to-end: the one-time initial Marketo sync through Bulk Lead Extract against the Marketo
//! peer, interrupted by a worker restart, and rule field names mapped to the describe's
//! (`lead.FirstName` reads Marketo's `firstName`).
//!
//! Size: `E2E_SYNC_LEADS` (default 2000 in `cargo xtask test`; `cargo xtask soak` runs 50,000).

use dynchat_e2e::clock::iso_days_ago;
use dynchat_e2e::{serial, site_settings, Peer, Worker};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A dialogue whose audience reads `lead.FirstName` (Marketo's name is `firstName`).
fn first_name_dialogue() -> String {
    json!({
        "version": 1, "id": "hello", "name": "Hello by first name",
        "audience": {"all": [{"field": "lead.FirstName", "op": "is_not_empty"}]},
        "cards": [
            {"type": "message", "id": "hi", "text": "Hi {{lead.FirstName:there}}", "next": "end"},
            {"type": "end", "id": "end", "text": "Bye"}
        ]
    })
    .to_string()
}

fn progress(w: &Worker) -> Value {
    let a = w.admin("GET", "/admin/marketo/initial-sync", None);
    assert_eq!(a.status, 200, "{}", a.body);
    a.json()
}

#[test]
fn initial_sync_of_peer_leads_survives_a_restart_and_completes_once() {
    let _g = serial();
    let n = env_usize("E2E_SYNC_LEADS", 2000);
    let peer = Peer::start(&["--export-seconds", "1"]);
    let mut seeded = 0;
    while seeded < n {
        let chunk: Vec<Value> = (seeded..n.min(seeded + 2000))
            .map(|i| {
                // Quotes, commas and a newline in a value: the CSV must be read, not split.
                let first = if i % 97 == 0 {
                    format!("Ann \"{i}\",\nJr")
                } else {
                    format!("Ann{i}")
                };
                json!({"email": format!("sync{i}@example.com"), "firstName": first, "company": "Acme, Inc"})
            })
            .collect();
        seeded += chunk.len();
        let a = peer.seed(json!({ "leads": chunk }));
        assert_eq!(a["ok"], true, "seed");
    }
    // Small pages (about ten per file, 8 KB at least) and few calls per run, so the sync spans
    // many cron runs and the restart falls in the middle of a file.
    let page = (n * 4).max(8192).to_string();
    let mut w = Worker::start(
        "initial-sync",
        Some(&peer),
        &[
            ("MARKETO_BULK_PAGE_BYTES", page.as_str()),
            ("MARKETO_BULK_CALLS_PER_RUN", "3"),
            ("MARKETO_BULK_POLL_MS", "300"),
        ],
    );
    w.site("acme", site_settings(None), &[&first_name_dialogue()]);

    let bad = w.admin(
        "POST",
        "/admin/marketo/initial-sync",
        Some(&json!({"since": "last week"})),
    );
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert!(bad.body.contains("since"), "{}", bad.body);

    // 40 days back: two createdAt windows (31 days each at most).
    let since = iso_days_ago(40);
    let started = w.admin(
        "POST",
        "/admin/marketo/initial-sync",
        Some(&json!({ "since": since })),
    );
    assert_eq!(started.status, 202, "{}", started.body);
    let s = started.json();
    assert_eq!(s["sync"]["phase"], "create", "{s}");
    assert_eq!(s["sync"]["windows_total"], 2, "{s}");
    let exported: Vec<String> =
        serde_json::from_str(s["sync"]["fields"].as_str().unwrap_or("[]")).unwrap_or_default();
    assert!(exported.contains(&"firstName".to_string()), "{s}");
    assert!(
        s["fields"].as_array().is_some_and(|f| f
            .iter()
            .any(|x| x["field"] == "lead.FirstName" && x["marketo"] == "firstName")),
        "the rule's FirstName maps to the describe's firstName: {s}"
    );
    let again = w.admin("POST", "/admin/marketo/initial-sync", Some(&json!({})));
    assert_eq!(
        again.status, 409,
        "a second start while one runs: {}",
        again.body
    );

    // Run until part of a file is stored, then restart the worker.
    let t0 = Instant::now();
    let mut mid = Value::Null;
    for _ in 0..600 {
        assert!(
            t0.elapsed() < Duration::from_secs(300),
            "no progress: {mid}"
        );
        w.cron_minute();
        mid = progress(&w);
        let rows = mid["sync"]["rows_done"].as_i64().unwrap_or(0);
        if mid["sync"]["phase"] == "read" && rows > 0 {
            break;
        }
        assert_ne!(mid["sync"]["phase"], "failed", "{mid}");
        assert_ne!(
            mid["sync"]["phase"], "done",
            "done before the restart: {mid}"
        );
    }
    let before_restart = mid["sync"]["rows_done"].as_i64().unwrap_or(0);
    assert!(before_restart > 0 && before_restart < n as i64, "{mid}");
    assert!(
        mid["percent"].as_f64().unwrap_or(0.0) > 0.0,
        "progress visible: {mid}"
    );
    w.restart();

    let mut done = Value::Null;
    for _ in 0..2000 {
        assert!(t0.elapsed() < Duration::from_secs(900), "not done: {done}");
        w.cron_minute();
        done = progress(&w);
        assert_ne!(done["sync"]["phase"], "failed", "{done}");
        if done["sync"]["phase"] == "done" {
            break;
        }
    }
    let sync = &done["sync"];
    assert_eq!(done["percent"], 100.0, "{done}");
    assert_eq!(sync["rows_done"], n as i64, "every row once: {done}");
    assert_eq!(sync["rows_skipped"], 0, "{done}");
    assert_eq!(sync["windows_done"], 2, "{done}");
    assert!(
        done["cached_leads"].as_i64().unwrap_or(0) >= n as i64,
        "{done}"
    );

    // Exactly one export job per window, each read to its end, inside the gate's limits.
    let st = peer.state();
    let jobs = st["exports"]["jobs"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(jobs.len(), 2, "one job per window: {jobs:?}");
    assert!(jobs.iter().all(|j| j["status"] == "Completed"), "{jobs:?}");
    let file_bytes: i64 = jobs
        .iter()
        .map(|j| j["fileSize"].as_i64().unwrap_or(0))
        .sum();
    assert_eq!(sync["bytes_done"], file_bytes, "{done}");
    let records: i64 = jobs
        .iter()
        .map(|j| j["numberOfRecords"].as_i64().unwrap_or(0))
        .sum();
    assert_eq!(records, n as i64);
    let c = &st["counters"];
    assert_eq!(c["count_606"], 0, "{c}");
    assert_eq!(c["count_615"], 0, "{c}");
    assert_eq!(c["count_607"], 0, "{c}");

    // Completed once: more cron runs create no job.
    w.cron_minute();
    w.cron_minute();
    assert_eq!(
        peer.state()["exports"]["jobs"].as_array().map(Vec::len),
        Some(2)
    );

    // The synced rows answer traits without a call to Marketo, under the rule's spelling.
    let calls = peer.state()["counters"]["calls_total"]
        .as_i64()
        .unwrap_or(0);
    for i in [0usize, 97, n - 1] {
        let t = w
            .post(
                "/v1/sites/acme/traits",
                &json!({"email": format!("Sync{i}@example.com"), "fields": ["lead.FirstName"]}),
                &[],
            )
            .json();
        assert_eq!(t["known"], true, "{t}");
        let want = if i % 97 == 0 {
            format!("Ann \"{i}\",\nJr")
        } else {
            format!("Ann{i}")
        };
        assert_eq!(t["lead"]["FirstName"], want.as_str(), "{t}");
    }
    assert_eq!(
        peer.state()["counters"]["calls_total"]
            .as_i64()
            .unwrap_or(0),
        calls,
        "served from the synced cache"
    );

    // A lead the sync did not see is looked up live; FirstName still maps to firstName.
    peer.seed(json!({"leads": [{"email": "late@example.com", "firstName": "Lena"}]}));
    let t = w
        .post(
            "/v1/sites/acme/traits",
            &json!({"email": "late@example.com", "fields": ["lead.FirstName"]}),
            &[],
        )
        .json();
    assert_eq!(t["lead"]["FirstName"], "Lena", "{t}");
}
