//! An admin reassigns a queue meeting to another agent of the queue (issue 15), end to end: the
//! real worker on workerd, real Radicale with two agents' calendars, the aiosmtpd mail catcher.
//! The event moves from agent one's calendar to agent two's, the visitor gets an update
//! (`SEQUENCE:1`, same UID, the new agent) whose links work while the old ones are dead, the
//! assignment log says who did it; a busy agent is a 409, a non-member a 400 naming `agent`.
//! The old agent gets a notice (an iCalendar CANCEL), the visitor no cancellation, and the
//! meeting counts for the new agent in the rotation. A Graph agent's meeting given to a CalDAV
//! agent (the Graph peer): the Graph event is cancelled, which is the one message about the
//! visitor's Graph copy, and the visitor's one invitation comes from dynchat; given back to
//! the Graph agent, Graph invites and dynchat cancels the copy its own update made.

use dynchat_e2e::clock::at_s;
use dynchat_e2e::meeting_stack::{self, agent_settings, ics_of, link_after, part_text, Setup};
use dynchat_e2e::peers::{self, PyPeer};
use dynchat_e2e::{serial, Answer};
use serde_json::{json, Value};

const SITE: &str = "ra";
const MIA: &str = "mia@contoso.example";

/// The shared meetings stack (mail catcher, Radicale with two agents, the worker, the site) and
/// the Graph peer holding Mia's mailbox.
struct Stack {
    m: meeting_stack::Stack,
    graph: PyPeer,
}

impl Stack {
    /// Agents a1 and a2 on Radicale, a3 an agent of the site but not of the queue `sales`
    /// (a1, a2).
    fn start(name: &str) -> Stack {
        let graph = peers::graph(
            &json!({"accounts": [{"email": MIA, "time_zone": "UTC", "display_name": "Mia"}]}),
        );
        let g = graph.url().to_string();
        let m = meeting_stack::Stack::start(&Setup {
            name,
            site: SITE,
            site_name: "Reassign",
            caldav_users: 2,
            links: true,
            marketo: None,
            vars: &[
                ("MS_LOGIN_BASE", &g),
                ("GRAPH_BASE", &g),
                ("MS_CLIENT_ID", "dynchat-local-client"),
                ("MS_CLIENT_SECRET", "dynchat-local-secret"),
            ],
        });
        let settings = agent_settings(json!({}));
        m.radicale_agent(1, &settings);
        m.radicale_agent(2, &settings);
        m.agent("a3", "Agent 3", "agent3@agents.test", &settings);
        m.queue("sales", "Sales", &["a1", "a2"]);
        Stack { m, graph }
    }

    fn book(&self, key: &str, start: i64, email: &str) -> Answer {
        self.book_in("sales", key, start, email)
    }

    fn book_in(&self, queue: &str, key: &str, start: i64, email: &str) -> Answer {
        self.m
            .book(key, &format!("queue:{queue}"), start, email, "Vera")
    }

    /// Connects agent `id`'s calendar to the Graph peer's mailbox `login` (the consent
    /// redirect followed as a browser would).
    fn graph_connect(&self, id: &str, login: &str) {
        meeting_stack::oauth_connect(&self.m.worker, SITE, id, "graph", login);
    }

    fn graph_state(&self) -> Value {
        peers::get(&format!("{}/_peer/state", self.graph.url()))
    }

    fn reassign(&self, meeting: &str, body: &Value) -> Answer {
        self.m.worker.admin(
            "POST",
            &format!("/admin/sites/{SITE}/meetings/{meeting}/reassign"),
            Some(body),
        )
    }

    /// The mails to `rcpt` whose calendar part holds every one of `needles` (waits for `count`).
    fn mails_to(&self, rcpt: &str, needles: &[&str], count: usize) -> Vec<Value> {
        self.m.wait_mails(rcpt, needles, count)
    }

    /// The events (ICS) of Radicale user `user`'s calendar.
    fn events(&self, user: &str) -> Vec<String> {
        self.m.events(user).iter().map(ics_of).collect()
    }

    fn open(&self, link: &str) -> Answer {
        self.m.open(link)
    }

    fn meeting(&self, id: &str) -> Value {
        self.m.meetings()["meetings"]
            .as_array()
            .and_then(|a| a.iter().find(|m| m["id"] == id).cloned())
            .unwrap_or(Value::Null)
    }
}

/// The reschedule link of a mail's text.
fn reschedule_link(mail: &Value) -> String {
    link_after(&part_text(mail, "text/plain"), "Reschedule: ")
}

fn uid_of(ics: &str) -> String {
    ics.split("UID:")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .unwrap_or_default()
        .to_string()
}

fn id_of(booked: &Answer) -> String {
    booked.json()["meeting"]
        .as_str()
        .unwrap_or_else(|| panic!("no meeting id in {}", booked.body))
        .to_string()
}

#[test]
fn reassign_moves_the_event_updates_the_visitor_and_refuses_busy_agents_and_strangers() {
    let _g = serial();
    let st = Stack::start("reassign");
    let t1 = at_s(2, 9 * 60);
    let t2 = at_s(2, 11 * 60);
    // M1 at t1 goes to a1 (first in order); M2 at t1 too, a1 is busy: a2 gets it.
    let b1 = st.book("reassign-key-1", t1, "vera@example.com");
    assert_eq!(b1.status, 201, "{}", b1.body);
    let m1 = id_of(&b1);
    let b2 = st.book("reassign-key-2", t1, "walt@example.com");
    assert_eq!(b2.status, 201, "{}", b2.body);
    let m2 = id_of(&b2);
    assert_eq!(st.meeting(&m1)["agent"]["id"], "a1");
    assert_eq!(st.meeting(&m2)["agent"]["id"], "a2");

    // a2 is busy at t1 (M2): 409, nothing changes.
    let busy = st.reassign(&m1, &json!({"agent": "a2"}));
    assert_eq!(busy.status, 409, "{}", busy.body);
    assert_eq!(st.meeting(&m1)["agent"]["id"], "a1");
    // a3 is not in the queue; an unknown agent neither: 400 naming `agent`.
    for body in [
        json!({"agent": "a3"}),
        json!({"agent": "nobody"}),
        json!({}),
    ] {
        let bad = st.reassign(&m1, &body);
        assert_eq!(bad.status, 400, "{}", bad.body);
        assert!(bad.body.contains("agent"), "{}", bad.body);
    }
    let unknown = st.reassign("no-such-meeting", &json!({"agent": "a2"}));
    assert_eq!(unknown.status, 404, "{}", unknown.body);

    // M3 at t2 goes to a1 (the rotation's turn after a2); a2 is free at t2.
    let visitor = "xena@example.com";
    let b3 = st.book("reassign-key-3", t2, visitor);
    assert_eq!(b3.status, 201, "{}", b3.body);
    let m3 = id_of(&b3);
    assert_eq!(st.meeting(&m3)["agent"]["id"], "a1");
    let invite = st.mails_to(visitor, &["METHOD:REQUEST", "SEQUENCE:0"], 1)[0].clone();
    let old_link = reschedule_link(&invite);
    let uid = uid_of(&part_text(&invite, "text/calendar"));
    assert!(!uid.is_empty());
    assert!(st.events("agent1").iter().any(|e| e.contains(&uid)));
    assert!(!st.events("agent2").iter().any(|e| e.contains(&uid)));

    let r = st.reassign(&m3, &json!({"agent": "a2"}));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["agent"], "Agent 2", "{}", r.body);
    assert_eq!(st.meeting(&m3)["agent"]["id"], "a2");

    // The event left agent one's calendar for agent two's.
    assert!(
        !st.events("agent1").iter().any(|e| e.contains(&uid)),
        "{:?}",
        st.events("agent1")
    );
    assert!(
        st.events("agent2").iter().any(|e| e.contains(&uid)),
        "{:?}",
        st.events("agent2")
    );
    // The visitor's update: SEQUENCE 1, the same UID, the new agent.
    let update = st.mails_to(
        visitor,
        &["METHOD:REQUEST", "SEQUENCE:1", &uid, "agent2@agents.test"],
        1,
    )[0]
    .clone();
    let new_link = reschedule_link(&update);
    assert_ne!(new_link, old_link);
    // The old agent's notice: an iCalendar CANCEL of the meeting, naming the new agent.
    let released = st.mails_to(
        "agent1@agents.test",
        &["METHOD:CANCEL", "SEQUENCE:1", &uid],
        1,
    );
    assert_eq!(released.len(), 1);
    assert!(
        part_text(&released[0], "text/plain").contains("was given to Agent 2"),
        "{}",
        part_text(&released[0], "text/plain")
    );
    // The visitor: exactly one update, no cancellation (all were queued in one batch with the
    // old agent's notice).
    assert_eq!(st.mails_to(visitor, &["SEQUENCE:1"], 1).len(), 1);
    assert!(st.mails_to(visitor, &["METHOD:CANCEL"], 0).is_empty());
    // The old link is dead (the sequence moved on); the new one works, with the new agent.
    let old = st.open(&old_link);
    assert_eq!(old.status, 410, "{}", old.body);
    let new = st.open(&new_link);
    assert_eq!(new.status, 200, "{}", new.body);
    assert!(new.body.contains("Agent 2"), "{}", new.body);

    // The assignment log says who reassigned it.
    let log =
        st.m.worker
            .admin("GET", &format!("/admin/sites/{SITE}/assignments"), None)
            .json();
    let last = log["assignments"]
        .as_array()
        .and_then(|a| a.last().cloned())
        .unwrap_or(Value::Null);
    assert_eq!(last["outcome"], "reassigned", "{log}");
    assert_eq!(last["chosen"], "a2", "{log}");
    assert_eq!(last["meeting"], m3.as_str(), "{log}");
    assert_eq!(last["reason"]["by"], "token", "{log}");
    assert_eq!(last["reason"]["from"], "a1", "{log}");

    // The meeting counts for a2 now, no longer for a1 (a1 1 -> 0, a2 0 -> 1): the rotation's
    // next meeting, when both are free, is a1's (it would be a2's otherwise).
    let t3 = at_s(2, 13 * 60);
    let b4 = st.book("reassign-key-4", t3, "yara@example.com");
    assert_eq!(b4.status, 201, "{}", b4.body);
    assert_eq!(st.meeting(&id_of(&b4))["agent"]["id"], "a1");
    let queue =
        st.m.worker
            .admin("GET", &format!("/admin/sites/{SITE}/queues/sales"), None)
            .json();
    assert_eq!(queue["next_in_line"], "a2", "{queue}");

    // A cancelled meeting cannot be reassigned: 409.
    let c = st.m.worker.admin(
        "POST",
        &format!("/admin/sites/{SITE}/meetings/{m1}/cancel"),
        None,
    );
    assert_eq!(c.status, 200, "{}", c.body);
    let gone = st.reassign(&m1, &json!({"agent": "a2"}));
    assert_eq!(gone.status, 409, "{}", gone.body);
}

/// The entries of the Graph peer's list `key` (`sent_invitations`, `sent_cancellations`)
/// about event `id`.
fn graph_sent(state: &Value, key: &str, id: &str) -> Vec<Value> {
    state[key]
        .as_array()
        .map(|a| a.iter().filter(|e| e["event_id"] == id).cloned().collect())
        .unwrap_or_default()
}

#[test]
fn a_graph_agents_meeting_given_to_a_caldav_agent_and_back_reaches_the_visitor_once_each_way() {
    let _g = serial();
    let st = Stack::start("reassign-graph");
    let w = &st.m.worker;
    let d = json!([{"start": "08:00", "end": "18:00"}]);
    let hours = json!({"mon": d, "tue": d, "wed": d, "thu": d, "fri": d, "sat": d, "sun": d});
    let settings = json!({"time_zone": "UTC", "working_hours": hours, "meeting_minutes": 30, "min_notice_minutes": 60, "horizon_days": 30});
    let a = w.admin(
        "PUT",
        &format!("/admin/sites/{SITE}/agents/m1"),
        Some(&json!({"name": "Mia", "email": MIA, "settings": settings})),
    );
    assert_eq!(a.status, 200, "{}", a.body);
    st.graph_connect("m1", MIA);
    let q = w.admin(
        "PUT",
        &format!("/admin/sites/{SITE}/queues/teams"),
        Some(&json!({"name": "Teams", "agents": ["m1", "a1"]})),
    );
    assert_eq!(q.status, 200, "{}", q.body);

    // Mia (first in order) gets it; Graph mails the visitor the invitation itself.
    let visitor = "gwen@example.com";
    let b = st.book_in("teams", "reassign-graph-1", at_s(2, 10 * 60), visitor);
    assert_eq!(b.status, 201, "{}", b.body);
    let m = id_of(&b);
    assert_eq!(st.meeting(&m)["agent"]["id"], "m1");
    let events = st.graph_state()["events"][MIA]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(events.len(), 1, "{events:?}");
    let event_id = events[0]["id"].as_str().unwrap_or_default().to_string();
    assert_eq!(
        graph_sent(&st.graph_state(), "sent_invitations", &event_id).len(),
        1
    );
    // Mia's notification holds the meeting's UID (the one the visitor's update keeps).
    let notice = st.mails_to(MIA, &["METHOD:REQUEST", "SEQUENCE:0"], 1)[0].clone();
    let uid = uid_of(&part_text(&notice, "text/calendar"));
    assert!(!uid.is_empty());

    let r = st.reassign(&m, &json!({"agent": "a1"}));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["agent"], "Agent 1", "{}", r.body);
    assert_eq!(st.meeting(&m)["agent"]["id"], "a1");

    // The Graph event is gone from Mia's calendar, cancelled once (Graph's cancellation is
    // what takes the visitor's Graph copy off their calendar; its comment says why).
    let gs = st.graph_state();
    assert!(
        !gs["events"][MIA]
            .as_array()
            .is_some_and(|a| a.iter().any(|e| e["id"] == event_id.as_str())),
        "{gs}"
    );
    let cancelled = graph_sent(&gs, "sent_cancellations", &event_id);
    assert_eq!(cancelled.len(), 1, "{cancelled:?}");
    assert_eq!(cancelled[0]["to"], json!([visitor]));
    assert_eq!(cancelled[0]["via"], "cancel");
    assert!(
        cancelled[0]["comment"]
            .as_str()
            .is_some_and(|c| c.contains("Agent 1")),
        "{cancelled:?}"
    );
    // The CalDAV agent has the event, with the meeting's UID.
    assert!(st.events("agent1").iter().any(|e| e.contains(&uid)));
    // The visitor's one invitation from us: the new agent, the same UID, SEQUENCE 1.
    let update = st.mails_to(
        visitor,
        &["METHOD:REQUEST", "SEQUENCE:1", &uid, "agent1@agents.test"],
        1,
    );
    assert_eq!(update.len(), 1);
    // Mia's notice (our CANCEL); by then every mail of the reassignment was delivered.
    st.mails_to(MIA, &["METHOD:CANCEL", "SEQUENCE:1", &uid], 1);
    let to_visitor = st.mails_to(visitor, &[], 0);
    assert_eq!(to_visitor.len(), 1, "only the update: {to_visitor:?}");
    assert!(st.mails_to(visitor, &["METHOD:CANCEL"], 0).is_empty());
    // Graph sent nothing more to the visitor than that one cancellation.
    let gs = st.graph_state();
    assert_eq!(graph_sent(&gs, "sent_cancellations", &event_id).len(), 1);
    assert_eq!(graph_sent(&gs, "sent_updates", &event_id).len(), 0);

    // The rotation: the meeting counts for a1 now, so Mia is next.
    let queue = w
        .admin("GET", &format!("/admin/sites/{SITE}/queues/teams"), None)
        .json();
    assert_eq!(queue["next_in_line"], "m1", "{queue}");

    // And back to Mia: Graph invites the visitor with its own UID, so dynchat cancels the copy
    // its update put in their calendar (once), and sends no second update.
    let back = st.reassign(&m, &json!({"agent": "m1"}));
    assert_eq!(back.status, 200, "{}", back.body);
    assert_eq!(back.json()["agent"], "Mia", "{}", back.body);
    assert!(!st.events("agent1").iter().any(|e| e.contains(&uid)));
    let gs = st.graph_state();
    let now_events = gs["events"][MIA].as_array().cloned().unwrap_or_default();
    assert_eq!(now_events.len(), 1, "{now_events:?}");
    let new_id = now_events[0]["id"].as_str().unwrap_or_default().to_string();
    assert_ne!(new_id, event_id);
    let invited = graph_sent(&gs, "sent_invitations", &new_id);
    assert_eq!(invited.len(), 1, "{invited:?}");
    assert_eq!(invited[0]["to"], visitor);
    let replaced = st.mails_to(visitor, &["METHOD:CANCEL", "SEQUENCE:2", &uid], 1);
    assert_eq!(replaced.len(), 1);
    assert!(
        part_text(&replaced[0], "text/plain").contains("now is with Mia"),
        "{}",
        part_text(&replaced[0], "text/plain")
    );
    st.mails_to(
        "agent1@agents.test",
        &["METHOD:CANCEL", "SEQUENCE:2", &uid],
        1,
    );
    assert!(st
        .mails_to(visitor, &["SEQUENCE:2", "METHOD:REQUEST"], 0)
        .is_empty());
    assert_eq!(
        st.mails_to(visitor, &[], 0).len(),
        2,
        "the update, then the cancel"
    );
    let queue = w
        .admin("GET", &format!("/admin/sites/{SITE}/queues/teams"), None)
        .json();
    assert_eq!(queue["next_in_line"], "a1", "{queue}");
}
