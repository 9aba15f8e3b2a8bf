//! Typing in the editor's form: the value written into the draft at the input's path.

use super::cards::*;
use super::diagnostics::*;
use super::draft::*;
use super::route::switched;
use crate::paths;
use crate::store::{render, with};
use serde_json::{json, Value};
use wasm_bindgen::JsCast;

pub(super) fn parse_value(raw: &str, op: &str) -> Option<Value> {
    let raw = raw.trim();
    if raw.is_empty() {
        return None;
    }
    if op == "in_list" {
        return Some(Value::Array(
            raw.split(',')
                .map(|x| x.trim())
                .filter(|x| !x.is_empty())
                .map(|x| json!(x))
                .collect(),
        ));
    }
    if let Ok(n) = raw.parse::<i64>() {
        return Some(json!(n));
    }
    if let Ok(f) = raw.parse::<f64>() {
        return Some(json!(f));
    }
    match raw {
        "true" => Some(json!(true)),
        "false" => Some(json!(false)),
        _ => Some(json!(raw)),
    }
}

/// An edit in a bound control.
pub fn on_input(t: &web_sys::Element, is_change: bool) {
    let path = t.get_attribute("data-path").unwrap_or_default();
    let kind = t.get_attribute("data-kind").unwrap_or_default();
    let raw = if let Some(i) = t.dyn_ref::<web_sys::HtmlInputElement>() {
        if i.type_() == "checkbox" {
            i.checked().to_string()
        } else {
            i.value()
        }
    } else if let Some(x) = t.dyn_ref::<web_sys::HtmlTextAreaElement>() {
        x.value()
    } else if let Some(x) = t.dyn_ref::<web_sys::HtmlSelectElement>() {
        x.value()
    } else {
        return;
    };
    // Selects change the structure (card type, route kind, operator): apply on change only.
    if t.tag_name() == "SELECT" && !is_change {
        return;
    }
    let structural = matches!(kind.as_str(), "type" | "route-kind");
    with(|s| {
        let d = &mut s.draft;
        match kind.as_str() {
            "str" => paths::set(d, &path, Some(json!(raw))),
            "opt" => paths::set(
                d,
                &path,
                if raw.is_empty() {
                    None
                } else {
                    Some(json!(raw))
                },
            ),
            "num" => paths::set(
                d,
                &path,
                if raw.trim().is_empty() {
                    None
                } else {
                    Some(
                        raw.trim()
                            .parse::<i64>()
                            .map(|n| json!(n))
                            .unwrap_or_else(|_| json!(raw)),
                    )
                },
            ),
            "bool" => paths::set(d, &path, Some(json!(raw == "true"))),
            "value" => {
                let op = paths::text(
                    d,
                    &paths::parent(&path)
                        .map(|p| format!("{p}.op"))
                        .unwrap_or_default(),
                );
                paths::set(d, &path, parse_value(&raw, &op));
            }
            "type" => {
                let card = paths::parent(&path).unwrap_or("$").to_string();
                let id = paths::text(d, &format!("{card}.id"));
                paths::set(d, &card, Some(card_template(&raw, &id)));
            }
            "route-kind" => {
                let old = paths::get(d, &path).cloned().unwrap_or(Value::Null);
                paths::set(d, &path, Some(switched(&old, &raw, &s.editor_queues)));
            }
            _ => {}
        }
    });
    recompile();
    if structural {
        render();
    } else {
        show_diagnostics();
    }
}
