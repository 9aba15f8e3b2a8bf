//! Free/busy for the three providers: request bodies to send and parsers of their answers.
//!
//! Parsers are pure functions over response bodies. A calendar that reports an error, or is
//! missing from an answer, becomes [`Busy::Unknown`] (not free). A body that cannot be read at
//! all is an `Err`; the caller should treat every calendar it asked about as unknown.

pub mod caldav;
pub mod google;
pub mod graph;

pub use crate::slots::Busy;
use chrono::{DateTime, NaiveDateTime, SecondsFormat, Utc};

/// `2027-03-01T09:00:00Z`, the form Google and Graph accept.
pub(crate) fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// `2027-03-01T09:00:00` without zone, for Graph's `{dateTime, timeZone}` pairs.
pub(crate) fn naive_seconds(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%dT%H:%M:%S").to_string()
}
