//! Google Calendar `POST /calendar/v3/freeBusy`: request body and answer parser.

use super::{rfc3339, Busy};
use crate::error::SchedulingError;
use crate::slots::{normalize, Interval};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use std::collections::BTreeMap;

/// The JSON body asking for the busy times of `calendar_ids` in `[from, to)`, in UTC.
pub fn google_freebusy_request(
    calendar_ids: &[&str],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> String {
    serde_json::json!({
        "timeMin": rfc3339(from),
        "timeMax": rfc3339(to),
        "timeZone": "UTC",
        "items": calendar_ids.iter().map(|id| serde_json::json!({"id": id})).collect::<Vec<_>>(),
    })
    .to_string()
}

#[derive(Deserialize)]
struct Response {
    calendars: BTreeMap<String, Calendar>,
}

#[derive(Deserialize)]
struct Calendar {
    #[serde(default)]
    busy: Vec<Span>,
    #[serde(default)]
    errors: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
struct Span {
    start: String,
    end: String,
}

fn parse_span(s: &Span) -> Option<Interval> {
    let start = DateTime::parse_from_rfc3339(&s.start)
        .ok()?
        .with_timezone(&Utc);
    let end = DateTime::parse_from_rfc3339(&s.end)
        .ok()?
        .with_timezone(&Utc);
    Some(Interval::new(start, end))
}

/// Busy time per calendar id. A calendar with `errors`, or with a time that cannot be read,
/// is [`Busy::Unknown`].
pub fn parse_google_freebusy(body: &str) -> Result<BTreeMap<String, Busy>, SchedulingError> {
    let response: Response = serde_json::from_str(body)
        .map_err(|e| SchedulingError::provider("google", format!("freeBusy body: {e}")))?;
    Ok(response
        .calendars
        .into_iter()
        .map(|(id, cal)| {
            let busy = if !cal.errors.is_empty() {
                Busy::Unknown
            } else {
                match cal.busy.iter().map(parse_span).collect::<Option<Vec<_>>>() {
                    Some(list) => Busy::Known(normalize(&list)),
                    None => Busy::Unknown,
                }
            };
            (id, busy)
        })
        .collect())
}

/// The busy time of one calendar of a parsed answer; absent from the answer means unknown.
pub fn google_calendar_busy(parsed: &BTreeMap<String, Busy>, calendar_id: &str) -> Busy {
    parsed.get(calendar_id).cloned().unwrap_or(Busy::Unknown)
}
