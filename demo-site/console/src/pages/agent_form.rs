//! The agent settings form shared by the Agents & queues page and My calendar (zone, working
//! hours with several ranges a day, meeting length, buffers, notice, horizon, video link), and
//! small table and button helpers.

pub(super) use crate::dom::small_button as button;
use crate::dom::{checkbox, el, input, value_of, El};
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

/// The worker's refusal of a save (`{"field","message"}` of its 400) as the form keeps it, from
/// an answer; `Null` when the answer is not a refusal naming a field.
pub(super) fn refusal(a: &crate::api::Answer) -> Value {
    match (a.ok(), a.body.pointer("/error/field")) {
        (false, Some(f)) => json!({"field": f, "message": a.body.pointer("/error/message")}),
        _ => Value::Null,
    }
}

/// The settings fields (zone, hours per day, length, buffers, notice, horizon, video), ids
/// `{p}-...`; `err` is the worker's last refusal ([`refusal`]), shown next to its field.
pub(super) fn settings_fields(p: &str, st: &Value, err: &Value) -> El {
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
    el("div")
        .child(zone)
        .child(days)
        .children(
            NUMBERS
                .iter()
                .map(|(label, id, key, d)| field(label, id, &n(key, *d), "number")),
        )
        .child(el("div").cls("field").child(checkbox(
            "Video link in invitations (Google Meet or Teams from the calendar, else the fixed link)",
            &format!("{p}-video"),
            st["video"] != false,
        )))
        .child(video_link_field(p, st, err))
}

/// The fixed video link (CalDAV calendars) with its hint and the worker's refusal of it.
fn video_link_field(p: &str, st: &Value, err: &Value) -> El {
    let id = format!("{p}-video_link");
    let hint = format!("{id}-hint");
    let refused = err["field"] == "settings.video_link";
    let control = el("input")
        .id(&id)
        .attr("type", "url")
        .attr("name", &id)
        .attr("aria-describedby", &format!("{hint} {id}-err"))
        .attr_opt("aria-invalid", refused.then_some("true"))
        .value(st["video_link"].as_str().unwrap_or(""));
    el("div")
        .cls("field")
        .child(
            el("label")
                .attr("for", &id)
                .text("Fixed video link (CalDAV calendars)")
                .child(control),
        )
        .child(el("span").cls("hint").id(&hint).text(
            "An https:// meeting room link put in every invitation of this agent; empty: none.",
        ))
        .child(
            el("div")
                .cls("err")
                .id(&format!("{id}-err"))
                .text(if refused {
                    err["message"].as_str().unwrap_or("")
                } else {
                    ""
                }),
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

/// The settings as the worker reads them: the stored ones (`base`, so a setting without a field
/// here, like `slot_step_minutes`, is kept) with the fields with prefix `p` over them.
pub(super) fn settings_from(p: &str, base: &Value) -> Value {
    let mut hours = json!({});
    for (d, _) in DAYS {
        hours[d] = ranges_of(&value_of(&format!("{p}-h-{d}")));
    }
    let mut out = match base {
        Value::Object(_) => base.clone(),
        _ => json!({}),
    };
    out["time_zone"] = json!(value_of(&format!("{p}-tz")).trim());
    out["working_hours"] = hours;
    for (_, id, key, _) in NUMBERS {
        out[key] = num(&format!("{p}-{id}"));
    }
    out["video"] = json!(value_of(&format!("{p}-video")) == "true");
    let link = value_of(&format!("{p}-video_link"));
    if let Some(o) = out.as_object_mut() {
        if link.trim().is_empty() {
            o.remove("video_link");
        } else {
            o.insert("video_link".into(), json!(link.trim()));
        }
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
