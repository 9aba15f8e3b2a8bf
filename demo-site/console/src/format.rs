//! Dates as the console shows them (UTC), shared by the pages and the editor.

/// `YYYY-MM-DD HH:MM UTC` from ms.
pub fn date_time(ms: f64) -> String {
    let iso = js_sys::Date::new(&ms.into())
        .to_iso_string()
        .as_string()
        .unwrap_or_default();
    format!(
        "{} {} UTC",
        iso.get(..10).unwrap_or(""),
        iso.get(11..16).unwrap_or("")
    )
}

pub(super) fn day(ms: f64) -> String {
    js_sys::Date::new(&ms.into())
        .to_iso_string()
        .as_string()
        .unwrap_or_default()
        .get(..10)
        .unwrap_or("")
        .to_string()
}

pub(super) fn day_ms(d: &str) -> Option<f64> {
    let t = js_sys::Date::parse(&format!("{d}T00:00:00Z"));
    (d.len() == 10 && !t.is_nan()).then_some(t)
}

pub(super) const DAY_MS: f64 = 86_400_000.0;

/// `2027-03-01T09:00:00Z` -> `2027-03-01 09:00`.
pub(super) fn iso_short(t: &str) -> String {
    t.get(..16).unwrap_or(t).replace('T', " ")
}
