//! Calendar-day arithmetic for rollups and retention (UTC, no clock read here).

const DAY_MS: i64 = 86_400_000;

/// Days since 1970-01-01 (UTC) of a time in ms.
pub fn day_number(ms: i64) -> i64 {
    ms.div_euclid(DAY_MS)
}

/// `YYYY-MM-DD` of a day number (Howard Hinnant's civil-from-days).
pub fn day_string(day: i64) -> String {
    dynchat_engine::date::ymd(day)
}

/// Day number of a `YYYY-MM-DD` string.
pub fn parse_day(s: &str) -> Option<i64> {
    let mut it = s.splitn(3, '-');
    let y: i64 = it.next()?.parse().ok()?;
    let m: i64 = it.next()?.parse().ok()?;
    let d: i64 = it.next()?.parse().ok()?;
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || s.len() != 10 {
        return None;
    }
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let n = era * 146_097 + doe - 719_468;
    (day_string(n) == s).then_some(n)
}

/// ISO 8601 UTC timestamp (`2027-03-01T09:00:00Z`) of a time in ms.
pub fn iso(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let rem = secs.rem_euclid(86_400);
    format!(
        "{}T{:02}:{:02}:{:02}Z",
        day_string(secs.div_euclid(86_400)),
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// The retention cut: rows from days before this day number are deleted.
pub fn retention_cutoff_day(now_ms: i64, keep_days: i64) -> i64 {
    day_number(now_ms) - keep_days
}

/// Start (ms) of the next UTC day: when a daily quota resets.
pub fn next_day_start(now_ms: i64) -> i64 {
    (day_number(now_ms) + 1) * DAY_MS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_days() {
        assert_eq!(day_string(0), "1970-01-01");
        assert_eq!(day_string(day_number(1_764_000_000_000)), "2025-11-24");
        for d in [-1000, 0, 59, 60, 11_016, 20_000, 40_000] {
            assert_eq!(parse_day(&day_string(d)), Some(d));
        }
        assert_eq!(parse_day("2024-02-30"), None);
        assert_eq!(parse_day("x"), None);
    }

    #[test]
    fn iso_and_cutoff() {
        assert_eq!(iso(1_764_000_000_000), "2025-11-24T16:00:00Z");
        let now = 1_764_000_000_000;
        assert_eq!(retention_cutoff_day(now, 90), day_number(now) - 90);
        assert_eq!(next_day_start(now) % DAY_MS, 0);
        assert!(next_day_start(now) > now);
    }
}
