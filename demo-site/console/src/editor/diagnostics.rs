//! Diagnostics shown next to the field their JSON path names, and the summary above the form.

use crate::dom::{el, El};
use crate::paths;
use crate::store::with;
use dynchat_engine::Severity;
use wasm_bindgen::JsCast;

pub(super) fn diag_summary(diags: &[dynchat_engine::Diagnostic]) -> El {
    let errors = diags
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    let warnings = diags.len() - errors;
    if diags.is_empty() {
        return el("p")
            .cls("notice ok")
            .id("diag-status")
            .text("No problems: ready to publish.");
    }
    let head = el("p")
        .cls(if errors > 0 {
            "notice bad"
        } else {
            "notice warn"
        })
        .id("diag-status")
        .text(&format!("{errors} error(s), {warnings} warning(s)"));
    let mut ul = el("ul").cls("diags");
    for d in diags {
        let sev = if d.severity == Severity::Error {
            "Error"
        } else {
            "Warning"
        };
        ul = ul.child(
            el("li")
                .child(
                    el("button")
                        .attr("type", "button")
                        .cls("small")
                        .act(&format!("goto:{}", d.path))
                        .text(&format!("{sev} at {}", d.path)),
                )
                .text(&format!(" {}", d.message)),
        );
    }
    el("div").child(head).child(ul)
}

/// The worker's refusal of a publish as a diagnostic at the draft's path, when it names a field
/// of the dialogue (`dialogue.cards[0].route.rules[1].queue`: a queue the site does not have, a
/// lead field Marketo does not know), so it shows next to that field like the engine's own.
pub(super) fn refusal_at_path(body: &serde_json::Value) -> Option<dynchat_engine::Diagnostic> {
    let field = body.pointer("/error/field")?.as_str()?;
    let rest = field.strip_prefix("dialogue")?;
    if !(rest.is_empty() || rest.starts_with('.') || rest.starts_with('[')) {
        return None;
    }
    let message = body.pointer("/error/message")?.as_str()?;
    let message = message
        .strip_prefix(&format!("{field}: "))
        .unwrap_or(message);
    let code = body
        .pointer("/error/code")
        .and_then(serde_json::Value::as_str)
        .unwrap_or("refused");
    Some(dynchat_engine::Diagnostic::error(
        format!("${rest}"),
        code,
        format!("Publishing refused: {message}"),
    ))
}

/// Finds the control (or group) a diagnostic path belongs to, walking up the path.
pub(super) fn anchor_for(path: &str) -> Option<web_sys::Element> {
    let doc = crate::dom::document();
    let mut p = Some(path.to_string());
    while let Some(cur) = p {
        let sel_in = format!("[data-err-for=\"{}\"]", cur.replace('"', ""));
        if let Ok(Some(e)) = doc.query_selector(&sel_in) {
            return Some(e);
        }
        let sel_grp = format!("[data-err-anchor=\"{}\"]", cur.replace('"', ""));
        if let Ok(Some(e)) = doc.query_selector(&sel_grp) {
            return Some(e);
        }
        p = paths::parent(&cur).map(str::to_string);
    }
    None
}

/// Puts the current diagnostics into the page without re-rendering the form (keeps the caret).
pub fn show_diagnostics() {
    let doc = crate::dom::document();
    let diags = with(|s| s.diags.clone());
    if let Ok(list) = doc.query_selector_all("[data-err-for]") {
        for i in 0..list.length() {
            if let Some(e) = list
                .item(i)
                .and_then(|n| n.dyn_into::<web_sys::Element>().ok())
            {
                e.set_text_content(None);
            }
        }
    }
    if let Ok(list) = doc.query_selector_all("[aria-invalid], .group-err") {
        for i in 0..list.length() {
            if let Some(e) = list
                .item(i)
                .and_then(|n| n.dyn_into::<web_sys::Element>().ok())
            {
                let _ = e.remove_attribute("aria-invalid");
                if e.class_name() == "err group-err" {
                    e.remove();
                }
            }
        }
    }
    for d in &diags {
        let Some(a) = anchor_for(&d.path) else {
            continue;
        };
        let sev = if d.severity == Severity::Error {
            ""
        } else {
            "Warning: "
        };
        if a.has_attribute("data-err-for") {
            let prev = a.text_content().unwrap_or_default();
            a.set_text_content(Some(&format!(
                "{prev}{}{sev}{}",
                if prev.is_empty() { "" } else { " " },
                d.message
            )));
            if d.severity == Severity::Error {
                if let Some(ctrl) = a
                    .parent_element()
                    .and_then(|p| p.query_selector("[data-path]").ok().flatten())
                {
                    let _ = ctrl.set_attribute("aria-invalid", "true");
                }
            }
        } else {
            let note = el("p")
                .cls("err group-err")
                .text(&format!("{sev}{} ({})", d.message, d.path));
            let _ = a.prepend_with_node_1(&note.0);
        }
    }
    if let Some(panel) = doc.get_element_by_id("diag-panel") {
        panel.set_inner_html("");
        let _ = panel.append_child(&diag_summary(&diags).0);
    }
    if let Some(t) = doc
        .get_element_by_id("json-text")
        .and_then(|t| t.dyn_into::<web_sys::HtmlTextAreaElement>().ok())
    {
        if doc.active_element().map(|a| a.id()) != Some("json-text".into()) {
            t.set_value(&with(|s| {
                serde_json::to_string_pretty(&s.draft).unwrap_or_default()
            }));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::refusal_at_path;
    use serde_json::json;

    #[test]
    fn a_refused_dialogue_field_becomes_a_diagnostic_at_its_draft_path() {
        let body = json!({"error": {"code": "bad_field", "field": "dialogue.cards[2].route.rules[1].queue",
            "message": "dialogue.cards[2].route.rules[1].queue: queue `nosuch` is not a queue of this site"}});
        let d = refusal_at_path(&body).expect("a diagnostic");
        assert_eq!(d.path, "$.cards[2].route.rules[1].queue");
        assert_eq!(
            d.message,
            "Publishing refused: queue `nosuch` is not a queue of this site"
        );
        assert_eq!(d.severity, dynchat_engine::Severity::Error);
        for other in [
            json!({"error": {"field": "dialogues", "message": "x"}}),
            json!({"error": {"message": "internal error"}}),
            json!(null),
        ] {
            assert!(refusal_at_path(&other).is_none(), "{other}");
        }
    }
}
