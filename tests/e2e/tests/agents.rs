//! Agents invited from the console against the real worker on workerd, real Radicale (CalDAV)
//! and the real aiosmtpd mail catcher: an admin invites an agent, the mail carries a
//! single-use set-password link (a reused or expired link is a 400 naming `token`, a weak
//! password a 400 naming `password` that keeps the link usable), the agent signs in, sets their
//! own hours, connects their CalDAV calendar from "My calendar" (another agent's is 403), lands
//! at the end of the site's default queue (noted in the assignment log), and the next bookings
//! follow the rotation order. An agent connecting Google themselves (the Google peer's consent,
//! the OAuth callback) joins the end of the default queue the same way.

use dynchat_e2e::clock::{at, now_ms};
use dynchat_e2e::console::{call, field, login, session};
use dynchat_e2e::peers::{self, PyPeer};
use dynchat_e2e::{serial, Answer, Worker};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const SITE: &str = "ag";
const ORIGIN: &str = "http://127.0.0.1:8080";
const CALENDAR_KEY: &str = "8f1e2d3c4b5a69788796a5b4c3d2e1f00112233445566778899aabbccddeeff0";

fn settings(from: &str, to: &str) -> Value {
    let d = json!([{"start": from, "end": to}]);
    json!({"time_zone": "UTC", "working_hours": {"mon": d, "tue": d, "wed": d, "thu": d, "fri": d, "sat": d, "sun": d}, "meeting_minutes": 30, "min_notice_minutes": 60, "horizon_days": 30})
}

fn ok(a: Answer, what: &str) -> Value {
    assert!(
        a.status == 200 || a.status == 201,
        "{what}: {} {}",
        a.status,
        a.body
    );
    a.json()
}

/// The set-password tokens in the caught mails to `rcpt`, oldest first.
fn invite_tokens(mail: &PyPeer, rcpt: &str) -> Vec<String> {
    let state = peers::get(&format!("{}/_peer/state", mail.url()));
    let mut out = Vec::new();
    for m in state["messages"].as_array().cloned().unwrap_or_default() {
        if m["rcpt_tos"] != json!([rcpt]) {
            continue;
        }
        let text: String = m["parts"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .filter_map(|p| p["text"].as_str().map(str::to_string))
            .collect();
        if let Some(i) = text.find("/console/#/invite/") {
            let t: String = text[i + 18..]
                .chars()
                .take_while(char::is_ascii_hexdigit)
                .collect();
            out.push(t);
        }
    }
    out
}

fn wait_tokens(mail: &PyPeer, rcpt: &str, n: usize) -> Vec<String> {
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_secs(60) {
        let t = invite_tokens(mail, rcpt);
        if t.len() >= n {
            return t;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    panic!("{n} invitation mails to {rcpt} not within 60 s");
}

fn book(w: &Worker, key: &str, start: &str, end: &str) -> Answer {
    let body = json!({"route": "queue:sales", "start": start, "end": end, "tz": "UTC", "lead": {"email": format!("{key}@visitors.test"), "firstName": "Vi"}, "session": format!("s-{key}")});
    w.post(
        &format!("/v1/sites/{SITE}/book"),
        &body,
        &[
            ("Idempotency-Key", &format!("booking-{key}")),
            ("Origin", ORIGIN),
        ],
    )
}

#[test]
fn invited_agent_sets_password_connects_caldav_and_joins_the_end_of_the_rotation() {
    let _g = serial();
    let (mail, smtp_port) = peers::mail_catcher();
    let radicale = peers::radicale(3, "agents");
    let smtp = smtp_port.to_string();
    let w = Worker::start(
        "agents",
        None,
        &[
            ("CALENDAR_KEY", CALENDAR_KEY),
            ("SMTP_HOST", "127.0.0.1"),
            ("SMTP_PORT", &smtp),
            ("SMTP_FROM", "meetings@dynchat.test"),
            ("SMTP_TIMEOUT_MS", "5000"),
            ("MAIL_RETRY_MS", "500"),
            ("ALLOW_CLOCK_OVERRIDE", "1"),
            ("RATE_IP_PER_MINUTE", "100000"),
            ("RATE_SITE_PER_MINUTE", "100000"),
        ],
    );
    let caldav = |user: &str| format!("{}/{user}/calendar/", radicale.urls[1]);
    ok(
        w.admin(
            "PUT",
            &format!("/admin/sites/{SITE}"),
            Some(&json!({"name": "Agents", "allowed_origins": [ORIGIN]})),
        ),
        "site",
    );
    for n in 1..=3 {
        ok(w.admin("PUT", &format!("/admin/sites/{SITE}/agents/a{n}"), Some(&json!({"name": format!("Agent {n}"), "email": format!("agent{n}@agents.test"), "settings": settings("08:00", "18:00")}))), "agent");
    }
    for n in 1..=2 {
        ok(w.admin("PUT", &format!("/admin/sites/{SITE}/agents/a{n}/calendar"), Some(&json!({"url": caldav(&format!("agent{n}")), "username": format!("agent{n}"), "password": format!("pw{n}")}))), "calendar");
    }
    ok(
        w.admin(
            "PUT",
            &format!("/admin/sites/{SITE}/queues/sales"),
            Some(&json!({"name": "Sales", "agents": ["a1", "a2"]})),
        ),
        "queue",
    );
    let bad = w.admin(
        "PUT",
        &format!("/admin/sites/{SITE}/default-queue"),
        Some(&json!({"default_queue": "nope"})),
    );
    assert_eq!(
        (bad.status, field(&bad)),
        (400, "default_queue".into()),
        "{}",
        bad.body
    );
    ok(
        w.admin(
            "PUT",
            &format!("/admin/sites/{SITE}/default-queue"),
            Some(&json!({"default_queue": "sales"})),
        ),
        "default queue",
    );

    // One booking before the newcomer: a1 takes it.
    let first = ok(book(&w, "b0", &at(2, 600), &at(2, 630)), "booking 0");
    assert_eq!(first["agent"], "Agent 1", "{first}");

    // Two invitations; the second link expires (the worker's clock moves 73 h on).
    let inv = |what| {
        ok(
            w.admin(
                "POST",
                &format!("/admin/console/sites/{SITE}/agents/a3/invite"),
                Some(&json!({})),
            ),
            what,
        )
    };
    let sent = inv("invite");
    assert_eq!(sent["invited"], "agent3@agents.test", "{sent}");
    inv("second invite");
    let nobody = w.admin(
        "POST",
        &format!("/admin/console/sites/{SITE}/agents/zz/invite"),
        Some(&json!({})),
    );
    assert_eq!(nobody.status, 404, "{}", nobody.body);
    let tokens = wait_tokens(&mail, "agent3@agents.test", 2);
    assert_eq!(tokens.len(), 2, "{tokens:?}");
    assert!(
        tokens.iter().all(|t| t.len() == 64) && tokens[0] != tokens[1],
        "{tokens:?}"
    );
    assert_eq!(
        login(&w, "agent3@agents.test", "invited").status,
        401,
        "an invited account has no password before the link is used"
    );
    let accept = |token: &str, password: &str| {
        w.post(
            "/admin/console/invite/accept",
            &json!({"token": token, "password": password}),
            &[],
        )
    };
    ok(
        w.admin(
            "POST",
            "/admin/clock",
            Some(&json!({"now_ms": now_ms() + 73 * 3_600_000})),
        ),
        "clock",
    );
    let expired = accept(&tokens[1], "agent-three-pass");
    assert_eq!(
        (expired.status, field(&expired)),
        (400, "token".into()),
        "{}",
        expired.body
    );
    assert!(expired.body.contains("expired"), "{}", expired.body);
    ok(
        w.admin("POST", "/admin/clock", Some(&json!({"now_ms": null}))),
        "clock",
    );
    let weak = accept(&tokens[0], "short");
    assert_eq!(
        (weak.status, field(&weak)),
        (400, "password".into()),
        "{}",
        weak.body
    );
    let unknown = accept(&"0".repeat(64), "agent-three-pass");
    assert_eq!(
        (unknown.status, field(&unknown)),
        (400, "token".into()),
        "{}",
        unknown.body
    );
    ok(accept(&tokens[0], "agent-three-pass"), "accept");
    let reused = accept(&tokens[0], "another-pass-word");
    assert_eq!(
        (reused.status, field(&reused)),
        (400, "token".into()),
        "{}",
        reused.body
    );
    assert!(reused.body.contains("already used"), "{}", reused.body);
    assert_eq!(
        login(&w, "agent3@agents.test", "another-pass-word").status,
        401
    );

    // Signed in as the agent: own record, own hours, own calendar; another agent's is 403.
    let me = session(&login(&w, "agent3@agents.test", "agent-three-pass"));
    let own = format!("/admin/console/sites/{SITE}/agents/a3");
    let mine = ok(call(&w, &me, "GET", &own, None), "own record");
    assert_eq!(mine["queues"], json!([]), "{mine}");
    let other = call(
        &w,
        &me,
        "PUT",
        &format!("/admin/console/sites/{SITE}/agents/a1/calendar"),
        Some(&json!({"url": caldav("agent3"), "username": "agent3", "password": "pw3"})),
    );
    assert_eq!(other.status, 403, "{}", other.body);
    let bad_hours = call(
        &w,
        &me,
        "PUT",
        &format!("{own}/settings"),
        Some(&json!({"settings": settings("8am", "18:00")})),
    );
    assert_eq!(bad_hours.status, 400, "{}", bad_hours.body);
    assert!(
        field(&bad_hours).starts_with("settings."),
        "{}",
        bad_hours.body
    );
    let hours = ok(
        call(
            &w,
            &me,
            "PUT",
            &format!("{own}/settings"),
            Some(&json!({"settings": settings("07:00", "19:00")})),
        ),
        "own hours",
    );
    assert_eq!(
        hours["settings"]["working_hours"]["mon"][0]["start"], "07:00",
        "{hours}"
    );
    let bad_cal = call(
        &w,
        &me,
        "PUT",
        &format!("{own}/calendar"),
        Some(&json!({"url": "ftp://x", "username": "agent3", "password": "pw3"})),
    );
    assert_eq!(
        (bad_cal.status, field(&bad_cal)),
        (400, "url".into()),
        "{}",
        bad_cal.body
    );
    let connected = ok(
        call(
            &w,
            &me,
            "PUT",
            &format!("{own}/calendar"),
            Some(&json!({"url": caldav("agent3"), "username": "agent3", "password": "pw3"})),
        ),
        "own calendar",
    );
    assert_eq!(connected["calendar"]["provider"], "caldav", "{connected}");
    assert_eq!(connected["queues"], json!(["sales"]), "{connected}");
    assert!(!connected.to_string().contains("pw3"), "{connected}");

    // At the end of the rotation, visible in the assignment log.
    let q = ok(
        w.admin("GET", &format!("/admin/sites/{SITE}/queues/sales"), None),
        "queue",
    );
    assert_eq!(q["agents"], json!(["a1", "a2", "a3"]), "{q}");
    let log = ok(
        w.admin("GET", &format!("/admin/sites/{SITE}/assignments"), None),
        "log",
    );
    let joined: Vec<&Value> = log["assignments"]
        .as_array()
        .map(|l| l.iter().filter(|e| e["outcome"] == "joined").collect())
        .unwrap_or_default();
    assert_eq!(joined.len(), 1, "{log}");
    assert_eq!(joined[0]["chosen"], "a3");
    assert_eq!(joined[0]["route"], "queue:sales");
    // Connecting again does not move them.
    ok(
        call(
            &w,
            &me,
            "PUT",
            &format!("{own}/calendar"),
            Some(&json!({"url": caldav("agent3"), "username": "agent3", "password": "pw3"})),
        ),
        "reconnect",
    );
    let q = ok(
        w.admin("GET", &format!("/admin/sites/{SITE}/queues/sales"), None),
        "queue",
    );
    assert_eq!(q["agents"], json!(["a1", "a2", "a3"]), "{q}");

    // The next bookings follow the order: a2, a3, a1, a2, a3.
    let mut got = Vec::new();
    for i in 1..=5 {
        let b = ok(
            book(
                &w,
                &format!("b{i}"),
                &at(2, 600 + 30 * i),
                &at(2, 630 + 30 * i),
            ),
            "booking",
        );
        got.push(b["agent"].as_str().unwrap_or_default().to_string());
    }
    assert_eq!(
        got,
        ["Agent 2", "Agent 3", "Agent 1", "Agent 2", "Agent 3"],
        "{got:?}"
    );
    let items = peers::get(&format!("{}/_peer/state", radicale.urls[0]))["calendars"]["agent3"]
        .as_array()
        .map(Vec::len);
    assert_eq!(
        items,
        Some(2),
        "agent3's CalDAV calendar holds their two meetings"
    );
    // The agent sees their upcoming meetings.
    let upcoming = ok(
        call(&w, &me, "GET", &format!("{own}/meetings"), None),
        "own meetings",
    );
    assert_eq!(
        upcoming["meetings"].as_array().map(Vec::len),
        Some(2),
        "{upcoming}"
    );

    // The site can be taken from the agent's account (and given back) without a password.
    let sites = |body: Value| w.admin("PUT", "/admin/console/accounts/sites", Some(&body));
    let bad = sites(json!({"email": "agent3@agents.test", "sites": [SITE, "nope"]}));
    assert_eq!(
        (bad.status, field(&bad)),
        (400, "sites[1]".into()),
        "{}",
        bad.body
    );
    let nobody = sites(json!({"email": "nobody@agents.test", "sites": [SITE]}));
    assert_eq!(
        (nobody.status, field(&nobody)),
        (400, "email".into()),
        "{}",
        nobody.body
    );
    ok(
        sites(json!({"email": "agent3@agents.test", "sites": []})),
        "take the site",
    );
    assert_eq!(
        call(&w, &me, "GET", &own, None).status,
        403,
        "no longer one of the agent's sites"
    );
    ok(
        sites(json!({"email": "agent3@agents.test", "sites": [SITE]})),
        "give it back",
    );
    ok(
        call(&w, &me, "GET", &own, None),
        "the same session reaches the site again",
    );
}

/// Issue 14: an agent connects Google themselves from "My calendar" (their own console session,
/// the Google peer's consent, the worker's OAuth callback): connected, last in the site's default
/// queue, with a `joined` entry in the assignment log; another agent's connect is 403.
#[test]
fn agent_connects_google_from_my_calendar_and_joins_the_end_of_the_default_queue() {
    let _g = serial();
    let google =
        peers::google(&json!({"accounts": [{"email": "gina@example.com", "time_zone": "UTC"}]}));
    let g = google.url().to_string();
    let vars: Vec<(&str, String)> = vec![
        ("CALENDAR_KEY", CALENDAR_KEY.into()),
        ("GOOGLE_AUTH_URL", format!("{g}/o/oauth2/v2/auth")),
        ("GOOGLE_TOKEN_URL", format!("{g}/token")),
        ("GOOGLE_API_BASE", g.clone()),
        ("GOOGLE_CLIENT_ID", "dynchat-local-client".into()),
        ("GOOGLE_CLIENT_SECRET", "dynchat-local-secret".into()),
    ];
    let refs: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let w = Worker::start("agents-google", None, &refs);
    ok(
        w.admin(
            "PUT",
            &format!("/admin/sites/{SITE}"),
            Some(&json!({"name": "Agents", "allowed_origins": [ORIGIN]})),
        ),
        "site",
    );
    for (id, name, email) in [
        ("a1", "Agent 1", "agent1@agents.test"),
        ("a2", "Agent 2", "agent2@agents.test"),
        ("g3", "Gina", "gina@example.com"),
    ] {
        let body = json!({"name": name, "email": email, "settings": settings("08:00", "18:00")});
        ok(
            w.admin(
                "PUT",
                &format!("/admin/sites/{SITE}/agents/{id}"),
                Some(&body),
            ),
            "agent",
        );
    }
    ok(
        w.admin(
            "PUT",
            &format!("/admin/sites/{SITE}/queues/sales"),
            Some(&json!({"name": "Sales", "agents": ["a1", "a2"]})),
        ),
        "queue",
    );
    ok(
        w.admin(
            "PUT",
            &format!("/admin/sites/{SITE}/default-queue"),
            Some(&json!({"default_queue": "sales"})),
        ),
        "default queue",
    );
    ok(
        w.admin(
            "POST",
            "/admin/console/accounts",
            Some(&json!({"email": "gina@example.com", "password": "gina-google-pass", "role": "agent", "name": "Gina", "agent_id": "g3", "sites": [SITE]})),
        ),
        "agent account",
    );
    let me = session(&login(&w, "gina@example.com", "gina-google-pass"));
    let own = format!("/admin/console/sites/{SITE}/agents/g3");
    let body = json!({"provider": "google", "login_hint": "gina@example.com"});
    let other = call(
        &w,
        &me,
        "POST",
        &format!("/admin/console/sites/{SITE}/agents/a1/calendar/connect"),
        Some(&body),
    );
    assert_eq!(other.status, 403, "{}", other.body);
    let start = ok(
        call(
            &w,
            &me,
            "POST",
            &format!("{own}/calendar/connect"),
            Some(&body),
        ),
        "connect",
    );
    let url = start["redirect_url"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(url.starts_with(&g), "consent at the Google peer: {start}");
    // The peer's consent redirects to the worker's callback (ureq follows the 302).
    let done: Value = ureq::get(&url)
        .timeout(Duration::from_secs(60))
        .call()
        .unwrap_or_else(|e| panic!("consent {url}: {e}"))
        .into_json()
        .unwrap_or(Value::Null);
    assert_eq!(done["connected"], true, "{done}");
    assert_eq!(
        (&done["agent"], &done["provider"], &done["account"]),
        (&json!("g3"), &json!("google"), &json!("gina@example.com")),
        "{done}"
    );
    let mine = ok(call(&w, &me, "GET", &own, None), "own record");
    assert_eq!(mine["calendar"]["provider"], "google", "{mine}");
    assert_eq!(mine["queues"], json!(["sales"]), "{mine}");
    let q = ok(
        w.admin("GET", &format!("/admin/sites/{SITE}/queues/sales"), None),
        "queue",
    );
    assert_eq!(q["agents"], json!(["a1", "a2", "g3"]), "{q}");
    let log = ok(
        w.admin("GET", &format!("/admin/sites/{SITE}/assignments"), None),
        "log",
    );
    let joined: Vec<&Value> = log["assignments"]
        .as_array()
        .map(|l| l.iter().filter(|e| e["outcome"] == "joined").collect())
        .unwrap_or_default();
    assert_eq!(joined.len(), 1, "{log}");
    assert_eq!(
        (&joined[0]["chosen"], &joined[0]["route"]),
        (&json!("g3"), &json!("queue:sales")),
        "{log}"
    );
}
