//! The visitor's reschedule and cancel links end to end (issue 15): the real worker on workerd,
//! real Radicale for the agent's calendar, the aiosmtpd mail catcher. The invitation carries
//! both links; the reschedule page moves the Radicale event and the visitor gets an update
//! with a higher SEQUENCE (and new links); the old link is refused; the cancel link sends a
//! CANCEL and frees the slot; tampered, garbage and expired links get a clear 4xx page.

use dynchat_e2e::clock::{at_s, iso_minute as iso};
use dynchat_e2e::meeting_stack::{
    agent_settings, ics_of, link_after, move_form, part_text, token_of, Setup, Stack,
};
use dynchat_e2e::{serial, Answer};
use serde_json::{json, Value};

const SITE: &str = "vl";
const VISITOR: &str = "vera@example.com";

/// `20300101T090000Z` for an instant.
fn ics_time(t: i64) -> String {
    iso(t).replace(['-', ':'], "")
}

/// The meetings stack with agent a1 on Radicale user agent1's calendar, alone in queue `sales`.
fn start() -> Stack {
    let st = Stack::start(&Setup {
        name: "visitor-links",
        site: SITE,
        site_name: "Links",
        caldav_users: 1,
        links: true,
        marketo: None,
        vars: &[("ALLOW_CLOCK_OVERRIDE", "1")],
    });
    let settings = agent_settings(json!({}));
    st.agent("a1", "Agent One", "agent1@agents.test", &settings);
    st.radicale_calendar("a1", 1);
    st.queue("sales", "Sales", &["a1"]);
    st
}

fn book(st: &Stack, key: &str, start: i64) -> Answer {
    book_as(st, key, start, VISITOR)
}

fn book_as(st: &Stack, key: &str, start: i64, email: &str) -> Answer {
    st.book(key, "queue:sales", start, email, "Vera")
}

/// The visitor's mails whose calendar part holds every one of `needles`, waiting at most
/// 60 s (240 looks) for `count` of them.
fn visitor_mails(st: &Stack, needles: &[&str], count: usize) -> Vec<Value> {
    st.wait_mails(VISITOR, needles, count)
}

/// The (reschedule, cancel) links of a mail's text.
fn links_of(mail: &Value) -> (String, String) {
    let text = part_text(mail, "text/plain");
    (
        link_after(&text, "Reschedule: "),
        link_after(&text, "Cancel: "),
    )
}

fn assert_page(a: &Answer, status: u16, says: &str) {
    assert_eq!(a.status, status, "{}", a.body);
    assert!(a.body.contains(says), "`{says}` not in: {}", a.body);
    let csp = a.header("Content-Security-Policy").unwrap_or_default();
    assert!(csp.contains("default-src 'none'"), "CSP: {csp}");
    assert!(!a.body.contains("<script"), "{}", a.body);
    assert!(
        a.header("Content-Type")
            .unwrap_or_default()
            .starts_with("text/html"),
        "{:?}",
        a.headers
    );
}

#[test]
fn reschedule_moves_the_event_cancel_frees_the_slot_and_used_links_are_refused() {
    let _g = serial();
    let st = start();
    let first = at_s(2, 9 * 60);
    let moved_to = at_s(2, 11 * 60);
    let b = book(&st, "visitor-link-1", first);
    assert_eq!(b.status, 201, "{}", b.body);
    let invite = visitor_mails(&st, &["METHOD:REQUEST", "SEQUENCE:0"], 1)[0].clone();
    let (reschedule, cancel) = links_of(&invite);
    assert!(
        reschedule.contains(&format!("/meeting/{SITE}?t=r.")),
        "{reschedule}"
    );
    assert!(
        cancel.contains(&format!("/meeting/{SITE}?t=c.")),
        "{cancel}"
    );
    let uid = st.events("agent1")[0]["ics"]
        .as_str()
        .and_then(|ics| ics.split("UID:").nth(1))
        .and_then(|r| r.split_whitespace().next())
        .unwrap_or_default()
        .to_string();
    assert!(!uid.is_empty());

    // The reschedule page offers the agent's free times (the 11:00 one among them).
    let page = st.open(&reschedule);
    assert_page(&page, 200, "Reschedule your meeting");
    assert!(page.body.contains(&iso(moved_to)), "{}", page.body);
    assert!(
        !page.body.contains(&format!("value=\"{}\"", iso(first))),
        "the meeting's own time is not offered"
    );
    let token = token_of(&reschedule);
    let done = st.post_form(&move_form(&token, moved_to));
    assert_page(&done, 200, "Your meeting is moved");

    // Radicale: one event, same UID, at the new time, with the update mail's SEQUENCE.
    let events = st.events("agent1");
    assert_eq!(events.len(), 1, "{events:?}");
    let ics = ics_of(&events[0]);
    assert!(ics.contains(&uid), "{ics}");
    assert!(ics.lines().any(|l| l.trim_end() == "SEQUENCE:1"), "{ics}");
    assert!(ics.contains(&ics_time(moved_to)), "{ics}");
    assert!(!ics.contains(&ics_time(first)), "{ics}");
    // The update: REQUEST, SEQUENCE 1, same UID, the new time, and new links.
    let update = visitor_mails(&st, &["METHOD:REQUEST", "SEQUENCE:1", &uid], 1)[0].clone();
    assert!(part_text(&update, "text/calendar").contains(&ics_time(moved_to)));
    let (reschedule2, cancel2) = links_of(&update);
    assert_ne!(reschedule2, reschedule);

    // The old links are used up (the meeting moved on), whatever is tried with them.
    assert_page(&st.open(&reschedule), 410, "already used");
    assert_page(&st.open(&cancel), 410, "already used");
    assert_page(
        &st.post_form(&format!("t={token}&start={}", iso(at_s(2, 12 * 60)))),
        410,
        "already used",
    );

    // Garbage and tampered links: a clear 400 page.
    let t2 = token_of(&cancel2);
    let mut tampered = t2.clone();
    let last = tampered
        .pop()
        .map_or('A', |c| if c == 'A' { 'B' } else { 'A' });
    tampered.push(last);
    for bad in [
        format!("/meeting/{SITE}?t={tampered}"),
        format!("/meeting/{SITE}?t={}", t2.replacen("c.", "r.", 1)),
        format!("/meeting/other?t={t2}"),
        format!("/meeting/{SITE}?t=hello"),
        format!("/meeting/{SITE}"),
    ] {
        let a = st.worker.request("GET", &bad, &[], None);
        assert_page(&a, 400, "not valid");
    }

    // The cancel link: a page with one button, then the CANCEL (SEQUENCE 2) and a free slot.
    assert_page(&st.open(&cancel2), 200, "Cancel the meeting");
    assert_page(&st.post_form(&format!("t={t2}")), 200, "is cancelled");
    visitor_mails(&st, &["METHOD:CANCEL", "SEQUENCE:2", &uid], 1);
    assert!(st.events("agent1").is_empty(), "{:?}", st.events("agent1"));
    let meetings = st.meetings();
    assert_eq!(meetings["meetings"][0]["status"], "cancelled", "{meetings}");
    assert_page(&st.post_form(&format!("t={t2}")), 410, "already used");
    assert_page(&st.open(&reschedule2), 410, "already used");
    let again = book(&st, "visitor-link-2", moved_to);
    assert_eq!(again.status, 201, "the slot is free again: {}", again.body);

    // Expired: once the meeting has started, its links are refused.
    let later = visitor_mails(&st, &["METHOD:REQUEST", "SEQUENCE:0"], 2);
    let newest = later
        .iter()
        .find(|m| part_text(m, "text/calendar").contains(&ics_time(moved_to)))
        .cloned()
        .unwrap_or(Value::Null);
    let (reschedule3, _) = links_of(&newest);
    assert_page(&st.open(&reschedule3), 200, "Reschedule your meeting");
    let clock = st.worker.admin(
        "POST",
        "/admin/clock",
        Some(&json!({"now_ms": (moved_to + 60) * 1000})),
    );
    assert_eq!(clock.status, 200, "{}", clock.body);
    assert_page(&st.open(&reschedule3), 410, "expired");
}

#[test]
fn visitors_moving_into_one_slot_get_it_once_and_nothing_overlaps() {
    let _g = serial();
    let st = start();
    let visitors: usize = std::env::var("LINK_MOVERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let target = at_s(3, 16 * 60);
    let mut tokens = Vec::new();
    for i in 0..visitors {
        let email = format!("mover{i}@example.com");
        let b = book_as(
            &st,
            &format!("mover-key-{i}"),
            at_s(3, 8 * 60 + 30 * i as i64),
            &email,
        );
        assert_eq!(b.status, 201, "{}", b.body);
        let mail = st.wait_mails(&email, &["METHOD:REQUEST", "SEQUENCE:0"], 1)[0].clone();
        tokens.push(token_of(&links_of(&mail).0));
    }
    // Every visitor moves their meeting to the same start at once; the agent has one.
    let forms: Vec<String> = tokens.iter().map(|t| move_form(t, target)).collect();
    let answers = st.post_forms_at_once(&forms);
    let moved = answers.iter().filter(|a| a.status == 200).count();
    let taken = answers.iter().filter(|a| a.status == 409).count();
    assert_eq!(
        (moved, taken),
        (1, visitors - 1),
        "{:?}",
        answers.iter().map(|a| a.status).collect::<Vec<_>>()
    );
    // No two scheduled meetings of the agent overlap, in D1 and in Radicale.
    let meetings = st.meetings();
    let mut spans: Vec<(String, String)> = meetings["meetings"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|m| m["status"] == "scheduled")
                .map(|m| {
                    (
                        m["start"].as_str().unwrap_or_default().to_string(),
                        m["end"].as_str().unwrap_or_default().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    spans.sort();
    assert_eq!(spans.len(), visitors, "{meetings}");
    for w in spans.windows(2) {
        assert!(w[0].1 <= w[1].0, "overlap: {w:?}");
    }
    assert_eq!(spans.iter().filter(|(s, _)| *s == iso(target)).count(), 1);
    let at_target = st
        .events("agent1")
        .iter()
        .filter(|e| {
            e["ics"]
                .as_str()
                .unwrap_or_default()
                .contains(&ics_time(target))
        })
        .count();
    assert_eq!(at_target, 1, "one event at the target time in Radicale");
    assert_eq!(st.events("agent1").len(), visitors);
}
