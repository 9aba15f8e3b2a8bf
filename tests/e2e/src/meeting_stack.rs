//! The meetings tests' shared set-up: the aiosmtpd mail catcher, real Radicale and a worker
//! pointed at them with one site, and the calls those tests make of it (agents on Radicale
//! calendars, queues, bookings, the caught mails, the visitor's links, the meetings list).

use crate::clock::iso_minute as iso;
use crate::peers::{self, PyPeer};
use crate::{Answer, Peer, Worker};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// The calendar credentials' key the stack gives the worker (`CALENDAR_KEY`).
pub const CALENDAR_KEY: &str = "8f1e2d3c4b5a69788796a5b4c3d2e1f00112233445566778899aabbccddeeff0";
/// The visitor links' key (`LINK_KEY`), given when [`Setup::links`] is set.
pub const LINK_KEY: &str = "0f1e2d3c4b5a69788796a5b4c3d2e1f00112233445566778899aabbccddeeff1";
/// The site's allowed origin, sent with every booking.
pub const ORIGIN: &str = "http://127.0.0.1:8080";

/// What a test's stack is made of.
pub struct Setup<'a> {
    /// Names the worker's persist directory and Radicale's storage.
    pub name: &'a str,
    /// The site's id (made with `ORIGIN` allowed).
    pub site: &'a str,
    /// The site's display name.
    pub site_name: &'a str,
    /// Radicale users `agent1..agentN` (password `pwN`).
    pub caldav_users: usize,
    /// Gives the worker `LINK_KEY`: the mails carry the visitor's reschedule and cancel links.
    pub links: bool,
    /// The Marketo peer the worker talks to (none: an unreachable Marketo).
    pub marketo: Option<&'a Peer>,
    /// More worker vars; one named here replaces the stack's own.
    pub vars: &'a [(&'a str, &'a str)],
}

/// The mail catcher, Radicale and the worker with the site. The worker stops first.
pub struct Stack {
    pub worker: Worker,
    pub mail: PyPeer,
    pub radicale: PyPeer,
    /// The site's id.
    pub site: String,
}

/// Agent settings: 08:00-18:00 UTC every day, 30-minute meetings, 60 minutes' notice, 30 days
/// ahead; `extra`'s keys are added (or replace these).
pub fn agent_settings(extra: Value) -> Value {
    let d = json!([{"start": "08:00", "end": "18:00"}]);
    let hours = json!({"mon": d, "tue": d, "wed": d, "thu": d, "fri": d, "sat": d, "sun": d});
    let mut s = json!({"time_zone": "UTC", "working_hours": hours, "meeting_minutes": 30, "min_notice_minutes": 60, "horizon_days": 30});
    if let (Some(o), Some(e)) = (s.as_object_mut(), extra.as_object()) {
        o.extend(e.clone());
    }
    s
}

impl Stack {
    /// Starts the mail catcher and Radicale, then the worker (SMTP to the catcher, mail retries
    /// after 500 ms, no rate limits), and makes the site.
    pub fn start(setup: &Setup) -> Stack {
        let (mail, smtp_port) = peers::mail_catcher();
        let radicale = peers::radicale(setup.caldav_users, setup.name);
        let smtp = smtp_port.to_string();
        let mut vars: Vec<(&str, &str)> = vec![("CALENDAR_KEY", CALENDAR_KEY)];
        if setup.links {
            vars.push(("LINK_KEY", LINK_KEY));
        }
        vars.extend([
            ("SMTP_HOST", "127.0.0.1"),
            ("SMTP_PORT", smtp.as_str()),
            ("SMTP_FROM", "meetings@dynchat.test"),
            ("SMTP_TIMEOUT_MS", "5000"),
            ("MAIL_RETRY_MS", "500"),
            ("RATE_IP_PER_MINUTE", "100000"),
            ("RATE_SITE_PER_MINUTE", "100000"),
        ]);
        for &(k, v) in setup.vars {
            vars.retain(|(x, _)| *x != k);
            vars.push((k, v));
        }
        let worker = Worker::start(setup.name, setup.marketo, &vars);
        let s = worker.admin(
            "PUT",
            &format!("/admin/sites/{}", setup.site),
            Some(&json!({"name": setup.site_name, "allowed_origins": [ORIGIN]})),
        );
        assert_eq!(s.status, 200, "{}", s.body);
        Stack {
            worker,
            mail,
            radicale,
            site: setup.site.to_string(),
        }
    }

    /// `PUT /admin/sites/{site}/agents/{id}`; the answer as it came.
    pub fn put_agent(&self, id: &str, name: &str, email: &str, settings: &Value) -> Answer {
        self.worker.admin(
            "PUT",
            &format!("/admin/sites/{}/agents/{id}", self.site),
            Some(&json!({"name": name, "email": email, "settings": settings})),
        )
    }

    /// An agent (asserts the 200).
    pub fn agent(&self, id: &str, name: &str, email: &str, settings: &Value) {
        let a = self.put_agent(id, name, email, settings);
        assert_eq!(a.status, 200, "agent {id}: {}", a.body);
    }

    /// Connects agent `id` to Radicale user `agent{n}`'s calendar (asserts the 200).
    pub fn radicale_calendar(&self, id: &str, n: usize) {
        let url = format!("{}/agent{n}/calendar/", self.radicale.urls[1]);
        let c = self.worker.admin(
            "PUT",
            &format!("/admin/sites/{}/agents/{id}/calendar", self.site),
            Some(
                &json!({"url": url, "username": format!("agent{n}"), "password": format!("pw{n}")}),
            ),
        );
        assert_eq!(c.status, 200, "calendar {id}: {}", c.body);
    }

    /// Agent `a{n}`, "Agent {n}" <agent{n}@agents.test>, on Radicale user `agent{n}`'s calendar.
    pub fn radicale_agent(&self, n: usize, settings: &Value) {
        let id = format!("a{n}");
        self.agent(
            &id,
            &format!("Agent {n}"),
            &format!("agent{n}@agents.test"),
            settings,
        );
        self.radicale_calendar(&id, n);
    }

    /// A queue of `agents` (asserts the 200).
    pub fn queue<A: AsRef<str>>(&self, id: &str, name: &str, agents: &[A]) {
        let agents: Vec<&str> = agents.iter().map(AsRef::as_ref).collect();
        let q = self.worker.admin(
            "PUT",
            &format!("/admin/sites/{}/queues/{id}", self.site),
            Some(&json!({"name": name, "agents": agents})),
        );
        assert_eq!(q.status, 200, "queue {id}: {}", q.body);
    }

    /// `POST /book`: 30 minutes from `start` (Unix s, UTC) on `route`, session `s-{key}`.
    pub fn book(&self, key: &str, route: &str, start: i64, email: &str, first: &str) -> Answer {
        let body = json!({"route": route, "start": iso(start), "end": iso(start + 1800), "tz": "UTC",
                          "lead": {"email": email, "firstName": first}, "session": format!("s-{key}")});
        self.worker.post(
            &format!("/v1/sites/{}/book", self.site),
            &body,
            &[("Idempotency-Key", key), ("Origin", ORIGIN)],
        )
    }

    /// Every mail the catcher holds, in arrival order.
    pub fn mails(&self) -> Vec<Value> {
        peers::get(&format!("{}/_peer/state", self.mail.url()))["messages"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// The mails to `rcpt` alone, now.
    pub fn mails_to(&self, rcpt: &str) -> Vec<Value> {
        self.mails()
            .into_iter()
            .filter(|m| m["rcpt_tos"] == json!([rcpt]))
            .collect()
    }

    /// The mails to `rcpt` whose calendar part holds every one of `needles`, waiting at most
    /// 60 s (240 looks) for `count` of them.
    pub fn wait_mails(&self, rcpt: &str, needles: &[&str], count: usize) -> Vec<Value> {
        let t0 = Instant::now();
        let mut found = Vec::new();
        for _ in 0..240 {
            found = self.mails_to(rcpt);
            found.retain(|m| {
                let ics = part_text(m, "text/calendar");
                needles.iter().all(|n| ics.contains(n))
            });
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

    /// Posts every form at once, one thread each (visitors moving together); the answers in
    /// the forms' order.
    pub fn post_forms_at_once(&self, forms: &[String]) -> Vec<Answer> {
        std::thread::scope(|s| {
            let handles: Vec<_> = forms
                .iter()
                .map(|f| s.spawn(move || self.post_form(f)))
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|_| panic!("a mover thread panicked"))
                })
                .collect()
        })
    }

    /// Radicale's calendars by user, as its control port shows them.
    pub fn calendars(&self) -> Value {
        peers::get(&format!("{}/_peer/state", self.radicale.urls[0]))["calendars"].clone()
    }

    /// The events of Radicale user `user`'s calendar.
    pub fn events(&self, user: &str) -> Vec<Value> {
        self.calendars()[user]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// The site's meetings (`GET /admin/sites/{site}/meetings`).
    pub fn meetings(&self) -> Value {
        self.worker
            .admin("GET", &format!("/admin/sites/{}/meetings", self.site), None)
            .json()
    }

    /// `GET` of a link to this worker (a visitor's reschedule or cancel link).
    pub fn open(&self, link: &str) -> Answer {
        let path = link
            .split_once("127.0.0.1:")
            .and_then(|(_, rest)| rest.split_once('/'))
            .map(|(_, p)| format!("/{p}"))
            .unwrap_or_else(|| panic!("a link to this worker: {link}"));
        self.worker.request("GET", &path, &[], None)
    }

    /// The visitor's form post to `/meeting/{site}` (a move or a cancel).
    pub fn post_form(&self, form: &str) -> Answer {
        self.worker.request(
            "POST",
            &format!("/meeting/{}", self.site),
            &[("Content-Type", "application/x-www-form-urlencoded")],
            Some(form),
        )
    }
}

/// The text of a mail's part of `content_type` (folded lines joined; "" when there is none).
pub fn part_text(mail: &Value, content_type: &str) -> String {
    mail["parts"]
        .as_array()
        .and_then(|p| p.iter().find(|p| p["content_type"] == content_type))
        .and_then(|p| p["text"].as_str())
        .unwrap_or_default()
        .replace("\r\n ", "")
}

/// The word after `label` in `text` (a mail's `Reschedule: ` or `Cancel: ` link).
pub fn link_after(text: &str, label: &str) -> String {
    text.split(label)
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .map(str::to_string)
        .unwrap_or_else(|| panic!("no `{label}` in {text}"))
}

/// The visitor's move form: the link's token and the new start (Unix s), URL-encoded.
pub fn move_form(token: &str, to: i64) -> String {
    format!("t={token}&start={}", iso(to).replace(':', "%3A"))
}

/// A Radicale event's ICS (folded lines joined).
pub fn ics_of(event: &Value) -> String {
    event["ics"]
        .as_str()
        .unwrap_or_default()
        .replace("\r\n ", "")
}

/// A visitor link's token (after `?t=`; "" when there is none).
pub fn token_of(link: &str) -> String {
    link.split_once("?t=")
        .map(|(_, t)| t.to_string())
        .unwrap_or_default()
}

/// Connects agent `id` of `site` through the provider's consent page and the worker's callback
/// (ureq follows the peer's 302 to the worker); asserts `connected` and answers the callback's
/// JSON.
pub fn oauth_connect(w: &Worker, site: &str, id: &str, provider: &str, login: &str) -> Value {
    let a = w.admin(
        "POST",
        &format!("/admin/sites/{site}/agents/{id}/calendar/connect"),
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
    v
}
