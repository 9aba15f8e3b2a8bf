//! The editor's button actions: adding, moving and removing cards and rules, import, publish, rollback.

use super::cards::*;
use super::diagnostics::*;
use super::draft::*;
use super::form::*;
use super::route::{in_route, new_condition, new_rule};
use super::view::*;
use crate::store::{render, with, SITE};
use crate::{api, paths};
use dynchat_engine::Severity;
use serde_json::{json, Value};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::spawn_local;

/// Whether `name` is an editor action.
pub fn handles(name: &str) -> bool {
    matches!(
        name,
        "add-card"
            | "del"
            | "up"
            | "down"
            | "add-cond"
            | "add-group"
            | "add-button"
            | "add-rule"
            | "add-route-rule"
            | "toggle-free"
            | "publish"
            | "export"
            | "import-json"
            | "import-file"
            | "rollback"
            | "loadver"
            | "unpublish"
            | "goto"
            | "preview-page"
            | "preview-mode"
            | "preview-reset"
            | "preview-show"
            | "save-dm"
    )
}

pub(super) fn structural(f: impl FnOnce(&mut Value)) {
    with(|s| f(&mut s.draft));
    recompile();
    render();
    show_diagnostics();
}

/// Runs an editor action.
pub fn action(name: &str, arg: &str) {
    let arg = arg.to_string();
    match name {
        "add-card" => {
            let t = crate::dom::value_of("new-card-type");
            let mut new_id = String::new();
            structural(|d| {
                let n = d["cards"].as_array().map(Vec::len).unwrap_or(0);
                let mut i = n + 1;
                while d["cards"]
                    .as_array()
                    .is_some_and(|a| a.iter().any(|c| c["id"] == format!("{t}-{i}")))
                {
                    i += 1;
                }
                new_id = format!("{t}-{i}");
                paths::push(d, "$.cards", card_template(&t, &new_id));
            });
            let n = with(|s| s.draft["cards"].as_array().map(Vec::len).unwrap_or(1)) - 1;
            crate::dom::focus(&field_id(&format!("$.cards[{n}].id")));
        }
        "del" => structural(|d| paths::set(d, &arg, None)),
        "up" | "down" => {
            let mut moved = None;
            structural(|d| moved = paths::shift(d, &arg, if name == "up" { -1 } else { 1 }));
            if let Some(p) = moved {
                focus_moved(&p, name);
            }
        }
        "add-cond" => structural(|d| {
            let c = if in_route(&arg) {
                new_condition()
            } else {
                json!({"field": "page.url", "op": "contains", "value": ""})
            };
            paths::push(d, &arg, c)
        }),
        "add-group" => structural(|d| {
            let c = if in_route(&arg) {
                json!({ "any": [new_condition()] })
            } else {
                json!({"any": [{"field": "page.device", "op": "is", "value": "mobile"}]})
            };
            paths::push(d, &arg, c)
        }),
        "add-route-rule" => {
            let queues = with(|s| s.editor_queues.clone());
            let mut added = None;
            structural(|d| {
                let list = format!("{arg}.rules");
                paths::push(d, &list, new_rule(&queues));
                let n = paths::get(d, &list)
                    .and_then(Value::as_array)
                    .map_or(1, Vec::len);
                added = Some(format!("{list}[{}].when.all[0].field", n - 1));
            });
            if let Some(p) = added {
                crate::dom::focus(&field_id(&p));
            }
        }
        "add-button" => structural(|d| {
            paths::push(d, &format!("{arg}.buttons"), json!({"label": "New option"}))
        }),
        "add-rule" => structural(|d| {
            paths::push(
                d,
                &format!("{arg}.rules"),
                json!({"when": {"all": [{"field": "lead.email", "op": "is_not_empty"}]}, "next": ""}),
            )
        }),
        "toggle-free" => structural(|d| {
            let p = format!("{arg}.free_text");
            let on = paths::get(d, &p).is_some();
            paths::set(
                d,
                &p,
                if on {
                    None
                } else {
                    Some(json!({"placeholder": "Type your answer"}))
                },
            );
        }),
        "goto" => {
            if let Some(a) = anchor_for(&arg) {
                let target = a
                    .parent_element()
                    .and_then(|p| p.query_selector("[data-path]").ok().flatten())
                    .or_else(|| a.query_selector("[data-path]").ok().flatten());
                if let Some(h) = target.and_then(|t| t.dyn_into::<web_sys::HtmlElement>().ok()) {
                    let _ = h.focus();
                }
            }
        }
        "export" => {
            let (id, text) = with(|s| {
                (
                    s.draft["id"].as_str().unwrap_or("dialogue").to_string(),
                    serde_json::to_string_pretty(&s.draft).unwrap_or_default(),
                )
            });
            api::download(&format!("{id}.json"), "application/json", &(text + "\n"));
        }
        "import-json" => import_text(&crate::dom::value_of("json-text")),
        "import-file" => {
            let file = crate::dom::document()
                .get_element_by_id("json-file")
                .and_then(|e| e.dyn_into::<web_sys::HtmlInputElement>().ok())
                .and_then(|i| i.files())
                .and_then(|f| f.get(0));
            if let Some(f) = file {
                spawn_local(async move {
                    let text = wasm_bindgen_futures::JsFuture::from(f.text())
                        .await
                        .ok()
                        .and_then(|t| t.as_string())
                        .unwrap_or_default();
                    import_text(&text);
                });
            }
        }
        "publish" => spawn_local(publish()),
        "rollback" => spawn_local(rollback(arg)),
        "loadver" => spawn_local(async move {
            let a = api::call("GET", &format!("/v1/sites/{SITE}/flows/{arg}"), None).await;
            if a.ok() {
                with(|s| s.draft = a.body["dialogue"].clone());
                recompile();
                crate::store::notice(
                    true,
                    format!(
                        "Version {} is in the editor. Publish to make it live again.",
                        &arg[..arg.len().min(10)]
                    ),
                );
                show_diagnostics();
            } else {
                crate::store::notice(false, a.error());
            }
        }),
        "unpublish" => spawn_local(async {
            let Some(id) = with(|s| s.draft_id.clone()) else {
                return;
            };
            let a = api::call(
                "DELETE",
                &format!("/admin/sites/{SITE}/dialogues/{id}"),
                None,
            )
            .await;
            refresh_versions().await;
            crate::store::notice(
                a.ok(),
                if a.ok() {
                    "Unpublished: new visitors no longer see this dialogue.".to_string()
                } else {
                    a.error()
                },
            );
            show_diagnostics();
        }),
        "preview-show" => {
            with(|s| s.preview_on = true);
            render();
            show_diagnostics();
        }
        "preview-page" => {
            let p = crate::dom::value_of("preview-page");
            with(|s| s.preview_page = p.clone());
            reload_preview(&p);
        }
        "preview-mode" => {
            let published = crate::dom::value_of("preview-mode") == "published";
            with(|s| s.preview_published = published);
            render();
            show_diagnostics();
        }
        "preview-reset" => {
            if let Some(st) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) {
                let n = st.length().unwrap_or(0);
                let keys: Vec<String> = (0..n)
                    .filter_map(|i| st.key(i).ok().flatten())
                    .filter(|k| k.starts_with("dynchat:"))
                    .collect();
                for k in keys {
                    let _ = st.remove_item(&k);
                }
            }
            let p = with(|s| s.preview_page.clone());
            reload_preview(&p);
        }
        "save-dm" => spawn_local(async {
            let Some(id) = with(|s| s.draft_id.clone()) else {
                return;
            };
            let program = crate::dom::value_of("dm-program");
            let body = json!({
                "program_id": program.trim().parse::<i64>().ok(),
                "statuses": {"engaged": crate::dom::value_of("dm-engaged"), "captured": crate::dom::value_of("dm-captured"), "meeting": crate::dom::value_of("dm-meeting")}
            });
            let a = api::call(
                "PUT",
                &format!("/admin/console/sites/{SITE}/dialogues/{id}/marketo"),
                Some(&body),
            )
            .await;
            if a.ok() {
                with(|s| s.dialogue_marketo = a.body.clone());
            }
            crate::store::notice(
                a.ok(),
                if a.ok() {
                    "Marketo program saved.".to_string()
                } else {
                    a.error()
                },
            );
            show_diagnostics();
        }),
        _ => {}
    }
}

/// Keeps the keyboard where it was after a move: a card's id field, or the moved rule's button
/// (the other direction's when the rule reached the end of the list).
fn focus_moved(p: &str, dir: &str) {
    let doc = crate::dom::document();
    let other = if dir == "up" { "down" } else { "up" };
    let fid = field_id(p);
    [
        field_id(&format!("{p}.id")),
        format!("{fid}-{dir}"),
        format!("{fid}-{other}"),
    ]
    .into_iter()
    .find(|id| doc.get_element_by_id(id).is_some())
    .into_iter()
    .for_each(|id| crate::dom::focus(&id));
}

pub(super) fn reload_preview(p: &str) {
    if let Some(f) = crate::dom::document()
        .get_element_by_id("preview")
        .and_then(|e| e.dyn_into::<web_sys::HtmlIFrameElement>().ok())
    {
        // A unique query makes the frame load again even for the same page.
        let published = with(|s| s.preview_published);
        f.set_src(&preview_src(p, published, Some(js_sys::Date::now() as u64)));
    }
}

pub(super) fn import_text(text: &str) {
    match serde_json::from_str::<Value>(text) {
        Ok(v) if v.is_object() => {
            with(|s| s.draft = v);
            recompile();
            crate::store::notice(true, "JSON applied to the editor.");
            show_diagnostics();
        }
        Ok(_) => crate::store::notice(false, "The JSON must be one dialogue object."),
        Err(e) => crate::store::notice(false, format!("Not valid JSON: {e}")),
    }
}

async fn refresh_versions() {
    let a = api::call("GET", &format!("/admin/sites/{SITE}/dialogues"), None).await;
    if a.ok() {
        with(|s| s.versions = a.body["versions"].as_array().cloned().unwrap_or_default());
    }
}

async fn publish() {
    recompile();
    let (errors, draft) = with(|s| {
        (
            s.diags
                .iter()
                .filter(|d| d.severity == Severity::Error)
                .count(),
            s.draft.clone(),
        )
    });
    if errors > 0 {
        crate::store::notice(
            false,
            format!("Fix the {errors} error(s) listed under Problems before publishing."),
        );
        show_diagnostics();
        crate::dom::focus("diag-status");
        return;
    }
    let a = api::call(
        "POST",
        &format!("/admin/sites/{SITE}/dialogues"),
        Some(&draft),
    )
    .await;
    if !a.ok() {
        if let Some(d) = refusal_at_path(&a.body) {
            with(|s| s.diags.push(d));
        }
        crate::store::notice(false, format!("Publish failed: {}", a.error()));
        show_diagnostics();
        return;
    }
    let id = a.body["id"].as_str().unwrap_or("").to_string();
    let hash = a.body["hash"].as_str().unwrap_or("").to_string();
    refresh_versions().await;
    let was_new = with(|s| {
        let new = s.draft_id.as_deref() != Some(&id);
        s.draft_id = Some(id.clone());
        new
    });
    crate::store::notice(
        true,
        format!(
            "Published {id}: version {} is live for new visitors.",
            &hash[..hash.len().min(10)]
        ),
    );
    show_diagnostics();
    if was_new {
        // Keep the draft: the hash route would reload it from the live version, which is the same.
        with(|s| s.keep_notice = true);
        crate::store::go(&format!("#/dialogues/{id}"));
    }
}

async fn rollback(hash: String) {
    let Some(id) = with(|s| s.draft_id.clone()) else {
        return;
    };
    let a = api::call(
        "POST",
        &format!("/admin/sites/{SITE}/dialogues/{id}/publish"),
        Some(&json!({"hash": hash})),
    )
    .await;
    if a.ok() {
        let f = api::call("GET", &format!("/v1/sites/{SITE}/flows/{hash}"), None).await;
        if f.ok() {
            with(|s| s.draft = f.body["dialogue"].clone());
            recompile();
        }
    }
    refresh_versions().await;
    crate::store::notice(
        a.ok(),
        if a.ok() {
            format!("Rolled back: version {} is live for new visitors; conversations in progress finish on their version.", &hash[..hash.len().min(10)])
        } else {
            a.error()
        },
    );
    show_diagnostics();
}
