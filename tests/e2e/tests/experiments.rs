//! A/B experiments end to end on the real worker (workerd): a dialogue with two variants is
//! published, visitors (assigned by the worker's variant endpoint, which the widget asks, checked
//! against the engine's `experiment::assign`) send events and leads, and the report shows both variants with exactly the counts sent;
//! bad input is a 400 naming the field and stores nothing; ending the experiment publishes the
//! chosen variant as a new version.

// `worker` is what the shared `console` module (xtask/src/console.rs) calls as `super::worker`.
use dynchat_e2e::clock::now_ms;
use dynchat_e2e::console::field as field_of;
use dynchat_e2e::{root, serial, site_settings, worker, Worker};
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
}

#[test]
fn two_variants_through_the_real_worker_report_what_was_sent() {
    let _g = serial();
    let w = Worker::start("experiments", None, &[]);
    let plain = dynchat_e2e::demo_dialogue("plain");
    let published = w.site("acme", site_settings(None), &[&example(), &plain]);
    let hash = published[0].1.clone();

    // The bundle ships each variant's own flow under the one published version.
    let b = w.request("GET", "/v1/sites/acme/bundle", &[], None).json();
    let entry = b["dialogues"]
        .as_array()
        .and_then(|d| d.iter().find(|e| e["id"] == "demo-ab"))
        .cloned()
        .expect("demo-ab in the bundle");
    let x = &entry["experiment"];
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
    let plain_entry = b["dialogues"]
        .as_array()
        .and_then(|d| d.iter().find(|e| e["id"] == "plain"))
        .cloned()
        .expect("plain");
    assert_eq!(plain_entry["experiment"], Value::Null);

    // 40 visitors: every one triggers; every 2nd engages; every 3rd reaches the goal; every 4th
    // leaves a lead. Each sends its variant, as assigned in the browser.
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
    }
    assert_eq!(sent.len(), 2, "both variants got visitors: {sent:?}");

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
        };
        assert_eq!(got, s, "variant {id}: {r}");
        assert_eq!(row["meetings"], 0, "{r}");
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
/// sequential test names `short` the winner.
#[test]
fn the_console_shows_each_variant_with_its_verdict() {
    let _g = serial();
    let root = root();
    console::build_console(&root).unwrap_or_else(|e| panic!("build_console: {e}"));
    let w = Worker::start(
        "experiments-console",
        None,
        // 1,200 event batches from one address in a few seconds: lift the per-minute limits.
        &[
            ("CONSOLE_KEY", TEST_CONSOLE_KEY),
            ("RATE_SITE_PER_MINUTE", "100000"),
            ("RATE_IP_PER_MINUTE", "100000"),
        ],
    );
    console::seed_accounts(w.port, dynchat_e2e::ADMIN_TOKEN)
        .unwrap_or_else(|e| panic!("seed_accounts: {e}"));
    let hash = w.site("acme", site_settings(None), &[&example()])[0]
        .1
        .clone();
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
    let expect = serde_json::to_string(&sent).expect("json");
    let status = std::process::Command::new("node")
        .arg(root.join("tests/browser/console/experiments.mjs"))
        .args([
            "--endpoint",
            &endpoint,
            "--expect",
            &expect,
            "--winner",
            "short",
        ])
        .current_dir(&root)
        .status()
        .unwrap_or_else(|e| panic!("node: {e}"));
    assert!(
        status.success(),
        "console experiments check failed (FAIL line above)"
    );
}

/// The Marketo activities of a visitor in an experiment record its variant (the real Marketo
/// peer, whose activity types the worker's setup creates with a `variant` attribute).
#[test]
fn marketo_activities_record_the_variant() {
    let _g = serial();
    let peer = dynchat_e2e::Peer::start(&[]);
    let w = Worker::start("experiments-marketo", Some(&peer), &[]);
    let hash = w.site("acme", site_settings(None), &[&example()])[0]
        .1
        .clone();
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
    w.wait_until(
        std::time::Duration::from_secs(90),
        "two activities in the peer",
        || {
            peer.state()["activities"]
                .as_array()
                .is_some_and(|a| a.len() >= 2)
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
    assert_eq!(kinds, ["dynchat_engaged_dialogue", "dynchat_goal"], "{st}");
}

/// The widget in Chromium on the demo site served by the real worker: each fresh visitor runs
/// the variant the worker assigns (its texts on screen) and every event carries it.
#[test]
fn the_widget_runs_the_variant_the_worker_assigns() {
    let _g = serial();
    let root = root();
    assert!(
        root.join("dist/widget/loader.js").exists(),
        "dist/widget is missing: build the widget first (cargo xtask widget)"
    );
    console::build_site(&root).unwrap_or_else(|e| panic!("build_site: {e}"));
    let w = Worker::start("experiments-widget", None, &[]);
    let mut d: Value = serde_json::from_str(&example()).expect("json");
    d["audience"] = json!({"all": [{"field": "page.url", "op": "matches", "value": "*/pricing*"}]});
    w.site("acme", site_settings(None), &[&d.to_string()]);
    console::allow_demo_origin(w.port, dynchat_e2e::ADMIN_TOKEN)
        .unwrap_or_else(|e| panic!("allow_demo_origin: {e}"));
    let endpoint = format!("http://127.0.0.1:{}", w.port);
    let status = std::process::Command::new("node")
        .arg(root.join("tests/browser/experiment-widget.mjs"))
        .args(["--endpoint", &endpoint])
        .current_dir(&root)
        .status()
        .unwrap_or_else(|e| panic!("node: {e}"));
    assert!(
        status.success(),
        "widget experiment check failed (FAIL line above)"
    );
}
