//! Wall-clock helpers of the end-to-end tests: now, days from today, and ISO instants, with the
//! calendar math from `dynchat_engine::date` (one home for civil dates).

use dynchat_engine::date::ymd;
use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch (0 if the clock is before it).
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Seconds since the Unix epoch (0 if the clock is before it).
pub fn now_s() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Unix second of the day `days` from today (UTC) at `minute` after midnight.
pub fn at_s(days: i64, minute: i64) -> i64 {
    (now_s() / 86_400 + days) * 86_400 + minute * 60
}

/// `YYYY-MM-DDTHH:MM:00Z` of the day `days` from today (UTC) at `minute` after midnight.
pub fn at(days: i64, minute: i64) -> String {
    iso_minute(at_s(days, minute))
}

/// `YYYY-MM-DDTHH:MM:00Z` of a Unix second (seconds dropped).
pub fn iso_minute(t: i64) -> String {
    let secs = t.rem_euclid(86_400);
    format!(
        "{}T{:02}:{:02}:00Z",
        ymd(t.div_euclid(86_400)),
        secs / 3600,
        (secs % 3600) / 60
    )
}

/// `YYYY-MM-DDTHH:MM:SSZ` of a Unix second.
pub fn iso_second(t: i64) -> String {
    let secs = t.rem_euclid(86_400);
    format!(
        "{}T{:02}:{:02}:{:02}Z",
        ymd(t.div_euclid(86_400)),
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// `YYYY-MM-DDTHH:MM:SSZ` of this instant `days` days ago.
pub fn iso_days_ago(days: i64) -> String {
    iso_second(now_s() - days * 86_400)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_forms() {
        assert_eq!(iso_minute(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso_minute(951_782_459), "2000-02-29T00:00:00Z");
        assert_eq!(iso_second(951_782_459), "2000-02-29T00:00:59Z");
        assert_eq!(iso_second(-1), "1969-12-31T23:59:59Z");
    }
}
