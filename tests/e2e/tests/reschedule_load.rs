//! Many visitors rescheduling into one slot at once through their invitation's link (issue 15,
//! concurrency): the real worker on workerd, five agents with real Radicale calendars, the
//! aiosmtpd mail catcher. `RESCHEDULE_MOVERS` visitors (default 100, as in `cargo xtask test`;
//! 200 in `cargo xtask soak`) each book a meeting of the queue, take the reschedule link from their
//! invitation, and all post a move to the same start at once: exactly the agents' capacity (one
//! per agent) succeed, the rest get the "taken" page, and no agent has overlapping meetings in D1
//! or in Radicale.

use dynchat_e2e::clock::{at_s, iso_minute as iso};
use dynchat_e2e::peers::{self, PyPeer};
use dynchat_e2e::{serial, Answer, Worker};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

const SITE: &str = "rl";
const CALENDAR_KEY: &str = "7e1e2d3c4b5a69788796a5b4c3d2e1f00112233445566778899aabbccddeeff0";
const LINK_KEY: &str = "6f1e2d3c4b5a69788796a5b4c3d2e1f00112233445566778899aabbccddeeff1";
const ORIGIN: &str = "http://127.0.0.1:8080";
/// Agents in the queue: the capacity of any one slot.
const AGENTS: usize = 5;
/// Meetings per agent per day (08:00-18:00, 30 minutes).
const PER_DAY: usize = 20;

struct Stack {
    worker: Worker,
    mail: PyPeer,
    radicale: PyPeer,
}

impl Stack {
    fn start() -> Stack {
        let (mail, smtp_port) = peers::mail_catcher();
        let radicale = peers::radicale(AGENTS, "reschedule-load");
        let smtp = smtp_port.to_string();
        let worker = Worker::start(
            "reschedule-load",
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
        let w = &worker;
        let s = w.admin(
            "PUT",
            &format!("/admin/sites/{SITE}"),
            Some(&json!({"name": "Reschedule load", "allowed_origins": [ORIGIN]})),
        );
        assert_eq!(s.status, 200, "{}", s.body);
        let d = json!([{"start": "08:00", "end": "18:00"}]);
        let hours = json!({"mon": d, "tue": d, "wed": d, "thu": d, "fri": d, "sat": d, "sun": d});
        let settings = json!({"time_zone": "UTC", "working_hours": hours, "meeting_minutes": 30, "min_notice_minutes": 60, "horizon_days": 30});
        let mut ids = Vec::new();
        for n in 1..=AGENTS {
            let id = format!("a{n}");
            let a = w.admin(
                "PUT",
                &format!("/admin/sites/{SITE}/agents/{id}"),
                Some(&json!({"name": format!("Agent {n}"), "email": format!("agent{n}@agents.test"), "settings": settings})),
            );
            assert_eq!(a.status, 200, "{}", a.body);
            let url = format!("{}/agent{n}/calendar/", radicale.urls[1]);
            let c = w.admin(
                "PUT",
                &format!("/admin/sites/{SITE}/agents/{id}/calendar"),
                Some(&json!({"url": url, "username": format!("agent{n}"), "password": format!("pw{n}")})),
            );
            assert_eq!(c.status, 200, "{}", c.body);
            ids.push(id);
        }
        let q = w.admin(
            "PUT",
            &format!("/admin/sites/{SITE}/queues/sales"),
            Some(&json!({"name": "Sales", "agents": ids})),
        );
        assert_eq!(q.status, 200, "{}", q.body);
        Stack {
            worker,
            mail,
            radicale,
        }
    }

    fn book(&self, i: usize, start: i64) -> Answer {
        let body = json!({"route": "queue:sales", "start": iso(start), "end": iso(start + 1800), "tz": "UTC",
                          "lead": {"email": email(i), "firstName": "Mo"}, "session": format!("s-{i}")});
        self.worker.post(
            &format!("/v1/sites/{SITE}/book"),
            &body,
            &[
                ("Idempotency-Key", &format!("reschedule-load-{i}")),
                ("Origin", ORIGIN),
            ],
        )
    }

    /// Each visitor's reschedule token, from their first invitation, waiting at most 180 s.
    fn tokens(&self, visitors: usize) -> Vec<String> {
        let t0 = Instant::now();
        loop {
            let all = peers::get(&format!("{}/_peer/state", self.mail.url()))["messages"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let mut by: BTreeMap<String, String> = BTreeMap::new();
            for m in &all {
                let Some(to) = m["rcpt_tos"][0].as_str() else {
                    continue;
                };
                if to.starts_with("mover") && !by.contains_key(to) {
                    if let Some(t) = reschedule_token(m) {
                        by.insert(to.to_string(), t);
                    }
                }
            }
            if by.len() >= visitors {
                return (0..visitors)
                    .map(|i| by.remove(&email(i)).unwrap_or_default())
                    .collect();
            }
            assert!(
                t0.elapsed() < Duration::from_secs(180),
                "invitations with links: {} of {visitors}",
                by.len()
            );
            std::thread::sleep(Duration::from_millis(500));
        }
    }

    fn post_form(&self, form: &str) -> Answer {
        self.worker.request(
            "POST",
            &format!("/meeting/{SITE}"),
            &[("Content-Type", "application/x-www-form-urlencoded")],
            Some(form),
        )
    }
}

fn email(i: usize) -> String {
    format!("mover{i}@example.com")
}

/// The token of the `Reschedule: ` link in a mail's text part.
fn reschedule_token(mail: &Value) -> Option<String> {
    let text = mail["parts"]
        .as_array()?
        .iter()
        .find(|p| p["content_type"] == "text/plain")?["text"]
        .as_str()?
        .to_string();
    let link = text
        .split("Reschedule: ")
        .nth(1)?
        .split_whitespace()
        .next()?;
    Some(link.split_once("?t=")?.1.to_string())
}

#[test]
fn many_visitors_rescheduling_into_one_slot_get_the_agents_capacity_and_nothing_overlaps() {
    let _g = serial();
    let visitors: usize = std::env::var("RESCHEDULE_MOVERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    assert!(
        (AGENTS + 1..=AGENTS * PER_DAY * 2).contains(&visitors),
        "RESCHEDULE_MOVERS from {} to {}",
        AGENTS + 1,
        AGENTS * PER_DAY * 2
    );
    let st = Stack::start();
    // Every agent is busy at each booked time (one meeting per agent per slot), from day 4 on;
    // the target, day 3 at 16:00, is free for all of them.
    let per_day = AGENTS * PER_DAY;
    for i in 0..visitors {
        let day = 4 + (i / per_day) as i64;
        let slot = ((i % per_day) / AGENTS) as i64;
        let b = st.book(i, at_s(day, 8 * 60 + 30 * slot));
        assert_eq!(b.status, 201, "booking {i}: {}", b.body);
    }
    let tokens = st.tokens(visitors);
    let target = at_s(3, 16 * 60);
    let form = |t: &str| format!("t={t}&start={}", iso(target).replace(':', "%3A"));
    let t0 = Instant::now();
    let answers: Vec<Answer> = std::thread::scope(|s| {
        let handles: Vec<_> = tokens
            .iter()
            .map(|t| {
                let f = form(t);
                let st = &st;
                s.spawn(move || st.post_form(&f))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| panic!("a mover thread panicked"))
            })
            .collect()
    });
    let took = t0.elapsed();
    let moved = answers.iter().filter(|a| a.status == 200).count();
    let taken = answers.iter().filter(|a| a.status == 409).count();
    eprintln!("{visitors} visitors moved at once in {took:?}: {moved} moved, {taken} taken");
    assert_eq!(
        (moved, taken),
        (AGENTS, visitors - AGENTS),
        "{:?}",
        answers.iter().map(|a| a.status).collect::<Vec<_>>()
    );
    assert!(took < Duration::from_secs(120), "the moves took {took:?}");
    // No two scheduled meetings of an agent overlap, in D1 and in Radicale; each agent has one
    // meeting at the target.
    let meetings = st
        .worker
        .admin("GET", &format!("/admin/sites/{SITE}/meetings"), None)
        .json();
    let mut spans: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for m in meetings["meetings"].as_array().into_iter().flatten() {
        if m["status"] == "scheduled" {
            spans
                .entry(m["agent"]["id"].as_str().unwrap_or_default().to_string())
                .or_default()
                .push((
                    m["start"].as_str().unwrap_or_default().to_string(),
                    m["end"].as_str().unwrap_or_default().to_string(),
                ));
        }
    }
    assert_eq!(spans.values().map(Vec::len).sum::<usize>(), visitors);
    assert_eq!(spans.len(), AGENTS, "{spans:?}");
    for (agent, list) in &mut spans {
        list.sort();
        for w in list.windows(2) {
            assert!(w[0].1 <= w[1].0, "overlap of {agent}: {w:?}");
        }
        let at_target = list.iter().filter(|(s, _)| *s == iso(target)).count();
        assert_eq!(at_target, 1, "{agent} at the target: {list:?}");
    }
    let calendars =
        peers::get(&format!("{}/_peer/state", st.radicale.urls[0]))["calendars"].clone();
    let stamp = iso(target).replace(['-', ':'], "");
    for n in 1..=AGENTS {
        let events = calendars[format!("agent{n}")]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let at = events
            .iter()
            .filter(|e| e["ics"].as_str().unwrap_or_default().contains(&stamp))
            .count();
        assert_eq!(at, 1, "agent{n}: one Radicale event at the target");
    }
    let events: usize = (1..=AGENTS)
        .map(|n| {
            calendars[format!("agent{n}")]
                .as_array()
                .map_or(0, Vec::len)
        })
        .sum();
    assert_eq!(events, visitors, "one Radicale event per meeting");
}
