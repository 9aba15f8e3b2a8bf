//! Routing rules end to end (issue 15): the real worker on workerd, the Marketo peer (what is
//! known of a lead: country, company size, lead owner), real Radicale for the agents'
//! calendars. A dialogue whose meeting card routes by rules is published (an unknown queue is
//! refused at publish); bookings with `route: rules:<dialogue>/<card>` land in the queue the
//! first matching rule names, a known lead's owner first; the assignment log names the rule.

use dynchat_e2e::clock::at;
use dynchat_e2e::peers::{self, PyPeer};
use dynchat_e2e::{root, root_with_widget, serial, site_settings, worker, Answer, Peer, Worker};
use serde_json::{json, Value};

const SITE: &str = "rt";
const CALENDAR_KEY: &str = "8f1e2d3c4b5a69788796a5b4c3d2e1f00112233445566778899aabbccddeeff0";
const ORIGIN: &str = "http://127.0.0.1:8080";

/// Agents: id, Radicale user, queue.
const AGENTS: [(&str, &str); 5] = [
    ("dan", "agent1"),
    ("eve", "agent2"),
    ("bea", "agent3"),
    ("pia", "agent4"),
    ("sam", "agent5"),
];

fn dialogue(enterprise_queue: &str) -> Value {
    json!({"version": 1, "id": "routed", "name": "Routed", "cards": [
        {"id": "interest", "type": "question", "text": "What brings you here?",
         "buttons": [{"label": "Pricing", "value": "pricing", "next": "book"},
                     {"label": "Other", "value": "other", "next": "book"}]},
        {"id": "book", "type": "meeting", "text": "Pick a time", "route": {
            "rules": [
                {"when": {"all": [{"field": "lead.country", "op": "in_list", "value": ["DE", "AT", "CH"]}]}, "queue": "dach"},
                {"when": {"all": [{"field": "company.numberOfEmployees", "op": "greater_than", "value": 500}]}, "queue": enterprise_queue},
                {"when": {"all": [{"field": "answer.interest", "op": "is", "value": "pricing"}]}, "queue": "pricing"}
            ],
            "default": "sales"}}
    ]})
}

fn every_day(from: &str, to: &str) -> Value {
    let d = json!([{"start": from, "end": to}]);
    json!({"mon": d, "tue": d, "wed": d, "thu": d, "fri": d, "sat": d, "sun": d})
}

struct Stack {
    worker: Worker,
    _marketo: Peer,
    radicale: PyPeer,
}

impl Stack {
    fn start() -> Stack {
        let marketo = Peer::start(&[]);
        marketo.seed(json!({
            "companies": [{"company": "Initech", "industry": "Manufacturing", "numberOfEmployees": 4200}],
            "leads": [
                {"email": "de@acme.example", "firstName": "Dora", "country": "DE"},
                {"email": "us@acme.example", "firstName": "Ulla", "country": "US"},
                {"email": "big@initech.example", "firstName": "Pete", "company": "Initech"},
                {"email": "claim@initech.example", "firstName": "Cleo", "company": "Initech"},
                {"email": "owned@initech.example", "firstName": "Otto", "company": "Initech",
                 "leadOwnerEmail": "agent3@agents.test"}
            ]
        }));
        let radicale = peers::radicale(AGENTS.len(), "routing");
        let worker = Worker::start(
            "routing",
            Some(&marketo),
            &[
                ("CALENDAR_KEY", CALENDAR_KEY),
                ("RATE_IP_PER_MINUTE", "100000"),
                ("RATE_SITE_PER_MINUTE", "100000"),
            ],
        );
        let s = worker.admin(
            "PUT",
            &format!("/admin/sites/{SITE}"),
            Some(&json!({"name": "Routing", "allowed_origins": [ORIGIN]})),
        );
        assert_eq!(s.status, 200, "{}", s.body);
        let st = Stack {
            worker,
            _marketo: marketo,
            radicale,
        };
        let settings = json!({"time_zone": "UTC", "working_hours": every_day("08:00", "18:00"), "meeting_minutes": 30, "min_notice_minutes": 60, "horizon_days": 30});
        for (n, (id, user)) in AGENTS.iter().enumerate() {
            let n = n + 1;
            let a = st.worker.admin(
                "PUT",
                &format!("/admin/sites/{SITE}/agents/{id}"),
                Some(&json!({"name": id, "email": format!("{user}@agents.test"), "settings": settings})),
            );
            assert_eq!(a.status, 200, "agent {id}: {}", a.body);
            let url = format!("{}/{user}/calendar/", st.radicale.urls[1]);
            let c = st.worker.admin(
                "PUT",
                &format!("/admin/sites/{SITE}/agents/{id}/calendar"),
                Some(&json!({"url": url, "username": user, "password": format!("pw{n}")})),
            );
            assert_eq!(c.status, 200, "calendar {id}: {}", c.body);
        }
        for (q, agents) in [
            ("dach", vec!["dan"]),
            ("enterprise", vec!["eve", "bea"]),
            ("pricing", vec!["pia"]),
            ("sales", vec!["sam"]),
        ] {
            let r = st.worker.admin(
                "PUT",
                &format!("/admin/sites/{SITE}/queues/{q}"),
                Some(&json!({"name": q, "agents": agents})),
            );
            assert_eq!(r.status, 200, "queue {q}: {}", r.body);
        }
        st
    }

    fn book(&self, key: &str, start: &str, lead: Value, answers: Value) -> Answer {
        let end = end_of(start);
        let body = json!({"route": "rules:routed/book", "start": start, "end": end, "tz": "UTC",
                          "lead": lead, "answers": answers, "dialogue": "routed", "session": format!("s-{key}")});
        self.worker.post(
            &format!("/v1/sites/{SITE}/book"),
            &body,
            &[("Idempotency-Key", key), ("Origin", ORIGIN)],
        )
    }

    fn slots(&self, query: &str) -> Answer {
        self.worker.request(
            "GET",
            &format!("/v1/sites/{SITE}/slots?{query}"),
            &[("Origin", ORIGIN)],
            None,
        )
    }
}

/// 30 minutes after an `at()` start.
fn end_of(start: &str) -> String {
    let (h, m) = (&start[11..13], &start[14..16]);
    let minute = h.parse::<i64>().unwrap_or(0) * 60 + m.parse::<i64>().unwrap_or(0) + 30;
    format!("{}T{:02}:{:02}:00Z", &start[..10], minute / 60, minute % 60)
}

#[test]
fn rule_routed_bookings_land_in_the_right_queue_owner_first() {
    let _g = serial();
    let st = Stack::start();
    let w = &st.worker;

    // Publishing checks the queues the rules name (the engine cannot know them).
    let bad = w.admin(
        "POST",
        &format!("/admin/sites/{SITE}/dialogues"),
        Some(&dialogue("enterprize")),
    );
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert!(
        bad.body.contains("dialogue.cards[1].route.rules[1].queue")
            && bad.body.contains("enterprize"),
        "{}",
        bad.body
    );
    let ok = w.admin(
        "POST",
        &format!("/admin/sites/{SITE}/dialogues"),
        Some(&dialogue("enterprise")),
    );
    assert_eq!(ok.status, 201, "{}", ok.body);

    // (visitor, lead sent, answers, agent expected, rule expected, owner expected, reason)
    type Case = (
        &'static str,
        Value,
        Value,
        &'static str,
        Value,
        Value,
        &'static str,
    );
    let cases: Vec<Case> = vec![
        // Marketo knows the country.
        (
            "known DACH lead",
            json!({"email": "de@acme.example"}),
            json!({}),
            "dan",
            json!(0),
            Value::Null,
            "order",
        ),
        // Marketo's country wins over what the visitor typed.
        (
            "Marketo says US",
            json!({"email": "us@acme.example", "country": "DE"}),
            json!({}),
            "sam",
            Value::Null,
            Value::Null,
            "order",
        ),
        // A new visitor's own fields count when Marketo does not know them.
        (
            "new visitor in Austria",
            json!({"email": "new@wien.example", "country": "AT"}),
            json!({}),
            "dan",
            json!(0),
            Value::Null,
            "order",
        ),
        // The company record (4,200 employees): the enterprise queue's rotation.
        (
            "big company",
            json!({"email": "big@initech.example"}),
            json!({}),
            "eve",
            json!(1),
            Value::Null,
            "order",
        ),
        // A visitor naming an owner is not believed: the rotation goes on (bea, after eve).
        (
            "claimed owner",
            json!({"email": "claim@initech.example", "leadOwnerEmail": "agent2@agents.test"}),
            json!({}),
            "bea",
            json!(1),
            Value::Null,
            "order",
        ),
        // Account routing: Marketo's lead owner (bea) is an agent of the queue: asked first,
        // although eve is next in line.
        (
            "owned lead",
            json!({"email": "owned@initech.example"}),
            json!({}),
            "bea",
            json!(1),
            json!("bea"),
            "account_owner",
        ),
        // The dialogue's answers.
        (
            "pricing answer",
            json!({"email": "who@nowhere.example"}),
            json!({"interest": "Pricing"}),
            "pia",
            json!(2),
            Value::Null,
            "order",
        ),
        (
            "nothing matches",
            json!({"email": "who2@nowhere.example"}),
            json!({"interest": "other"}),
            "sam",
            Value::Null,
            Value::Null,
            "order",
        ),
    ];
    for (i, (name, lead, answers, agent, rule, owner, reason)) in cases.iter().enumerate() {
        // Each booking at its own time, so no one is busy from an earlier case.
        let start = at(2, 8 * 60 + 30 * i as i64);
        let r = st.book(
            &format!("route-key-{i}"),
            &start,
            lead.clone(),
            answers.clone(),
        );
        assert_eq!(r.status, 201, "{name}: {}", r.body);
        assert_eq!(r.json()["agent"], *agent, "{name}: {}", r.body);
        let log = w
            .admin("GET", &format!("/admin/sites/{SITE}/assignments"), None)
            .json();
        let last = log["assignments"]
            .as_array()
            .and_then(|a| a.last())
            .cloned()
            .unwrap_or(Value::Null);
        assert_eq!(last["chosen"], *agent, "{name}: {last}");
        assert_eq!(last["routed"]["card"], "routed/book", "{name}: {last}");
        assert_eq!(last["routed"]["rule"], *rule, "{name}: {last}");
        assert_eq!(last["routed"]["owner"], *owner, "{name}: {last}");
        assert_eq!(last["reason"]["kind"], *reason, "{name}: {last}");
        let queue = last["routed"]["queue"].as_str().unwrap_or_default();
        assert_eq!(last["route"], format!("queue:{queue}"), "{name}: {last}");
    }
    // The meetings are in the agents' Radicale calendars.
    let calendars =
        peers::get(&format!("{}/_peer/state", st.radicale.urls[0]))["calendars"].clone();
    let events = |user: &str| calendars[user].as_array().map_or(0, Vec::len);
    assert_eq!(
        [
            events("agent1"),
            events("agent2"),
            events("agent3"),
            events("agent4"),
            events("agent5")
        ],
        [2, 1, 2, 1, 2],
        "{calendars}"
    );

    // The slot lookup routes the same way: a known DACH lead sees the dach queue's slots.
    let routed = st.slots("route=rules:routed/book&email=de%40acme.example&tz=UTC&days=3");
    assert_eq!(routed.status, 200, "{}", routed.body);
    let direct = st.slots("route=queue:dach&tz=UTC&days=3");
    let starts = |a: &Answer| -> Vec<Value> {
        a.json()["slots"]
            .as_array()
            .map(|s| s.iter().map(|x| x["start"].clone()).collect())
            .unwrap_or_default()
    };
    assert!(!starts(&routed).is_empty(), "{}", routed.body);
    assert_eq!(starts(&routed), starts(&direct));
    assert_ne!(
        starts(&routed),
        starts(&st.slots("route=queue:sales&tz=UTC&days=3")),
        "dan and sam are busy at different times"
    );

    // Bad input: a clear 400 naming the field, nothing booked.
    for (body_route, answers, field) in [
        ("rules:routed/interest", json!({}), "route"),
        ("rules:ghost/book", json!({}), "route"),
        ("rules:routed", json!({}), "route"),
        (
            "rules:routed/book",
            json!({"interest": 7}),
            "answers.interest",
        ),
        ("rules:routed/book", json!(["pricing"]), "answers"),
    ] {
        let body = json!({"route": body_route, "start": at(3, 9 * 60), "end": at(3, 9 * 60 + 30), "tz": "UTC",
                          "lead": {"email": "x@y.example"}, "answers": answers});
        let r = w.post(
            &format!("/v1/sites/{SITE}/book"),
            &body,
            &[("Idempotency-Key", "bad-route-1"), ("Origin", ORIGIN)],
        );
        assert_eq!(r.status, 400, "{body_route} {answers}: {}", r.body);
        assert_eq!(
            r.json()["error"]["field"],
            field,
            "{body_route} {answers}: {}",
            r.body
        );
    }
    let meetings = w
        .admin("GET", &format!("/admin/sites/{SITE}/meetings"), None)
        .json();
    assert_eq!(
        meetings["meetings"].as_array().map_or(0, Vec::len),
        cases.len(),
        "bad input booked nothing"
    );
}

/// The dach agent's fixed video link in the widget test.
const DORA_VIDEO: &str = "https://video.agents.test/room/dora?pwd=7";

#[allow(dead_code)]
#[path = "../../../xtask/src/console.rs"]
mod console;

/// Checks the widget is built and builds the demo site for the worker to serve.
fn build_demo_site() {
    let root = root_with_widget();
    console::build_site(&root).unwrap_or_else(|e| panic!("build_site: {e}"));
}

/// The widget tests' dialogue on `/pricing*`: the region asked (DACH or elsewhere), the work
/// email captured, then meeting card `book` routed by `rules` (default queue `sales`), going on
/// by `on_skip` when skipped; the `extra` cards, then the end card `bye`.
fn region_dialogue(
    (id, name): (&str, &str),
    rules: Value,
    on_skip: &str,
    extra: &[Value],
) -> Value {
    let mut cards = vec![
        json!({"type": "question", "id": "region", "text": "Where is your team?",
               "buttons": [{"label": "DACH", "value": "dach", "next": "mail"},
                           {"label": "Elsewhere", "value": "other", "next": "mail"}]}),
        json!({"type": "capture", "id": "mail", "text": "Your work email?", "kind": "email", "field": "email", "next": "book"}),
        json!({"type": "meeting", "id": "book", "text": "Pick a time:", "route": {"rules": rules, "default": "sales"},
               "confirmation": "Booked with {{meeting.agent}} on {{meeting.time}}.", "next": "bye", "on_skip": on_skip}),
    ];
    cards.extend_from_slice(extra);
    cards.push(json!({"type": "end", "id": "bye", "text": "Thanks!"}));
    json!({"version": 1, "id": id, "name": name,
           "audience": {"all": [{"field": "page.url", "op": "matches", "value": "*/pricing*"}]},
           "cards": cards})
}

/// An agent's settings in UTC: every day's working hours, 30-minute meetings, the notice (in
/// minutes) and horizon (in days) given.
fn agent_settings(hours: (&str, &str), notice: i64, horizon: i64) -> Value {
    json!({"time_zone": "UTC", "working_hours": every_day(hours.0, hours.1), "meeting_minutes": 30,
           "min_notice_minutes": notice, "horizon_days": horizon})
}

/// The widget tests' one seed and run: site `acme` on `w`; each agent `(id, queue, settings)`,
/// the n-th (from 1) with email `agent<n>@agents.test` on Radicale user `agent<n>`, alone in its
/// queue; the dialogue `d` published and the demo site's origin allowed. Then the browser
/// driver `tests/browser/<file>` runs against the worker (`--endpoint`, then its own args) and
/// must pass.
fn seed_and_run_widget(
    w: &Worker,
    radicale: &PyPeer,
    agents: &[(&str, &str, Value)],
    d: &Value,
    (driver, args): (&str, &[&str]),
) {
    w.site("acme", site_settings(None), &[]);
    for (n, (id, queue, settings)) in agents.iter().enumerate() {
        let n = n + 1;
        let a = w.admin(
            "PUT",
            &format!("/admin/sites/acme/agents/{id}"),
            Some(&json!({"name": id, "email": format!("agent{n}@agents.test"), "settings": settings})),
        );
        assert_eq!(a.status, 200, "agent {id}: {}", a.body);
        let url = format!("{}/agent{n}/calendar/", radicale.urls[1]);
        let c = w.admin(
            "PUT",
            &format!("/admin/sites/acme/agents/{id}/calendar"),
            Some(
                &json!({"url": url, "username": format!("agent{n}"), "password": format!("pw{n}")}),
            ),
        );
        assert_eq!(c.status, 200, "calendar {id}: {}", c.body);
        let q = w.admin(
            "PUT",
            &format!("/admin/sites/acme/queues/{queue}"),
            Some(&json!({"name": queue, "agents": [id]})),
        );
        assert_eq!(q.status, 200, "queue {queue}: {}", q.body);
    }
    let p = w.admin("POST", "/admin/sites/acme/dialogues", Some(d));
    assert_eq!(p.status, 201, "publish: {}", p.body);
    console::allow_demo_origin(w.port, dynchat_e2e::ADMIN_TOKEN)
        .unwrap_or_else(|e| panic!("allow_demo_origin: {e}"));
    let endpoint = format!("http://127.0.0.1:{}", w.port);
    let root = root();
    let status = std::process::Command::new("timeout")
        .args(["300", "node"])
        .arg(root.join("tests/browser").join(driver))
        .args(["--endpoint", &endpoint])
        .args(args)
        .current_dir(&root)
        .status()
        .unwrap_or_else(|e| panic!("node: {e}"));
    assert!(
        status.success(),
        "{driver}: the widget check failed (FAIL line above)"
    );
}

/// The widget in Chromium on the demo site served by the real worker: a visitor who answers
/// "DACH" is shown the dach queue's times (the slot request carries their answers and fields,
/// as the booking does) and the booking lands in that queue. The queues' agents work different
/// hours (dach 08-12, sales 13-17 UTC), so the default queue's times could not be booked there.
/// The dach agent has a fixed video link (a CalDAV agent's `settings.video_link`, as the
/// console's agent form saves it): /book's answer carries it and the widget's confirmation shows
/// it as a link (issue 15); the meeting list has it too.
#[test]
fn the_widget_shows_and_books_the_rule_routed_queue() {
    let _g = serial();
    build_demo_site();
    let radicale = peers::radicale(2, "routing-widget");
    let w = Worker::start("routing-widget", None, &[("CALENDAR_KEY", CALENDAR_KEY)]);
    let rules = json!([
        {"when": {"all": [{"field": "answer.region", "op": "is", "value": "dach"}]}, "queue": "dach"},
        {"when": {"all": [{"field": "lead.Country", "op": "is", "value": "AT"}]}, "queue": "dach"}
    ]);
    let d = region_dialogue(("routed", "Routed"), rules, "bye", &[]);
    let mut dora = agent_settings(("08:00", "12:00"), 60, 30);
    dora["video_link"] = json!(DORA_VIDEO);
    let agents = [
        ("dora", "dach", dora),
        ("sam", "sales", agent_settings(("13:00", "17:00"), 60, 30)),
    ];
    seed_and_run_widget(
        &w,
        &radicale,
        &agents,
        &d,
        ("routing-widget.mjs", &["--video", DORA_VIDEO]),
    );
    // The booking is dach's: the log names the rule, and it is in dora's calendar.
    let log = w.admin("GET", "/admin/sites/acme/assignments", None).json();
    let all = log["assignments"].as_array().cloned().unwrap_or_default();
    assert_eq!(all.len(), 1, "{log}");
    assert_eq!(all[0]["chosen"], "dora", "{log}");
    assert_eq!(all[0]["routed"]["queue"], "dach", "{log}");
    assert_eq!(all[0]["routed"]["rule"], 0, "{log}");
    let calendars = peers::get(&format!("{}/_peer/state", radicale.urls[0]))["calendars"].clone();
    let events = |user: &str| calendars[user].as_array().map_or(0, Vec::len);
    assert_eq!([events("agent1"), events("agent2")], [1, 0], "{calendars}");
    let meetings = w.admin("GET", "/admin/sites/acme/meetings", None).json();
    assert_eq!(meetings["meetings"][0]["video"], DORA_VIDEO, "{meetings}");

    // The visitor's own fields route too, their names ignoring case (`lead.Country` in the
    // rule, `country` as the widget captured it).
    let slot_starts = |q: &str| -> Vec<Value> {
        let r = w.request(
            "GET",
            &format!("/v1/sites/acme/slots?{q}&tz=UTC&days=3"),
            &[("Origin", ORIGIN)],
            None,
        );
        assert_eq!(r.status, 200, "{q}: {}", r.body);
        r.json()["slots"]
            .as_array()
            .map(|s| s.iter().map(|x| x["start"].clone()).collect())
            .unwrap_or_default()
    };
    let dach = slot_starts("route=queue:dach");
    assert!(!dach.is_empty());
    assert_eq!(slot_starts("route=rules:routed/book&lead.country=at"), dach);
    assert_eq!(slot_starts("route=rules:routed/book&lead.COUNTRY=AT"), dach);
    assert_eq!(
        slot_starts("route=rules:routed/book&lead.country=us"),
        slot_starts("route=queue:sales")
    );

    // Oversized or bad facts on the slot request: a 400 naming the parameter, as /book does.
    let long = "x".repeat(501);
    let many: String = (0..65).map(|i| format!("&answer.c{i}=x")).collect();
    for (facts, field) in [
        (format!("&answer.region={long}"), "answer.region"),
        (many, "answer"),
        (format!("&lead.country={}", &long[..256]), "lead.country"),
        ("&lead.bad%20name=x".to_string(), "lead.badname"),
        ("&lead.email=not-an-email".to_string(), "lead.email"),
        ("&email=nope&lead.email=a%40b.example".to_string(), "email"),
    ] {
        let r = w.request(
            "GET",
            &format!("/v1/sites/acme/slots?route=rules:routed/book&tz=UTC&days=3{facts}"),
            &[("Origin", ORIGIN)],
            None,
        );
        assert_eq!(r.status, 400, "{field}: {}", r.body);
        assert_eq!(r.json()["error"]["field"], field, "{}", r.body);
    }
}

#[test]
fn a_busy_owner_falls_back_to_the_rotation_and_field_names_ignore_case() {
    let _g = serial();
    let st = Stack::start();
    let w = &st.worker;
    let ok = w.admin(
        "POST",
        &format!("/admin/sites/{SITE}/dialogues"),
        Some(&dialogue("enterprise")),
    );
    assert_eq!(ok.status, 201, "{}", ok.body);
    let last_assignment = || {
        w.admin("GET", &format!("/admin/sites/{SITE}/assignments"), None)
            .json()["assignments"]
            .as_array()
            .and_then(|a| a.last())
            .cloned()
            .unwrap_or(Value::Null)
    };

    // Marketo's owner of Otto's lead (bea) is busy at the slot: a meeting of hers booked
    // directly. Otto's booking then goes to the enterprise queue's rotation (eve), the owner
    // recorded and skipped as busy.
    let start = at(2, 10 * 60);
    let end = end_of(&start);
    let direct = w.post(
        &format!("/v1/sites/{SITE}/book"),
        &json!({"route": "agent:bea", "start": start, "end": end, "tz": "UTC",
                "lead": {"email": "first@elsewhere.example"}, "session": "s-direct"}),
        &[("Idempotency-Key", "owner-busy-0"), ("Origin", ORIGIN)],
    );
    assert_eq!(direct.status, 201, "{}", direct.body);
    assert_eq!(direct.json()["agent"], "bea", "{}", direct.body);
    let r = st.book(
        "owner-busy-1",
        &start,
        json!({"email": "owned@initech.example"}),
        json!({}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let last = last_assignment();
    assert_eq!(r.json()["agent"], last["chosen"], "{last}");
    assert_ne!(last["chosen"], "bea", "the busy owner: {last}");
    assert_eq!(last["chosen"], "eve", "{last}");
    assert_eq!(last["routed"]["owner"], "bea", "{last}");
    assert_eq!(last["routed"]["queue"], "enterprise", "{last}");
    assert_eq!(last["routed"]["rule"], 1, "{last}");
    assert_eq!(last["reason"]["kind"], "order", "{last}");
    assert_eq!(
        last["skipped"],
        json!([{"agent": "bea", "reason": "busy"}]),
        "{last}"
    );

    // A rule naming the field in mixed case (`lead.Country`) routes as `lead.country` does.
    let mixed = json!({"version": 1, "id": "mixed", "name": "Mixed", "cards": [
        {"id": "book", "type": "meeting", "text": "Pick a time", "route": {
            "rules": [{"when": {"all": [{"field": "lead.Country", "op": "in_list", "value": ["DE", "AT"]}]}, "queue": "dach"}],
            "default": "sales"}}
    ]});
    let p = w.admin(
        "POST",
        &format!("/admin/sites/{SITE}/dialogues"),
        Some(&mixed),
    );
    assert_eq!(p.status, 201, "{}", p.body);
    for (i, (email, agent, rule)) in [
        ("de@acme.example", "dan", json!(0)),
        ("us@acme.example", "sam", Value::Null),
    ]
    .into_iter()
    .enumerate()
    {
        let start = at(2, 12 * 60 + 30 * i as i64);
        let body = json!({"route": "rules:mixed/book", "start": start, "end": end_of(&start), "tz": "UTC",
                          "lead": {"email": email}, "answers": {}, "dialogue": "mixed", "session": format!("s-mixed-{i}")});
        let r = w.post(
            &format!("/v1/sites/{SITE}/book"),
            &body,
            &[
                ("Idempotency-Key", &format!("mixed-key-{i}")),
                ("Origin", ORIGIN),
            ],
        );
        assert_eq!(r.status, 201, "{email}: {}", r.body);
        assert_eq!(r.json()["agent"], agent, "{email}: {}", r.body);
        let last = last_assignment();
        assert_eq!(last["routed"]["card"], "mixed/book", "{email}: {last}");
        assert_eq!(last["routed"]["rule"], rule, "{email}: {last}");
    }
}

/// The no-slot fallback of a rules-routed card in Chromium on the demo site served by the real
/// worker: a visitor who answers "DACH" is routed to queue `dach`, whose only agent has no free
/// time in their horizon (3 days' notice, 2 days ahead), while the default queue `sales` has
/// plenty. They leave preferred times, the dialogue goes on by on_skip, and the notice reaches
/// the dach agent only (the request carries the answers and lead fields `/book` carries, and
/// the worker resolves the rules route with them); the admin list shows the request with them.
#[test]
fn the_widget_no_slot_request_reaches_the_rule_routed_queue() {
    let _g = serial();
    build_demo_site();
    let (mail, smtp_port) = peers::mail_catcher();
    let smtp = smtp_port.to_string();
    let radicale = peers::radicale(2, "no-slot-widget");
    let w = Worker::start(
        "no-slot-widget",
        None,
        &[
            ("CALENDAR_KEY", CALENDAR_KEY),
            ("SMTP_HOST", "127.0.0.1"),
            ("SMTP_PORT", &smtp),
            ("SMTP_FROM", "meetings@dynchat.test"),
            ("SMTP_TIMEOUT_MS", "5000"),
            ("MAIL_RETRY_MS", "500"),
        ],
    );
    let rules = json!([{"when": {"all": [{"field": "answer.region", "op": "is", "value": "dach"}]}, "queue": "dach"}]);
    let later = json!({"type": "message", "id": "later", "text": "AFTER THE MEETING CARD: we will write to you.", "next": "bye"});
    let d = region_dialogue(("asked", "Asked"), rules, "later", &[later]);
    // dora needs 3 days' notice but books only 2 days ahead: no time at all, honestly.
    let agents = [
        ("dora", "dach", agent_settings(("08:00", "18:00"), 4320, 2)),
        ("sam", "sales", agent_settings(("08:00", "18:00"), 60, 30)),
    ];
    seed_and_run_widget(&w, &radicale, &agents, &d, ("no-slot-widget.mjs", &[]));
    // Exactly one notice, to the dach agent: wait for it (at most 60 s), then let the outbox
    // settle (it is delivered in the same kick) and count every message.
    let messages = || {
        peers::get(&format!("{}/_peer/state", mail.url()))["messages"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    };
    let t0 = std::time::Instant::now();
    while messages().is_empty() && t0.elapsed() < std::time::Duration::from_secs(60) {
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
    std::thread::sleep(std::time::Duration::from_secs(2));
    let all = messages();
    assert_eq!(all.len(), 1, "one notice: {all:?}");
    assert_eq!(all[0]["rcpt_tos"], json!(["agent1@agents.test"]), "{all:?}");
    let raw = all[0]["raw"].as_str().unwrap_or_default();
    assert!(raw.contains("> Any weekday morning next month"), "{raw}");
    assert!(raw.contains("Queue: dach"), "{raw}");
    // The admin list: one request, for queue dach, with the answer that routed it.
    let list = w
        .admin("GET", "/admin/sites/acme/meeting-requests", None)
        .json();
    let reqs = list["requests"].as_array().cloned().unwrap_or_default();
    assert_eq!(reqs.len(), 1, "{list}");
    assert_eq!(reqs[0]["route"], "queue:dach", "{list}");
    assert_eq!(reqs[0]["email"], "no-slot-widget@example.com", "{list}");
    assert_eq!(reqs[0]["notified"], 1, "{list}");
    let answers: Value = serde_json::from_str(reqs[0]["answers"].as_str().unwrap_or_default())
        .unwrap_or(Value::Null);
    assert!(
        answers["region"] == "dach" || answers["region"] == "DACH",
        "{list}"
    );
}
