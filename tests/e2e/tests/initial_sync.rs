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

/// A dialogue reading `fields` (JSON paths `$.audience.all[i].field`), with one message card.
fn dialogue_reading(id: &str, fields: &[&str]) -> Value {
    let all: Vec<Value> = fields
        .iter()
        .map(|f| json!({"field": f, "op": "is_not_empty"}))
        .collect();
    json!({
        "version": 1, "id": id, "name": id,
        "audience": {"all": all},
        "cards": [
            {"type": "message", "id": "hi", "text": "Hi {{lead.FirstName:there}} from {{company.industry:your field}}", "next": "end"},
            {"type": "end", "id": "end"}
        ]
    })
}

/// Publishing checks rule field names against the connected instance's describe: a name that
/// maps (`lead.FirstName` -> `firstName`, `company.industry` on the company record) publishes;
/// one Marketo does not have is refused with a 400 naming the rule's JSON path and the field,
/// nothing published; with Marketo unreachable the same dialogue publishes with a warning that
/// its names were not checked.
#[test]
fn publish_refuses_rule_fields_the_instance_does_not_have() {
    let _g = serial();
    let peer = Peer::start(&[]);
    let w = Worker::start("publish-fields", Some(&peer), &[]);
    w.site("acme", site_settings(None), &[]);
    let good = w.admin(
        "POST",
        "/admin/sites/acme/dialogues",
        Some(&dialogue_reading(
            "good",
            &["lead.FirstName", "company.numberOfEmployees"],
        )),
    );
    assert_eq!(good.status, 201, "{}", good.body);

    let bad = w.admin(
        "POST",
        "/admin/sites/acme/dialogues",
        Some(&dialogue_reading(
            "bad",
            &["lead.email", "lead.leadScore", "company.Name"],
        )),
    );
    assert_eq!(bad.status, 400, "{}", bad.body);
    let e = bad.json();
    assert_eq!(e["error"]["field"], "dialogue.audience.all[1].field", "{e}");
    let msg = e["error"]["message"].as_str().unwrap_or("");
    assert!(
        msg.contains("`lead.leadScore`") && msg.contains("no field `leadScore`"),
        "{msg}"
    );
    assert!(
        msg.contains("$.audience.all[2].field") && msg.contains("`company.Name`"),
        "every unknown field is named with its path: {msg}"
    );
    let list = w.admin("GET", "/admin/sites/acme/dialogues", None).json();
    assert!(
        !list.to_string().contains("\"bad\""),
        "nothing stored or published: {list}"
    );

    // Marketo unreachable: the describe cannot be read, the dialogue publishes with a warning.
    drop(w);
    let alone = Worker::start("publish-fields-alone", None, &[]);
    alone.site("acme", site_settings(None), &[]);
    let a = alone.admin(
        "POST",
        "/admin/sites/acme/dialogues",
        Some(&dialogue_reading("bad", &["lead.leadScore"])),
    );
    assert_eq!(a.status, 201, "{}", a.body);
    assert!(
        a.json()["warnings"].as_array().is_some_and(|w| w
            .iter()
            .any(|x| x.as_str().unwrap_or("").contains("not checked"))),
        "{}",
        a.body
    );
}

/// Marketo has no bulk extract for companies: when a rule reads `company.*`, the initial sync
/// exports each lead's company name with the lead and reads the page's company records through
/// the Companies API, at most 300 names a call (the peer refuses more, as Marketo does); each
/// cached lead then answers its company record's fields (`billingCountry` exists only there)
/// without a call. A lead whose company Marketo does not know keeps its own fields.
#[test]
fn initial_sync_caches_each_leads_company_record_through_the_companies_api() {
    let _g = serial();
    let peer = Peer::start(&["--export-seconds", "1"]);
    // 400 leads over 320 company names; Marketo knows 310 of the companies.
    let companies: Vec<Value> = (0..310)
        .map(|c| json!({"company": format!("Firm {c}"), "industry": "Software", "billingCountry": format!("Land {c}")}))
        .collect();
    let leads: Vec<Value> = (0..400)
        .map(|i| json!({"email": format!("co{i}@example.com"), "firstName": format!("Cy{i}"), "company": format!("firm {}", i % 320), "industry": "Lead-level"}))
        .collect();
    assert_eq!(
        peer.seed(json!({"companies": companies, "leads": leads}))["ok"],
        true
    );
    let w = Worker::start(
        "initial-sync-companies",
        Some(&peer),
        &[("MARKETO_BULK_POLL_MS", "300")],
    );
    let dialogue = json!({
        "version": 1, "id": "firms", "name": "Firms",
        "audience": {"all": [{"field": "company.billingCountry", "op": "is_not_empty"}, {"field": "company.industry", "op": "is", "value": "Software"}]},
        "cards": [{"type": "message", "id": "hi", "text": "Hi {{lead.FirstName:there}}", "next": "end"}, {"type": "end", "id": "end"}]
    });
    w.site("acme", site_settings(None), &[&dialogue.to_string()]);
    let started = w.admin(
        "POST",
        "/admin/marketo/initial-sync",
        Some(&json!({ "since": iso_days_ago(5) })),
    );
    assert_eq!(started.status, 202, "{}", started.body);
    let s = started.json();
    let exported: Vec<String> =
        serde_json::from_str(s["sync"]["fields"].as_str().unwrap_or("[]")).unwrap_or_default();
    assert!(
        exported.contains(&"company".to_string()),
        "the company name is exported: {s}"
    );
    assert!(
        s["company_fields"]
            .as_array()
            .is_some_and(|f| f.iter().any(|x| x["field"] == "company.billingCountry"
                && x["marketo"] == "billingCountry (company record)")),
        "{s}"
    );
    let t0 = Instant::now();
    let mut done = Value::Null;
    for _ in 0..300 {
        assert!(t0.elapsed() < Duration::from_secs(240), "not done: {done}");
        w.cron_minute();
        done = progress(&w);
        assert_ne!(done["sync"]["phase"], "failed", "{done}");
        if done["sync"]["phase"] == "done" {
            break;
        }
    }
    assert_eq!(done["sync"]["rows_done"], 400, "{done}");
    // 390 leads work at one of the 310 known companies.
    assert_eq!(done["sync"]["companies_done"], 390, "{done}");
    let gate = w.admin("GET", "/admin/marketo/gate", None).json();
    assert_eq!(
        gate["company_lookups"], 2,
        "320 names in calls of at most 300: {gate}"
    );
    assert_eq!(
        peer.state()["counters"]["errors_by_code"],
        json!({}),
        "no Marketo error"
    );

    let calls = peer.state()["counters"]["calls_total"]
        .as_i64()
        .unwrap_or(0);
    let ask = |i: usize| {
        w.post(
            "/v1/sites/acme/traits",
            &json!({"email": format!("co{i}@example.com"), "fields": ["company.billingCountry", "company.industry"]}),
            &[],
        )
        .json()
    };
    let t = ask(7);
    assert_eq!(t["company"]["billingCountry"], "Land 7", "{t}");
    assert_eq!(
        t["company"]["industry"], "Software",
        "the company record wins: {t}"
    );
    let t = ask(315);
    assert!(t["company"].get("billingCountry").is_none(), "{t}");
    assert_eq!(
        t["company"]["industry"], "Lead-level",
        "the lead's own field: {t}"
    );
    assert_eq!(
        peer.state()["counters"]["calls_total"]
            .as_i64()
            .unwrap_or(0),
        calls,
        "served from the synced cache"
    );
}
