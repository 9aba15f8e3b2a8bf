//! Condition rows and all-of / any-of groups, bound to an `Audience` in the draft: the one
//! implementation the dialogue's audience, a branch card's rules and a meeting card's routing
//! rules all use.

use super::form::*;
use crate::dom::{el, El};
use crate::paths;
use dynchat_engine::model::Operator;
use serde_json::Value;

/// An all-of / any-of group editor at `path` (an `Audience` object).
pub(super) fn audience(path: &str, draft: &Value, depth: usize) -> El {
    let mut out = el("div").cls("group").attr("data-err-anchor", path);
    for (key, title) in [
        ("all", "All of these must hold"),
        ("any", "At least one of these must hold"),
    ] {
        let list_path = format!("{path}.{key}");
        let rules = paths::get(draft, &list_path)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        out = out.child(el("h3").text(title));
        for (i, r) in rules.iter().enumerate() {
            let rp = format!("{list_path}[{i}]");
            if r.get("field").is_some() || r.get("op").is_some() {
                out = out.child(condition(&rp, draft));
            } else {
                out = out.child(
                    el("div")
                        .child(audience(&rp, draft, depth + 1))
                        .child(small_btn(
                            "Remove group",
                            &format!("del:{rp}"),
                            "Remove this group",
                        )),
                );
            }
        }
        let mut row = el("div").cls("row").child(small_btn(
            "+ Condition",
            &format!("add-cond:{list_path}"),
            &format!("Add a condition: {title}"),
        ));
        if depth < 2 {
            row = row.child(small_btn(
                "+ Group",
                &format!("add-group:{list_path}"),
                &format!("Add a nested group: {title}"),
            ));
        }
        out = out.child(row);
    }
    out
}

pub(super) fn condition(path: &str, draft: &Value) -> El {
    let fid = field_id(&format!("{path}.field"));
    let field = el("div")
        .child(el("label").attr("for", &fid).text("Field"))
        .child(
            el("input")
                .id(&fid)
                .attr("type", "text")
                .attr("list", "field-names")
                .attr("data-path", &format!("{path}.field"))
                .attr("data-kind", "str")
                .value(&paths::text(draft, &format!("{path}.field")))
                .attr("aria-describedby", &format!("{fid}-err")),
        )
        .child(
            el("span")
                .cls("err")
                .id(&format!("{fid}-err"))
                .attr("data-err-for", &format!("{path}.field")),
        );
    let op = select_in(
        "Operator",
        &format!("{path}.op"),
        "str",
        draft,
        &operators(),
    );
    let vpath = format!("{path}.value");
    let vid = field_id(&vpath);
    let shown = match paths::get(draft, &vpath) {
        Some(Value::Array(a)) => a
            .iter()
            .map(|x| {
                x.as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| x.to_string())
            })
            .collect::<Vec<_>>()
            .join(", "),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(x) => x.to_string(),
    };
    let within_hint = if paths::text(draft, &format!("{path}.op")) == Operator::WithinDays.name() {
        within_days_hint()
    } else {
        String::new()
    };
    let value = el("div")
        .child(el("label").attr("for", &vid).text("Value"))
        .child(
            el("input")
                .id(&vid)
                .attr("type", "text")
                .attr("data-path", &vpath)
                .attr("data-kind", "value")
                .attr("placeholder", &within_hint)
                .value(&shown)
                .attr("aria-describedby", &format!("{vid}-err")),
        )
        .child(
            el("span")
                .cls("err")
                .id(&format!("{vid}-err"))
                .attr("data-err-for", &vpath),
        );
    el("div")
        .cls("cond")
        .attr("data-err-anchor", path)
        .child(field)
        .child(op)
        .child(value)
        .child(small_btn(
            "Remove",
            &format!("del:{path}"),
            "Remove this condition",
        ))
}
