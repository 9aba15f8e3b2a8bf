//! Many visitors rescheduling into one slot at once through their invitation's link (issue 15,
//! concurrency): the real worker on workerd, five agents with real Radicale calendars, the
//! aiosmtpd mail catcher. `RESCHEDULE_MOVERS` visitors (default 100, as in `cargo xtask test`;
//! 200 in `cargo xtask soak`) each book a meeting of the queue, take the reschedule link from their
//! invitation, and all post a move to the same start at once: exactly the agents' capacity (one
//! per agent) succeed, the rest get the "taken" page, and no agent has overlapping meetings in D1
//! or in Radicale, where every agent's events stand at that agent's meetings' starts in D1.

use dynchat_e2e::clock::{at_s, iso_minute as iso};
use dynchat_e2e::meeting_stack::{agent_settings, move_form, Setup, Stack};
use dynchat_e2e::{serial, Answer};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

const SITE: &str = "rl";
/// Agents in the queue: the capacity of any one slot.
const AGENTS: usize = 5;
/// Meetings per agent per day (08:00-18:00, 30 minutes).
const PER_DAY: usize = 20;

/// The meetings stack with `AGENTS` agents on Radicale calendars in queue `sales`.
fn start() -> Stack {
    let st = Stack::start(&Setup {
        name: "reschedule-load",
        site: SITE,
        site_name: "Reschedule load",
        caldav_users: AGENTS,
        links: true,
        marketo: None,
        vars: &[],
    });
    let settings = agent_settings(json!({}));
    for n in 1..=AGENTS {
        st.radicale_agent(n, &settings);
    }
    let ids: Vec<String> = (1..=AGENTS).map(|n| format!("a{n}")).collect();
    st.queue("sales", "Sales", &ids);
    st
}

fn book(st: &Stack, i: usize, start: i64) -> Answer {
    let key = format!("reschedule-load-{i}");
    st.book(&key, "queue:sales", start, &email(i), "Mo")
}

/// Each visitor's reschedule token, from their first invitation, waiting at most 180 s.
fn tokens(st: &Stack, visitors: usize) -> Vec<String> {
    let t0 = Instant::now();
    loop {
        let all = st.mails();
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
    let st = start();
    // Every agent is busy at each booked time (one meeting per agent per slot), from day 4 on;
    // the target, day 3 at 16:00, is free for all of them.
    let per_day = AGENTS * PER_DAY;
    for i in 0..visitors {
        let day = 4 + (i / per_day) as i64;
        let slot = ((i % per_day) / AGENTS) as i64;
        let b = book(&st, i, at_s(day, 8 * 60 + 30 * slot));
        assert_eq!(b.status, 201, "booking {i}: {}", b.body);
    }
    let tokens = tokens(&st, visitors);
    let target = at_s(3, 16 * 60);
    let forms: Vec<String> = tokens.iter().map(|t| move_form(t, target)).collect();
    let t0 = Instant::now();
    let answers = st.post_forms_at_once(&forms);
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
    let meetings = st.meetings();
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
    let calendars = st.calendars();
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
    // Start by start, every agent's Radicale events are at that agent's meetings in D1 (the
    // moved ones at their new time, the others where they were booked).
    for n in 1..=AGENTS {
        let mut in_d1: Vec<String> = spans[&format!("a{n}")]
            .iter()
            .map(|(start, _)| start.replace(['-', ':'], ""))
            .collect();
        let mut in_radicale: Vec<String> = calendars[format!("agent{n}")]
            .as_array()
            .into_iter()
            .flatten()
            .map(|e| dtstart(e["ics"].as_str().unwrap_or_default()))
            .collect();
        in_d1.sort();
        in_radicale.sort();
        assert_eq!(
            in_radicale, in_d1,
            "agent{n}: Radicale's DTSTARTs against D1's starts"
        );
    }
}

/// The `DTSTART` of an iCalendar object's event (folded lines joined; "" when there is none).
fn dtstart(ics: &str) -> String {
    let ics = ics.replace("\r\n ", "");
    ics.split("BEGIN:VEVENT")
        .nth(1)
        .and_then(|event| event.lines().find(|l| l.starts_with("DTSTART")))
        .and_then(|l| l.split_once(':'))
        .map(|(_, t)| t.trim().to_string())
        .unwrap_or_default()
}
