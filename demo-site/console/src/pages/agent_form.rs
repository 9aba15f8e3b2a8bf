//! The agent settings form shared by the Agents & queues page and My calendar (zone, working
//! hours with several ranges a day, meeting length, buffers, notice, horizon), and small table
//! and button helpers.

pub(super) use crate::dom::small_button as button;
use crate::dom::{el, input, value_of, El};
use serde_json::{json, Value};

pub(super) const DAYS: [(&str, &str); 7] = [
    ("mon", "Monday"),
    ("tue", "Tuesday"),
    ("wed", "Wednesday"),
    ("thu", "Thursday"),
    ("fri", "Friday"),
    ("sat", "Saturday"),
    ("sun", "Sunday"),
];

/// `09:00-12:00, 13:00-17:00` from a day's ranges.
pub(super) fn ranges_text(v: &Value) -> String {
    v.as_array()
        .map(|r| {
            r.iter()
                .map(|x| {
                    format!(
                        "{}-{}",
                        x["start"].as_str().unwrap_or(""),
                        x["end"].as_str().unwrap_or("")
                    )
                })
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
}

/// A day's ranges from `09:00-12:00, 13:00-17:00`; the worker names a malformed one.
pub(super) fn ranges_of(text: &str) -> Value {
    let list: Vec<Value> = text
        .split(',')
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(|r| {
            let (a, b) = r.split_once('-').unwrap_or((r, ""));
            json!({"start": a.trim(), "end": b.trim()})
        })
        .collect();
    json!(list)
}

pub(super) fn num(id: &str) -> Value {
    let v = value_of(id);
    v.trim()
        .parse::<u64>()
        .map(|n| json!(n))
        .unwrap_or_else(|_| json!(v))
}

/// The settings fields (zone, hours per day, length, buffers, notice, horizon), ids `{p}-...`.
pub(super) fn settings_fields(p: &str, st: &Value) -> El {
    // A refused value (text where a number belongs) is shown as it was typed.
    let n = |k: &str, d: u64| match &st[k] {
        Value::String(v) => v.clone(),
        v => v.as_u64().unwrap_or(d).to_string(),
    };
    let mut days = el("fieldset").child(el("legend").text(
        "Working hours (several ranges a day: 09:00-12:00, 13:00-17:00; empty: not working)",
    ));
    for (d, label) in DAYS {
        days = days.child(el("div").cls("field").child(input(
            label,
            &format!("{p}-h-{d}"),
            &ranges_text(&st["working_hours"][d]),
            "text",
        )));
    }
    let field = |label: &str, id: &str, v: &str, kind: &str| {
        el("div")
            .cls("field")
            .child(input(label, &format!("{p}-{id}"), v, kind))
    };
    let zone = field(
        "Time zone (IANA, e.g. Europe/Amsterdam)",
        "tz",
        st["time_zone"].as_str().unwrap_or("UTC"),
        "text",
    );
    el("div").child(zone).child(days).children(
        NUMBERS
            .iter()
            .map(|(label, id, key, d)| field(label, id, &n(key, *d), "number")),
    )
}

/// The number settings: label, field id suffix, the worker's key and the default shown.
const NUMBERS: [(&str, &str, &str, u64); 5] = [
    ("Meeting length (minutes)", "len", "meeting_minutes", 30),
    ("Buffer before (minutes)", "bb", "buffer_before_minutes", 0),
    ("Buffer after (minutes)", "ba", "buffer_after_minutes", 0),
    (
        "Minimum notice (minutes)",
        "notice",
        "min_notice_minutes",
        60,
    ),
    ("Horizon (days)", "horizon", "horizon_days", 14),
];

/// The settings as the worker reads them, from the fields with prefix `p`.
pub(super) fn settings_from(p: &str) -> Value {
    let mut hours = json!({});
    for (d, _) in DAYS {
        hours[d] = ranges_of(&value_of(&format!("{p}-h-{d}")));
    }
    let mut out = json!({
        "time_zone": value_of(&format!("{p}-tz")).trim(),
        "working_hours": hours,
    });
    for (_, id, key, _) in NUMBERS {
        out[key] = num(&format!("{p}-{id}"));
    }
    out
}

pub(super) fn table(label: &str, head: &[&str], body: El) -> El {
    el("div")
        .cls("table-wrap")
        .attr("tabindex", "0")
        .attr("role", "region")
        .attr("aria-label", label)
        .child(
            el("table")
                .child(el("thead").child(
                    el("tr").children(head.iter().map(|h| el("th").attr("scope", "col").text(h))),
                ))
                .child(body),
        )
}
