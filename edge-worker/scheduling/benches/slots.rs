//! Criterion benchmark: slots of a 10-agent queue over 14 days (pure compute, no I/O).

use chrono::{DateTime, Duration, TimeZone, Utc};
use criterion::{black_box, criterion_group, criterion_main, Criterion};
use dynchat_scheduling::{
    queue_slots, slots, AgentId, AgentSettings, AgentSettingsInput, Busy, Interval, WeeklyHours,
};

const ZONES: [&str; 5] = [
    "Europe/Amsterdam",
    "America/New_York",
    "Asia/Kolkata",
    "America/Los_Angeles",
    "Australia/Sydney",
];

fn agents(now: DateTime<Utc>) -> Vec<(AgentId, AgentSettings, Busy)> {
    (0..10u32)
        .map(|i| {
            let settings = AgentSettingsInput {
                time_zone: ZONES[i as usize % ZONES.len()].to_owned(),
                working_hours: WeeklyHours::weekdays(&[("09:00", "12:30"), ("13:30", "17:30")]),
                meeting_minutes: 30,
                slot_step_minutes: Some(15),
                buffer_before_minutes: 10,
                buffer_after_minutes: 10,
                min_notice_minutes: 120,
                horizon_days: 30,
                video: true,
                video_link: None,
            }
            .validate()
            .unwrap_or_else(|e| panic!("bench settings: {e}"));
            // Three busy hours a day, staggered per agent: about 42 events over 14 days.
            let busy = (0..42i64)
                .map(|k| {
                    let start = now + Duration::minutes(k * 480 + i64::from(i) * 37);
                    Interval::new(start, start + Duration::minutes(60))
                })
                .collect();
            (AgentId(format!("agent-{i}")), settings, Busy::Known(busy))
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let now = Utc
        .with_ymd_and_hms(2027, 3, 10, 7, 3, 0)
        .single()
        .unwrap_or_default();
    let to = now + Duration::days(14);
    let agents = agents(now);
    let total: usize = queue_slots(&agents, now, to, now).len();
    println!("queue of 10 agents over 14 days: {total} distinct slot starts");
    c.bench_function("slots/one_agent_14_days", |b| {
        b.iter(|| {
            slots(
                black_box(&agents[0].1),
                black_box(&agents[0].2),
                now,
                to,
                now,
            )
        })
    });
    c.bench_function("slots/queue_10_agents_14_days", |b| {
        b.iter(|| queue_slots(black_box(&agents), now, to, now))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
