//! A visitor's cancel through the invitation's link reaches Marketo (issue 15): the real worker
//! on workerd with the Marketo peer, real Radicale for the agent's calendar, the aiosmtpd mail
//! catcher. The booking's `dynchat_meeting` activity arrives first; after the visitor cancels,
//! a second one with `status: cancelled` for the same lead and start, through the activity
//! outbox and the gate.

use dynchat_e2e::clock::{at_s, iso_minute as iso};
use dynchat_e2e::meeting_stack::{agent_settings, move_form, part_text, token_of, Setup, Stack};
use dynchat_e2e::{serial, Peer, Worker};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const SITE: &str = "ca";
const VISITOR: &str = "carla@example.com";

/// The peer's `dynchat_meeting` activities: (lead id, attributes by name).
fn meeting_activities(peer: &Peer) -> Vec<(i64, Value)> {
    let st = peer.state();
    let Some(type_id) = st["activity_types"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|t| t["apiName"] == "dynchat_meeting")
        .and_then(|t| t["id"].as_i64())
    else {
        return Vec::new();
    };
    st["activities"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|a| a["activityTypeId"].as_i64() == Some(type_id))
        .map(|a| {
            let mut attrs = serde_json::Map::new();
            for x in a["attributes"].as_array().into_iter().flatten() {
                if let Some(n) = x["name"].as_str() {
                    attrs.insert(n.to_string(), x["value"].clone());
                }
            }
            (a["leadId"].as_i64().unwrap_or(0), Value::Object(attrs))
        })
        .collect()
}

fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    let t0 = Instant::now();
    while !f() {
        assert!(t0.elapsed() < Duration::from_secs(90), "timed out: {what}");
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// The `n`th (1-based) link labelled `label` in the mails to the visitor, in arrival order.
fn wait_for_link(st: &Stack, label: &str, n: usize) -> String {
    wait_for_link_to(st, VISITOR, label, n)
}

/// The `n`th (1-based) link labelled `label` in the mails to `rcpt`, in arrival order.
fn wait_for_link_to(st: &Stack, rcpt: &str, label: &str, n: usize) -> String {
    let mut link = String::new();
    wait_for(&format!("mail {n} to {rcpt} with its {label}link"), || {
        link = st
            .mails_to(rcpt)
            .iter()
            .filter_map(|m| {
                part_text(m, "text/plain")
                    .split(label)
                    .nth(1)?
                    .split_whitespace()
                    .next()
                    .map(str::to_string)
            })
            .nth(n - 1)
            .unwrap_or_default();
        !link.is_empty()
    });
    link
}

#[test]
fn a_visitors_cancel_through_the_link_records_the_marketo_activity() {
    let _g = serial();
    let peer = Peer::start(&[]);
    let st = Stack::start(&Setup {
        name: "cancel-activity",
        site: SITE,
        site_name: "Cancel",
        caldav_users: 1,
        links: true,
        marketo: Some(&peer),
        vars: &[],
    });
    let w = &st.worker;
    let setup = w.admin("POST", "/admin/marketo/setup", Some(&json!({})));
    assert_eq!(setup.status, 200, "{}", setup.body);
    let settings = agent_settings(json!({}));
    st.agent("a1", "Agent One", "agent1@agents.test", &settings);
    st.radicale_calendar("a1", 1);
    st.queue("sales", "Sales", &["a1"]);

    let start = at_s(2, 10 * 60);
    let b = st.book("cancel-1", "queue:sales", start, VISITOR, "Carla");
    assert_eq!(b.status, 201, "{}", b.body);
    wait_for("the booking's activity in the peer", || {
        !meeting_activities(&peer).is_empty()
    });
    let booked = meeting_activities(&peer);
    assert_eq!(booked.len(), 1, "{booked:?}");
    assert_eq!(booked[0].1["start"], json!(iso(start)), "{booked:?}");
    assert!(booked[0].1.get("status").is_none(), "{booked:?}");

    // The visitor moves the meeting through the invitation's reschedule link first: the
    // activity again, with the new start.
    let reschedule = wait_for_link(&st, "Reschedule: ", 1);
    let token = token_of(&reschedule);
    let page = w.request("GET", &format!("/meeting/{SITE}?t={token}"), &[], None);
    assert_eq!(page.status, 200, "{}", page.body);
    let moved_to = start + 2 * 3600;
    let moved = st.post_form(&move_form(&token, moved_to));
    assert_eq!(moved.status, 200, "{}", moved.body);
    wait_for("the move's activity in the peer", || {
        meeting_activities(&peer).len() >= 2
    });
    let after_move = meeting_activities(&peer);
    assert_eq!(after_move.len(), 2, "{after_move:?}");
    assert_eq!(
        after_move[1].0, booked[0].0,
        "the same lead: {after_move:?}"
    );
    assert_eq!(
        after_move[1].1["start"],
        json!(iso(moved_to)),
        "{after_move:?}"
    );
    assert!(after_move[1].1.get("status").is_none(), "{after_move:?}");

    // Then the cancel link from the moved meeting's invitation.
    let link = wait_for_link(&st, "Cancel: ", 2);
    let token = token_of(&link);
    let done = st.post_form(&format!("t={token}"));
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(done.body.contains("is cancelled"), "{}", done.body);

    wait_for("the cancellation's activity in the peer", || {
        meeting_activities(&peer).len() >= 3
    });
    let all = meeting_activities(&peer);
    assert_eq!(all.len(), 3, "{all:?}");
    let (lead, cancelled) = &all[2];
    assert_eq!(*lead, booked[0].0, "the same lead: {all:?}");
    assert_eq!(cancelled["status"], json!("cancelled"), "{all:?}");
    assert_eq!(cancelled["start"], json!(iso(moved_to)), "{all:?}");
    assert_eq!(cancelled["site"], json!(SITE), "{all:?}");
}

/// The assignment log's newest entry.
fn last_assignment(w: &Worker) -> Value {
    let log = w
        .admin("GET", &format!("/admin/sites/{SITE}/assignments"), None)
        .json();
    log["assignments"]
        .as_array()
        .and_then(|a| a.last())
        .cloned()
        .unwrap_or(Value::Null)
}

/// A line's value in an iCalendar text (`UID:` -> the uid).
fn ics_value(ics: &str, name: &str) -> String {
    ics.lines()
        .find_map(|l| l.strip_prefix(name))
        .unwrap_or_default()
        .trim()
        .to_string()
}

/// The visitor's cancel of a queue meeting through the link: the agent (CalDAV) gets the
/// iCalendar CANCEL of the meeting their notice announced, and with the queue's
/// `count_cancelled: false` the meeting is given back to the rotation, so the agent is asked
/// first for the next booking, ahead of plain order (the assignment log says why). The cancel
/// link of a meeting that has started is refused on POST too, and the meeting stays.
#[test]
fn a_visitors_cancel_notifies_the_agent_and_gives_the_turn_back() {
    let _g = serial();
    let st = Stack::start(&Setup {
        name: "cancel-fairness",
        site: SITE,
        site_name: "Fair",
        caldav_users: 2,
        links: true,
        marketo: None,
        vars: &[("ALLOW_CLOCK_OVERRIDE", "1")],
    });
    let w = &st.worker;
    let settings = agent_settings(json!({}));
    st.radicale_agent(1, &settings);
    st.radicale_agent(2, &settings);
    // Cancelled meetings do not count towards an agent's share.
    let q = w.admin(
        "PUT",
        &format!("/admin/sites/{SITE}/queues/sales"),
        Some(&json!({"name": "Sales", "agents": ["a2", "a1"], "fairness": {"count_cancelled": false}})),
    );
    assert_eq!(q.status, 200, "{}", q.body);
    assert_eq!(q.json()["fairness"]["count_cancelled"], false, "{}", q.body);

    // Plain order: a2, then a1.
    let first = st.book(
        "fairness-1",
        "queue:sales",
        at_s(2, 10 * 60),
        "first@example.com",
        "Fay",
    );
    assert_eq!(first.status, 201, "{}", first.body);
    assert_eq!(last_assignment(w)["chosen"], "a2");
    let start = at_s(2, 11 * 60);
    let second = st.book("fairness-2", "queue:sales", start, VISITOR, "Fay");
    assert_eq!(second.status, 201, "{}", second.body);
    let booked = last_assignment(w);
    assert_eq!(booked["chosen"], "a1", "{booked}");
    assert_eq!(booked["reason"]["kind"], "order", "{booked}");
    let meeting = booked["meeting"].as_str().unwrap_or_default().to_string();
    let queue = |w: &Worker| {
        w.admin("GET", &format!("/admin/sites/{SITE}/queues/sales"), None)
            .json()
    };
    assert_eq!(queue(w)["next_in_line"], "a2", "{}", queue(w));

    // The agent's notice of the booking carries the meeting's UID.
    let mut uid = String::new();
    wait_for("agent 1's notice of the booking", || {
        uid = st
            .mails_to("agent1@agents.test")
            .iter()
            .map(|m| part_text(m, "text/calendar"))
            .find(|ics| ics.contains("METHOD:REQUEST"))
            .map(|ics| ics_value(&ics, "UID:"))
            .unwrap_or_default();
        !uid.is_empty()
    });

    // The visitor cancels a1's meeting through the invitation's link.
    let link = wait_for_link(&st, "Cancel: ", 1);
    let token = link.split_once("?t=").map(|(_, t)| t).unwrap_or_default();
    let done = w.request(
        "POST",
        &format!("/meeting/{SITE}"),
        &[("Content-Type", "application/x-www-form-urlencoded")],
        Some(&format!("t={token}")),
    );
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(done.body.contains("is cancelled"), "{}", done.body);

    // Agent 1 gets the CANCEL of that meeting (SEQUENCE 1, after the booking's 0), and the
    // meeting shows the notice delivered; agent 2 gets no cancellation.
    let mut cancel = String::new();
    wait_for("agent 1's CANCEL", || {
        cancel = st
            .mails_to("agent1@agents.test")
            .iter()
            .map(|m| part_text(m, "text/calendar"))
            .find(|ics| ics.contains("METHOD:CANCEL"))
            .unwrap_or_default();
        !cancel.is_empty()
    });
    assert_eq!(ics_value(&cancel, "UID:"), uid, "{cancel}");
    assert_eq!(ics_value(&cancel, "SEQUENCE:"), "1", "{cancel}");
    assert!(cancel.contains("STATUS:CANCELLED"), "{cancel}");
    let shown = |w: &Worker| {
        w.admin("GET", &format!("/admin/sites/{SITE}/meetings"), None)
            .json()["meetings"]
            .as_array()
            .and_then(|l| l.iter().find(|m| m["id"] == meeting.as_str()).cloned())
            .unwrap_or(Value::Null)
    };
    wait_for("the agent's notice shown as sent", || {
        shown(w)["agent_notified"] == "cancel sent"
    });
    assert_eq!(shown(w)["status"], "cancelled", "{}", shown(w));
    let to_agent2 = st.mails_to("agent2@agents.test");
    assert!(
        to_agent2
            .iter()
            .all(|m| !part_text(m, "text/calendar").contains("METHOD:CANCEL")),
        "{to_agent2:?}"
    );

    // The cancelled meeting is given back: a1 is next in line again, and the next booking goes
    // to a1 although plain order (after a1's meeting) would ask a2.
    assert_eq!(queue(w)["next_in_line"], "a1", "{}", queue(w));
    let third_start = at_s(2, 12 * 60);
    let third = st.book(
        "fairness-3",
        "queue:sales",
        third_start,
        "third@example.com",
        "Fay",
    );
    assert_eq!(third.status, 201, "{}", third.body);
    let again = last_assignment(w);
    assert_eq!(again["chosen"], "a1", "{again}");
    assert_eq!(again["next_in_line"], "a1", "{again}");
    assert_eq!(again["reason"]["kind"], "fairness_correction", "{again}");
    assert_eq!(again["reason"]["in_order"], "a2", "{again}");

    // Expiry on POST: once the meeting has started, its cancel link is refused (410, a clear
    // page) and the meeting stays scheduled.
    let third_meeting = again["meeting"].as_str().unwrap_or_default().to_string();
    let link = wait_for_link_to(&st, "third@example.com", "Cancel: ", 1);
    let token = link.split_once("?t=").map(|(_, t)| t).unwrap_or_default();
    let page = w.request("GET", &format!("/meeting/{SITE}?t={token}"), &[], None);
    assert_eq!(
        page.status, 200,
        "the link works before the start: {}",
        page.body
    );
    let clock = w.admin(
        "POST",
        "/admin/clock",
        Some(&json!({"now_ms": (third_start + 60) * 1000})),
    );
    assert_eq!(clock.status, 200, "{}", clock.body);
    let late = w.request(
        "POST",
        &format!("/meeting/{SITE}"),
        &[("Content-Type", "application/x-www-form-urlencoded")],
        Some(&format!("t={token}")),
    );
    assert_eq!(late.status, 410, "{}", late.body);
    assert!(late.body.contains("expired"), "{}", late.body);
    let list = w
        .admin("GET", &format!("/admin/sites/{SITE}/meetings"), None)
        .json();
    let kept = list["meetings"]
        .as_array()
        .and_then(|l| {
            l.iter()
                .find(|m| m["id"] == third_meeting.as_str())
                .cloned()
        })
        .unwrap_or(Value::Null);
    assert_eq!(kept["status"], "scheduled", "{list}");
}
