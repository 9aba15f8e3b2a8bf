//! Agent settings: IANA zone, weekly working hours, meeting length, buffers, notice, horizon.
//!
//! [`AgentSettingsInput`] is the serialized form (what the console sends and D1 stores);
//! [`AgentSettings`] is the validated form and can only be built through validation, so the
//! slot computation never meets an impossible setting.

use crate::error::SchedulingError;
use chrono::Weekday;
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// Minutes in a day; also the value of the end time "24:00".
pub const DAY_MINUTES: u16 = 24 * 60;

const MAX_MEETING_MINUTES: u32 = 12 * 60;
const MAX_BUFFER_MINUTES: u32 = 12 * 60;
const MAX_NOTICE_MINUTES: u32 = 90 * 24 * 60;
const MAX_HORIZON_DAYS: u32 = 365;
const MAX_RANGES_PER_DAY: usize = 12;

/// One working-hours range on a weekday, local wall-clock time in the agent's zone,
/// as `"HH:MM"`; `end` may be `"24:00"`.
///
/// An `end` earlier than `start` runs past midnight into the next day (a night shift such as
/// `22:00`-`02:00`; `"00:00"` as an end is the next midnight). Such a range belongs to the
/// weekday it starts on: that day's hours, that day for the horizon. It may not overlap the
/// next day's ranges, and `end` equal to `start` is refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeRange {
    pub start: String,
    pub end: String,
}

/// Working hours per weekday; a missing or empty day is a day off.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WeeklyHours {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mon: Vec<TimeRange>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tue: Vec<TimeRange>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub wed: Vec<TimeRange>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub thu: Vec<TimeRange>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fri: Vec<TimeRange>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sat: Vec<TimeRange>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sun: Vec<TimeRange>,
}

impl WeeklyHours {
    fn days(&self) -> [(&'static str, &Vec<TimeRange>); 7] {
        [
            ("mon", &self.mon),
            ("tue", &self.tue),
            ("wed", &self.wed),
            ("thu", &self.thu),
            ("fri", &self.fri),
            ("sat", &self.sat),
            ("sun", &self.sun),
        ]
    }

    /// The same ranges on Monday to Friday, nothing at the weekend.
    pub fn weekdays(ranges: &[(&str, &str)]) -> Self {
        let day: Vec<TimeRange> = ranges
            .iter()
            .map(|(s, e)| TimeRange {
                start: (*s).to_owned(),
                end: (*e).to_owned(),
            })
            .collect();
        WeeklyHours {
            mon: day.clone(),
            tue: day.clone(),
            wed: day.clone(),
            thu: day.clone(),
            fri: day,
            sat: Vec::new(),
            sun: Vec::new(),
        }
    }

    /// The same ranges on all seven days.
    pub fn every_day(ranges: &[(&str, &str)]) -> Self {
        let mut w = Self::weekdays(ranges);
        w.sat = w.mon.clone();
        w.sun = w.mon.clone();
        w
    }
}

fn default_horizon() -> u32 {
    14
}

/// Agent settings as serialized. Validate with [`AgentSettingsInput::validate`] or
/// deserialize [`AgentSettings`] directly (which validates).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentSettingsInput {
    /// IANA zone name, e.g. `Europe/Amsterdam`.
    pub time_zone: String,
    pub working_hours: WeeklyHours,
    pub meeting_minutes: u32,
    /// Distance between slot starts; defaults to the meeting length.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slot_step_minutes: Option<u32>,
    /// Free time required before a meeting, against the agent's busy events.
    #[serde(default)]
    pub buffer_before_minutes: u32,
    /// Free time required after a meeting, against the agent's busy events.
    #[serde(default)]
    pub buffer_after_minutes: u32,
    /// A slot must start at least this long after "now".
    #[serde(default)]
    pub min_notice_minutes: u32,
    /// How many calendar days of the agent's zone offer slots, today included: `1` is today
    /// only, `14` today and the 13 days after it. "Today" is the agent's local date at "now";
    /// days are calendar days (a 23- or 25-hour DST day is one day), not periods of 24 hours.
    /// A slot counts on the day its working range starts (a night shift's slots after
    /// midnight belong to the day before). Default 14, from 1 to 365.
    #[serde(default = "default_horizon")]
    pub horizon_days: u32,
    /// Whether the agent's meetings get a video link (default on): Google Meet or Teams
    /// through the calendar, the fixed `video_link` for CalDAV. `false` turns it off.
    #[serde(default = "default_video", skip_serializing_if = "is_true")]
    pub video: bool,
    /// The agent's fixed video link (an `https://` URL, at most 500 characters), used when the
    /// calendar cannot make one (CalDAV).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub video_link: Option<String>,
}

fn default_video() -> bool {
    true
}

fn is_true(b: &bool) -> bool {
    *b
}

/// The longest fixed video link an agent may set.
pub const MAX_VIDEO_LINK: usize = 500;

/// Checks a fixed video link: `https://`, a host, no spaces or control characters, at most
/// [`MAX_VIDEO_LINK`] characters. The error names `field`.
pub fn check_video_link(field: &str, link: &str) -> Result<(), SchedulingError> {
    if link.len() > MAX_VIDEO_LINK {
        return Err(SchedulingError::settings(
            field,
            format!("at most {MAX_VIDEO_LINK} characters"),
        ));
    }
    let rest = link
        .strip_prefix("https://")
        .ok_or_else(|| SchedulingError::settings(field, "must be an https:// URL"))?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_ok = !host.is_empty()
        && !host.contains('@')
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':'));
    if !host_ok {
        return Err(SchedulingError::settings(field, "must name a host"));
    }
    if link
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || c == '"' || c == '<' || c == '>')
    {
        return Err(SchedulingError::settings(
            field,
            "must not contain spaces, quotes, angle brackets or control characters",
        ));
    }
    Ok(())
}

/// Validated agent settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "AgentSettingsInput", into = "AgentSettingsInput")]
pub struct AgentSettings {
    tz: Tz,
    /// Index 0 = Monday; sorted, non-overlapping `(start, end)` minutes after local midnight;
    /// `end` is after 1440 for a range that runs past midnight.
    hours: [Vec<(u16, u16)>; 7],
    meeting_minutes: u32,
    slot_step_minutes: u32,
    buffer_before_minutes: u32,
    buffer_after_minutes: u32,
    min_notice_minutes: u32,
    horizon_days: u32,
    input: AgentSettingsInput,
}

impl AgentSettings {
    /// Parses and validates JSON; errors name the offending field as a JSON path.
    pub fn from_json(json: &str) -> Result<Self, SchedulingError> {
        let de = &mut serde_json::Deserializer::from_str(json);
        let input: AgentSettingsInput = serde_path_to_error::deserialize(de).map_err(|e| {
            let path = e.path().to_string();
            SchedulingError::settings(
                if path == "." { String::new() } else { path },
                e.inner().to_string(),
            )
        })?;
        input.validate()
    }

    pub fn tz(&self) -> Tz {
        self.tz
    }
    /// Working ranges starting on a weekday as minutes after that day's local midnight, sorted;
    /// `end` is greater than [`DAY_MINUTES`] for a range that runs past midnight into the
    /// next day (`22:00`-`02:00` is `(1320, 1560)`).
    pub fn ranges(&self, day: Weekday) -> &[(u16, u16)] {
        &self.hours[day.num_days_from_monday() as usize]
    }
    pub fn meeting_minutes(&self) -> u32 {
        self.meeting_minutes
    }
    pub fn slot_step_minutes(&self) -> u32 {
        self.slot_step_minutes
    }
    pub fn buffer_before_minutes(&self) -> u32 {
        self.buffer_before_minutes
    }
    pub fn buffer_after_minutes(&self) -> u32 {
        self.buffer_after_minutes
    }
    pub fn min_notice_minutes(&self) -> u32 {
        self.min_notice_minutes
    }
    pub fn horizon_days(&self) -> u32 {
        self.horizon_days
    }
    /// Whether meetings with this agent get a video link.
    pub fn video(&self) -> bool {
        self.input.video
    }
    /// The agent's fixed video link, if set (checked).
    pub fn video_link(&self) -> Option<&str> {
        self.input.video_link.as_deref()
    }
    /// The serialized form these settings were validated from.
    pub fn input(&self) -> &AgentSettingsInput {
        &self.input
    }
}

impl TryFrom<AgentSettingsInput> for AgentSettings {
    type Error = SchedulingError;
    fn try_from(input: AgentSettingsInput) -> Result<Self, Self::Error> {
        input.validate()
    }
}

impl From<AgentSettings> for AgentSettingsInput {
    fn from(s: AgentSettings) -> Self {
        s.input
    }
}

fn in_range(field: &str, value: u32, min: u32, max: u32) -> Result<u32, SchedulingError> {
    if value < min || value > max {
        return Err(SchedulingError::settings(
            field,
            format!("must be between {min} and {max}, got {value}"),
        ));
    }
    Ok(value)
}

/// Parses `"HH:MM"` into minutes after midnight; `"24:00"` only when `allow_24` is set.
fn parse_hhmm(s: &str, allow_24: bool) -> Option<u16> {
    let (h, m) = s.split_once(':')?;
    if h.len() != 2 || m.len() != 2 || !h.bytes().chain(m.bytes()).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let h: u16 = h.parse().ok()?;
    let m: u16 = m.parse().ok()?;
    match (h, m) {
        (24, 0) if allow_24 => Some(DAY_MINUTES),
        (0..=23, 0..=59) => Some(h * 60 + m),
        _ => None,
    }
}

/// A day's last range that runs past midnight must end before the next day's first range
/// starts (Sunday's runs into Monday).
fn check_past_midnight(
    input: &WeeklyHours,
    hours: &[Vec<(u16, u16)>; 7],
) -> Result<(), SchedulingError> {
    let days = input.days();
    for (i, day) in hours.iter().enumerate() {
        let Some(&(_, end)) = day.last() else {
            continue;
        };
        let spill = end.saturating_sub(DAY_MINUTES);
        let next = (i + 1) % 7;
        let Some(&(first, _)) = hours[next].first() else {
            continue;
        };
        if first < spill {
            let (name, ranges) = days[i];
            let (next_name, next_ranges) = days[next];
            let index_of = |ranges: &Vec<TimeRange>, minute: u16| {
                ranges
                    .iter()
                    .position(|r| parse_hhmm(&r.start, false) == Some(minute))
                    .unwrap_or(0)
            };
            let last_start = day.last().map_or(0, |r| r.0);
            return Err(SchedulingError::settings(
                format!(
                    "working_hours.{next_name}[{}]",
                    index_of(next_ranges, first)
                ),
                format!(
                    "overlaps working_hours.{name}[{}], which runs past midnight",
                    index_of(ranges, last_start)
                ),
            ));
        }
    }
    Ok(())
}

impl AgentSettingsInput {
    /// Checks every field; the error names the first offending one.
    pub fn validate(&self) -> Result<AgentSettings, SchedulingError> {
        let tz: Tz = self
            .time_zone
            .parse()
            .map_err(|_| SchedulingError::InvalidTimeZone {
                field: "time_zone".into(),
                value: self.time_zone.clone(),
            })?;
        let mut hours: [Vec<(u16, u16)>; 7] = Default::default();
        for (i, (name, ranges)) in self.working_hours.days().into_iter().enumerate() {
            if ranges.len() > MAX_RANGES_PER_DAY {
                return Err(SchedulingError::settings(
                    format!("working_hours.{name}"),
                    format!("at most {MAX_RANGES_PER_DAY} ranges a day"),
                ));
            }
            let mut day = Vec::with_capacity(ranges.len());
            for (j, r) in ranges.iter().enumerate() {
                let start = parse_hhmm(&r.start, false).ok_or_else(|| {
                    SchedulingError::settings(
                        format!("working_hours.{name}[{j}].start"),
                        format!("{:?} is not a time HH:MM from 00:00 to 23:59", r.start),
                    )
                })?;
                let end = parse_hhmm(&r.end, true).ok_or_else(|| {
                    SchedulingError::settings(
                        format!("working_hours.{name}[{j}].end"),
                        format!("{:?} is not a time HH:MM from 00:00 to 24:00", r.end),
                    )
                })?;
                if end == start {
                    return Err(SchedulingError::settings(
                        format!("working_hours.{name}[{j}].end"),
                        format!(
                            "{} equals start {}: a range needs a length (a whole day is 00:00-24:00)",
                            r.end, r.start
                        ),
                    ));
                }
                // An end before the start is on the next day (a night shift).
                let end = if end < start { end + DAY_MINUTES } else { end };
                day.push((start, end, j));
            }
            day.sort_unstable();
            for w in day.windows(2) {
                if w[1].0 < w[0].1 {
                    return Err(SchedulingError::settings(
                        format!("working_hours.{name}[{}]", w[1].2),
                        format!("overlaps working_hours.{name}[{}]", w[0].2),
                    ));
                }
            }
            hours[i] = day.into_iter().map(|(s, e, _)| (s, e)).collect();
        }
        check_past_midnight(&self.working_hours, &hours)?;
        if let Some(link) = &self.video_link {
            check_video_link("video_link", link)?;
        }
        let meeting_minutes = in_range(
            "meeting_minutes",
            self.meeting_minutes,
            5,
            MAX_MEETING_MINUTES,
        )?;
        let slot_step_minutes = match self.slot_step_minutes {
            Some(step) => in_range("slot_step_minutes", step, 5, MAX_MEETING_MINUTES)?,
            None => meeting_minutes,
        };
        Ok(AgentSettings {
            tz,
            hours,
            meeting_minutes,
            slot_step_minutes,
            buffer_before_minutes: in_range(
                "buffer_before_minutes",
                self.buffer_before_minutes,
                0,
                MAX_BUFFER_MINUTES,
            )?,
            buffer_after_minutes: in_range(
                "buffer_after_minutes",
                self.buffer_after_minutes,
                0,
                MAX_BUFFER_MINUTES,
            )?,
            min_notice_minutes: in_range(
                "min_notice_minutes",
                self.min_notice_minutes,
                0,
                MAX_NOTICE_MINUTES,
            )?,
            horizon_days: in_range("horizon_days", self.horizon_days, 1, MAX_HORIZON_DAYS)?,
            input: self.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn video_link_is_an_https_url() {
        let ok = |link: &str| {
            let mut v = base();
            v["video_link"] = serde_json::json!(link);
            AgentSettings::from_json(&v.to_string())
        };
        let s = ok("https://meet.example.com/agent-ann").expect("valid");
        assert_eq!(s.video_link(), Some("https://meet.example.com/agent-ann"));
        assert!(s.video());
        for bad in [
            "http://meet.example.com/x",
            "https:///x",
            "https://user@evil.example/x",
            "https://meet.example.com/a b",
            "javascript:alert(1)",
            &format!("https://h.example/{}", "a".repeat(500)),
        ] {
            let e = ok(bad).expect_err(bad);
            assert_eq!(e.field(), Some("video_link"), "{bad}");
        }
        let mut off = base();
        off["video"] = serde_json::json!(false);
        let s = AgentSettings::from_json(&off.to_string()).expect("off");
        assert!(!s.video());
        // Written back as it was read; the default is left out.
        let back = serde_json::to_value(s.input()).expect("json");
        assert_eq!(back["video"], serde_json::json!(false));
        let plain = AgentSettings::from_json(&base().to_string()).expect("plain");
        let back = serde_json::to_value(plain.input()).expect("json");
        assert!(back.get("video").is_none() && back.get("video_link").is_none());
    }

    fn base() -> serde_json::Value {
        serde_json::json!({
            "time_zone": "Europe/Amsterdam",
            "working_hours": {"mon": [{"start": "13:00", "end": "17:00"}, {"start": "09:00", "end": "12:00"}]},
            "meeting_minutes": 30
        })
    }

    fn err_field(v: serde_json::Value) -> String {
        match AgentSettings::from_json(&v.to_string()) {
            Ok(_) => panic!("accepted invalid settings {v}"),
            Err(e) => {
                assert_eq!(e.http_status(), 400);
                e.field().unwrap_or_default().to_owned()
            }
        }
    }

    #[test]
    fn valid_settings_sort_ranges_and_default() {
        let s = AgentSettings::from_json(&base().to_string()).expect("valid");
        assert_eq!(s.ranges(Weekday::Mon), &[(540, 720), (780, 1020)]);
        assert!(s.ranges(Weekday::Tue).is_empty());
        assert_eq!(s.slot_step_minutes(), 30);
        assert_eq!(s.horizon_days(), 14);
        assert_eq!(s.tz(), chrono_tz::Europe::Amsterdam);
        // Round trip through the serialized form.
        let json = serde_json::to_string(&s).expect("serialize");
        let back: AgentSettings = serde_json::from_str(&json).expect("deserialize");
        assert_eq!(back, s);
    }

    #[test]
    fn errors_name_the_field() {
        let cases: Vec<(&str, serde_json::Value, &str)> = vec![
            ("bad zone", serde_json::json!("Mars/Olympus"), "time_zone"),
            ("zero meeting", serde_json::json!(0), "meeting_minutes"),
        ];
        for (name, value, field) in cases {
            let mut v = base();
            v[field] = value;
            assert_eq!(err_field(v), field, "{name}");
        }
        let mut v = base();
        v["working_hours"]["mon"][1]["end"] = "09:00".into();
        assert_eq!(err_field(v), "working_hours.mon[1].end");
        // An end before the start runs past midnight: here into the 13:00 range.
        let mut v = base();
        v["working_hours"]["mon"][1]["end"] = "08:00".into();
        assert_eq!(err_field(v), "working_hours.mon[0]");
        let mut v = base();
        v["working_hours"]["mon"][0]["start"] = "25:00".into();
        assert_eq!(err_field(v), "working_hours.mon[0].start");
        let mut v = base();
        v["working_hours"]["mon"][0]["start"] = "11:00".into();
        assert_eq!(err_field(v), "working_hours.mon[0]");
        let mut v = base();
        v["horizon_days"] = 0.into();
        assert_eq!(err_field(v), "horizon_days");
        let mut v = base();
        v["buffer_after_minutes"] = (-5).into();
        assert_eq!(err_field(v), "buffer_after_minutes");
        let mut v = base();
        v["working_hours"]["mon"][0]["start"] = 9.into();
        assert_eq!(err_field(v), "working_hours.mon[0].start");
        let mut v = base();
        v["slot_step_minutes"] = 1.into();
        assert_eq!(err_field(v), "slot_step_minutes");
    }

    #[test]
    fn twenty_four_is_only_an_end() {
        assert_eq!(parse_hhmm("24:00", true), Some(1440));
        assert_eq!(parse_hhmm("24:00", false), None);
        assert_eq!(parse_hhmm("9:00", false), None);
        assert_eq!(parse_hhmm("09:60", false), None);
        assert_eq!(parse_hhmm("23:59", false), Some(1439));
    }
}
