//! Table-driven tests of slot computation across zones and the 2027 DST changes (EU and US).

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc, Weekday};
use dynchat_scheduling::{
    label, parse_tz, queue_slots, slots, AgentId, AgentSettings, AgentSettingsInput, Busy,
    Interval, Slot, TimeRange, WeeklyHours,
};

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .unwrap_or_else(|e| panic!("bad test time {s}: {e}"))
        .with_timezone(&Utc)
}

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_else(|e| panic!("bad test date {s}: {e}"))
}

/// Working hours on one weekday only, so a window of several days yields that day's slots.
fn on_day(day: Weekday, ranges: &[(&str, &str)]) -> WeeklyHours {
    let r: Vec<TimeRange> = ranges
        .iter()
        .map(|(s, e)| TimeRange {
            start: (*s).into(),
            end: (*e).into(),
        })
        .collect();
    let mut w = WeeklyHours::default();
    match day {
        Weekday::Mon => w.mon = r,
        Weekday::Tue => w.tue = r,
        Weekday::Wed => w.wed = r,
        Weekday::Thu => w.thu = r,
        Weekday::Fri => w.fri = r,
        Weekday::Sat => w.sat = r,
        Weekday::Sun => w.sun = r,
    }
    w
}

struct Opts {
    meeting: u32,
    before: u32,
    after: u32,
    notice: u32,
    horizon: u32,
}

const PLAIN: Opts = Opts {
    meeting: 30,
    before: 0,
    after: 0,
    notice: 0,
    horizon: 365,
};

fn agent(tz: &str, hours: WeeklyHours, o: &Opts) -> AgentSettings {
    AgentSettingsInput {
        time_zone: tz.into(),
        working_hours: hours,
        meeting_minutes: o.meeting,
        slot_step_minutes: None,
        buffer_before_minutes: o.before,
        buffer_after_minutes: o.after,
        min_notice_minutes: o.notice,
        horizon_days: o.horizon,
        video: true,
        video_link: None,
    }
    .validate()
    .unwrap_or_else(|e| panic!("test settings invalid: {e}"))
}

fn starts(v: &[Slot]) -> Vec<String> {
    v.iter()
        .map(|s| s.start.format("%Y-%m-%dT%H:%MZ").to_string())
        .collect()
}

/// `count` starts every 30 minutes from `first` (UTC), as strings.
fn every_30(first: &str, count: i64) -> Vec<String> {
    let f = utc(first);
    (0..count)
        .map(|k| {
            (f + Duration::minutes(30 * k))
                .format("%Y-%m-%dT%H:%MZ")
                .to_string()
        })
        .collect()
}

#[test]
fn working_hours_are_local_on_both_dst_changes() {
    // (agent zone, local date, working range, expected UTC starts)
    let day_9_17 = [("09:00", "17:00")];
    let night = [("01:00", "04:00")];
    type Case<'a> = (&'a str, &'a str, &'a [(&'a str, &'a str)], Vec<String>);
    let cases: Vec<Case> = vec![
        // Europe/Amsterdam: CET +1 until 2027-03-28 02:00, CEST +2 until 2027-10-31 03:00.
        (
            "Europe/Amsterdam",
            "2027-03-27",
            &day_9_17,
            every_30("2027-03-27T08:00:00Z", 16),
        ),
        (
            "Europe/Amsterdam",
            "2027-03-28",
            &day_9_17,
            every_30("2027-03-28T07:00:00Z", 16),
        ),
        (
            "Europe/Amsterdam",
            "2027-10-30",
            &day_9_17,
            every_30("2027-10-30T07:00:00Z", 16),
        ),
        (
            "Europe/Amsterdam",
            "2027-10-31",
            &day_9_17,
            every_30("2027-10-31T08:00:00Z", 16),
        ),
        // America/New_York: EST -5 until 2027-03-14 02:00, EDT -4 until 2027-11-07 02:00.
        (
            "America/New_York",
            "2027-03-13",
            &day_9_17,
            every_30("2027-03-13T14:00:00Z", 16),
        ),
        (
            "America/New_York",
            "2027-03-14",
            &day_9_17,
            every_30("2027-03-14T13:00:00Z", 16),
        ),
        (
            "America/New_York",
            "2027-11-06",
            &day_9_17,
            every_30("2027-11-06T13:00:00Z", 16),
        ),
        (
            "America/New_York",
            "2027-11-07",
            &day_9_17,
            every_30("2027-11-07T14:00:00Z", 16),
        ),
        // Hours across the change itself: 02:00 and 02:30 do not exist in spring (skipped) ...
        (
            "Europe/Amsterdam",
            "2027-03-28",
            &night,
            [
                "2027-03-28T00:00Z",
                "2027-03-28T00:30Z",
                "2027-03-28T01:00Z",
                "2027-03-28T01:30Z",
            ]
            .map(String::from)
            .to_vec(),
        ),
        // ... and happen twice in autumn (the earlier instant, once).
        (
            "Europe/Amsterdam",
            "2027-10-31",
            &night,
            [
                "2027-10-30T23:00Z",
                "2027-10-30T23:30Z",
                "2027-10-31T00:00Z",
                "2027-10-31T00:30Z",
                "2027-10-31T02:00Z",
                "2027-10-31T02:30Z",
            ]
            .map(String::from)
            .to_vec(),
        ),
        (
            "America/New_York",
            "2027-03-14",
            &night,
            [
                "2027-03-14T06:00Z",
                "2027-03-14T06:30Z",
                "2027-03-14T07:00Z",
                "2027-03-14T07:30Z",
            ]
            .map(String::from)
            .to_vec(),
        ),
        (
            "America/New_York",
            "2027-11-07",
            &night,
            [
                "2027-11-07T05:00Z",
                "2027-11-07T05:30Z",
                "2027-11-07T07:00Z",
                "2027-11-07T07:30Z",
                "2027-11-07T08:00Z",
                "2027-11-07T08:30Z",
            ]
            .map(String::from)
            .to_vec(),
        ),
    ];
    for (tz, day, ranges, expected) in cases {
        let d = date(day);
        let a = agent(tz, on_day(d.weekday(), ranges), &PLAIN);
        let from = utc(&format!("{day}T00:00:00Z")) - Duration::days(3);
        let to = from + Duration::days(6);
        let got = slots(
            &a,
            &Busy::Known(vec![]),
            from,
            to,
            utc("2027-01-01T00:00:00Z"),
        );
        assert_eq!(starts(&got), expected, "{tz} on {day} {ranges:?}");
        for s in &got {
            assert_eq!(s.end - s.start, Duration::minutes(30), "{tz} {day}");
        }
    }
}

#[test]
fn a_slot_spanning_the_spring_gap_still_ends_within_working_hours() {
    // New York, 14 March 2027, hours 01:00-02:30, one-hour meetings. 01:00 EST runs to
    // 03:00 EDT (the clock skips 02:00-03:00), which is the end of the range in real time.
    // 01:30 EST would end 03:30 EDT, after the range: not offered.
    let a = AgentSettingsInput {
        time_zone: "America/New_York".into(),
        working_hours: on_day(Weekday::Sun, &[("01:00", "02:30")]),
        meeting_minutes: 60,
        slot_step_minutes: Some(30),
        buffer_before_minutes: 0,
        buffer_after_minutes: 0,
        min_notice_minutes: 0,
        horizon_days: 365,
        video: true,
        video_link: None,
    }
    .validate()
    .unwrap_or_else(|e| panic!("{e}"));
    let from = utc("2027-03-13T00:00:00Z");
    let got = slots(
        &a,
        &Busy::Known(vec![]),
        from,
        from + Duration::days(3),
        utc(EARLY),
    );
    assert_eq!(starts(&got), ["2027-03-14T06:00Z"]);
    // Same hours on the autumn day: the repeated hour gives room, both starts fit.
    let from = utc("2027-11-06T00:00:00Z");
    let got = slots(
        &a,
        &Busy::Known(vec![]),
        from,
        from + Duration::days(3),
        utc(EARLY),
    );
    assert_eq!(starts(&got), ["2027-11-07T05:00Z", "2027-11-07T05:30Z"]);
}

#[test]
fn labels_in_the_visitor_zone() {
    let cases = [
        (
            "2027-03-01T04:30:00Z",
            "Asia/Kolkata",
            "Mon 1 Mar 2027, 10:00 (Asia/Kolkata)",
        ),
        (
            "2027-03-28T07:00:00Z",
            "Asia/Kolkata",
            "Sun 28 Mar 2027, 12:30 (Asia/Kolkata)",
        ),
        (
            "2027-03-28T07:00:00Z",
            "America/Los_Angeles",
            "Sun 28 Mar 2027, 00:00 (America/Los_Angeles)",
        ),
        (
            "2027-03-14T09:00:00Z",
            "America/Los_Angeles",
            "Sun 14 Mar 2027, 01:00 (America/Los_Angeles)",
        ),
        (
            "2027-03-14T13:00:00Z",
            "America/Los_Angeles",
            "Sun 14 Mar 2027, 06:00 (America/Los_Angeles)",
        ),
        (
            "2027-03-14T13:00:00Z",
            "Asia/Kolkata",
            "Sun 14 Mar 2027, 18:30 (Asia/Kolkata)",
        ),
        (
            "2027-10-31T08:00:00Z",
            "America/Los_Angeles",
            "Sun 31 Oct 2027, 01:00 (America/Los_Angeles)",
        ),
        (
            "2027-10-31T08:00:00Z",
            "Asia/Kolkata",
            "Sun 31 Oct 2027, 13:30 (Asia/Kolkata)",
        ),
        (
            "2027-11-07T14:00:00Z",
            "America/Los_Angeles",
            "Sun 7 Nov 2027, 06:00 (America/Los_Angeles)",
        ),
        (
            "2027-11-07T14:00:00Z",
            "Asia/Kolkata",
            "Sun 7 Nov 2027, 19:30 (Asia/Kolkata)",
        ),
        (
            "2027-11-06T13:00:00Z",
            "America/Los_Angeles",
            "Sat 6 Nov 2027, 06:00 (America/Los_Angeles)",
        ),
    ];
    for (at, tz, expected) in cases {
        let zone = parse_tz(tz, "tz").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(label(utc(at), zone), expected);
    }
    let err = parse_tz("Asia/Nowhere", "tz").err();
    assert_eq!(
        err.and_then(|e| e.field().map(String::from)).as_deref(),
        Some("tz")
    );
}

/// Monday 2027-03-01, Amsterdam is UTC+1; hours 09:00-12:00 local = 08:00Z-11:00Z.
fn monday_agent(o: &Opts) -> AgentSettings {
    agent(
        "Europe/Amsterdam",
        on_day(Weekday::Mon, &[("09:00", "12:00")]),
        o,
    )
}

fn monday(busy: Busy, o: &Opts, now: &str) -> Vec<String> {
    let got = slots(
        &monday_agent(o),
        &busy,
        utc("2027-02-28T00:00:00Z"),
        utc("2027-03-03T00:00:00Z"),
        utc(now),
    );
    got.iter()
        .map(|s| s.start.format("%H:%M").to_string())
        .collect()
}

fn busy(spans: &[(&str, &str)]) -> Busy {
    Busy::Known(
        spans
            .iter()
            .map(|(s, e)| {
                Interval::new(
                    utc(&format!("2027-03-01T{s}:00Z")),
                    utc(&format!("2027-03-01T{e}:00Z")),
                )
            })
            .collect(),
    )
}

const EARLY: &str = "2027-02-01T00:00:00Z";

#[test]
fn busy_edges_are_half_open() {
    // UTC slot starts without busy time: 08:00 .. 10:30.
    let all = ["08:00", "08:30", "09:00", "09:30", "10:00", "10:30"];
    let cases: Vec<(&str, Busy, Vec<&str>)> = vec![
        ("nothing busy", busy(&[]), all.to_vec()),
        (
            "busy exactly one slot",
            busy(&[("09:00", "09:30")]),
            vec!["08:00", "08:30", "09:30", "10:00", "10:30"],
        ),
        (
            "busy ends at slot start",
            busy(&[("07:00", "08:00")]),
            all.to_vec(),
        ),
        (
            "busy starts at slot end",
            busy(&[("11:00", "12:00")]),
            all.to_vec(),
        ),
        (
            "one minute over the start",
            busy(&[("07:00", "08:01")]),
            all[1..].to_vec(),
        ),
        (
            "one minute into the end",
            busy(&[("10:59", "12:00")]),
            all[..5].to_vec(),
        ),
        (
            "inside a slot",
            busy(&[("09:10", "09:20")]),
            vec!["08:00", "08:30", "09:30", "10:00", "10:30"],
        ),
        (
            "across two slots",
            busy(&[("08:45", "09:15")]),
            vec!["08:00", "09:30", "10:00", "10:30"],
        ),
        (
            "overlapping spans merge",
            busy(&[("09:00", "09:40"), ("09:20", "10:05")]),
            vec!["08:00", "08:30", "10:30"],
        ),
        (
            "inverted span is ignored",
            busy(&[("10:00", "09:00")]),
            all.to_vec(),
        ),
        ("whole day", busy(&[("00:00", "23:59")]), vec![]),
        ("unknown calendar is not free", Busy::Unknown, vec![]),
    ];
    for (name, b, expected) in cases {
        assert_eq!(monday(b, &PLAIN, EARLY), expected, "{name}");
    }
}

#[test]
fn buffers_keep_distance_from_busy_time() {
    let b = || busy(&[("09:00", "09:30")]);
    let opts = |before, after| Opts {
        before,
        after,
        ..PLAIN
    };
    let cases: Vec<(u32, u32, Vec<&str>)> = vec![
        (0, 0, vec!["08:00", "08:30", "09:30", "10:00", "10:30"]),
        // 10 after: a slot ending 09:00 needs 09:00-09:10 free.
        (0, 10, vec!["08:00", "09:30", "10:00", "10:30"]),
        // 15 before: a slot starting 09:30 needs 09:15-09:30 free.
        (15, 0, vec!["08:00", "08:30", "10:00", "10:30"]),
        (15, 10, vec!["08:00", "10:00", "10:30"]),
        // 30 before touches the busy end exactly: still free.
        (30, 0, vec!["08:00", "08:30", "10:00", "10:30"]),
        (31, 0, vec!["08:00", "08:30", "10:30"]),
        // Buffers do not apply to the edges of working hours.
        (60, 60, vec!["10:30"]),
    ];
    for (before, after, expected) in cases {
        assert_eq!(
            monday(b(), &opts(before, after), EARLY),
            expected,
            "before {before} after {after}"
        );
    }
}

#[test]
fn minimum_notice_and_now() {
    let with_notice = |notice| Opts { notice, ..PLAIN };
    let cases: Vec<(u32, &str, Vec<&str>)> = vec![
        (
            0,
            "2027-03-01T08:00:00Z",
            vec!["08:00", "08:30", "09:00", "09:30", "10:00", "10:30"],
        ),
        (
            0,
            "2027-03-01T08:01:00Z",
            vec!["08:30", "09:00", "09:30", "10:00", "10:30"],
        ),
        (
            60,
            "2027-03-01T08:00:00Z",
            vec!["09:00", "09:30", "10:00", "10:30"],
        ),
        (60, "2027-03-01T08:10:00Z", vec!["09:30", "10:00", "10:30"]),
        (240, "2027-03-01T07:00:00Z", vec![]),
        (
            24 * 60,
            "2027-02-28T08:30:00Z",
            vec!["08:30", "09:00", "09:30", "10:00", "10:30"],
        ),
    ];
    for (notice, now, expected) in cases {
        assert_eq!(
            monday(busy(&[]), &with_notice(notice), now),
            expected,
            "notice {notice} now {now}"
        );
    }
}

#[test]
fn horizon_counts_local_days_from_today() {
    let every_day = WeeklyHours::every_day(&[("09:00", "10:00")]);
    let days_offered = |tz: &str, horizon: u32, now: &str| -> Vec<String> {
        let a = agent(tz, every_day.clone(), &Opts { horizon, ..PLAIN });
        let zone = a.tz();
        let got = slots(
            &a,
            &Busy::Known(vec![]),
            utc(now),
            utc(now) + Duration::days(30),
            utc(now),
        );
        let mut d: Vec<String> = got
            .iter()
            .map(|s| s.start.with_timezone(&zone).format("%m-%d").to_string())
            .collect();
        d.dedup();
        d
    };
    assert_eq!(
        days_offered("Europe/Amsterdam", 1, "2027-03-01T06:00:00Z"),
        ["03-01"]
    );
    assert_eq!(
        days_offered("Europe/Amsterdam", 3, "2027-03-01T06:00:00Z"),
        ["03-01", "03-02", "03-03"]
    );
    // 23:30Z on 1 March is already 2 March in Amsterdam: "today" is the agent's today.
    assert_eq!(
        days_offered("Europe/Amsterdam", 1, "2027-03-01T23:30:00Z"),
        ["03-02"]
    );
    // Same instant, New York is still on 1 March, whose hours are over.
    assert!(days_offered("America/New_York", 1, "2027-03-01T23:30:00Z").is_empty());
    assert_eq!(
        days_offered("America/New_York", 2, "2027-03-01T23:30:00Z"),
        ["03-02"]
    );
    assert_eq!(
        days_offered("America/New_York", 30, "2027-03-01T23:30:00Z").len(),
        29
    );
}

#[test]
fn window_is_start_in_from_to() {
    let a = monday_agent(&PLAIN);
    let got = slots(
        &a,
        &Busy::Known(vec![]),
        utc("2027-03-01T08:30:00Z"),
        utc("2027-03-01T10:00:00Z"),
        utc(EARLY),
    );
    assert_eq!(starts(&got), every_30("2027-03-01T08:30:00Z", 3));
}

#[test]
fn several_ranges_and_step() {
    let mut input = AgentSettingsInput {
        time_zone: "America/New_York".into(),
        working_hours: WeeklyHours::weekdays(&[("13:00", "14:00"), ("09:00", "10:15")]),
        meeting_minutes: 45,
        slot_step_minutes: Some(15),
        buffer_before_minutes: 0,
        buffer_after_minutes: 0,
        min_notice_minutes: 0,
        horizon_days: 30,
        video: true,
        video_link: None,
    };
    let a = input.validate().unwrap_or_else(|e| panic!("{e}"));
    let got = slots(
        &a,
        &Busy::Known(vec![]),
        utc("2027-03-01T00:00:00Z"),
        utc("2027-03-02T00:00:00Z"),
        utc(EARLY),
    );
    // 09:00, 09:15, 09:30 (ends 10:15), 13:00, 13:15 (ends 14:00); EST = UTC-5.
    assert_eq!(
        starts(&got),
        [
            "2027-03-01T14:00Z",
            "2027-03-01T14:15Z",
            "2027-03-01T14:30Z",
            "2027-03-01T18:00Z",
            "2027-03-01T18:15Z"
        ]
    );
    input.slot_step_minutes = None;
    let a = input.validate().unwrap_or_else(|e| panic!("{e}"));
    let got = slots(
        &a,
        &Busy::Known(vec![]),
        utc("2027-03-01T00:00:00Z"),
        utc("2027-03-02T00:00:00Z"),
        utc(EARLY),
    );
    // 09:45 would end 10:30, after the range's 10:15 end.
    assert_eq!(starts(&got), ["2027-03-01T14:00Z", "2027-03-01T18:00Z"]);
}

#[test]
fn queue_offers_a_slot_when_one_agent_is_free() {
    let hours = WeeklyHours::weekdays(&[("09:00", "17:00")]);
    let ams = agent("Europe/Amsterdam", hours.clone(), &PLAIN);
    let nyc = agent("America/New_York", hours, &PLAIN);
    let from = utc("2027-03-01T00:00:00Z");
    let to = utc("2027-03-02T00:00:00Z");
    let ids = |v: &[&str]| v.iter().map(|s| AgentId::from(*s)).collect::<Vec<_>>();
    let agents = vec![
        (AgentId::from("ams"), ams.clone(), Busy::Known(vec![])),
        (
            AgentId::from("nyc"),
            nyc.clone(),
            busy(&[("14:00", "15:00")]),
        ),
        (AgentId::from("broken"), ams.clone(), Busy::Unknown),
    ];
    let q = queue_slots(&agents, from, to, utc(EARLY));
    // Amsterdam 08:00Z-16:00Z, New York 14:00Z-22:00Z: 16 + 16 - 4 shared starts.
    assert_eq!(q.len(), 28);
    let at = |t: &str| {
        q.iter()
            .find(|s| s.start == utc(t))
            .map(|s| s.free_agents.clone())
    };
    assert_eq!(at("2027-03-01T08:00:00Z"), Some(ids(&["ams"])));
    assert_eq!(at("2027-03-01T14:30:00Z"), Some(ids(&["ams"])));
    assert_eq!(at("2027-03-01T15:00:00Z"), Some(ids(&["ams", "nyc"])));
    assert_eq!(at("2027-03-01T21:30:00Z"), Some(ids(&["nyc"])));
    assert_eq!(at("2027-03-01T22:00:00Z"), None);
    assert!(q
        .iter()
        .all(|s| !s.free_agents.contains(&AgentId::from("broken"))));
    assert!(
        q.windows(2).all(|w| w[0].start < w[1].start),
        "sorted, no doubles"
    );
    // Order of agents given is the order of free_agents.
    let reversed = vec![agents[1].clone(), agents[0].clone()];
    let q = queue_slots(&reversed, from, to, utc(EARLY));
    let at = |t: &str| {
        q.iter()
            .find(|s| s.start == utc(t))
            .map(|s| s.free_agents.clone())
    };
    assert_eq!(at("2027-03-01T15:00:00Z"), Some(ids(&["nyc", "ams"])));
    // Everyone unknown: nothing offered.
    let all_unknown = vec![
        (AgentId::from("a"), ams, Busy::Unknown),
        (AgentId::from("b"), nyc, Busy::Unknown),
    ];
    assert!(queue_slots(&all_unknown, from, to, utc(EARLY)).is_empty());
}

#[test]
fn a_fortnight_across_the_spring_change_has_every_working_slot_once() {
    // 22 March - 4 April 2027 contains the EU change; count per local day must be constant.
    let a = agent(
        "Europe/Amsterdam",
        WeeklyHours::every_day(&[("09:00", "12:00"), ("13:00", "17:30")]),
        &PLAIN,
    );
    let from = utc("2027-03-22T00:00:00Z");
    let got = slots(
        &a,
        &Busy::Known(vec![]),
        from,
        from + Duration::days(14),
        utc(EARLY),
    );
    let tz = a.tz();
    let mut per_day = std::collections::BTreeMap::<String, Vec<String>>::new();
    for s in &got {
        let local = s.start.with_timezone(&tz);
        per_day
            .entry(local.format("%m-%d").to_string())
            .or_default()
            .push(local.format("%H:%M").to_string());
    }
    assert_eq!(per_day.len(), 14);
    let expected: Vec<String> = ["09:00", "09:30", "10:00", "10:30", "11:00", "11:30"]
        .iter()
        .chain(
            [
                "13:00", "13:30", "14:00", "14:30", "15:00", "15:30", "16:00", "16:30", "17:00",
            ]
            .iter(),
        )
        .map(|s| s.to_string())
        .collect();
    for (day, times) in per_day {
        assert_eq!(times, expected, "local day {day}");
    }
}

#[test]
fn a_fall_back_night_measures_slots_in_real_time() {
    // Amsterdam, Sunday 31 October 2027: 03:00 CEST (01:00Z) becomes 02:00 CET, so the
    // working range 01:00-03:00 lasts three real hours, 23:00Z to 02:00Z. A 120-minute
    // meeting at 02:00 CEST (00:00Z) ends 02:00Z = 03:00 CET, the range's end: it fits,
    // although 02:00 + 120 minutes on the wall clock reads 04:00.
    let a = AgentSettingsInput {
        time_zone: "Europe/Amsterdam".into(),
        working_hours: on_day(Weekday::Sun, &[("01:00", "03:00")]),
        meeting_minutes: 120,
        slot_step_minutes: Some(60),
        buffer_before_minutes: 0,
        buffer_after_minutes: 0,
        min_notice_minutes: 0,
        horizon_days: 365,
        video: true,
        video_link: None,
    }
    .validate()
    .unwrap_or_else(|e| panic!("{e}"));
    let from = utc("2027-10-30T00:00:00Z");
    let got = slots(
        &a,
        &Busy::Known(vec![]),
        from,
        from + Duration::days(3),
        utc(EARLY),
    );
    assert_eq!(starts(&got), ["2027-10-30T23:00Z", "2027-10-31T00:00Z"]);
    for s in &got {
        assert_eq!(s.end - s.start, Duration::minutes(120));
        assert!(
            s.end <= utc("2027-10-31T02:00:00Z"),
            "{s:?} ends after 03:00 CET"
        );
    }
    // The same hours on an ordinary Sunday: only 01:00 fits.
    let from = utc("2027-10-23T00:00:00Z");
    let got = slots(
        &a,
        &Busy::Known(vec![]),
        from,
        from + Duration::days(3),
        utc(EARLY),
    );
    assert_eq!(starts(&got), ["2027-10-23T23:00Z"]);
}

#[test]
fn labels_in_a_repeated_hour_name_the_offset() {
    let ams = parse_tz("Europe/Amsterdam", "tz").unwrap_or_else(|e| panic!("{e}"));
    let nyc = parse_tz("America/New_York", "tz").unwrap_or_else(|e| panic!("{e}"));
    let cases = [
        // 02:00-03:00 happens twice in Amsterdam on 31 October 2027.
        (
            "2027-10-31T00:00:00Z",
            ams,
            "Sun 31 Oct 2027, 02:00 CEST (Europe/Amsterdam)",
        ),
        (
            "2027-10-31T01:00:00Z",
            ams,
            "Sun 31 Oct 2027, 02:00 CET (Europe/Amsterdam)",
        ),
        (
            "2027-10-31T00:30:00Z",
            ams,
            "Sun 31 Oct 2027, 02:30 CEST (Europe/Amsterdam)",
        ),
        (
            "2027-10-31T01:30:00Z",
            ams,
            "Sun 31 Oct 2027, 02:30 CET (Europe/Amsterdam)",
        ),
        // Either side of the repeated hour a label needs no offset.
        (
            "2027-10-30T23:30:00Z",
            ams,
            "Sun 31 Oct 2027, 01:30 (Europe/Amsterdam)",
        ),
        (
            "2027-10-31T02:00:00Z",
            ams,
            "Sun 31 Oct 2027, 03:00 (Europe/Amsterdam)",
        ),
        // New York repeats 01:00-02:00 on 7 November 2027.
        (
            "2027-11-07T05:00:00Z",
            nyc,
            "Sun 7 Nov 2027, 01:00 EDT (America/New_York)",
        ),
        (
            "2027-11-07T06:00:00Z",
            nyc,
            "Sun 7 Nov 2027, 01:00 EST (America/New_York)",
        ),
    ];
    for (at, tz, expected) in cases {
        assert_eq!(label(utc(at), tz), expected, "{at}");
    }
    // Moscow went from +04 to +03 on 26 October 2014, MSK before and after: the offset tells.
    let msk = parse_tz("Europe/Moscow", "tz").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        label(utc("2014-10-25T21:30:00Z"), msk),
        "Sun 26 Oct 2014, 01:30 UTC+04:00 (Europe/Moscow)"
    );
    assert_eq!(
        label(utc("2014-10-25T22:30:00Z"), msk),
        "Sun 26 Oct 2014, 01:30 UTC+03:00 (Europe/Moscow)"
    );
    // Slots of a UTC agent, shown to an Amsterdam visitor: every label is different.
    let a = agent("UTC", on_day(Weekday::Sun, &[("00:00", "02:00")]), &PLAIN);
    let from = utc("2027-10-31T00:00:00Z");
    let got = slots(
        &a,
        &Busy::Known(vec![]),
        from,
        from + Duration::days(1),
        utc(EARLY),
    );
    let labels: Vec<String> = got.iter().map(|s| label(s.start, ams)).collect();
    let mut unique = labels.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(labels.len(), 4);
    assert_eq!(unique.len(), 4, "{labels:?}");
}

#[test]
fn horizon_is_calendar_days_in_the_agent_zone_not_hours() {
    // Amsterdam, Saturday 27 March 2027 21:00 CET; the Sunday that follows has 23 hours.
    // horizon_days 2 = Saturday (today, day 1, its hours are over) and Sunday: not the
    // 48 hours until Monday 21:00 CEST, which would take in Monday 09:00.
    let a = agent(
        "Europe/Amsterdam",
        WeeklyHours::every_day(&[("09:00", "10:00")]),
        &Opts {
            horizon: 2,
            ..PLAIN
        },
    );
    let now = utc("2027-03-27T20:00:00Z");
    let got = slots(&a, &Busy::Known(vec![]), now, now + Duration::days(5), now);
    assert_eq!(starts(&got), ["2027-03-28T07:00Z", "2027-03-28T07:30Z"]);
    // One minute before local midnight and one minute after: the horizon moves by a day.
    let before = utc("2027-03-27T22:59:00Z");
    let after = utc("2027-03-27T23:01:00Z");
    let days = |now| {
        let mut d: Vec<String> = slots(&a, &Busy::Known(vec![]), now, now + Duration::days(5), now)
            .iter()
            .map(|s| s.start.format("%m-%d").to_string())
            .collect();
        d.dedup();
        d
    };
    assert_eq!(days(before), ["03-28"]);
    assert_eq!(days(after), ["03-28", "03-29"]);
}
