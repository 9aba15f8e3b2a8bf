//! Video links end to end (issue 15): the real worker on workerd, the Google and Graph peers,
//! real Radicale and the aiosmtpd mail catcher. A Google agent's meeting gets a Meet link
//! through the event's conference data, a Graph agent's a Teams link through the online-meeting
//! flag, a CalDAV agent's the fixed link of their settings; the link is in `/book`'s answer, on
//! the calendar event, in the mails and the ICS. A visitor's move through the reschedule link
//! patches the Google / Graph event (same event, same link) and sends the update.

use dynchat_e2e::clock::{at_s, iso_minute as iso};
use dynchat_e2e::meeting_stack::{
    agent_settings as settings, ics_of, link_after, move_form, oauth_connect, part_text, token_of,
    Setup, Stack as Meetings,
};
use dynchat_e2e::peers::{self, PyPeer};
use dynchat_e2e::{serial, Answer};
use serde_json::{json, Value};

const SITE: &str = "vid";
const FIXED: &str = "https://video.agents.test/room/carla?pwd=42";

/// The meetings stack (mail catcher, Radicale, worker) with the Google and Graph peers.
struct Stack {
    st: Meetings,
    google: PyPeer,
    graph: PyPeer,
}

impl std::ops::Deref for Stack {
    type Target = Meetings;
    fn deref(&self) -> &Meetings {
        &self.st
    }
}

impl Stack {
    fn start() -> Stack {
        let google = peers::google(&json!({"accounts": [
            {"email": "gina@example.com", "time_zone": "UTC"},
            {"email": "gus@example.com", "time_zone": "UTC"}]}));
        let graph = peers::graph(
            &json!({"accounts": [{"email": "mia@contoso.example", "time_zone": "UTC", "display_name": "Mia"}]}),
        );
        let vars = peers::oauth_vars(&google, &graph);
        let refs: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let st = Meetings::start(&Setup {
            name: "video",
            site: SITE,
            site_name: "Video",
            caldav_users: 1,
            links: true,
            marketo: None,
            vars: &refs,
        });
        Stack { st, google, graph }
    }

    fn agent(&self, id: &str, name: &str, email: &str, extra: Value) -> Answer {
        self.put_agent(id, name, email, &settings(extra))
    }

    /// Gina on Google (queue `meet`), Mia on Graph (`teams`) and Carla on Radicale with the
    /// fixed link (`dav`), each alone in her queue.
    fn meet_teams_and_dav(&self) {
        self.st
            .agent("g1", "Gina", "gina@example.com", &settings(json!({})));
        self.st
            .agent("m1", "Mia", "mia@contoso.example", &settings(json!({})));
        let fixed = settings(json!({"video_link": FIXED}));
        self.st.agent("c1", "Carla", "carla@agents.test", &fixed);
        self.oauth("g1", "google", "gina@example.com");
        self.oauth("m1", "graph", "mia@contoso.example");
        self.radicale_calendar("c1", 1);
        self.queue("meet", "g1");
        self.queue("teams", "m1");
        self.queue("dav", "c1");
    }

    fn oauth(&self, id: &str, provider: &str, login: &str) {
        oauth_connect(&self.worker, SITE, id, provider, login);
    }

    fn queue(&self, id: &str, agent: &str) {
        self.st.queue(id, id, &[agent]);
    }

    fn book(&self, key: &str, queue: &str, start: i64, email: &str) -> Answer {
        self.st
            .book(key, &format!("queue:{queue}"), start, email, "Vera")
    }

    /// The mails to `rcpt` whose calendar part holds every one of `needles`, waiting at most
    /// 60 s (240 looks) for `count` of them.
    fn mails_to(&self, rcpt: &str, needles: &[&str], count: usize) -> Vec<Value> {
        self.wait_mails(rcpt, needles, count)
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

    fn move_with(&self, reschedule: &str, to: i64) -> Answer {
        let page = self.open(reschedule);
        assert_eq!(page.status, 200, "{}", page.body);
        let token = token_of(reschedule);
        self.post_form(&move_form(&token, to))
    }
}

/// The ICS property `name`'s value (first one).
fn ics_prop(ics: &str, name: &str) -> String {
    ics.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")))
        .map(|v| v.trim_end().to_string())
        .unwrap_or_default()
}

#[test]
fn meet_teams_and_fixed_links_reach_the_events_the_mails_and_the_ics() {
    let _g = serial();
    let st = Stack::start();
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
    st.meet_teams_and_dav();
    let g2 = st.agent("g2", "Gus", "gus@example.com", json!({"video": false}));
    assert_eq!(g2.status, 200, "{}", g2.body);
    st.oauth("g2", "google", "gus@example.com");
    st.queue("nomeet", "g2");
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
    let stored = st.events("agent1");
    assert_eq!(stored.len(), 1, "{stored:?}");
    let ics = ics_of(&stored[0]);
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
    st.meet_teams_and_dav();
    let (first, moved_to) = (at_s(2, 9 * 60), at_s(2, 11 * 60));

    // CalDAV: the event is made again at the new time, with the agent's fixed link.
    let b = st.book("move-dav", "dav", first, "dana@example.com");
    assert_eq!(b.status, 201, "{}", b.body);
    let invite = st.mails_to("dana@example.com", &["METHOD:REQUEST", "SEQUENCE:0"], 1)[0].clone();
    let reschedule = link_after(&part_text(&invite, "text/plain"), "Reschedule: ");
    let done = st.move_with(&reschedule, moved_to);
    assert_eq!(done.status, 200, "{}", done.body);
    let stored = st.events("agent1");
    assert_eq!(stored.len(), 1, "{stored:?}");
    let ics = ics_of(&stored[0]);
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
    let meetings = st.meetings();
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
