//! A visitor's cancel through the invitation's link reaches Marketo (issue 15): the real worker
//! on workerd with the Marketo peer, real Radicale for the agent's calendar, the aiosmtpd mail
//! catcher. The booking's `dynchat_meeting` activity arrives first; after the visitor cancels,
//! a second one with `status: cancelled` for the same lead and start, through the activity
//! outbox and the gate.

use dynchat_e2e::clock::{at_s, iso_minute as iso};
use dynchat_e2e::meeting_stack::{agent_settings, move_form, token_of, Setup, Stack};
use dynchat_e2e::peers;
use dynchat_e2e::{serial, Peer};
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
fn wait_for_link(mail: &peers::PyPeer, label: &str, n: usize) -> String {
    let mut link = String::new();
    wait_for(&format!("mail {n} with its {label}link"), || {
        let all = peers::get(&format!("{}/_peer/state", mail.url()))["messages"].clone();
        link = all
            .as_array()
            .into_iter()
            .flatten()
            .filter(|m| m["rcpt_tos"] == json!([VISITOR]))
            .filter_map(|m| {
                m["parts"]
                    .as_array()?
                    .iter()
                    .find(|p| p["content_type"] == "text/plain")?["text"]
                    .as_str()?
                    .replace("\r\n ", "")
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
    let reschedule = wait_for_link(&st.mail, "Reschedule: ", 1);
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
    let link = wait_for_link(&st.mail, "Cancel: ", 2);
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
