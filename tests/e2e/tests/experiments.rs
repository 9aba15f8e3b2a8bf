//! A/B experiments end to end on the real worker (workerd): a dialogue with two variants is
//! published, visitors (assigned by the worker's variant endpoint, which the widget asks, checked
//! against the engine's `experiment::assign`) send events and leads and book meetings (a real
//! CalDAV agent on Radicale), and the report shows both variants with exactly the counts sent,
//! meetings included; bad input is a 400 naming the field and stores nothing; ending the
//! experiment publishes the chosen variant as a new version.

// `worker` is what the shared `console` module (xtask/src/console.rs) calls as `super::worker`.
use dynchat_e2e::clock::{at, now_ms};
use dynchat_e2e::console::field as field_of;
use dynchat_e2e::peers::{self, PyPeer};
use dynchat_e2e::{root, root_with_widget, serial, site_settings, worker, Worker};
use dynchat_engine::experiment::{assign, Variant};
use serde_json::{json, Value};
use std::collections::HashMap;

fn example() -> String {
    std::fs::read_to_string(root().join("docs/examples/experiment.json"))
        .expect("docs/examples/experiment.json")
}

#[derive(Default, Debug, Clone, Copy, PartialEq)]
struct Sent {
    conversations: u64,
    engaged: u64,
    goals: u64,
    leads: u64,
    converted: u64,
    meetings: u64,
}

/// A fixed AES-256 key (hex) for the test worker's `CALENDAR_KEY`; never used elsewhere.
const TEST_CALENDAR_KEY: &str = "6a0e8d1f2a4b6c7d8e9f00112233445566778899aabbccddeeff0011223344bb";

/// A bookable queue `sales` on site `acme`: one agent (08:00-18:00 UTC every day, 30-minute
/// meetings) whose calendar is the real Radicale's `agent1`.
fn bookable_queue(w: &Worker, radicale: &PyPeer) {
    let d = json!([{"start": "08:00", "end": "18:00"}]);
    let hours = json!({"mon": d, "tue": d, "wed": d, "thu": d, "fri": d, "sat": d, "sun": d});
    let settings = json!({"time_zone": "UTC", "working_hours": hours, "meeting_minutes": 30, "min_notice_minutes": 60, "horizon_days": 30});
    let a = w.admin(
        "PUT",
        "/admin/sites/acme/agents/a1",
        Some(&json!({"name": "Agent One", "email": "agent1@agents.test", "settings": settings})),
    );
    assert_eq!(a.status, 200, "{}", a.body);
    let url = format!("{}/agent1/calendar/", radicale.urls[1]);
    let c = w.admin(
        "PUT",
        "/admin/sites/acme/agents/a1/calendar",
        Some(&json!({"url": url, "username": "agent1", "password": "pw1"})),
    );
    assert_eq!(c.status, 200, "{}", c.body);
    let q = w.admin(
        "PUT",
        "/admin/sites/acme/queues/sales",
        Some(&json!({"name": "Sales", "agents": ["a1"]})),
    );
    assert_eq!(q.status, 200, "{}", q.body);
}

/// `POST /book` of a visitor's session in `dialogue` (with `variant`) at the `n`-th free half
/// hour from 10:00 UTC three days from now.
fn book(w: &Worker, n: i64, visitor: &str, dialogue: &str, variant: &str) -> dynchat_e2e::Answer {
    let minute = 10 * 60 + 30 * (n % 14);
    let day = 3 + n / 14;
    let body = json!({"route": "queue:sales", "start": at(day, minute), "end": at(day, minute + 30), "tz": "UTC",
        "lead": {"email": format!("{visitor}@example.com")}, "dialogue": dialogue, "session": format!("s-{visitor}"),
        "variant": variant});
    w.post(
        "/v1/sites/acme/book",
        &body,
        &[("Idempotency-Key", &format!("xp-book-{visitor}-{n}"))],
    )
}

#[test]
fn two_variants_through_the_real_worker_report_what_was_sent() {
    let _g = serial();
    let radicale = peers::radicale(1, "experiments");
    let w = Worker::start("experiments", None, &[("CALENDAR_KEY", TEST_CALENDAR_KEY)]);
    let plain = dynchat_e2e::demo_dialogue("plain");
    let published = w.site("acme", site_settings(None), &[&example(), &plain]);
    let hash = published[0].1.clone();

    // The bundle marks the dialogue's experiment (the loader then asks for the variant) and
    // carries what targeting reads; the version ships each variant's own flow under its one hash.
    let b = w.request("GET", "/v1/sites/acme/bundle", &[], None).json();
    let entry = b["dialogues"]
        .as_array()
        .and_then(|d| d.iter().find(|e| e["id"] == "demo-ab"))
        .cloned()
        .expect("demo-ab in the bundle");
    assert_eq!(entry["experiment"], true, "{entry}");
    assert!(
        entry["targeting"]["audience"].is_object() && entry.get("flow").is_none(),
        "{entry}"
    );
    let version = w
        .request("GET", &format!("/v1/sites/acme/flows/{hash}"), &[], None)
        .json();
    let x = &version["experiment"];
    assert_eq!(x["id"], "demo-offer-2026", "{x}");
    let arms: Vec<Variant> = x["variants"]
        .as_array()
        .expect("variants")
        .iter()
        .map(|v| Variant {
            id: v["id"].as_str().unwrap_or_default().to_string(),
            weight: v["weight"].as_u64().unwrap_or(0) as u32,
        })
        .collect();
    assert_eq!(arms.len(), 2);
    for v in x["variants"].as_array().into_iter().flatten() {
        assert_eq!(v["flow"]["hash"], hash.as_str(), "one version for both");
    }
    let start_of = |v: &Value| {
        let ix = v["flow"]["start"].as_u64().unwrap_or(99) as usize;
        v["flow"]["card_ids"][ix]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(start_of(&x["variants"][0]), "hello");
    assert_eq!(start_of(&x["variants"][1]), "hello-short");
    bookable_queue(&w, &radicale);
    let plain_entry = b["dialogues"]
        .as_array()
        .and_then(|d| d.iter().find(|e| e["id"] == "plain"))
        .cloned()
        .expect("plain");
    assert_eq!(plain_entry["experiment"], Value::Null);

    // 40 visitors: every one triggers; every 2nd engages; every 3rd reaches the goal; every 4th
    // leaves a lead; every 5th books a meeting. Each sends its variant, as assigned in the browser.
    let at = now_ms();
    let mut sent: HashMap<String, Sent> = HashMap::new();
    for i in 0..40u32 {
        let visitor = format!("vis-{i:03}");
        // The widget asks the worker, which runs the engine's `assign` on the visitor id.
        let variant = assign("demo-offer-2026", &visitor, &arms)
            .expect("a variant")
            .id
            .clone();
        let asked = w.request(
            "GET",
            &format!("/v1/sites/acme/flows/{hash}/variant?visitor={visitor}"),
            &[],
            None,
        );
        assert_eq!(asked.json()["variant"], variant.as_str(), "{}", asked.body);
        let s = sent.entry(variant.clone()).or_default();
        let mut kinds = vec!["triggered"];
        s.conversations += 1;
        if i % 2 == 0 {
            kinds.push("engaged");
            s.engaged += 1;
        }
        let goal = i % 3 == 0;
        if goal {
            kinds.push("goal");
            s.goals += 1;
        }
        let lead = i % 4 == 0;
        if lead {
            s.leads += 1;
        }
        if goal || lead {
            s.converted += 1;
        }
        let events: Vec<Value> = kinds
            .iter()
            .map(|k| json!({"type": k, "dialogue": "demo-ab", "hash": hash, "variant": variant, "value": if *k == "goal" { Some("demo-request") } else { None }, "at": at}))
            .collect();
        let body = json!({"visitor": visitor, "session": format!("s-{visitor}"), "events": events});
        let a = w.post("/v1/sites/acme/events", &body, &[]);
        assert_eq!(a.status, 202, "{}", a.body);
        if lead {
            let body = json!({"visitor": visitor, "session": format!("s-{visitor}"), "dialogue": "demo-ab",
                "hash": hash, "variant": variant, "fields": {"email": format!("{visitor}@example.com")},
                "answers": {"ask": "Yes"}, "transcript": [["bot", "Shall we book a demo?"], ["visitor", "Yes"]]});
            let a = w.post(
                "/v1/sites/acme/leads",
                &body,
                &[("Idempotency-Key", &format!("xp-{visitor}"))],
            );
            assert_eq!(a.status, 201, "{}", a.body);
        }
        if i % 5 == 0 {
            let a = book(&w, i64::from(i / 5), &visitor, "demo-ab", &variant);
            assert_eq!(a.status, 201, "booking of {visitor}: {}", a.body);
            let s = sent.entry(variant.clone()).or_default();
            s.meetings += 1;
            // A booking without an earlier lead of its session leaves one (for Marketo): the
            // conversation converted.
            if !lead {
                s.leads += 1;
                if !goal {
                    s.converted += 1;
                }
            }
        }
    }
    assert_eq!(sent.len(), 2, "both variants got visitors: {sent:?}");
    assert!(
        sent.values().all(|s| s.meetings > 0),
        "both variants booked meetings: {sent:?}"
    );

    let path = format!("/v1/sites/acme/flows/{hash}/variant");
    let a = w.request("GET", &path, &[], None);
    assert_eq!(
        (a.status, field_of(&a).as_str()),
        (400, "visitor"),
        "{}",
        a.body
    );
    let a = w.request("GET", &format!("{path}?visitor=a%20b"), &[], None);
    assert_eq!(
        (a.status, field_of(&a).as_str()),
        (400, "visitor"),
        "{}",
        a.body
    );
    let a = w.request(
        "GET",
        "/v1/sites/acme/flows/0123456789abcdef0123/variant?visitor=v",
        &[],
        None,
    );
    assert_eq!(a.status, 404, "{}", a.body);
    let plain_hash = &published[1].1;
    let a = w.request(
        "GET",
        &format!("/v1/sites/acme/flows/{plain_hash}/variant?visitor=v"),
        &[],
        None,
    );
    assert_eq!(
        a.json()["variant"],
        Value::Null,
        "no experiment: {}",
        a.body
    );

    // Bad input: a 400 naming the field, and nothing of the batch stored.
    let events_before = w.stats("acme")["events"].clone();
    let bad = json!({"visitor": "vis-bad", "session": "s-bad", "events": [
        {"type": "triggered", "dialogue": "demo-ab", "hash": hash, "variant": "control", "at": at},
        {"type": "engaged", "dialogue": "demo-ab", "hash": hash, "variant": "nope", "at": at}]});
    let a = w.post("/v1/sites/acme/events", &bad, &[]);
    assert_eq!(a.status, 400, "{}", a.body);
    assert_eq!(field_of(&a), "events[1].variant", "{}", a.body);
    let no_experiment = json!({"visitor": "vis-bad", "session": "s-bad", "events": [
        {"type": "triggered", "dialogue": "plain", "variant": "control", "at": at}]});
    let a = w.post("/v1/sites/acme/events", &no_experiment, &[]);
    assert_eq!(field_of(&a), "events[0].variant", "{}", a.body);
    let a = w.post(
        "/v1/sites/acme/events",
        &json!({"visitor": "vis-bad", "session": "s-bad", "events": [
            {"type": "triggered", "dialogue": "demo-ab", "variant": "not an id!", "at": at}]}),
        &[],
    );
    assert_eq!(field_of(&a), "events[0].variant", "{}", a.body);
    let bad_lead = json!({"visitor": "vis-bad", "session": "s-bad", "dialogue": "demo-ab", "variant": "nope",
        "fields": {"email": "bad@example.com"}});
    let a = w.post(
        "/v1/sites/acme/leads",
        &bad_lead,
        &[("Idempotency-Key", "xp-bad-lead")],
    );
    assert_eq!(a.status, 400, "{}", a.body);
    assert_eq!(field_of(&a), "variant", "{}", a.body);
    assert_eq!(w.stats("acme")["events"], events_before, "nothing stored");
    // A booking naming a variant its dialogue does not declare (or with no dialogue): a 400
    // naming `variant`, and no meeting.
    for (dialogue, variant) in [("demo-ab", "nope"), ("plain", "control"), ("", "control")] {
        let a = book(&w, 20, "vis-bad", dialogue, variant);
        assert_eq!(
            (a.status, field_of(&a).as_str()),
            (400, "variant"),
            "{dialogue}/{variant}: {}",
            a.body
        );
    }

    // Bad experiments do not publish: compile diagnostics with their JSON paths.
    let mut zero: Value = serde_json::from_str(&example()).expect("json");
    zero["experiment"]["variants"][0]["weight"] = json!(0);
    zero["experiment"]["variants"][1]["weight"] = json!(0);
    let a = w.admin("POST", "/admin/sites/acme/dialogues", Some(&zero));
    assert_eq!(a.status, 400, "{}", a.body);
    assert_eq!(field_of(&a), "dialogue.experiment.variants", "{}", a.body);
    assert!(a.body.contains("no_weight"), "{}", a.body);
    let mut dup: Value = serde_json::from_str(&example()).expect("json");
    dup["experiment"]["variants"][1]["id"] = json!("control");
    let a = w.admin("POST", "/admin/sites/acme/dialogues", Some(&dup));
    assert_eq!(a.status, 400, "{}", a.body);
    assert_eq!(
        field_of(&a),
        "dialogue.experiment.variants[1].id",
        "{}",
        a.body
    );
    assert!(a.body.contains("duplicate_id"), "{}", a.body);

    // The report: both variants, with the counts sent, and the verdict against the control.
    let r = w
        .admin(
            "GET",
            "/admin/sites/acme/dialogues/demo-ab/experiment",
            None,
        )
        .json();
    assert_eq!(r["experiment"], "demo-offer-2026", "{r}");
    let rows = r["variants"].as_array().expect("variants");
    assert_eq!(rows.len(), 2, "{r}");
    assert_eq!(rows[0]["id"], "control", "the first variant is the control");
    for row in rows {
        let id = row["id"].as_str().unwrap_or_default();
        let s = sent.get(id).copied().unwrap_or_default();
        let got = Sent {
            conversations: row["conversations"].as_u64().unwrap_or(999),
            engaged: row["engaged"].as_u64().unwrap_or(999),
            goals: row["goals"].as_u64().unwrap_or(999),
            leads: row["leads"].as_u64().unwrap_or(999),
            converted: row["converted"].as_u64().unwrap_or(999),
            meetings: row["meetings"].as_u64().unwrap_or(999),
        };
        assert_eq!(got, s, "variant {id}: {r}");
    }
    let c = &r["comparisons"][0];
    assert_eq!(
        (c["control"].as_str(), c["variant"].as_str()),
        (Some("control"), Some("short"))
    );
    assert_eq!(c["verdict"], "not enough data yet", "{r}");

    // Ending the experiment publishes the chosen variant as a new version.
    let a = w.admin(
        "POST",
        "/admin/sites/acme/dialogues/demo-ab/experiment/end",
        Some(&json!({"variant": "nope"})),
    );
    assert_eq!(
        (a.status, field_of(&a).as_str()),
        (400, "variant"),
        "{}",
        a.body
    );
    let a = w.admin(
        "POST",
        "/admin/sites/acme/dialogues/demo-ab/experiment/end",
        Some(&json!({"variant": "short"})),
    );
    assert_eq!(a.status, 201, "{}", a.body);
    let ended = a.json();
    assert_eq!(ended["experiment"], "demo-offer-2026");
    let new_hash = ended["hash"].as_str().unwrap_or_default().to_string();
    assert_ne!(new_hash, hash);
    let b = w.request("GET", "/v1/sites/acme/bundle", &[], None).json();
    let entry = b["dialogues"]
        .as_array()
        .and_then(|d| d.iter().find(|e| e["id"] == "demo-ab"))
        .cloned()
        .expect("demo-ab still published");
    assert_eq!(entry["hash"], new_hash.as_str());
    assert_eq!(entry["experiment"], Value::Null);
    assert_eq!(
        b["dialogues"]
            .as_array()
            .map(|d| d.iter().filter(|e| e["id"] == "demo-ab").count()),
        Some(1),
        "the bundle serves only the new version: {b}"
    );
    // The version list shows the new version live and the experiment's version no longer live.
    let list = w.admin("GET", "/admin/sites/acme/dialogues", None).json();
    let live_of = |h: &str| {
        list["versions"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|v| v["dialogue"] == "demo-ab" && v["hash"] == h)
            .map(|v| v["live"].as_i64().unwrap_or(-1))
    };
    assert_eq!(live_of(&new_hash), Some(1), "{list}");
    assert_eq!(live_of(&hash), Some(0), "{list}");
    // The bundle has what targeting reads (no experiment now); the version comes by its hash.
    assert!(
        entry.get("flow").is_none() && entry["targeting"].is_object(),
        "{entry}"
    );
    let entry = w
        .request(
            "GET",
            &format!("/v1/sites/acme/flows/{new_hash}"),
            &[],
            None,
        )
        .json();
    let ix = entry["flow"]["start"].as_u64().unwrap_or(99) as usize;
    assert_eq!(entry["flow"]["card_ids"][ix], "hello-short");
    assert!(!entry["flow"]["card_ids"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|c| c == "hello"));
    // A visitor still on the old version may finish it: its variant is still accepted.
    let late = json!({"visitor": "vis-000", "session": "s-vis-000", "events": [
        {"type": "completed", "dialogue": "demo-ab", "hash": hash, "variant": "short", "at": at}]});
    assert_eq!(w.post("/v1/sites/acme/events", &late, &[]).status, 202);
    // The report keeps the data of the ended experiment.
    let r = w
        .admin(
            "GET",
            "/admin/sites/acme/dialogues/demo-ab/experiment",
            None,
        )
        .json();
    assert_eq!(r["experiment"], Value::Null, "{r}");
    assert_eq!(r["variants"].as_array().map(Vec::len), Some(2), "{r}");
}

#[allow(dead_code)]
#[path = "../../../xtask/src/console.rs"]
mod console;

/// A fixed 32-byte AES key (base64) for the test worker's `CONSOLE_KEY`; never used elsewhere.
const TEST_CONSOLE_KEY: &str = "ZHluY2hhdC1jb25zb2xlLXRlc3Qta2V5LTMyLWJ5dGU=";

/// The console's Reports page shows the experiment per variant with the verdict, in Chromium:
/// 1,200 visitors, a goal for every 10th of the control and every 4th of `short`, so the
/// sequential test names `short` the winner; every 100th visitor books a meeting. Then the
/// admin ends the experiment with the console's "Publish short as the new version" button, and
/// the worker serves only the new version.
#[test]
fn the_console_shows_each_variant_with_its_verdict() {
    let _g = serial();
    let root = root();
    console::build_console(&root).unwrap_or_else(|e| panic!("build_console: {e}"));
    let radicale = peers::radicale(1, "experiments-console");
    let w = Worker::start(
        "experiments-console",
        None,
        // 1,200 event batches from one address in a few seconds: lift the per-minute limits.
        &[
            ("CONSOLE_KEY", TEST_CONSOLE_KEY),
            ("CALENDAR_KEY", TEST_CALENDAR_KEY),
            ("RATE_SITE_PER_MINUTE", "100000"),
            ("RATE_IP_PER_MINUTE", "100000"),
        ],
    );
    console::seed_accounts(w.port, dynchat_e2e::ADMIN_TOKEN)
        .unwrap_or_else(|e| panic!("seed_accounts: {e}"));
    let hash = w.site("acme", site_settings(None), &[&example()])[0]
        .1
        .clone();
    bookable_queue(&w, &radicale);
    let arms = [
        Variant {
            id: "control".into(),
            weight: 1,
        },
        Variant {
            id: "short".into(),
            weight: 1,
        },
    ];
    let at = now_ms();
    let mut sent: HashMap<String, u64> = HashMap::new();
    let mut booked: HashMap<String, u64> = HashMap::new();
    let mut seen: HashMap<String, u64> = HashMap::new();
    for i in 0..1_200u32 {
        let visitor = format!("crowd-{i:05}");
        let variant = assign("demo-offer-2026", &visitor, &arms)
            .expect("a variant")
            .id
            .clone();
        let k = seen.entry(variant.clone()).or_default();
        *k += 1;
        let converts = if variant == "short" {
            k.is_multiple_of(4)
        } else {
            k.is_multiple_of(10)
        };
        *sent.entry(variant.clone()).or_default() += 1;
        let mut events = vec![
            json!({"type": "triggered", "dialogue": "demo-ab", "hash": hash, "variant": variant, "at": at}),
        ];
        if k.is_multiple_of(2) {
            events.push(json!({"type": "engaged", "dialogue": "demo-ab", "hash": hash, "variant": variant, "at": at}));
        }
        if converts {
            events.push(json!({"type": "goal", "dialogue": "demo-ab", "hash": hash, "variant": variant, "value": "demo-request", "at": at}));
        }
        let body = json!({"visitor": visitor, "session": format!("s-{visitor}"), "events": events});
        let a = w.post("/v1/sites/acme/events", &body, &[]);
        assert_eq!(a.status, 202, "{}", a.body);
        if i % 100 == 0 {
            let a = book(&w, i64::from(i / 100), &visitor, "demo-ab", &variant);
            assert_eq!(a.status, 201, "booking of {visitor}: {}", a.body);
            *booked.entry(variant.clone()).or_default() += 1;
        }
    }
    let r = w
        .admin(
            "GET",
            "/admin/sites/acme/dialogues/demo-ab/experiment",
            None,
        )
        .json();
    assert_eq!(r["comparisons"][0]["winner"], "short", "{r}");
    let endpoint = format!("http://127.0.0.1:{}", w.port);
    let expect: serde_json::Map<String, Value> = sent
        .iter()
        .map(|(id, n)| {
            let m = booked.get(id).copied().unwrap_or(0);
            (id.clone(), json!({"conversations": n, "meetings": m}))
        })
        .collect();
    assert_eq!(booked.len(), 2, "both variants booked: {booked:?}");
    let expect = Value::Object(expect).to_string();
    let status = std::process::Command::new("node")
        .arg(root.join("tests/browser/console/experiments.mjs"))
        .args([
            "--endpoint",
            &endpoint,
            "--expect",
            &expect,
            "--winner",
            "short",
            "--end",
            "short",
        ])
        .current_dir(&root)
        .status()
        .unwrap_or_else(|e| panic!("node: {e}"));
    assert!(
        status.success(),
        "console experiments check failed (FAIL line above)"
    );
    // The button published `short` as the new version: the bundle serves only it.
    let b = w.request("GET", "/v1/sites/acme/bundle", &[], None).json();
    let entries: Vec<&Value> = b["dialogues"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["id"] == "demo-ab")
        .collect();
    assert_eq!(entries.len(), 1, "{b}");
    assert_ne!(entries[0]["hash"], hash.as_str(), "a new version: {b}");
    assert_eq!(entries[0]["experiment"], Value::Null, "{b}");
    // The bundle has what targeting reads; the version's flow comes by its hash.
    let v = w
        .request(
            "GET",
            &format!(
                "/v1/sites/acme/flows/{}",
                entries[0]["hash"].as_str().unwrap_or_default()
            ),
            &[],
            None,
        )
        .json();
    let ix = v["flow"]["start"].as_u64().unwrap_or(99) as usize;
    assert_eq!(v["flow"]["card_ids"][ix], "hello-short", "{v}");
}

/// The Marketo activities of a visitor in an experiment record its variant: goal, engaged
/// dialogue and the booked meeting (the real Marketo peer, which refuses an attribute its
/// activity type does not declare; the worker's setup creates the types with `variant`).
#[test]
fn marketo_activities_record_the_variant() {
    let _g = serial();
    let peer = dynchat_e2e::Peer::start(&[]);
    let radicale = peers::radicale(1, "experiments-marketo");
    let w = Worker::start(
        "experiments-marketo",
        Some(&peer),
        &[("CALENDAR_KEY", TEST_CALENDAR_KEY)],
    );
    let hash = w.site("acme", site_settings(None), &[&example()])[0]
        .1
        .clone();
    bookable_queue(&w, &radicale);
    let setup = w.admin("POST", "/admin/marketo/setup", Some(&json!({})));
    assert_eq!(setup.status, 200, "{}", setup.body);
    let visitor = "vis-marketo";
    let at = now_ms();
    let ev = |t: &str, value: Option<&str>| json!({"type": t, "dialogue": "demo-ab", "hash": hash, "variant": "short", "value": value, "at": at});
    let batch = json!({"visitor": visitor, "session": "s-m", "events": [ev("triggered", None), ev("goal", Some("demo-request"))]});
    assert_eq!(w.post("/v1/sites/acme/events", &batch, &[]).status, 202);
    let lead = json!({"visitor": visitor, "session": "s-m", "dialogue": "demo-ab", "hash": hash, "variant": "short",
        "fields": {"email": "xp@example.com"}, "transcript": [["bot", "Got 15 minutes this week?"]]});
    let a = w.post(
        "/v1/sites/acme/leads",
        &lead,
        &[("Idempotency-Key", "xp-marketo-1")],
    );
    assert_eq!(a.status, 201, "{}", a.body);
    let done = json!({"visitor": visitor, "session": "s-m", "events": [ev("completed", None)]});
    assert_eq!(w.post("/v1/sites/acme/events", &done, &[]).status, 202);
    // The meeting of the same session (visitor "m": session "s-m").
    let a = book(&w, 0, "m", "demo-ab", "short");
    assert_eq!(a.status, 201, "{}", a.body);
    w.wait_until(
        std::time::Duration::from_secs(90),
        "three activities in the peer",
        || {
            peer.state()["activities"]
                .as_array()
                .is_some_and(|a| a.len() >= 3)
        },
    );
    let st = peer.state();
    let types: HashMap<i64, String> = st["activity_types"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| {
            (
                t["id"].as_i64().unwrap_or(0),
                t["apiName"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    let mut kinds = Vec::new();
    for a in st["activities"].as_array().into_iter().flatten() {
        let kind = types
            .get(&a["activityTypeId"].as_i64().unwrap_or(0))
            .cloned()
            .unwrap_or_default();
        let variant = a["attributes"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|x| x["name"] == "variant")
            .map(|x| x["value"].clone());
        assert_eq!(variant, Some(json!("short")), "{kind}: {a}");
        kinds.push(kind);
    }
    kinds.sort();
    assert_eq!(
        kinds,
        [
            "dynchat_engaged_dialogue",
            "dynchat_goal",
            "dynchat_meeting"
        ],
        "{st}"
    );
}

/// The widget in Chromium on the demo site served by the real worker: each fresh visitor runs
/// the variant the worker assigns (its texts on screen), every event carries it, and the
/// meeting the visitor books in the chat (a real CalDAV agent) carries it too, so the report
/// counts one meeting per conversation of each variant.
#[test]
fn the_widget_runs_the_variant_the_worker_assigns() {
    let _g = serial();
    let root = root_with_widget();
    console::build_site(&root).unwrap_or_else(|e| panic!("build_site: {e}"));
    let radicale = peers::radicale(1, "experiments-widget");
    let w = Worker::start(
        "experiments-widget",
        None,
        &[("CALENDAR_KEY", TEST_CALENDAR_KEY)],
    );
    let mut d: Value = serde_json::from_str(&example()).expect("json");
    d["audience"] = json!({"all": [{"field": "page.url", "op": "matches", "value": "*/pricing*"}]});
    // After the goal, a meeting card on the bookable queue.
    let cards = d["cards"].as_array_mut().expect("cards");
    for c in cards.iter_mut() {
        if c["id"] == "won" {
            c["next"] = json!("meet");
        }
    }
    cards.push(json!({"type": "meeting", "id": "meet", "text": "Pick a time:", "route": {"queue": "sales"},
        "confirmation": "Booked with {{meeting.agent}} on {{meeting.time}}.", "next": "bye", "on_skip": "bye"}));
    w.site("acme", site_settings(None), &[&d.to_string()]);
    bookable_queue(&w, &radicale);
    console::allow_demo_origin(w.port, dynchat_e2e::ADMIN_TOKEN)
        .unwrap_or_else(|e| panic!("allow_demo_origin: {e}"));
    let endpoint = format!("http://127.0.0.1:{}", w.port);
    let status = std::process::Command::new("node")
        .arg(root.join("tests/browser/experiment-widget.mjs"))
        .args(["--endpoint", &endpoint, "--book"])
        .current_dir(&root)
        .status()
        .unwrap_or_else(|e| panic!("node: {e}"));
    assert!(
        status.success(),
        "widget experiment check failed (FAIL line above)"
    );
    // Every visitor triggered the dialogue and booked from the chat: per variant, as many
    // meetings as conversations.
    let r = w
        .admin(
            "GET",
            "/admin/sites/acme/dialogues/demo-ab/experiment",
            None,
        )
        .json();
    let rows = r["variants"].as_array().cloned().unwrap_or_default();
    assert_eq!(rows.len(), 2, "{r}");
    for row in rows {
        assert!(row["conversations"].as_u64().unwrap_or(0) > 0, "{r}");
        assert_eq!(row["meetings"], row["conversations"], "{r}");
    }
}
