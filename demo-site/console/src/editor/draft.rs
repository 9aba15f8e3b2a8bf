//! Loading a dialogue into the draft and recompiling the draft (inside this wasm) after each change.

use super::cards::*;
use crate::api;
use crate::store::{with, SITE};
use dynchat_engine::Options;
use serde_json::{json, Value};

/// Loads the draft: the live (or newest) version of `id`, or a new dialogue.
pub async fn load(id: Option<String>) {
    let versions = api::call("GET", &format!("/admin/sites/{SITE}/dialogues"), None).await;
    let site = api::call("GET", &format!("/admin/sites/{SITE}"), None).await;
    let list = versions.body["versions"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mut draft = new_dialogue();
    if let Some(id) = &id {
        let mine: Vec<&Value> = list
            .iter()
            .filter(|v| v["dialogue"].as_str() == Some(id))
            .collect();
        let pick = mine
            .iter()
            .find(|v| v["live"] == 1)
            .or(mine.last())
            .and_then(|v| v["hash"].as_str())
            .map(str::to_string);
        if let Some(hash) = pick {
            let a = api::call("GET", &format!("/v1/sites/{SITE}/flows/{hash}"), None).await;
            if a.ok() {
                draft = a.body["dialogue"].clone();
            } else {
                crate::store::notice(
                    false,
                    format!("Could not load version {hash}: {}", a.error()),
                );
            }
        }
    }
    let dm = match &id {
        Some(i) => {
            api::call(
                "GET",
                &format!("/admin/console/sites/{SITE}/dialogues/{i}/marketo"),
                None,
            )
            .await
            .body
        }
        None => Value::Null,
    };
    let queues = api::call("GET", &format!("/admin/sites/{SITE}/queues"), None).await;
    let queues = super::route::queue_choices(&queues.body);
    with(|s| {
        s.editor_queues = queues;
        s.versions = list;
        s.site = site.body;
        s.draft = draft;
        s.draft_id = id;
        s.dialogue_marketo = dm;
    });
    recompile();
}

pub(super) fn lead_fields() -> Option<Vec<String>> {
    with(|s| {
        s.site["lead_fields"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect::<Vec<_>>()
            })
            .filter(|l| !l.is_empty())
    })
}

/// Compiles the draft in the browser and stores the diagnostics (errors and warnings).
pub fn recompile() {
    let text = with(|s| s.draft.to_string());
    let opts = Options {
        lead_fields: lead_fields(),
    };
    let diags = match dynchat_engine::compile_with(&text, &opts) {
        Ok(flow) => {
            offer_draft(&flow);
            flow.warnings
        }
        Err(d) => d,
    };
    with(|s| s.diags = diags);
}

/// Hands the draft's compiled flow to the preview frame: the frame's loader (same origin, URL
/// flag `dynchat-preview=draft`) reads `window.parent.dynchatPreview` and runs it instead of the
/// published dialogues, without storing or sending anything. Only a draft without errors gets
/// here, so the frame always shows the last draft that compiles.
pub(super) fn offer_draft(flow: &dynchat_engine::CompiledFlow) {
    let entry = json!({
        "id": flow.id,
        "hash": flow.hash,
        "flow": serde_json::from_str::<Value>(&flow.to_wire()).unwrap_or(Value::Null),
    });
    if let Some(w) = web_sys::window() {
        let _ = js_sys::Reflect::set(&w, &"dynchatPreview".into(), &entry.to_string().into());
    }
}
