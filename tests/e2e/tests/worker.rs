//! End-to-end tests of the edge worker under wrangler dev (workerd) against the Marketo peer.
//!
//! Sizes of the long runs: `E2E_FAULT_LEADS` (default 1000) and `E2E_RATE_LEADS` (default
//! 4000) in `cargo xtask test`; `cargo xtask soak` runs them at the issue's sizes (5000 / 20000).

use dynchat_e2e::{demo_dialogue, serial, site_settings, Peer, Worker};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::time::Duration;

const ORIGIN: &str = "http://127.0.0.1:8080";

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn lead_body(visitor: &str, dialogue: &str, hash: &str, email: &str) -> Value {
    json!({"visitor": visitor, "session": format!("s-{visitor}"), "dialogue": dialogue, "hash": hash,
           "fields": {"email": email, "firstName": "Ann"}, "answers": {"interest": "pricing"},
           "transcript": [["bot", "What brings you here?"], ["visitor", "Pricing"]]})
}

#[test]
fn health_bundle_flows_cors() {
    let _g = serial();
    let w = Worker::start("bundle", None, &[]);
    let h = w.request("GET", "/health", &[], None);
    assert_eq!(h.status, 200);
    assert_eq!(h.json()["ok"], true);

    let pricing =
        std::fs::read_to_string(dynchat_e2e::root().join("examples/pricing-qualify.json"))
            .expect("examples/pricing-qualify.json");
    let published = w.site(
        "acme",
        site_settings(None),
        &[&pricing, &demo_dialogue("demo")],
    );

    let b = w.request(
        "GET",
        "/v1/sites/acme/bundle",
        &[("Origin", ORIGIN), ("CF-IPCountry", "NL")],
        None,
    );
    assert_eq!(b.status, 200, "{}", b.body);
    let etag = b.header("etag").expect("ETag").to_string();
    assert_eq!(b.header("cache-control"), Some("public, max-age=60"));
    assert_eq!(b.header("access-control-allow-origin"), Some(ORIGIN));
    assert_eq!(b.header("x-dynchat-country"), Some("NL"));
    let body = b.json();
    assert_eq!(body["dialogues"].as_array().map(Vec::len), Some(2));
    let lead_fields: Vec<&str> = body["lead_fields"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        lead_fields.contains(&"firstName") && lead_fields.contains(&"company.industry"),
        "{lead_fields:?}"
    );

    let nm = w.request(
        "GET",
        "/v1/sites/acme/bundle",
        &[("If-None-Match", &etag)],
        None,
    );
    assert_eq!(nm.status, 304);
    assert!(nm.body.is_empty());

    // Publishing a new version changes the ETag; the old version stays reachable by hash.
    let (id, old_hash) = published[1].clone();
    let v2 = demo_dialogue("demo").replace("What brings you here?", "What brings you here today?");
    let a = w.admin(
        "POST",
        "/admin/sites/acme/dialogues",
        Some(&serde_json::from_str(&v2).unwrap()),
    );
    assert_eq!(a.status, 201);
    let new_hash = a.json()["hash"].as_str().unwrap().to_string();
    assert_ne!(new_hash, old_hash);
    let again = w.request(
        "GET",
        "/v1/sites/acme/bundle",
        &[("If-None-Match", &etag)],
        None,
    );
    assert_eq!(again.status, 200, "new version must invalidate the ETag");
    let f = w.request(
        "GET",
        &format!("/v1/sites/acme/flows/{old_hash}"),
        &[],
        None,
    );
    assert_eq!(f.status, 200);
    assert_eq!(
        f.header("cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    assert_eq!(f.json()["id"], id.as_str());
    assert_eq!(
        w.request(
            "GET",
            "/v1/sites/acme/flows/0123456789abcdef0123",
            &[],
            None
        )
        .status,
        404
    );

    // An invalid dialogue is never published.
    let bad = demo_dialogue("broken").replace("\"next\":\"end\"", "\"next\":\"nowhere\"");
    let a = w.admin(
        "POST",
        "/admin/sites/acme/dialogues",
        Some(&serde_json::from_str(&bad).unwrap()),
    );
    assert_eq!(a.status, 400, "{}", a.body);
    assert_eq!(a.json()["error"]["code"], "bad_field");

    // CORS: preflight for the allowed origin, nothing for others; foreign browsers cannot write.
    let pre = w.request(
        "OPTIONS",
        "/v1/sites/acme/events",
        &[
            ("Origin", ORIGIN),
            ("Access-Control-Request-Method", "POST"),
        ],
        None,
    );
    assert_eq!(pre.status, 204);
    assert_eq!(pre.header("access-control-allow-origin"), Some(ORIGIN));
    let foreign = w.request(
        "GET",
        "/v1/sites/acme/bundle",
        &[("Origin", "http://evil.example")],
        None,
    );
    assert_eq!(foreign.header("access-control-allow-origin"), None);
    let ev = json!({"visitor": "v1", "session": "s1", "events": [{"type": "triggered", "dialogue": "demo", "at": 1}]});
    assert_eq!(
        w.post(
            "/v1/sites/acme/events",
            &ev,
            &[("Origin", "http://evil.example")]
        )
        .status,
        403
    );
    assert_eq!(
        w.post("/v1/sites/acme/events", &ev, &[("Origin", ORIGIN)])
            .status,
        202
    );
    assert_eq!(
        w.request("GET", "/v1/sites/nosuch/bundle", &[], None)
            .status,
        404
    );
    assert_eq!(w.admin("GET", "/admin/sites/acme", None).status, 200);
    assert_eq!(
        w.request(
            "GET",
            "/admin/sites/acme",
            &[("Authorization", "Bearer wrong")],
            None
        )
        .status,
        401
    );
}

#[test]
fn bad_input_is_rejected_and_nothing_harmful_is_stored() {
    let _g = serial();
    let w = Worker::start("bad-input", None, &[]);
    let hash = w.site("acme", site_settings(None), &[&demo_dialogue("demo")])[0]
        .1
        .clone();
    let events = "/v1/sites/acme/events";
    let code = |a: &dynchat_e2e::Answer| {
        (
            a.status,
            a.json()["error"]["code"].as_str().unwrap_or("").to_string(),
            a.json()["error"]["field"]
                .as_str()
                .unwrap_or("")
                .to_string(),
        )
    };

    let a = w.request(
        "POST",
        events,
        &[("Content-Type", "application/json")],
        Some("{\"visitor\": "),
    );
    assert_eq!(code(&a).0, 400);
    assert_eq!(code(&a).1, "bad_json");
    let a = w.request(
        "POST",
        events,
        &[("Content-Type", "text/plain")],
        Some("{}"),
    );
    assert_eq!(a.status, 415);
    let a = w.post(
        events,
        &json!({"visitor": 5, "session": "s", "events": []}),
        &[],
    );
    assert_eq!(code(&a), (400, "bad_field".into(), "visitor".into()));
    let a = w.post(events, &json!({"visitor": "v", "session": "s", "events": [{"type": "triggered", "dialogue": "demo", "at": "now"}]}), &[]);
    assert_eq!(code(&a).2, "events[0].at");
    let a = w.post(events, &json!({"visitor": "v", "session": "s", "events": [{"type": "<script>alert(1)</script>", "dialogue": "demo", "at": 1}]}), &[]);
    assert_eq!(code(&a).2, "events[0].type");
    assert!(
        !a.body.contains("<script>"),
        "error must not echo markup: {}",
        a.body
    );
    assert_eq!(
        a.header("content-type"),
        Some("application/json; charset=utf-8")
    );
    assert_eq!(a.header("x-content-type-options"), Some("nosniff"));
    let a = w.post(events, &json!({"visitor": "v", "session": "s", "events": [{"type": "triggered", "dialogue": "not-ours", "at": 1}]}), &[]);
    assert_eq!(code(&a).2, "events[0].dialogue");
    let a = w.post("/v1/sites/nosuch/events", &json!({}), &[]);
    assert_eq!(a.status, 404);
    let a = w.post("/v1/sites/%3Cscript%3E/events", &json!({}), &[]);
    assert_eq!(a.status, 404);

    let one = json!({"type": "triggered", "dialogue": "demo", "at": 1764000000000i64});
    let many = json!({"visitor": "v", "session": "s", "events": vec![one.clone(); 1000]});
    // 1,000 small events fit in 64 KB, so the batch is refused for its length, naming the field.
    assert!(many.to_string().len() < 64 * 1024);
    let a = w.post(events, &many, &[]);
    assert_eq!(
        code(&a),
        (400, "bad_field".into(), "events".into()),
        "1,000 events: {}",
        a.body
    );
    let hundred_one = json!({"visitor": "v", "session": "s", "events": vec![json!({"type": "engaged", "dialogue": "demo", "at": 1}); 101]});
    assert_eq!(code(&w.post(events, &hundred_one, &[])).2, "events");
    let huge = json!({"visitor": "v", "session": "s", "events": [{"type": "answer", "dialogue": "demo", "at": 1, "value": "x".repeat(70_000)}]});
    assert_eq!(w.post(events, &huge, &[]).status, 413);

    // Leads: key header, email, field names, idempotency.
    let leads = "/v1/sites/acme/leads";
    let good = lead_body("v-9", "demo", &hash, "ann@example.com");
    assert_eq!(code(&w.post(leads, &good, &[])).2, "Idempotency-Key");
    let mut bad = good.clone();
    bad["fields"]["email"] = json!("not-an-email");
    assert_eq!(
        code(&w.post(leads, &bad, &[("Idempotency-Key", "key-bad-email")])).2,
        "fields.email"
    );
    let mut bad = good.clone();
    bad["fields"]["<img src=x onerror=alert(1)>"] = json!("x");
    assert_eq!(
        code(&w.post(leads, &bad, &[("Idempotency-Key", "key-bad-field")])).0,
        400
    );
    let mut script = good.clone();
    script["fields"]["firstName"] = json!("<script>alert(1)</script>");
    let a = w.post(leads, &script, &[("Idempotency-Key", "key-script-1")]);
    assert_eq!(a.status, 201, "{}", a.body);
    let first = a.json();
    let again = w.post(leads, &script, &[("Idempotency-Key", "key-script-1")]);
    assert_eq!(again.status, 200);
    assert_eq!(again.json(), first, "same key, same body: same answer");
    assert_eq!(
        w.post(leads, &good, &[("Idempotency-Key", "key-script-1")])
            .status,
        409
    );

    let stats = w.stats("acme");
    assert_eq!(stats["events"], 0, "no rejected event was stored: {stats}");
    assert_eq!(
        stats["leads_queued"].as_i64().unwrap_or(0)
            + stats["leads_delivered"].as_i64().unwrap_or(0)
            + stats["leads_dead"].as_i64().unwrap_or(0),
        1,
        "{stats}"
    );
    let stored = w.admin("GET", "/admin/sites/acme/leads", None).json();
    let record: Value =
        serde_json::from_str(stored["leads"][0]["record"].as_str().unwrap()).unwrap();
    assert_eq!(
        record["firstName"], "<script>alert(1)</script>",
        "text is kept verbatim as data"
    );
    assert_eq!(
        record["chatInterest"], "pricing",
        "answer mapped to its lead field"
    );

    // Rate limits: per IP, then per site.
    let mut s = site_settings(None);
    s["limits"] = json!({"site_per_minute": 1000, "ip_per_minute": 5});
    w.site("limited", s, &[&demo_dialogue("demo")]);
    let ev = json!({"visitor": "v", "session": "s", "events": [{"type": "triggered", "dialogue": "demo", "at": 1}]});
    let statuses: Vec<u16> = (0..7)
        .map(|_| w.post("/v1/sites/limited/events", &ev, &[]).status)
        .collect();
    assert_eq!(statuses, vec![202, 202, 202, 202, 202, 429, 429]);
    let a = w.post("/v1/sites/limited/events", &ev, &[]);
    assert!(a
        .header("retry-after")
        .and_then(|r| r.parse::<u32>().ok())
        .is_some_and(|r| (1..=60).contains(&r)));
    let mut s = site_settings(None);
    s["limits"] = json!({"site_per_minute": 3, "ip_per_minute": 1000});
    w.site("tiny", s, &[&demo_dialogue("demo")]);
    let statuses: Vec<u16> = (0..4)
        .map(|_| w.post("/v1/sites/tiny/events", &ev, &[]).status)
        .collect();
    assert_eq!(statuses, vec![202, 202, 202, 429]);

    // Config limits are 400 naming the field, never a silent cut; nothing is stored.
    let mut s = site_settings(None);
    s["config"]["bot_name"] = json!("N".repeat(61));
    let a = w.admin("PUT", "/admin/sites/acme", Some(&s));
    assert_eq!(
        code(&a),
        (400, "bad_field".into(), "config.bot_name".into())
    );
    s["config"]["bot_name"] = json!("N".repeat(60));
    s["marketo"] = json!({"program_id": "1001"});
    let a = w.admin("PUT", "/admin/sites/acme", Some(&s));
    assert_eq!(
        code(&a),
        (400, "bad_field".into(), "marketo.program_id".into())
    );
    let site = w.admin("GET", "/admin/sites/acme", None).json();
    assert_eq!(site["config"]["bot_name"], "Ada", "{site}");
}

#[test]
fn lead_reaches_marketo_with_fields_program_and_activities() {
    let _g = serial();
    let peer = Peer::start(&[]);
    peer.seed(
        json!({"programs": [{"id": 1001, "name": "Chat", "statuses": ["Member", "Engaged"]}]}),
    );
    let w = Worker::start("lead", Some(&peer), &[]);
    let hash = w.site("acme", site_settings(Some(1001)), &[&demo_dialogue("demo")])[0]
        .1
        .clone();
    let setup = w.admin("POST", "/admin/marketo/setup", Some(&json!({})));
    assert_eq!(setup.status, 200, "{}", setup.body);

    let ev = |t: &str, value: Option<&str>| json!({"type": t, "dialogue": "demo", "hash": hash, "value": value, "at": 1764000000000i64});
    let batch = json!({"visitor": "v-1", "session": "s-v-1", "events": [ev("triggered", None), ev("engaged", None), ev("goal", Some("qualified"))]});
    assert_eq!(w.post("/v1/sites/acme/events", &batch, &[]).status, 202);
    // The visitor's Munchkin cookie comes with the lead; before delivery Marketo does not know it.
    let cookie = "id:123-ABC-456&token:_mch-example.com-1700000000000-77777";
    let ask = json!({"mkto_trk": cookie, "fields": ["firstName"]});
    assert_eq!(
        w.post("/v1/sites/acme/traits", &ask, &[]).json()["known"],
        false
    );
    let mut body = lead_body("v-1", "demo", &hash, "Ann@Example.com");
    body["mkto_trk"] = json!(cookie);
    let a = w.post(
        "/v1/sites/acme/leads",
        &body,
        &[("Idempotency-Key", "lead-key-0001")],
    );
    assert_eq!(a.status, 201, "{}", a.body);
    let done = json!({"visitor": "v-1", "session": "s-v-1", "events": [ev("completed", None)]});
    assert_eq!(w.post("/v1/sites/acme/events", &done, &[]).status, 202);

    w.wait_until(
        Duration::from_secs(90),
        "lead, membership and activities in the peer",
        || {
            let st = peer.state();
            let lead = st["leads"]
                .as_array()
                .and_then(|l| l.iter().find(|x| x["email"] == "ann@example.com").cloned());
            let Some(lead) = lead else { return false };
            let id = lead["id"].to_string();
            let member = &st["program_members"]["1001"][&id];
            let acts = st["activities"].as_array().cloned().unwrap_or_default();
            member["status"] == "Engaged" && acts.len() >= 2
        },
    );
    let st = peer.state();
    let lead = st["leads"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["email"] == "ann@example.com")
        .unwrap()
        .clone();
    assert_eq!(lead["firstName"], "Ann");
    assert_eq!(lead["chatInterest"], "pricing");
    let types: HashMap<i64, String> = st["activity_types"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["id"].as_i64().unwrap(),
                t["apiName"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(types.len(), 4, "{types:?}");
    let acts: Vec<(String, Value)> = st["activities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                types[&a["activityTypeId"].as_i64().unwrap()].clone(),
                a.clone(),
            )
        })
        .collect();
    let engaged = acts
        .iter()
        .find(|(t, _)| t == "dynchat_engaged_dialogue")
        .expect("engaged activity");
    assert_eq!(engaged.1["leadId"], lead["id"]);
    let attrs = engaged.1["attributes"].to_string();
    assert!(
        attrs.contains("completed") && attrs.contains("Visitor: Pricing"),
        "{attrs}"
    );
    let goal = acts
        .iter()
        .find(|(t, _)| t == "dynchat_goal")
        .expect("goal activity");
    assert_eq!(goal.1["primaryAttributeValue"], "qualified");
    assert_eq!(st["counters"]["count_606"], 0);
    assert_eq!(st["counters"]["count_615"], 0);
    let stats = w.stats("acme");
    assert_eq!(stats["leads_delivered"], 1, "{stats}");
    // After delivery the cookie is tied to the lead (associate.json), and the cached "unknown"
    // is dropped: the returning visitor is now known by cookie.
    w.wait_until(Duration::from_secs(60), "cookie associated", || {
        peer.state()["cookies"].as_object().is_some_and(|c| {
            c.values()
                .any(|x| x["leadId"] == lead["id"] && x["cookie"] == cookie)
        })
    });
    let back = w.post("/v1/sites/acme/traits", &ask, &[]).json();
    assert_eq!(
        (back["known"].clone(), back["lead"]["firstName"].clone()),
        (json!(true), json!("Ann")),
        "{back}"
    );
    let m = w.admin("GET", "/admin/sites/acme/metrics", None).json();
    let day = &m["days"][0];
    assert_eq!(
        (
            day["triggered"].as_i64(),
            day["engaged"].as_i64(),
            day["completed"].as_i64(),
            day["captured"].as_i64(),
            day["goals"].as_i64()
        ),
        (Some(1), Some(1), Some(1), Some(1), Some(1)),
        "{m}"
    );
}

#[test]
fn console_marketo_connection_and_dialogue_program_are_what_the_gate_uses() {
    let _g = serial();
    let peer = Peer::start(&[]);
    peer.seed(json!({"programs": [
        {"id": 1001, "name": "Site", "statuses": ["Member", "Engaged"]},
        {"id": 2002, "name": "Chat Q4", "statuses": ["Member", "Filled Chat"]}
    ]}));
    // The worker's own vars point nowhere: only the connection saved in the console can work.
    let w = Worker::start(
        "conn",
        Some(&peer),
        &[
            ("MARKETO_BASE_URL", "http://127.0.0.1:9"),
            ("MARKETO_CLIENT_SECRET", "not-the-secret"),
            (
                "CONSOLE_KEY",
                "/YuE6BdtViHzllzNY9GahDWOFIBp0xAlhb/J5wuk7oU=",
            ),
        ],
    );
    let hash = w.site("acme", site_settings(Some(1001)), &[&demo_dialogue("demo")])[0]
        .1
        .clone();
    let a = w.post(
        "/v1/sites/acme/leads",
        &lead_body("v-c", "demo", &hash, "conn@example.com"),
        &[("Idempotency-Key", "conn-key-0001")],
    );
    assert_eq!(a.status, 201, "{}", a.body);
    // The gate tries to authenticate, fails, and pauses without touching the outbox.
    w.wait_until(Duration::from_secs(60), "a failed token request", || {
        let g = w.admin("GET", "/admin/marketo/gate", None).json();
        g["token_calls"].as_u64().unwrap_or(0) >= 1
    });
    let l = w.admin("GET", "/admin/sites/acme/leads", None).json();
    assert_eq!(l["leads"][0]["status"], "queued", "{l}");
    assert_eq!(w.stats("acme")["leads_delivered"].as_u64().unwrap_or(0), 0);
    let saved = w.admin(
        "PUT",
        "/admin/console/marketo",
        Some(&json!({"endpoint": peer.url(), "client_id": "dynchat", "client_secret": "secret"})),
    );
    assert_eq!(saved.status, 200, "{}", saved.body);
    assert!(!saved.body.contains("\"secret\""), "{}", saved.body);
    let program = w.admin(
        "PUT",
        "/admin/console/sites/acme/dialogues/demo/marketo",
        Some(&json!({"program_id": 2002, "statuses": {"captured": "Filled Chat"}})),
    );
    assert_eq!(program.status, 200, "{}", program.body);
    w.wait_until(
        Duration::from_secs(90),
        "lead delivered through the console's connection, member of the dialogue's program",
        || {
            w.admin("POST", "/admin/outbox/sweep", None);
            let st = peer.state();
            let Some(lead) = st["leads"]
                .as_array()
                .and_then(|l| l.iter().find(|x| x["email"] == "conn@example.com").cloned())
            else {
                return false;
            };
            st["program_members"]["2002"][&lead["id"].to_string()]["status"] == "Filled Chat"
        },
    );
    let st = peer.state();
    assert!(
        st["program_members"]["1001"]
            .as_object()
            .is_none_or(|m| m.is_empty()),
        "the dialogue's program wins over the site's: {}",
        st["program_members"]
    );
}

#[test]
fn rejected_record_becomes_a_dead_letter_and_can_be_retried() {
    let _g = serial();
    let peer = Peer::start(&[]);
    let w = Worker::start("dead", Some(&peer), &[]);
    let hash = w.site("acme", site_settings(None), &[&demo_dialogue("demo")])[0]
        .1
        .clone();
    // `phone` with letters is rejected per record by Marketo (1003); the other lead goes through.
    let mut bad = lead_body("v-bad", "demo", &hash, "bad@example.com");
    bad["fields"]["noSuchField"] = json!("x");
    assert_eq!(
        w.post(
            "/v1/sites/acme/leads",
            &bad,
            &[("Idempotency-Key", "dead-key-0001")]
        )
        .status,
        201
    );
    assert_eq!(
        w.post(
            "/v1/sites/acme/leads",
            &lead_body("v-ok", "demo", &hash, "ok@example.com"),
            &[("Idempotency-Key", "dead-key-0002")]
        )
        .status,
        201
    );
    w.wait_until(Duration::from_secs(60), "one delivered, one dead", || {
        let s = w.stats("acme");
        s["leads_delivered"] == 1 && s["leads_dead"] == 1
    });
    let dl = w
        .admin("GET", "/admin/sites/acme/dead-letters", None)
        .json();
    let first = &dl["dead_letters"][0];
    assert_eq!(first["code"], "1006", "{dl}");
    let id = first["id"].as_i64().unwrap();
    let fixed = json!({"record": {"email": "bad@example.com", "firstName": "Fixed"}});
    assert_eq!(
        w.admin(
            "POST",
            &format!("/admin/sites/acme/dead-letters/{id}/retry"),
            Some(&fixed)
        )
        .status,
        202
    );
    w.wait_until(
        Duration::from_secs(60),
        "retried dead letter delivered",
        || w.stats("acme")["leads_delivered"] == 2,
    );
    let st = peer.state();
    assert!(st["leads"]
        .as_array()
        .unwrap()
        .iter()
        .any(|l| l["email"] == "bad@example.com" && l["firstName"] == "Fixed"));
}

#[test]
fn two_sites_see_and_touch_only_their_own_dead_letters_leads_and_agents() {
    let _g = serial();
    let peer = Peer::start(&[]);
    let w = Worker::start("isolation", Some(&peer), &[]);
    let sites = ["acme", "globex"];
    let day = json!([{"start": "08:00", "end": "18:00"}]);
    let settings =
        json!({"time_zone": "UTC", "working_hours": {"mon": day}, "meeting_minutes": 30});
    for site in sites {
        let hash = w.site(site, site_settings(None), &[&demo_dialogue("demo")])[0]
            .1
            .clone();
        let mut bad = lead_body(
            &format!("v-{site}"),
            "demo",
            &hash,
            &format!("ann@{site}.example"),
        );
        bad["fields"]["noSuchField"] = json!("x"); // refused per record by Marketo (1006)
        let key = format!("isolation-{site}");
        let a = w.post(
            &format!("/v1/sites/{site}/leads"),
            &bad,
            &[("Idempotency-Key", &key)],
        );
        assert_eq!(a.status, 201, "{}", a.body);
        let agent =
            json!({"name": site, "email": format!("agent@{site}.example"), "settings": settings});
        let a = w.admin(
            "PUT",
            &format!("/admin/sites/{site}/agents/{site}-agent"),
            Some(&agent),
        );
        assert_eq!(a.status, 200, "{}", a.body);
    }
    w.wait_until(
        Duration::from_secs(60),
        "a dead letter on each site",
        || sites.iter().all(|s| w.stats(s)["leads_dead"] == 1),
    );
    let list = |site: &str, what: &str| -> Vec<Value> {
        let a = w.admin("GET", &format!("/admin/sites/{site}/{what}"), None);
        assert_eq!(a.status, 200, "{site} {what}: {}", a.body);
        let key = if what == "dead-letters" {
            "dead_letters"
        } else {
            what
        };
        a.json()[key].as_array().cloned().unwrap_or_default()
    };
    for site in sites {
        let dead = list(site, "dead-letters");
        assert_eq!(dead.len(), 1, "{site}: {dead:?}");
        assert_eq!(dead[0]["site"], site);
        let leads = list(site, "leads");
        assert!(
            leads.len() == 1 && leads[0]["email"] == format!("ann@{site}.example"),
            "{site}: {leads:?}"
        );
        let agents = list(site, "agents");
        assert!(
            agents.len() == 1 && agents[0]["id"] == format!("{site}-agent"),
            "{site}: {agents:?}"
        );
    }
    // acme's Retry of globex's dead letter: 404 and globex's row untouched.
    let globex_id = list("globex", "dead-letters")[0]["id"]
        .as_i64()
        .unwrap_or(-1);
    let acme_id = list("acme", "dead-letters")[0]["id"].as_i64().unwrap_or(-1);
    let retry = |site: &str, id: i64| {
        w.admin(
            "POST",
            &format!("/admin/sites/{site}/dead-letters/{id}/retry"),
            None,
        )
        .status
    };
    assert_eq!(retry("acme", globex_id), 404);
    assert!(list("globex", "dead-letters")[0]["retried_at"].is_null());
    assert_eq!(w.stats("globex")["leads_dead"], 1);
    assert_eq!(
        w.admin("GET", "/admin/dead-letters", None).status,
        404,
        "no list of every site"
    );
    assert_eq!(
        w.admin("GET", "/admin/sites/acme/agents/globex-agent", None)
            .status,
        404
    );
    assert_eq!(
        w.admin("DELETE", "/admin/sites/acme/agents/globex-agent", None)
            .json()["deleted"],
        true,
        "deleting an id acme does not have is a no-op there"
    );
    assert_eq!(
        list("globex", "agents").len(),
        1,
        "globex's agent is still there"
    );
    // Each site's own retry works.
    assert_eq!(retry("acme", acme_id), 202);
    assert!(!list("acme", "dead-letters")[0]["retried_at"].is_null());
    assert!(list("globex", "dead-letters")[0]["retried_at"].is_null());
}

#[test]
fn metrics_rates_are_over_conversations_and_never_above_100_percent() {
    let _g = serial();
    let w = Worker::start("metrics", None, &[]);
    let hash = w.site("acme", site_settings(None), &[&demo_dialogue("demo")])[0]
        .1
        .clone();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    // Two conversations: `a` engages and leaves two leads, `b` only triggers.
    for (visitor, kinds) in [
        ("a", vec!["triggered", "engaged"]),
        ("b", vec!["triggered"]),
    ] {
        let events: Vec<Value> = kinds
            .iter()
            .map(|k| json!({"type": k, "dialogue": "demo", "hash": hash, "at": now}))
            .collect();
        let body = json!({"visitor": visitor, "session": format!("s-{visitor}"), "events": events});
        assert_eq!(w.post("/v1/sites/acme/events", &body, &[]).status, 202);
    }
    let mut leads = vec![lead_body("a", "demo", &hash, "a1@example.com")];
    let mut again = lead_body("a", "demo", &hash, "a2@example.com");
    again["fields"]["firstName"] = json!("Ann again");
    leads.push(again);
    // Three leads from sessions that never triggered the dialogue.
    for v in ["c", "d", "e"] {
        leads.push(lead_body(v, "demo", &hash, &format!("{v}@example.com")));
    }
    for (i, l) in leads.iter().enumerate() {
        let key = format!("metrics-key-{i}");
        let a = w.post("/v1/sites/acme/leads", l, &[("Idempotency-Key", &key)]);
        assert_eq!(a.status, 201, "{}", a.body);
    }
    let m = w.admin("GET", "/admin/sites/acme/metrics", None).json();
    let total = &m["total"];
    assert_eq!(total["conversations"], 2, "{m}");
    assert_eq!(total["engaged_conversations"], 1, "{m}");
    assert_eq!(total["converted_conversations"], 1, "{m}");
    assert_eq!(total["leads"], 2, "{m}");
    assert_eq!(total["leads_without_conversation"], 3, "{m}");
    assert_eq!(total["conversion_rate"], 50.0, "{m}");
    assert_eq!(total["engagement_rate"], 50.0, "{m}");
    assert_eq!(m["dialogues"][0]["dialogue"], "demo", "{m}");
    let day = &m["days"][0];
    assert_eq!(
        (day["triggered"].as_i64(), day["captured"].as_i64()),
        (Some(2), Some(5)),
        "{m}"
    );
    for row in m["days"].as_array().into_iter().flatten() {
        assert!(
            row["conversion_rate"].as_f64().unwrap_or(101.0) <= 100.0,
            "{row}"
        );
    }
}

#[test]
fn returning_visitor_traits_by_cookie_and_email() {
    let _g = serial();
    let peer = Peer::start(&[]);
    let cookie = "id:123-ABC-456&token:_mch-example.com-1700000000000-12345";
    peer.seed(json!({
        "companies": [{"company": "Initech", "industry": "Manufacturing", "numberOfEmployees": 4200}],
        "leads": [
            {"email": "known@example.com", "firstName": "Kim", "industry": "Software", "title": "CTO", "cookie": cookie},
            {"email": "solo@example.com", "firstName": "Sol", "industry": "Retail", "company": "Unlisted Ltd"},
            {"email": "emp@initech.example", "firstName": "Pete", "industry": "Software", "company": "Initech"}
        ]
    }));
    let w = Worker::start("traits", Some(&peer), &[]);
    w.site("acme", site_settings(None), &[&demo_dialogue("demo")]);
    let ask = json!({"mkto_trk": cookie, "fields": ["firstName", "company.industry", "title"]});
    let a = w.post("/v1/sites/acme/traits", &ask, &[]);
    assert_eq!(a.status, 200, "{}", a.body);
    let t = a.json();
    assert_eq!(t["known"], true);
    assert_eq!(t["lead"]["firstName"], "Kim");
    assert_eq!(t["company"]["industry"], "Software");
    assert!(
        t["lead"].get("title").is_none(),
        "title is not used by any rule of the site: {t}"
    );
    let before = peer.state()["counters"]["calls_total"].as_i64().unwrap();
    let again = w.post("/v1/sites/acme/traits", &ask, &[]).json();
    assert_eq!(again, t);
    assert_eq!(
        peer.state()["counters"]["calls_total"].as_i64().unwrap(),
        before,
        "second lookup served from the D1 cache"
    );
    let by_email = w
        .post(
            "/v1/sites/acme/traits",
            &json!({"email": "KNOWN@example.com", "fields": ["firstName"]}),
            &[],
        )
        .json();
    assert_eq!(by_email["lead"]["firstName"], "Kim");
    // Company fields come from the account record (companies.json) when there is one, else
    // from the lead's own copy.
    let company = |email: &str| {
        w.post(
            "/v1/sites/acme/traits",
            &json!({"email": email, "fields": ["company.industry"]}),
            &[],
        )
        .json()["company"]["industry"]
            .clone()
    };
    assert_eq!(company("emp@initech.example"), "Manufacturing");
    assert_eq!(company("solo@example.com"), "Retail");
    let unknown = w.post("/v1/sites/acme/traits", &json!({"mkto_trk": "id:123-ABC-456&token:_mch-example.com-1-999", "fields": ["firstName"]}), &[]).json();
    assert_eq!(unknown["known"], false);

    // Incremental sync: a change in Marketo reaches the cache on the minute cron.
    peer.seed(json!({"leads": [{"email": "known@example.com", "firstName": "Kimberly"}]}));
    w.cron_minute();
    let fresh = w.post("/v1/sites/acme/traits", &ask, &[]).json();
    assert_eq!(fresh["lead"]["firstName"], "Kimberly", "{fresh}");
}

#[test]
fn retention_deletes_what_is_older_than_90_days_by_the_driven_clock() {
    let _g = serial();
    let w = Worker::start("retention", None, &[("ALLOW_CLOCK_OVERRIDE", "1")]);
    w.site("acme", site_settings(None), &[&demo_dialogue("demo")]);
    let t0: i64 = 1_900_000_000_000;
    let day = 86_400_000i64;
    let ev = json!({"visitor": "v", "session": "s", "events": [{"type": "triggered", "dialogue": "demo", "at": 1}]});
    for (t, n) in [(t0, 3), (t0 + 89 * day, 2)] {
        assert_eq!(
            w.admin("POST", "/admin/clock", Some(&json!({"now_ms": t})))
                .status,
            200
        );
        for _ in 0..n {
            assert_eq!(w.post("/v1/sites/acme/events", &ev, &[]).status, 202);
        }
    }
    assert_eq!(w.stats("acme")["events"], 5);
    assert_eq!(
        w.admin(
            "POST",
            "/admin/clock",
            Some(&json!({"now_ms": t0 + 91 * day}))
        )
        .status,
        200
    );
    // The daily cron, as Cloudflare would fire it.
    let a = w.request("GET", "/__scheduled?cron=0+3+*+*+*", &[], None);
    assert!(a.status < 500);
    let s = w.stats("acme");
    assert_eq!(s["events"], 2, "{s}");
    let m = w.admin("GET", "/admin/sites/acme/metrics", None).json();
    let days: Vec<(String, i64)> = m["days"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["day"].as_str().unwrap().to_string(),
                d["triggered"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(days.len(), 1, "{days:?}");
    assert_eq!(days[0].1, 2);
    assert_eq!(
        w.admin(
            "POST",
            "/admin/clock",
            Some(&json!({"now_ms": Value::Null}))
        )
        .status,
        200
    );
}

/// Site settings for the load runs: all leads come from one IP, so the limits are lifted.
fn load_site() -> Value {
    let mut s = site_settings(None);
    s["limits"] = json!({"site_per_minute": 1_000_000, "ip_per_minute": 1_000_000});
    s
}

fn post_leads_parallel(w: &Worker, hash: &str, range: std::ops::Range<usize>, prefix: &str) {
    let items: Vec<usize> = range.collect();
    let chunks: Vec<Vec<usize>> = items
        .chunks(items.len().div_ceil(32).max(1))
        .map(<[usize]>::to_vec)
        .collect();
    std::thread::scope(|s| {
        for chunk in chunks {
            s.spawn(move || {
                for i in chunk {
                    let body = lead_body(
                        &format!("v-{i}"),
                        "demo",
                        hash,
                        &format!("{prefix}{i}@example.com"),
                    );
                    let key = format!("{prefix}-key-{i:08}");
                    let mut ok = false;
                    for _ in 0..5 {
                        let a = w.post("/v1/sites/acme/leads", &body, &[("Idempotency-Key", &key)]);
                        if a.status == 201 || a.status == 200 {
                            ok = true;
                            break;
                        }
                        std::thread::sleep(Duration::from_millis(200));
                    }
                    assert!(ok, "lead {i} not accepted");
                }
            });
        }
    });
}

#[test]
fn fault_run_with_a_restart_delivers_every_lead_exactly_once() {
    let _g = serial();
    let n = env_usize("E2E_FAULT_LEADS", 1000);
    let peer = Peer::start(&[
        "--fault-rate",
        "0.3",
        "--fault-seed",
        "7",
        "--fault-kinds",
        "604,608,611,502,slow",
        "--slow-ms",
        "400",
    ]);
    let mut w = Worker::start(
        "fault",
        Some(&peer),
        &[
            ("MARKETO_TIMEOUT_MS", "3000"),
            ("MARKETO_LEASE_MS", "8000"),
            ("MARKETO_BACKOFF_MS", "200"),
        ],
    );
    let hash = w.site("acme", load_site(), &[&demo_dialogue("demo")])[0]
        .1
        .clone();
    post_leads_parallel(&w, &hash, 0..n / 2, "f");
    w.restart();
    post_leads_parallel(&w, &hash, n / 2..n, "f");
    w.wait_until(Duration::from_secs(300), "every lead delivered", || {
        w.stats("acme")["leads_delivered"].as_u64() == Some(n as u64)
    });
    let st = peer.state();
    let mut per_email: HashMap<String, usize> = HashMap::new();
    for l in st["leads"].as_array().unwrap() {
        *per_email
            .entry(l["email"].as_str().unwrap_or("").to_string())
            .or_default() += 1;
    }
    assert_eq!(per_email.len(), n, "every lead is in the peer");
    assert!(
        per_email.values().all(|c| *c == 1),
        "no duplicate lead in the peer"
    );
    let c = &st["counters"];
    assert_eq!(c["count_606"], 0);
    assert_eq!(c["count_615"], 0);
    let faults: u64 = c["faults"]
        .as_object()
        .unwrap()
        .values()
        .filter_map(Value::as_u64)
        .sum();
    assert!(faults > 0, "the run saw faults");
    let gate = w.admin("GET", "/admin/marketo/gate", None).json();
    eprintln!("fault run: {n} leads, peer faults {faults}, gate {gate}");
}

#[test]
fn rate_run_drains_a_backlog_without_606_or_615() {
    let _g = serial();
    let n = env_usize("E2E_RATE_LEADS", 4000);
    // A scaled-down Marketo (10 calls per 4 s, 3 in flight) so the backlog really meets the limits.
    let peer = Peer::start(&[
        "--window-seconds",
        "4",
        "--window-calls",
        "10",
        "--max-concurrent",
        "3",
    ]);
    let w = Worker::start(
        "rate",
        Some(&peer),
        &[
            ("MARKETO_BACKOFF_MS", "100"),
            ("MARKETO_WINDOW_MS", "4000"),
            ("MARKETO_WINDOW_CALLS", "10"),
            ("MARKETO_SAFETY_CALLS", "1"),
            ("MARKETO_MAX_IN_FLIGHT", "3"),
        ],
    );
    let hash = w.site("acme", load_site(), &[&demo_dialogue("demo")])[0]
        .1
        .clone();
    // Marketo is down (502) while the leads arrive, so a real backlog builds up in the outbox.
    peer.config(json!({"fault_rate": 1.0, "fault_kinds": ["502"]}));
    post_leads_parallel(&w, &hash, 0..n, "r");
    peer.config(json!({"fault_rate": 0.0}));
    w.wait_until(Duration::from_secs(300), "backlog drained", || {
        w.stats("acme")["leads_delivered"].as_u64() == Some(n as u64)
    });
    let st = peer.state();
    let c = &st["counters"];
    assert_eq!(c["count_606"], 0, "{c}");
    assert_eq!(c["count_615"], 0, "{c}");
    let per_call: Vec<u64> = c["leads_records_per_call"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_u64)
        .collect();
    assert!(per_call.iter().all(|r| *r <= 300));
    assert_eq!(
        per_call.iter().sum::<u64>(),
        n as u64,
        "each lead sent once"
    );
    eprintln!(
        "rate run: {n} leads in {} leads.json calls ({:.1} per call), peer window max {} of 10, max concurrency {}",
        per_call.len(),
        n as f64 / per_call.len() as f64,
        c["calls_per_window_max"],
        c["max_concurrency"]
    );
    eprintln!(
        "rate run: records per call {:?}; gate {}",
        per_call,
        w.admin("GET", "/admin/marketo/gate", None).json()
    );
}
