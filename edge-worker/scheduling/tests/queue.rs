//! A queue's slots: one offer per start, whoever is free, whatever their meeting length.

use chrono::{DateTime, Duration, Utc};
use dynchat_scheduling::{
    assign, queue_slots, slot_at, AgentId, AgentSettings, AgentSettingsInput, Availability, Busy,
    Interval, Rotation, WeeklyHours,
};

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .unwrap_or_else(|e| panic!("bad test time {s}: {e}"))
        .with_timezone(&Utc)
}

/// An agent in UTC working 09:00-11:00 on weekdays, slots every 30 minutes.
fn agent(meeting: u32) -> AgentSettings {
    AgentSettingsInput {
        time_zone: "UTC".into(),
        working_hours: WeeklyHours::weekdays(&[("09:00", "11:00")]),
        meeting_minutes: meeting,
        slot_step_minutes: Some(30),
        buffer_before_minutes: 0,
        buffer_after_minutes: 0,
        min_notice_minutes: 0,
        horizon_days: 30,
        video: true,
        video_link: None,
    }
    .validate()
    .unwrap_or_else(|e| panic!("{e}"))
}

const NOW: &str = "2027-02-01T00:00:00Z";

#[test]
fn agents_with_different_lengths_offer_each_start_once() {
    let ids = |v: &[&str]| v.iter().map(|s| AgentId::from(*s)).collect::<Vec<_>>();
    let agents = vec![
        (AgentId::from("short"), agent(30), Busy::Known(vec![])),
        (AgentId::from("long"), agent(60), Busy::Known(vec![])),
    ];
    // Monday 1 March 2027.
    let from = utc("2027-03-01T00:00:00Z");
    let q = queue_slots(&agents, from, from + Duration::days(1), utc(NOW));
    let starts: Vec<String> = q
        .iter()
        .map(|s| s.start.format("%H:%M").to_string())
        .collect();
    assert_eq!(
        starts,
        ["09:00", "09:30", "10:00", "10:30"],
        "each start once"
    );
    let at = |t: &str| {
        q.iter()
            .find(|s| s.start == utc(t))
            .unwrap_or_else(|| panic!("no slot at {t}"))
    };
    // Both free: the offer lasts until the longer meeting would end.
    assert_eq!(
        at("2027-03-01T09:00:00Z").free_agents,
        ids(&["short", "long"])
    );
    assert_eq!(at("2027-03-01T09:00:00Z").end, utc("2027-03-01T10:00:00Z"));
    assert_eq!(
        at("2027-03-01T10:00:00Z").free_agents,
        ids(&["short", "long"])
    );
    // 10:30 + 60 minutes is after 11:00: only the 30-minute agent is free for their length.
    assert_eq!(at("2027-03-01T10:30:00Z").free_agents, ids(&["short"]));
    assert_eq!(at("2027-03-01T10:30:00Z").end, utc("2027-03-01T11:00:00Z"));
}

#[test]
fn booking_a_start_asks_each_agent_for_their_own_length() {
    // The long agent is busy 10:15-10:45 on Monday 1 March 2027: free at 09:00 (until 10:00),
    // not at 10:00 (their hour would cross the busy span), while the short agent is.
    let busy_long = Busy::Known(vec![Interval::new(
        utc("2027-03-01T10:15:00Z"),
        utc("2027-03-01T10:45:00Z"),
    )]);
    let agents = vec![
        (AgentId::from("short"), agent(30), Busy::Known(vec![])),
        (AgentId::from("long"), agent(60), busy_long),
    ];
    let now = utc(NOW);
    let from = utc("2027-03-01T00:00:00Z");
    let q = queue_slots(&agents, from, from + Duration::days(1), now);
    assert!(!q.is_empty());
    // What the queue offers and what the booking finds agree, agent by agent and start by start.
    for offer in &q {
        let mut latest = offer.start;
        for (id, settings, busy) in &agents {
            let own = slot_at(settings, busy, offer.start, now);
            assert_eq!(
                own.is_some(),
                offer.free_agents.contains(id),
                "{id:?} at {offer:?}"
            );
            if let Some(own) = own {
                let length = Duration::minutes(i64::from(settings.meeting_minutes()));
                assert_eq!(own.end - own.start, length);
                latest = latest.max(own.end);
            }
        }
        assert_eq!(offer.end, latest, "{offer:?}");
    }
    // The long agent's turn: at 09:00 they get it for an hour; at 10:00 they are skipped as
    // busy for their own length and the short agent gets half an hour.
    let rotation = Rotation::new(vec![AgentId::from("long"), AgentId::from("short")]);
    let book = |start: &str| {
        let start = utc(start);
        let a = assign(&rotation, start, &|id| {
            let (_, settings, busy) = agents
                .iter()
                .find(|(a, _, _)| a == id)
                .unwrap_or_else(|| panic!("unknown agent {id:?}"));
            match slot_at(settings, busy, start, now) {
                Some(_) => Availability::Free,
                None => Availability::Busy,
            }
        });
        assert_eq!(a.start, start);
        let chosen = a.chosen.unwrap_or_else(|| panic!("nobody at {start}"));
        let own = agents
            .iter()
            .find(|(a, _, _)| *a == chosen)
            .and_then(|(_, s, b)| slot_at(s, b, start, now))
            .unwrap_or_else(|| panic!("chosen agent not free"));
        (
            chosen.0,
            a.skipped.len(),
            own.end.format("%H:%M").to_string(),
        )
    };
    assert_eq!(
        book("2027-03-01T09:00:00Z"),
        ("long".into(), 0, "10:00".into())
    );
    assert_eq!(
        book("2027-03-01T10:00:00Z"),
        ("short".into(), 1, "10:30".into())
    );
    // A start that is nobody's step is nobody's slot.
    assert_eq!(
        slot_at(&agents[0].1, &agents[0].2, utc("2027-03-01T09:10:00Z"), now),
        None
    );
}
