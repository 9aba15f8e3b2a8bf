//! Working hours that run past midnight (night shifts): a range belongs to the day it starts.

use chrono::{DateTime, Duration, Utc};
use dynchat_scheduling::{slots, AgentSettings, AgentSettingsInput, Busy, TimeRange, WeeklyHours};

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .unwrap_or_else(|e| panic!("bad test time {s}: {e}"))
        .with_timezone(&Utc)
}

fn range(start: &str, end: &str) -> TimeRange {
    TimeRange {
        start: start.into(),
        end: end.into(),
    }
}

fn input(tz: &str, hours: WeeklyHours, horizon_days: u32) -> AgentSettingsInput {
    AgentSettingsInput {
        time_zone: tz.into(),
        working_hours: hours,
        meeting_minutes: 60,
        slot_step_minutes: None,
        buffer_before_minutes: 0,
        buffer_after_minutes: 0,
        min_notice_minutes: 0,
        horizon_days,
        video: true,
        video_link: None,
    }
}

fn agent(tz: &str, hours: WeeklyHours, horizon_days: u32) -> AgentSettings {
    input(tz, hours, horizon_days)
        .validate()
        .unwrap_or_else(|e| panic!("night shift refused: {e}"))
}

/// Friday 22:00-02:00 and nothing else.
fn friday_night() -> WeeklyHours {
    WeeklyHours {
        fri: vec![range("22:00", "02:00")],
        ..WeeklyHours::default()
    }
}

fn starts(a: &AgentSettings, from: &str, days: i64, now: &str) -> Vec<String> {
    slots(
        a,
        &Busy::Known(vec![]),
        utc(from),
        utc(from) + Duration::days(days),
        utc(now),
    )
    .iter()
    .map(|s| s.start.format("%Y-%m-%dT%H:%MZ").to_string())
    .collect()
}

#[test]
fn a_range_past_midnight_runs_into_the_next_day() {
    // Friday 5 March 2027 in Amsterdam (UTC+1): 22:00, 23:00, then 00:00 and 01:00 on Saturday.
    let a = agent("Europe/Amsterdam", friday_night(), 365);
    assert_eq!(
        starts(&a, "2027-03-01T00:00:00Z", 7, "2027-02-01T00:00:00Z"),
        [
            "2027-03-05T21:00Z",
            "2027-03-05T22:00Z",
            "2027-03-05T23:00Z",
            "2027-03-06T00:00Z"
        ]
    );
    // "00:00" as an end is the next midnight, like "24:00".
    let to_midnight = WeeklyHours {
        fri: vec![range("22:00", "00:00")],
        ..WeeklyHours::default()
    };
    let a = agent("Europe/Amsterdam", to_midnight, 365);
    assert_eq!(
        starts(&a, "2027-03-01T00:00:00Z", 7, "2027-02-01T00:00:00Z"),
        ["2027-03-05T21:00Z", "2027-03-05T22:00Z"]
    );
}

#[test]
fn a_night_shift_across_both_dst_changes() {
    let saturday_night = WeeklyHours {
        sat: vec![range("22:00", "04:00")],
        ..WeeklyHours::default()
    };
    let a = agent("Europe/Amsterdam", saturday_night, 365);
    // Spring: 02:00-03:00 on Sunday 28 March does not exist; 03:00 CEST ends 04:00 CEST.
    assert_eq!(
        starts(&a, "2027-03-26T00:00:00Z", 4, "2027-01-01T00:00:00Z"),
        [
            "2027-03-27T21:00Z",
            "2027-03-27T22:00Z",
            "2027-03-27T23:00Z",
            "2027-03-28T00:00Z",
            "2027-03-28T01:00Z"
        ]
    );
    // Autumn: 02:00-03:00 on Sunday 31 October happens twice (the earlier one is offered);
    // 03:00 CET ends 04:00 CET, the range's end in real time.
    assert_eq!(
        starts(&a, "2027-10-29T00:00:00Z", 4, "2027-01-01T00:00:00Z"),
        [
            "2027-10-30T20:00Z",
            "2027-10-30T21:00Z",
            "2027-10-30T22:00Z",
            "2027-10-30T23:00Z",
            "2027-10-31T00:00Z",
            "2027-10-31T02:00Z"
        ]
    );
}

#[test]
fn a_night_shift_belongs_to_the_day_it_starts_for_the_horizon() {
    let a = agent("Europe/Amsterdam", friday_night(), 1);
    // Friday noon, horizon 1 (today only): the whole Friday night, Saturday's hours included.
    assert_eq!(
        starts(&a, "2027-03-05T11:00:00Z", 3, "2027-03-05T11:00:00Z").len(),
        4
    );
    // Saturday 00:10: the shift started yesterday and its remaining slots are still offered.
    assert_eq!(
        starts(&a, "2027-03-05T23:10:00Z", 3, "2027-03-05T23:10:00Z"),
        ["2027-03-06T00:00Z"]
    );
    // Thursday noon, horizon 1: Friday's shift is beyond the horizon.
    assert!(starts(&a, "2027-03-04T11:00:00Z", 3, "2027-03-04T11:00:00Z").is_empty());
}

#[test]
fn validation_accepts_night_shifts_and_refuses_what_overlaps_the_next_day() {
    // Accepted, from JSON as the console sends it.
    let json = r#"{"time_zone":"America/New_York","working_hours":{"mon":[{"start":"22:00","end":"02:00"}],"tue":[{"start":"02:00","end":"06:00"}]},"meeting_minutes":30}"#;
    let s = AgentSettings::from_json(json).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.ranges(chrono::Weekday::Mon), &[(22 * 60, 26 * 60)]);
    let refused = |hours: WeeklyHours| match input("UTC", hours, 14).validate() {
        Ok(_) => panic!("accepted"),
        Err(e) => e.field().unwrap_or_default().to_owned(),
    };
    // Monday's shift runs to 02:00 on Tuesday, where a range starts at 01:00.
    assert_eq!(
        refused(WeeklyHours {
            mon: vec![range("22:00", "02:00")],
            tue: vec![range("01:00", "05:00")],
            ..WeeklyHours::default()
        }),
        "working_hours.tue[0]"
    );
    // Sunday's shift runs into Monday.
    assert_eq!(
        refused(WeeklyHours {
            sun: vec![range("23:00", "01:00")],
            mon: vec![range("09:00", "17:00"), range("00:30", "03:00")],
            ..WeeklyHours::default()
        }),
        "working_hours.mon[1]"
    );
    // Two ranges of the same day overlap after midnight.
    assert_eq!(
        refused(WeeklyHours {
            fri: vec![range("22:00", "03:00"), range("09:00", "23:00")],
            ..WeeklyHours::default()
        }),
        "working_hours.fri[0]"
    );
    // A range of no length, or a whole day written as one time twice.
    assert_eq!(
        refused(WeeklyHours {
            fri: vec![range("22:00", "22:00")],
            ..WeeklyHours::default()
        }),
        "working_hours.fri[0].end"
    );
}
