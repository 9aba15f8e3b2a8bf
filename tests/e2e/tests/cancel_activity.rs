//! A visitor's cancel through the invitation's link reaches Marketo (issue 15): the real worker
//! on workerd with the Marketo peer, real Radicale for the agent's calendar, the aiosmtpd mail
//! catcher. The booking's `dynchat_meeting` activity arrives first; after the visitor cancels,
//! a second one with `status: cancelled` for the same lead and start, through the activity
//! outbox and the gate.

use dynchat_e2e::clock::{at_s, iso_minute as iso};
use dynchat_e2e::peers;
use dynchat_e2e::{serial, Peer, Worker};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const SITE: &str = "ca";
const CALENDAR_KEY: &str = "5e1e2d3c4b5a69788796a5b4c3d2e1f00112233445566778899aabbccddeeff0";
const LINK_KEY: &str = "4f1e2d3c4b5a69788796a5b4c3d2e1f00112233445566778899aabbccddeeff1";
const ORIGIN: &str = "http://127.0.0.1:8080";
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
    let (mail, smtp_port) = peers::mail_catcher();
    let radicale = peers::radicale(1, "cancel-activity");
    let smtp = smtp_port.to_string();
    let w = Worker::start(
        "cancel-activity",
        Some(&peer),
        &[
            ("CALENDAR_KEY", CALENDAR_KEY),
            ("LINK_KEY", LINK_KEY),
            ("SMTP_HOST", "127.0.0.1"),
            ("SMTP_PORT", &smtp),
            ("SMTP_FROM", "meetings@dynchat.test"),
            ("SMTP_TIMEOUT_MS", "5000"),
            ("MAIL_RETRY_MS", "500"),
        ],
    );
    let setup = w.admin("POST", "/admin/marketo/setup", Some(&json!({})));
    assert_eq!(setup.status, 200, "{}", setup.body);
    let s = w.admin(
        "PUT",
        &format!("/admin/sites/{SITE}"),
        Some(&json!({"name": "Cancel", "allowed_origins": [ORIGIN]})),
    );
    assert_eq!(s.status, 200, "{}", s.body);
    let d = json!([{"start": "08:00", "end": "18:00"}]);
    let hours = json!({"mon": d, "tue": d, "wed": d, "thu": d, "fri": d, "sat": d, "sun": d});
    let settings = json!({"time_zone": "UTC", "working_hours": hours, "meeting_minutes": 30, "min_notice_minutes": 60, "horizon_days": 30});
    let a = w.admin(
        "PUT",
        &format!("/admin/sites/{SITE}/agents/a1"),
        Some(&json!({"name": "Agent One", "email": "agent1@agents.test", "settings": settings})),
    );
    assert_eq!(a.status, 200, "{}", a.body);
    let c = w.admin(
        "PUT",
        &format!("/admin/sites/{SITE}/agents/a1/calendar"),
        Some(&json!({"url": format!("{}/agent1/calendar/", radicale.urls[1]), "username": "agent1", "password": "pw1"})),
    );
    assert_eq!(c.status, 200, "{}", c.body);
    let q = w.admin(
        "PUT",
        &format!("/admin/sites/{SITE}/queues/sales"),
        Some(&json!({"name": "Sales", "agents": ["a1"]})),
    );
    assert_eq!(q.status, 200, "{}", q.body);

    let start = at_s(2, 10 * 60);
    let body = json!({"route": "queue:sales", "start": iso(start), "end": iso(start + 1800), "tz": "UTC",
                      "lead": {"email": VISITOR, "firstName": "Carla"}, "session": "s-cancel"});
    let b = w.post(
        &format!("/v1/sites/{SITE}/book"),
        &body,
        &[("Idempotency-Key", "cancel-1"), ("Origin", ORIGIN)],
    );
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
    let reschedule = wait_for_link(&mail, "Reschedule: ", 1);
    let token = reschedule
        .split_once("?t=")
        .map(|(_, t)| t)
        .unwrap_or_default();
    let page = w.request("GET", &format!("/meeting/{SITE}?t={token}"), &[], None);
    assert_eq!(page.status, 200, "{}", page.body);
    let moved_to = start + 2 * 3600;
    let moved = w.request(
        "POST",
        &format!("/meeting/{SITE}"),
        &[("Content-Type", "application/x-www-form-urlencoded")],
        Some(&format!(
            "t={token}&start={}",
            iso(moved_to).replace(':', "%3A")
        )),
    );
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
    let link = wait_for_link(&mail, "Cancel: ", 2);
    let token = link.split_once("?t=").map(|(_, t)| t).unwrap_or_default();
    let done = w.request(
        "POST",
        &format!("/meeting/{SITE}"),
        &[("Content-Type", "application/x-www-form-urlencoded")],
        Some(&format!("t={token}")),
    );
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
