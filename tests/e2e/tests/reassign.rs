//! An admin reassigns a queue meeting to another agent of the queue (issue 15), end to end: the
//! real worker on workerd, real Radicale with two agents' calendars, the aiosmtpd mail catcher.
//! The event moves from agent one's calendar to agent two's, the visitor gets an update
//! (`SEQUENCE:1`, same UID, the new agent) whose links work while the old ones are dead, the
//! assignment log says who did it; a busy agent is a 409, a non-member a 400 naming `agent`.

use dynchat_e2e::clock::{at_s, iso_minute as iso};
use dynchat_e2e::peers::{self, PyPeer};
use dynchat_e2e::{serial, Answer, Worker};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const SITE: &str = "ra";
const CALENDAR_KEY: &str = "8f1e2d3c4b5a69788796a5b4c3d2e1f00112233445566778899aabbccddeeff0";
const LINK_KEY: &str = "0f1e2d3c4b5a69788796a5b4c3d2e1f00112233445566778899aabbccddeeff1";
const ORIGIN: &str = "http://127.0.0.1:8080";

struct Stack {
    worker: Worker,
    mail: PyPeer,
    radicale: PyPeer,
}

impl Stack {
    fn start() -> Stack {
        let (mail, smtp_port) = peers::mail_catcher();
        let radicale = peers::radicale(2, "reassign");
        let smtp = smtp_port.to_string();
        let worker = Worker::start(
            "reassign",
            None,
            &[
                ("CALENDAR_KEY", CALENDAR_KEY),
                ("LINK_KEY", LINK_KEY),
                ("SMTP_HOST", "127.0.0.1"),
                ("SMTP_PORT", &smtp),
                ("SMTP_FROM", "meetings@dynchat.test"),
                ("SMTP_TIMEOUT_MS", "5000"),
                ("MAIL_RETRY_MS", "500"),
                ("RATE_IP_PER_MINUTE", "100000"),
                ("RATE_SITE_PER_MINUTE", "100000"),
            ],
        );
        let st = Stack {
            worker,
            mail,
            radicale,
        };
        let w = &st.worker;
        let s = w.admin(
            "PUT",
            &format!("/admin/sites/{SITE}"),
            Some(&json!({"name": "Reassign", "allowed_origins": [ORIGIN]})),
        );
        assert_eq!(s.status, 200, "{}", s.body);
        let d = json!([{"start": "08:00", "end": "18:00"}]);
        let hours = json!({"mon": d, "tue": d, "wed": d, "thu": d, "fri": d, "sat": d, "sun": d});
        let settings = json!({"time_zone": "UTC", "working_hours": hours, "meeting_minutes": 30, "min_notice_minutes": 60, "horizon_days": 30});
        for i in 1..=3 {
            let a = w.admin(
                "PUT",
                &format!("/admin/sites/{SITE}/agents/a{i}"),
                Some(&json!({"name": format!("Agent {i}"), "email": format!("agent{i}@agents.test"), "settings": settings})),
            );
            assert_eq!(a.status, 200, "{}", a.body);
        }
        for i in 1..=2 {
            let url = format!("{}/agent{i}/calendar/", st.radicale.urls[1]);
            let c = w.admin(
                "PUT",
                &format!("/admin/sites/{SITE}/agents/a{i}/calendar"),
                Some(&json!({"url": url, "username": format!("agent{i}"), "password": format!("pw{i}")})),
            );
            assert_eq!(c.status, 200, "{}", c.body);
        }
        // a3 is an agent of the site but not of the queue.
        let q = w.admin(
            "PUT",
            &format!("/admin/sites/{SITE}/queues/sales"),
            Some(&json!({"name": "Sales", "agents": ["a1", "a2"]})),
        );
        assert_eq!(q.status, 200, "{}", q.body);
        st
    }

    fn book(&self, key: &str, start: i64, email: &str) -> Answer {
        let body = json!({"route": "queue:sales", "start": iso(start), "end": iso(start + 1800), "tz": "UTC",
                          "lead": {"email": email, "firstName": "Vera"}, "session": format!("s-{key}")});
        self.worker.post(
            &format!("/v1/sites/{SITE}/book"),
            &body,
            &[("Idempotency-Key", key), ("Origin", ORIGIN)],
        )
    }

    fn reassign(&self, meeting: &str, body: &Value) -> Answer {
        self.worker.admin(
            "POST",
            &format!("/admin/sites/{SITE}/meetings/{meeting}/reassign"),
            Some(body),
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

    /// The events of `agentN`'s Radicale calendar.
    fn events(&self, user: &str) -> Vec<String> {
        peers::get(&format!("{}/_peer/state", self.radicale.urls[0]))["calendars"][user]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|e| e["ics"].as_str().unwrap_or_default().replace("\r\n ", ""))
                    .collect()
            })
            .unwrap_or_default()
    }

    fn open(&self, link: &str) -> Answer {
        let path = link
            .split_once("127.0.0.1:")
            .and_then(|(_, rest)| rest.split_once('/'))
            .map(|(_, p)| format!("/{p}"))
            .unwrap_or_else(|| panic!("a link to this worker: {link}"));
        self.worker.request("GET", &path, &[], None)
    }

    fn meeting(&self, id: &str) -> Value {
        let all = self
            .worker
            .admin("GET", &format!("/admin/sites/{SITE}/meetings"), None)
            .json();
        all["meetings"]
            .as_array()
            .and_then(|a| a.iter().find(|m| m["id"] == id).cloned())
            .unwrap_or(Value::Null)
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

/// The reschedule link of a mail's text.
fn reschedule_link(mail: &Value) -> String {
    let text = part_text(mail, "text/plain");
    text.split("Reschedule: ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .map(str::to_string)
        .unwrap_or_else(|| panic!("no reschedule link in {text}"))
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
    let st = Stack::start();
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
    // The old link is dead (the sequence moved on); the new one works, with the new agent.
    let old = st.open(&old_link);
    assert_eq!(old.status, 410, "{}", old.body);
    let new = st.open(&new_link);
    assert_eq!(new.status, 200, "{}", new.body);
    assert!(new.body.contains("Agent 2"), "{}", new.body);

    // The assignment log says who reassigned it.
    let log = st
        .worker
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

    // A cancelled meeting cannot be reassigned: 409.
    let c = st.worker.admin(
        "POST",
        &format!("/admin/sites/{SITE}/meetings/{m1}/cancel"),
        None,
    );
    assert_eq!(c.status, 200, "{}", c.body);
    let gone = st.reassign(&m1, &json!({"agent": "a2"}));
    assert_eq!(gone.status, 409, "{}", gone.body);
}
