//! The no-slot fallback end to end (issue 15): the real worker on workerd, real Radicale for
//! the agents' calendars, the aiosmtpd mail catcher. A visitor for whom no time fits leaves
//! preferred times; every member of the queue gets the notice through the mail outbox; a
//! retried request is stored and mailed once; garbage and oversized bodies are 400s naming
//! the field (or 413 over the body limit).

use dynchat_e2e::console::field;
use dynchat_e2e::meeting_stack::{Setup, Stack, ORIGIN};
use dynchat_e2e::{serial, Answer};
use serde_json::{json, Value};
use std::time::Duration;

const SITE: &str = "req";
const PATH: &str = "/v1/sites/req/meetings/requests";

/// The meetings stack with agents a1 and a2 (weekdays) on Radicale calendars in queue `sales`.
fn start() -> Stack {
    let st = Stack::start(&Setup {
        name: "meeting-requests",
        site: SITE,
        site_name: "Requests",
        caldav_users: 2,
        links: false,
        marketo: None,
        vars: &[],
    });
    let d = json!([{"start": "08:00", "end": "18:00"}]);
    let hours = json!({"mon": d, "tue": d, "wed": d, "thu": d, "fri": d});
    let settings = json!({"time_zone": "UTC", "working_hours": hours, "meeting_minutes": 30});
    for n in 1..=2 {
        st.radicale_agent(n, &settings);
    }
    st.queue("sales", "Sales", &["a1", "a2"]);
    st
}

fn send(st: &Stack, key: Option<&str>, body: &str) -> Answer {
    let mut headers = vec![("Origin", ORIGIN), ("Content-Type", "application/json")];
    if let Some(k) = key {
        headers.push(("Idempotency-Key", k));
    }
    st.worker.request("POST", PATH, &headers, Some(body))
}

#[test]
fn preferred_times_reach_the_queue_once_and_bad_bodies_name_the_field() {
    let _g = serial();
    let st = start();
    let body = json!({"route": "queue:sales", "email": "vera@example.com", "name": "Vera Visitor",
        "preferred": "Tuesday mornings, or Friday after 15:00", "days": ["2030-01-08", "2030-01-04"],
        "tz": "Europe/Berlin", "reason": "none_fit", "session": "s-req-1",
        "answers": {"seats": "team of 40", "topic": "{{agent.name}}"}})
    .to_string();
    let first = send(&st, Some("request-key-1"), &body);
    assert_eq!(first.status, 201, "{}", first.body);
    let id = first.json()["request"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(id.starts_with("r-"), "{}", first.body);
    assert_eq!(first.json()["notified"], 2, "{}", first.body);
    assert_eq!(first.json()["route"], "queue:sales");

    // Every member of the queue gets the notice, Reply-To the visitor.
    for rcpt in ["agent1@agents.test", "agent2@agents.test"] {
        let m = st.wait_mails(rcpt, &[], 1)[0].clone();
        let raw = m["raw"].as_str().unwrap_or_default();
        assert!(raw.contains("Reply-To: <vera@example.com>"), "{raw}");
        assert!(
            raw.contains("> Tuesday mornings, or Friday after 15:00"),
            "{raw}"
        );
        assert!(
            raw.contains("Days: Fri 2030-01-04, Tue 2030-01-08"),
            "{raw}"
        );
        assert!(raw.contains("none of the offered times fit"), "{raw}");
        // The visitor's answers, one `card: value` line each, as they wrote them.
        assert!(
            raw.replace("\r\n", "\n")
                .contains("Answers:\n  seats: team of 40\n  topic: {{agent.name}}\n"),
            "{raw}"
        );
        assert_eq!(
            m["subject"],
            "Meeting request from Vera Visitor: no time fit"
        );
    }

    // A retry (the same key and body) answers the stored request: stored once, mailed once.
    let again = send(&st, Some("request-key-1"), &body);
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(again.json()["request"], json!(id));
    let listed = st.worker.admin(
        "GET",
        &format!("/admin/sites/{SITE}/meeting-requests"),
        None,
    );
    assert_eq!(listed.status, 200, "{}", listed.body);
    let requests = listed.json()["requests"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(requests.len(), 1, "{}", listed.body);
    assert_eq!(
        requests[0]["preferred"],
        "Tuesday mornings, or Friday after 15:00"
    );
    assert!(requests[0].get("body_hash").is_none(), "{}", listed.body);
    let outbox = st
        .worker
        .admin("GET", &format!("/admin/sites/{SITE}/mail-outbox"), None)
        .json();
    let queued = outbox["mails"]
        .as_array()
        .map(|m| m.iter().filter(|m| m["meeting"] == json!(id)).count())
        .unwrap_or(0);
    assert_eq!(queued, 2, "{outbox}");
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(st.mails_to("agent1@agents.test").len(), 1);
    // The same key with another body: a conflict, nothing stored.
    let other = body.replace("Tuesday", "Wednesday");
    assert_eq!(send(&st, Some("request-key-1"), &other).status, 409);

    // Garbage and oversized bodies: 400 naming the field, 413 over the body limit.
    let cases: Vec<(Option<&str>, String, u16, &str)> = vec![
        (None, body.clone(), 400, "Idempotency-Key"),
        (Some("request-key-2"), "{not json".into(), 400, ""),
        (Some("request-key-2"), "[]".into(), 400, "$"),
        (Some("request-key-2"), json!({"route": "queue:sales"}).to_string(), 400, "email"),
        (
            Some("request-key-2"),
            json!({"route": "queue:sales", "email": "vera@example.com"}).to_string(),
            400,
            "preferred",
        ),
        (
            Some("request-key-2"),
            json!({"route": "queue:sales", "email": "vera@example.com", "preferred": "x".repeat(1001)}).to_string(),
            400,
            "preferred",
        ),
        (
            Some("request-key-2"),
            json!({"route": "queue:sales", "email": "vera@example.com", "preferred": "any", "days": ["2030-13-01"]}).to_string(),
            400,
            "days[0]",
        ),
        (
            Some("request-key-2"),
            json!({"route": "queue:sales", "email": "vera@example.com", "preferred": "any", "phone": "1"}).to_string(),
            400,
            "phone",
        ),
        (
            Some("request-key-2"),
            json!({"route": "queue:nobody", "email": "vera@example.com", "preferred": "any"}).to_string(),
            0,
            "",
        ),
        (
            Some("request-key-2"),
            json!({"route": "queue:sales", "email": "vera@example.com", "preferred": "y".repeat(20_000)}).to_string(),
            413,
            "",
        ),
    ];
    for (key, b, status, name) in cases {
        let a = send(&st, key, &b);
        if status == 0 {
            assert!((400..500).contains(&a.status), "{}: {}", a.status, a.body);
            continue;
        }
        assert_eq!(a.status, status, "{}: {}", &b[..b.len().min(80)], a.body);
        if !name.is_empty() {
            assert_eq!(field(&a), name, "{}", a.body);
        }
    }
    let listed = st
        .worker
        .admin(
            "GET",
            &format!("/admin/sites/{SITE}/meeting-requests"),
            None,
        )
        .json();
    assert_eq!(
        listed["requests"].as_array().map(Vec::len),
        Some(1),
        "{listed}"
    );

    // A queue notification address: the next request goes there only, not to the members.
    let notify = format!("/admin/sites/{SITE}/queues/sales/request-notify");
    for bad in [
        json!({"email": "nope"}),
        json!({}),
        json!({"email": "a@b.example", "x": 1}),
    ] {
        let a = st.worker.admin("PUT", &notify, Some(&bad));
        assert_eq!(a.status, 400, "{bad}: {}", a.body);
    }
    let unknown = st.worker.admin(
        "PUT",
        &format!("/admin/sites/{SITE}/queues/nobody/request-notify"),
        Some(&json!({"email": "sales@agents.test"})),
    );
    assert_eq!(unknown.status, 404, "{}", unknown.body);
    let set = st
        .worker
        .admin("PUT", &notify, Some(&json!({"email": "sales@agents.test"})));
    assert_eq!(set.status, 200, "{}", set.body);
    assert_eq!(set.json()["email"], "sales@agents.test");
    let second =
        json!({"route": "queue:sales", "email": "otto@example.com", "preferred": "any evening"})
            .to_string();
    let r = send(&st, Some("request-key-3"), &second);
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.json()["notified"], 1, "{}", r.body);
    let m = st.wait_mails("sales@agents.test", &[], 1)[0].clone();
    assert!(
        m["raw"]
            .as_str()
            .unwrap_or_default()
            .contains("> any evening"),
        "{m}"
    );
    assert_eq!(st.mails_to("agent1@agents.test").len(), 1);
    assert_eq!(st.mails_to("agent2@agents.test").len(), 1);
    let cleared = st
        .worker
        .admin("PUT", &notify, Some(&json!({"email": null})));
    assert_eq!(cleared.json()["email"], Value::Null, "{}", cleared.body);
}
