//! Video links end to end (issue 15): the real worker on workerd, the Google and Graph peers,
//! real Radicale and the aiosmtpd mail catcher. A Google agent's meeting gets a Meet link
//! through the event's conference data, a Graph agent's a Teams link through the online-meeting
//! flag, a CalDAV agent's the fixed link of their settings; the link is in `/book`'s answer, on
//! the calendar event, in the mails and the ICS. A visitor's move through the reschedule link
//! patches the Google / Graph event (same event, same link) and sends the update.

use dynchat_e2e::clock::{at_s, iso_minute as iso};
use dynchat_e2e::peers::{self, PyPeer};
use dynchat_e2e::{serial, Answer, Worker};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const SITE: &str = "vid";
const CALENDAR_KEY: &str = "8f1e2d3c4b5a69788796a5b4c3d2e1f00112233445566778899aabbccddeeff0";
const LINK_KEY: &str = "0f1e2d3c4b5a69788796a5b4c3d2e1f00112233445566778899aabbccddeeff1";
const ORIGIN: &str = "http://127.0.0.1:8080";
const FIXED: &str = "https://video.agents.test/room/carla?pwd=42";

struct Stack {
    worker: Worker,
    mail: PyPeer,
    radicale: PyPeer,
    google: PyPeer,
    graph: PyPeer,
}

fn settings(extra: Value) -> Value {
    let d = json!([{"start": "08:00", "end": "18:00"}]);
    let hours = json!({"mon": d, "tue": d, "wed": d, "thu": d, "fri": d, "sat": d, "sun": d});
    let mut s = json!({"time_zone": "UTC", "working_hours": hours, "meeting_minutes": 30, "min_notice_minutes": 60, "horizon_days": 30});
    if let (Some(o), Some(e)) = (s.as_object_mut(), extra.as_object()) {
        o.extend(e.clone());
    }
    s
}

impl Stack {
    fn start() -> Stack {
        let (mail, smtp_port) = peers::mail_catcher();
        let radicale = peers::radicale(1, "video");
        let google = peers::google(&json!({"accounts": [
            {"email": "gina@example.com", "time_zone": "UTC"},
            {"email": "gus@example.com", "time_zone": "UTC"}]}));
        let graph = peers::graph(
            &json!({"accounts": [{"email": "mia@contoso.example", "time_zone": "UTC", "display_name": "Mia"}]}),
        );
        let (g, m) = (google.url().to_string(), graph.url().to_string());
        let smtp = smtp_port.to_string();
        let vars: Vec<(&str, String)> = vec![
            ("CALENDAR_KEY", CALENDAR_KEY.into()),
            ("LINK_KEY", LINK_KEY.into()),
            ("GOOGLE_AUTH_URL", format!("{g}/o/oauth2/v2/auth")),
            ("GOOGLE_TOKEN_URL", format!("{g}/token")),
            ("GOOGLE_API_BASE", g.clone()),
            ("GOOGLE_CLIENT_ID", "dynchat-local-client".into()),
            ("GOOGLE_CLIENT_SECRET", "dynchat-local-secret".into()),
            ("MS_LOGIN_BASE", m.clone()),
            ("GRAPH_BASE", m.clone()),
            ("MS_CLIENT_ID", "dynchat-local-client".into()),
            ("MS_CLIENT_SECRET", "dynchat-local-secret".into()),
            ("SMTP_HOST", "127.0.0.1".into()),
            ("SMTP_PORT", smtp),
            ("SMTP_FROM", "meetings@dynchat.test".into()),
            ("SMTP_TIMEOUT_MS", "5000".into()),
            ("MAIL_RETRY_MS", "500".into()),
            ("RATE_IP_PER_MINUTE", "100000".into()),
            ("RATE_SITE_PER_MINUTE", "100000".into()),
        ];
        let refs: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let worker = Worker::start("video", None, &refs);
        let s = worker.admin(
            "PUT",
            &format!("/admin/sites/{SITE}"),
            Some(&json!({"name": "Video", "allowed_origins": [ORIGIN]})),
        );
        assert_eq!(s.status, 200, "{}", s.body);
        Stack {
            worker,
            mail,
            radicale,
            google,
            graph,
        }
    }

    fn agent(&self, id: &str, name: &str, email: &str, extra: Value) -> Answer {
        self.worker.admin(
            "PUT",
            &format!("/admin/sites/{SITE}/agents/{id}"),
            Some(&json!({"name": name, "email": email, "settings": settings(extra)})),
        )
    }

    fn oauth(&self, id: &str, provider: &str, login: &str) {
        let a = self.worker.admin(
            "POST",
            &format!("/admin/sites/{SITE}/agents/{id}/calendar/connect"),
            Some(&json!({"provider": provider, "login_hint": login})),
        );
        assert_eq!(a.status, 200, "{}", a.body);
        let url = a.json()["redirect_url"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let done = ureq::get(&url)
            .timeout(Duration::from_secs(60))
            .call()
            .unwrap_or_else(|e| panic!("consent {url}: {e}"));
        let v: Value = done.into_json().unwrap_or(Value::Null);
        assert_eq!(v["connected"], true, "{v}");
    }

    fn queue(&self, id: &str, agent: &str) {
        let q = self.worker.admin(
            "PUT",
            &format!("/admin/sites/{SITE}/queues/{id}"),
            Some(&json!({"name": id, "agents": [agent]})),
        );
        assert_eq!(q.status, 200, "{}", q.body);
    }

    fn book(&self, key: &str, queue: &str, start: i64, email: &str) -> Answer {
        let body = json!({"route": format!("queue:{queue}"), "start": iso(start), "end": iso(start + 1800), "tz": "UTC",
                          "lead": {"email": email, "firstName": "Vera"}, "session": format!("s-{key}")});
        self.worker.post(
            &format!("/v1/sites/{SITE}/book"),
            &body,
            &[("Idempotency-Key", key), ("Origin", ORIGIN)],
        )
    }

    /// The mails to `rcpt` whose calendar part holds every one of `needles`, waiting at most
    /// 60 s (240 looks) for `count` of them.
    fn mails_to(&self, rcpt: &str, needles: &[&str], count: usize) -> Vec<Value> {
        let t0 = Instant::now();
        let mut found = Vec::new();
        for _ in 0..240 {
            let all = peers::get(&format!("{}/_peer/state", self.mail.url()))["messages"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            found = all
                .into_iter()
                .filter(|m| m["rcpt_tos"] == json!([rcpt]))
                .filter(|m| {
                    let ics = part_text(m, "text/calendar");
                    needles.iter().all(|n| ics.contains(n))
                })
                .collect();
            if found.len() >= count || t0.elapsed() > Duration::from_secs(60) {
                break;
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        assert!(
            found.len() >= count,
            "{count} mails to {rcpt} with {needles:?}: found {}",
            found.len()
        );
        found
    }

    fn google_events(&self, cal: &str) -> Vec<Value> {
        let st = peers::get(&format!("{}/_peer/state", self.google.url()));
        match &st["events"][cal] {
            Value::Array(a) => a.clone(),
            Value::Object(m) => m.values().cloned().collect(),
            _ => Vec::new(),
        }
    }

    fn graph_state(&self) -> Value {
        peers::get(&format!("{}/_peer/state", self.graph.url()))
    }

    /// Mia's Graph event `id` as the peer holds it.
    fn graph_event(&self, id: &str) -> Value {
        self.graph_state()["events"]["mia@contoso.example"]
            .as_array()
            .and_then(|a| a.iter().find(|e| e["id"] == id).cloned())
            .unwrap_or(Value::Null)
    }

    fn open(&self, link: &str) -> Answer {
        let path = link
            .split_once("127.0.0.1:")
            .and_then(|(_, rest)| rest.split_once('/'))
            .map(|(_, p)| format!("/{p}"))
            .unwrap_or_else(|| panic!("a link to this worker: {link}"));
        self.worker.request("GET", &path, &[], None)
    }

    fn move_with(&self, reschedule: &str, to: i64) -> Answer {
        let page = self.open(reschedule);
        assert_eq!(page.status, 200, "{}", page.body);
        let token = reschedule
            .split_once("?t=")
            .map(|(_, t)| t.to_string())
            .unwrap_or_default();
        self.worker.request(
            "POST",
            &format!("/meeting/{SITE}"),
            &[("Content-Type", "application/x-www-form-urlencoded")],
            Some(&format!("t={token}&start={}", iso(to).replace(':', "%3A"))),
        )
    }
}

fn part_text(mail: &Value, content_type: &str) -> String {
    mail["parts"]
        .as_array()
        .and_then(|p| p.iter().find(|p| p["content_type"] == content_type))
        .and_then(|p| p["text"].as_str())
        .unwrap_or_default()
        .replace("\r\n ", "")
}

/// The ICS property `name`'s value (first one).
fn ics_prop(ics: &str, name: &str) -> String {
    ics.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")))
        .map(|v| v.trim_end().to_string())
        .unwrap_or_default()
}

fn link_after(text: &str, label: &str) -> String {
    text.split(label)
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .map(str::to_string)
        .unwrap_or_else(|| panic!("no `{label}` in {text}"))
}

#[test]
fn meet_teams_and_fixed_links_reach_the_events_the_mails_and_the_ics() {
    let _g = serial();
    let st = Stack::start();
    let w = &st.worker;
    // A fixed link that is no https URL is refused, naming the field.
    for bad in [
        "http://video.agents.test/x",
        "https://",
        "https://a b.test/",
    ] {
        let r = st.agent(
            "c1",
            "Carla",
            "carla@agents.test",
            json!({"video_link": bad}),
        );
        assert_eq!(r.status, 400, "{bad}: {}", r.body);
        assert!(r.body.contains("settings.video_link"), "{}", r.body);
    }
    let ok = |r: Answer| assert_eq!(r.status, 200, "{}", r.body);
    ok(st.agent("g1", "Gina", "gina@example.com", json!({})));
    ok(st.agent("g2", "Gus", "gus@example.com", json!({"video": false})));
    ok(st.agent("m1", "Mia", "mia@contoso.example", json!({})));
    ok(st.agent(
        "c1",
        "Carla",
        "carla@agents.test",
        json!({"video_link": FIXED}),
    ));
    st.oauth("g1", "google", "gina@example.com");
    st.oauth("g2", "google", "gus@example.com");
    st.oauth("m1", "graph", "mia@contoso.example");
    let url = format!("{}/agent1/calendar/", st.radicale.urls[1]);
    ok(w.admin(
        "PUT",
        &format!("/admin/sites/{SITE}/agents/c1/calendar"),
        Some(&json!({"url": url, "username": "agent1", "password": "pw1"})),
    ));
    for (q, a) in [
        ("meet", "g1"),
        ("nomeet", "g2"),
        ("teams", "m1"),
        ("dav", "c1"),
    ] {
        st.queue(q, a);
    }
    let start = at_s(2, 9 * 60);

    // Google Meet: the event's conference, the answer, the invitation and its ICS.
    let b = st.book("video-meet", "meet", start, "vera@example.com");
    assert_eq!(b.status, 201, "{}", b.body);
    let meet = b.json()["video"].as_str().unwrap_or_default().to_string();
    assert!(meet.starts_with("https://meet.google.com/"), "{}", b.body);
    let events = st.google_events("gina@example.com");
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["hangoutLink"], json!(meet), "{:?}", events[0]);
    assert_eq!(
        events[0]["conferenceData"]["createRequest"]["requestId"],
        events[0]["id"]
    );
    let invite = st.mails_to("vera@example.com", &["METHOD:REQUEST"], 1)[0].clone();
    let ics = part_text(&invite, "text/calendar");
    assert_eq!(ics_prop(&ics, "LOCATION"), meet, "{ics}");
    assert_eq!(ics_prop(&ics, "URL"), meet, "{ics}");
    assert_eq!(ics_prop(&ics, "X-GOOGLE-CONFERENCE"), meet, "{ics}");
    assert!(part_text(&invite, "text/plain").contains(&meet));
    assert!(part_text(&invite, "text/html").contains(&format!("href=\"{meet}\"")));
    let notice = st.mails_to("gina@example.com", &["METHOD:REQUEST"], 1)[0].clone();
    assert!(part_text(&notice, "text/plain").contains(&meet));
    // The same key again: the stored link, no second event.
    let again = st.book("video-meet", "meet", start, "vera@example.com");
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(again.json()["video"], json!(meet));
    assert_eq!(st.google_events("gina@example.com").len(), 1);

    // An agent with video off: no conference asked for, no link anywhere.
    let b = st.book("video-nomeet", "nomeet", start, "nora@example.com");
    assert_eq!(b.status, 201, "{}", b.body);
    assert!(b.json().get("video").is_none(), "{}", b.body);
    let plain = st.google_events("gus@example.com");
    assert!(plain[0].get("conferenceData").is_none(), "{plain:?}");
    let ics = part_text(
        &st.mails_to("nora@example.com", &["METHOD:REQUEST"], 1)[0],
        "text/calendar",
    );
    assert!(!ics.contains("URL:"), "{ics}");

    // Teams: the Graph event's join URL, the invitation Graph mails, the agent's notice.
    let b = st.book("video-teams", "teams", start, "tom@example.com");
    assert_eq!(b.status, 201, "{}", b.body);
    let teams = b.json()["video"].as_str().unwrap_or_default().to_string();
    assert!(
        teams.starts_with("https://teams.microsoft.com/l/meetup-join/"),
        "{}",
        b.body
    );
    let gs = st.graph_state();
    let ev: Vec<&Value> = gs["events"]["mia@contoso.example"]
        .as_array()
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    assert_eq!(ev.len(), 1, "{gs}");
    assert_eq!(ev[0]["onlineMeeting"]["joinUrl"], json!(teams));
    assert_eq!(ev[0]["onlineMeetingProvider"], "teamsForBusiness");
    assert_eq!(gs["sent_invitations"][0]["join_url"], json!(teams));
    let notice = st.mails_to("mia@contoso.example", &["METHOD:REQUEST"], 1)[0].clone();
    assert!(part_text(&notice, "text/plain").contains(&teams));
    assert_eq!(ics_prop(&part_text(&notice, "text/calendar"), "URL"), teams);

    // CalDAV: the agent's fixed link in the Radicale event and the invitation's ICS.
    let b = st.book("video-dav", "dav", start, "dana@example.com");
    assert_eq!(b.status, 201, "{}", b.body);
    assert_eq!(b.json()["video"], json!(FIXED), "{}", b.body);
    let stored = peers::get(&format!("{}/_peer/state", st.radicale.urls[0]))["calendars"]["agent1"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(stored.len(), 1, "{stored:?}");
    let ics = stored[0]["ics"]
        .as_str()
        .unwrap_or_default()
        .replace("\r\n ", "");
    assert_eq!(ics_prop(&ics, "LOCATION"), FIXED, "{ics}");
    assert_eq!(ics_prop(&ics, "URL"), FIXED, "{ics}");
    let invite = st.mails_to("dana@example.com", &["METHOD:REQUEST"], 1)[0].clone();
    let ics = part_text(&invite, "text/calendar");
    assert_eq!(ics_prop(&ics, "LOCATION"), FIXED, "{ics}");
    assert!(!ics.contains("X-GOOGLE-CONFERENCE"), "{ics}");
    assert!(part_text(&invite, "text/plain").contains(FIXED));
}

#[test]
fn a_moved_google_or_graph_meeting_keeps_its_event_and_link() {
    let _g = serial();
    let st = Stack::start();
    let ok = |r: Answer| assert_eq!(r.status, 200, "{}", r.body);
    ok(st.agent("g1", "Gina", "gina@example.com", json!({})));
    ok(st.agent("m1", "Mia", "mia@contoso.example", json!({})));
    ok(st.agent(
        "c1",
        "Carla",
        "carla@agents.test",
        json!({"video_link": FIXED}),
    ));
    st.oauth("g1", "google", "gina@example.com");
    st.oauth("m1", "graph", "mia@contoso.example");
    let url = format!("{}/agent1/calendar/", st.radicale.urls[1]);
    ok(st.worker.admin(
        "PUT",
        &format!("/admin/sites/{SITE}/agents/c1/calendar"),
        Some(&json!({"url": url, "username": "agent1", "password": "pw1"})),
    ));
    st.queue("meet", "g1");
    st.queue("teams", "m1");
    st.queue("dav", "c1");
    let (first, moved_to) = (at_s(2, 9 * 60), at_s(2, 11 * 60));

    // CalDAV: the event is made again at the new time, with the agent's fixed link.
    let b = st.book("move-dav", "dav", first, "dana@example.com");
    assert_eq!(b.status, 201, "{}", b.body);
    let invite = st.mails_to("dana@example.com", &["METHOD:REQUEST", "SEQUENCE:0"], 1)[0].clone();
    let reschedule = link_after(&part_text(&invite, "text/plain"), "Reschedule: ");
    let done = st.move_with(&reschedule, moved_to);
    assert_eq!(done.status, 200, "{}", done.body);
    let stored = peers::get(&format!("{}/_peer/state", st.radicale.urls[0]))["calendars"]["agent1"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(stored.len(), 1, "{stored:?}");
    let ics = stored[0]["ics"]
        .as_str()
        .unwrap_or_default()
        .replace("\r\n ", "");
    assert!(
        ics.contains(&iso(moved_to).replace(['-', ':'], "")),
        "{ics}"
    );
    assert_eq!(ics_prop(&ics, "URL"), FIXED, "{ics}");
    let update = st.mails_to("dana@example.com", &["METHOD:REQUEST", "SEQUENCE:1"], 1)[0].clone();
    assert_eq!(
        ics_prop(&part_text(&update, "text/calendar"), "LOCATION"),
        FIXED
    );

    // Google: the invitation's reschedule link; the event is patched, not made again.
    let b = st.book("move-meet", "meet", first, "vera@example.com");
    assert_eq!(b.status, 201, "{}", b.body);
    let meet = b.json()["video"].as_str().unwrap_or_default().to_string();
    let before = st.google_events("gina@example.com");
    assert_eq!(before.len(), 1);
    let invite = st.mails_to("vera@example.com", &["METHOD:REQUEST", "SEQUENCE:0"], 1)[0].clone();
    let reschedule = link_after(&part_text(&invite, "text/plain"), "Reschedule: ");
    let done = st.move_with(&reschedule, moved_to);
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(done.body.contains("Your meeting is moved"), "{}", done.body);
    let after = st.google_events("gina@example.com");
    assert_eq!(after.len(), 1, "one event, patched: {after:?}");
    assert_eq!(after[0]["id"], before[0]["id"]);
    assert_eq!(after[0]["status"], "confirmed");
    assert_eq!(after[0]["start"]["dateTime"], json!(iso(moved_to)));
    assert_eq!(after[0]["hangoutLink"], json!(meet));
    let counts = &peers::get(&format!("{}/_peer/state", st.google.url()))["request_counts"];
    assert_eq!(counts["PATCH event"], 1, "{counts}");
    assert!(counts.get("DELETE event").is_none(), "{counts}");
    // The visitor's update: SEQUENCE 1, the new time, the same link.
    let update = st.mails_to("vera@example.com", &["METHOD:REQUEST", "SEQUENCE:1"], 1)[0].clone();
    let ics = part_text(&update, "text/calendar");
    assert!(
        ics.contains(&iso(moved_to).replace(['-', ':'], "")),
        "{ics}"
    );
    assert_eq!(ics_prop(&ics, "URL"), meet, "{ics}");
    assert!(part_text(&update, "text/plain").contains(&meet));
    let meetings = st
        .worker
        .admin("GET", &format!("/admin/sites/{SITE}/meetings"), None)
        .json();
    let m = meetings["meetings"]
        .as_array()
        .and_then(|a| a.iter().find(|m| m["lead_email"] == "vera@example.com"))
        .cloned()
        .unwrap_or(Value::Null);
    assert_eq!(m["start"], json!(iso(moved_to)), "{meetings}");
    assert_eq!(m["video"], json!(meet), "{meetings}");

    // Graph mails the invitation itself, from the event's body, which holds the visitor's
    // links; the move patches the event (Graph mails the update: new time, same Teams link).
    let b = st.book("move-teams", "teams", first, "tom@example.com");
    assert_eq!(b.status, 201, "{}", b.body);
    let teams = b.json()["video"].as_str().unwrap_or_default().to_string();
    let gs = st.graph_state();
    let event_id = gs["sent_invitations"][0]["event_id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let body = st.graph_event(&event_id)["body"]["content"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let reschedule = link_after(&body, "Reschedule: ");
    let done = st.move_with(&reschedule, moved_to);
    assert_eq!(done.status, 200, "{}", done.body);
    let gs = st.graph_state();
    let ev = &st.graph_event(&event_id);
    assert_eq!(ev["onlineMeeting"]["joinUrl"], json!(teams), "{gs}");
    let new_body = ev["body"]["content"].as_str().unwrap_or_default();
    assert_ne!(
        link_after(new_body, "Reschedule: "),
        reschedule,
        "new links"
    );
    assert!(
        gs["deleted_events"].as_array().is_none_or(Vec::is_empty),
        "{gs}"
    );
    let ups = gs["sent_updates"].as_array().cloned().unwrap_or_default();
    assert_eq!(ups.len(), 1, "{gs}");
    assert_eq!(ups[0]["join_url"], json!(teams));
    assert_eq!(ups[0]["start"], json!(iso(moved_to)));
}
