//! The editor's form inputs, each bound to a JSON path of the draft, and the choices they offer.

use crate::dom::{el, El};
use crate::paths;
use dynchat_engine::model::Operator;
use dynchat_engine::targeting::{ACTIVITY_TYPES, MAX_ACTIVITY_DAYS};
use serde_json::Value;
use wasm_bindgen::JsCast;

pub(super) const CARD_TYPES: [(&str, &str); 8] = [
    ("message", "Message"),
    ("question", "Question"),
    ("capture", "Info capture"),
    ("meeting", "Meeting booking"),
    ("goal", "Goal"),
    ("branch", "Branch"),
    ("document", "Document"),
    ("end", "End"),
];

/// The operator dropdown: every operator the engine compiles ([`Operator::ALL`]), labelled.
pub(super) fn operators() -> Vec<(&'static str, &'static str)> {
    Operator::ALL
        .iter()
        .map(|&o| (o.name(), op_label(o)))
        .collect()
}

fn op_label(op: Operator) -> &'static str {
    match op {
        Operator::Is => "is",
        Operator::IsNot => "is not",
        Operator::Contains => "contains",
        Operator::NotContains => "does not contain",
        Operator::StartsWith => "starts with",
        Operator::IsEmpty => "is empty",
        Operator::IsNotEmpty => "is not empty",
        Operator::GreaterThan => "greater than",
        Operator::LessThan => "less than",
        Operator::InList => "in list",
        Operator::Matches => "matches (wildcards)",
        Operator::NotMatches => "does not match",
        Operator::Between => "between",
        Operator::WithinDays => "within the last N days",
    }
}

/// The field suggestions: the common page / lead / company fields, then one `activity.<type>`
/// per Marketo activity the engine knows ([`ACTIVITY_TYPES`]).
pub(super) fn fields() -> Vec<String> {
    FIELDS
        .iter()
        .map(|f| f.to_string())
        .chain(ACTIVITY_TYPES.iter().map(|(n, _)| format!("activity.{n}")))
        .collect()
}

/// The value hint for `within_days` (the engine's limit, [`MAX_ACTIVITY_DAYS`]).
pub(super) fn within_days_hint() -> String {
    format!("days, 1-{MAX_ACTIVITY_DAYS}")
}

const FIELDS: [&str; 22] = [
    "page.url",
    "page.path",
    "page.title",
    "page.referrer",
    "page.utm.campaign",
    "page.utm.source",
    "page.utm.medium",
    "page.time_on_page",
    "page.scroll_depth",
    "page.visits",
    "page.exit_intent",
    "page.device",
    "page.country",
    "page.local_time",
    "page.weekday",
    "lead.email",
    "lead.FirstName",
    "lead.leadStatus",
    "company.industry",
    "company.company",
    "page.query.ref",
    "page.utm.content",
];

/// Control ids come from paths: `$.cards[2].next` -> `f-cards-2-next`.
pub fn field_id(path: &str) -> String {
    let mut id = String::from("f");
    for c in path.trim_start_matches('$').chars() {
        if c.is_ascii_alphanumeric() || c == '_' {
            id.push(c);
        } else if !id.ends_with('-') {
            id.push('-');
        }
    }
    id.trim_end_matches('-').to_string()
}

pub(super) fn input_for(
    label: &str,
    path: &str,
    kind: &str,
    draft: &Value,
    input_type: &str,
) -> El {
    let id = field_id(path);
    let err = format!("{id}-err");
    let value = paths::text(draft, path);
    let control = if input_type == "textarea" {
        el("textarea").attr("rows", "2")
    } else {
        el("input").attr("type", input_type)
    };
    let control = control
        .id(&id)
        .attr("data-path", path)
        .attr("data-kind", kind)
        .attr("aria-describedby", &err)
        .value(&value);
    el("div")
        .cls("field")
        .child(el("label").attr("for", &id).text(label))
        .child(control)
        .child(el("span").cls("err").id(&err).attr("data-err-for", path))
}

pub(super) fn text_in(label: &str, path: &str, draft: &Value) -> El {
    input_for(label, path, "str", draft, "text")
}

pub(super) fn opt_in(label: &str, path: &str, draft: &Value) -> El {
    input_for(label, path, "opt", draft, "text")
}

pub(super) fn area(label: &str, path: &str, draft: &Value) -> El {
    input_for(label, path, "str", draft, "textarea")
}

pub(super) fn num_in(label: &str, path: &str, draft: &Value) -> El {
    input_for(label, path, "num", draft, "number")
}

pub(super) fn next_in(label: &str, path: &str, draft: &Value) -> El {
    let e = input_for(label, path, "opt", draft, "text");
    if let Ok(Some(i)) = e.0.query_selector("input") {
        let _ = i.set_attribute("list", "card-ids");
    }
    e
}

pub(super) fn check_in(label: &str, path: &str, draft: &Value) -> El {
    let id = field_id(path);
    // `display.hide_after_completion` defaults to true in the format; the others to false.
    let on = paths::get(draft, path)
        .and_then(Value::as_bool)
        .unwrap_or(path.ends_with("hide_after_completion"));
    let i = el("input")
        .id(&id)
        .attr("type", "checkbox")
        .attr("data-path", path)
        .attr("data-kind", "bool");
    if let Some(x) = i.0.dyn_ref::<web_sys::HtmlInputElement>() {
        x.set_checked(on);
    }
    el("div")
        .cls("field")
        .child(
            el("label")
                .cls("check")
                .attr("for", &id)
                .child(i)
                .text(label),
        )
        .child(
            el("span")
                .cls("err")
                .id(&format!("{id}-err"))
                .attr("data-err-for", path),
        )
}

pub(super) fn select_in(
    label: &str,
    path: &str,
    kind: &str,
    draft: &Value,
    options: &[(&str, &str)],
) -> El {
    let id = field_id(path);
    let current = paths::text(draft, path);
    let s = crate::dom::select(&id, &current, options)
        .attr("data-path", path)
        .attr("data-kind", kind)
        .attr("aria-describedby", &format!("{id}-err"));
    el("div")
        .cls("field")
        .child(el("label").attr("for", &id).text(label))
        .child(s)
        .child(
            el("span")
                .cls("err")
                .id(&format!("{id}-err"))
                .attr("data-err-for", path),
        )
}

pub(super) fn small_btn(label: &str, act: &str, aria: &str) -> El {
    crate::dom::small_button(act, label, aria)
}
