//! Microsoft Graph `POST /v1.0/me/calendar/getSchedule`: chunked request bodies and answer parser.
//!
//! Choice of statuses: `busy`, `oof` and `tentative` are busy (a tentative meeting is likely
//! to happen, and offering its time would invite a double booking); `free` and
//! `workingElsewhere` are not busy. A status this crate does not know is treated as busy.
//! Send the request with the header `Prefer: outlook.timezone="UTC"`.

use super::{naive_seconds, Busy};
use crate::error::SchedulingError;
use crate::slots::{normalize, Interval};
use chrono::{DateTime, Duration, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::Deserialize;
use std::collections::BTreeMap;

/// At most this many schedules per call (Graph's limit).
pub const MAX_SCHEDULES_PER_CALL: usize = 20;
/// At most this many days per call (Graph's limit).
pub const MAX_DAYS_PER_CALL: i64 = 62;

/// The header to send with every getSchedule call.
pub const PREFER_UTC: (&str, &str) = ("Prefer", "outlook.timezone=\"UTC\"");

/// One getSchedule call: its JSON body and what it covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphScheduleRequest {
    pub body: String,
    pub schedules: Vec<String>,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// The calls needed for `schedules` over `[from, to)`: at most 20 schedules and 62 days each.
pub fn graph_schedule_requests(
    schedules: &[&str],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    interval_minutes: u32,
) -> Vec<GraphScheduleRequest> {
    let mut windows = Vec::new();
    let mut start = from;
    while start < to {
        let end = (start + Duration::days(MAX_DAYS_PER_CALL)).min(to);
        windows.push((start, end));
        start = end;
    }
    let mut out = Vec::new();
    for chunk in schedules.chunks(MAX_SCHEDULES_PER_CALL) {
        for &(start, end) in &windows {
            let body = serde_json::json!({
                "schedules": chunk,
                "startTime": {"dateTime": naive_seconds(start.naive_utc()), "timeZone": "UTC"},
                "endTime": {"dateTime": naive_seconds(end.naive_utc()), "timeZone": "UTC"},
                "availabilityViewInterval": interval_minutes.clamp(5, 1440),
            })
            .to_string();
            out.push(GraphScheduleRequest {
                body,
                schedules: chunk.iter().map(|s| (*s).to_owned()).collect(),
                start,
                end,
            });
        }
    }
    out
}

/// A schedule item's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum GraphStatus {
    Free,
    Tentative,
    Busy,
    Oof,
    WorkingElsewhere,
    #[serde(other)]
    Unknown,
}

impl GraphStatus {
    pub fn is_busy(self) -> bool {
        match self {
            GraphStatus::Free | GraphStatus::WorkingElsewhere => false,
            GraphStatus::Tentative
            | GraphStatus::Busy
            | GraphStatus::Oof
            | GraphStatus::Unknown => true,
        }
    }
}

#[derive(Deserialize)]
struct Response {
    value: Vec<Schedule>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Schedule {
    schedule_id: String,
    #[serde(default)]
    schedule_items: Option<Vec<Item>>,
    #[serde(default)]
    error: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct Item {
    status: GraphStatus,
    start: GraphTime,
    end: GraphTime,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GraphTime {
    date_time: String,
    time_zone: String,
}

/// `2026-11-25T09:00:00.0000000` in the named zone (`UTC` or an IANA name) to UTC.
fn parse_time(t: &GraphTime) -> Option<DateTime<Utc>> {
    let naive = NaiveDateTime::parse_from_str(&t.date_time, "%Y-%m-%dT%H:%M:%S%.f").ok()?;
    if t.time_zone.eq_ignore_ascii_case("UTC") {
        return Some(naive.and_utc());
    }
    // Windows zone names ("Pacific Standard Time") are not understood: the schedule is unknown.
    let tz: Tz = t.time_zone.parse().ok()?;
    tz.from_local_datetime(&naive)
        .earliest()
        .map(|d| d.with_timezone(&Utc))
}

/// Busy time per schedule id (email address). A schedule with `error`, without items, or
/// with a time that cannot be read is [`Busy::Unknown`].
pub fn parse_graph_schedule(body: &str) -> Result<BTreeMap<String, Busy>, SchedulingError> {
    let response: Response = serde_json::from_str(body)
        .map_err(|e| SchedulingError::provider("graph", format!("getSchedule body: {e}")))?;
    Ok(response
        .value
        .into_iter()
        .map(|s| {
            let busy = match (s.error, s.schedule_items) {
                (None, Some(items)) => items
                    .iter()
                    .filter(|i| i.status.is_busy())
                    .map(|i| Some(Interval::new(parse_time(&i.start)?, parse_time(&i.end)?)))
                    .collect::<Option<Vec<_>>>()
                    .map_or(Busy::Unknown, |list| Busy::Known(normalize(&list))),
                _ => Busy::Unknown,
            };
            (s.schedule_id.to_ascii_lowercase(), busy)
        })
        .collect())
}

/// Combines the answers of all chunks into one [`Busy`] per schedule (lower-cased id). A
/// schedule is unknown if any call that covered it failed (`None`), did not mention it, or
/// reported it unknown.
pub fn merge_graph_answers(
    answers: &[(GraphScheduleRequest, Option<BTreeMap<String, Busy>>)],
) -> BTreeMap<String, Busy> {
    let mut merged: BTreeMap<String, Busy> = BTreeMap::new();
    for (request, answer) in answers {
        for id in &request.schedules {
            let key = id.to_ascii_lowercase();
            let part = answer
                .as_ref()
                .and_then(|a| a.get(&key).cloned())
                .unwrap_or(Busy::Unknown);
            let combined = match merged.remove(&key) {
                Some(prev) => prev.union(part),
                None => part,
            };
            merged.insert(key, combined);
        }
    }
    merged
}
