//! The editor's form inputs, each bound to a JSON path of the draft, and the choices they offer.

use crate::dom::{el, El};
use crate::paths;
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

pub(super) const OPERATORS: [(&str, &str); 13] = [
    ("is", "is"),
    ("is_not", "is not"),
    ("contains", "contains"),
    ("not_contains", "does not contain"),
    ("starts_with", "starts with"),
    ("is_empty", "is empty"),
    ("is_not_empty", "is not empty"),
    ("greater_than", "greater than"),
    ("less_than", "less than"),
    ("in_list", "in list"),
    ("matches", "matches (wildcards)"),
    ("not_matches", "does not match"),
    ("between", "between"),
];

pub(super) const FIELDS: [&str; 22] = [
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
    "company.Name",
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
