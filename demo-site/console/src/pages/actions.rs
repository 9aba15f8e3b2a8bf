//! The pages' button actions (everything but the editor's): what a click does, then the reload it needs.

use super::calendar::*;
use super::config::*;
use super::marketo::*;
use super::meetings::*;
use super::reports::*;
use crate::api;
use crate::dom::value_of;
use crate::store::{notice, render, with, SITE};
use serde_json::json;
use wasm_bindgen_futures::spawn_local;

/// Runs a page action (`data-act` name and argument).
pub fn action(name: &str, arg: &str) {
    let arg = arg.to_string();
    match name {
        "skip" => crate::dom::focus("page-title"),
        "cfg-preview" => {
            let c = with(|s| config_from_form(&s.site));
            if let Some(m) = crate::dom::document().get_element_by_id("cfg-mock") {
                m.set_inner_html("");
                let _ = m.append_child(&mock(&c).0);
            }
        }
        "copy-tag" => {
            let text = crate::dom::document()
                .get_element_by_id("script-tag")
                .and_then(|e| e.text_content())
                .unwrap_or_default();
            if let Some(w) = web_sys::window() {
                let _ = w.navigator().clipboard().write_text(&text);
            }
            notice(true, "Script tag copied.");
        }
        "save-config" => spawn_local(async {
            let site = with(|s| s.site.clone());
            let origins: Vec<String> = value_of("c-origins")
                .lines()
                .map(|l| l.trim().trim_end_matches('/').to_string())
                .filter(|l| !l.is_empty())
                .collect();
            let body = json!({"name": site["name"], "allowed_origins": origins, "config": config_from_form(&site), "lead_fields": site["lead_fields"], "marketo": site["marketo"]});
            let a = api::call("PUT", &format!("/admin/sites/{SITE}"), Some(&body)).await;
            if a.ok() {
                load_config().await;
            }
            notice(
                a.ok(),
                if a.ok() {
                    "Configuration saved. Visitors get it within a minute.".to_string()
                } else {
                    a.error()
                },
            );
        }),
        "qup" => queue_move(&arg, -1),
        "qdown" => queue_move(&arg, 1),
        "save-queue" => spawn_local(async move {
            let order = with(|s| {
                s.queue_order
                    .iter()
                    .find(|(q, _)| *q == arg)
                    .map(|(_, o)| o.clone())
                    .unwrap_or_default()
            });
            let a = api::call(
                "PUT",
                &format!("/admin/sites/{SITE}/queues/{arg}"),
                Some(&json!({"agents": order})),
            )
            .await;
            notice(
                a.ok(),
                if a.ok() {
                    format!("Queue {arg} saved.")
                } else {
                    a.error()
                },
            );
        }),
        "save-template" => spawn_local(async {
            let body = json!({"subject": value_of("tpl-subject"), "body": value_of("tpl-body"), "location": value_of("tpl-location")});
            let a = api::call(
                "PUT",
                &format!("/admin/sites/{SITE}/meeting-template"),
                Some(&body),
            )
            .await;
            notice(
                a.ok(),
                if a.ok() {
                    "Invitation saved.".to_string()
                } else {
                    a.error()
                },
            );
        }),
        "m-filter" => {
            with(|s| s.meeting_filter = (value_of("m-q"), value_of("m-status")));
            render();
        }
        "m-sort" => {
            with(|s| {
                let asc = if s.meeting_sort.0 == arg {
                    !s.meeting_sort.1
                } else {
                    true
                };
                s.meeting_sort = (arg.clone(), asc);
            });
            render();
        }
        "m-noshow" | "m-cancel" => {
            let verb = if name == "m-noshow" {
                "no-show"
            } else {
                "cancel"
            };
            spawn_local(async move {
                let done = format!("Meeting {arg}: {verb} recorded.");
                meeting_action(&arg, verb, json!({}), done).await;
            });
        }
        "m-reassign" => spawn_local(async move {
            let agent = value_of(&format!("m-ra-{arg}"));
            let done = format!("Meeting {arg}: reassigned to {agent}.");
            meeting_action(&arg, "reassign", json!({"agent": agent}), done).await;
        }),
        "export-csv" => {
            let rows = with(|s| meeting_rows(s));
            let mut csv = String::from("start,lead_email,lead_name,agent,dialogue,status\n");
            for m in rows {
                let cells = [
                    meeting_start(&m),
                    m["lead_email"].as_str().unwrap_or("").into(),
                    m["lead_name"].as_str().unwrap_or("").into(),
                    agent_label(&m),
                    m["dialogue"].as_str().unwrap_or("").into(),
                    m["status"].as_str().unwrap_or("").into(),
                ];
                csv += &(cells
                    .iter()
                    .map(|c| csv_cell(c))
                    .collect::<Vec<_>>()
                    .join(",")
                    + "\n");
            }
            api::download("meetings.csv", "text/csv", &csv);
        }
        "reports-range" => {
            with(|s| {
                s.reports.from = value_of("r-from");
                s.reports.to = value_of("r-to");
            });
            spawn_local(async {
                load_reports().await;
                render();
            });
        }
        "retry" => spawn_local(async move {
            let a = api::call(
                "POST",
                &format!("/admin/sites/{SITE}/dead-letters/{arg}/retry"),
                None,
            )
            .await;
            load_reports().await;
            notice(
                a.ok(),
                if a.ok() {
                    format!("Dead letter {arg} is back in the outbox.")
                } else {
                    a.error()
                },
            );
        }),
        "cal-oauth" => spawn_local(async move {
            let (id, provider) = arg.split_once('|').unwrap_or((arg.as_str(), ""));
            let a = api::call(
                "POST",
                &format!("/admin/sites/{SITE}/agents/{id}/calendar/connect"),
                Some(&json!({ "provider": provider })),
            )
            .await;
            match a.body["redirect_url"].as_str().filter(|_| a.ok()) {
                // To the provider's consent page; its callback brings the browser back here.
                Some(url) => {
                    if let Some(w) = web_sys::window() {
                        let _ = w.location().assign(url);
                    }
                }
                None => notice(false, a.error()),
            }
        }),
        "cal-caldav" => spawn_local(async move {
            let body = json!({
                "provider": "caldav",
                "url": value_of(&format!("cd-url-{arg}")),
                "username": value_of(&format!("cd-user-{arg}")),
                "password": value_of(&format!("cd-pass-{arg}")),
            });
            let a = api::call(
                "PUT",
                &format!("/admin/sites/{SITE}/agents/{arg}/calendar"),
                Some(&body),
            )
            .await;
            let me = with(|s| s.me.clone());
            if let Some(me) = me {
                load_calendar(&me).await;
            }
            notice(
                a.ok(),
                if a.ok() {
                    format!("Calendar login of {arg} saved; the agent is in rotation again.")
                } else {
                    a.error()
                },
            );
        }),
        "save-marketo" => spawn_local(async {
            let mut body =
                json!({"endpoint": value_of("mk-endpoint"), "client_id": value_of("mk-client")});
            let secret = value_of("mk-secret");
            if !secret.is_empty() {
                body["client_secret"] = json!(secret);
            }
            let a = api::call("PUT", "/admin/console/marketo", Some(&body)).await;
            if a.ok() {
                with(|s| s.marketo = a.body.clone());
            }
            notice(
                a.ok(),
                if a.ok() {
                    "Marketo connection saved.".to_string()
                } else {
                    a.error()
                },
            );
        }),
        "start-initial-sync" => spawn_local(async {
            let since = value_of("mi-since");
            let mut body = json!({"restart": true});
            if !since.trim().is_empty() {
                body["since"] = json!(since.trim());
            }
            let a = api::call("POST", "/admin/console/marketo/initial-sync", Some(&body)).await;
            load_marketo().await;
            notice(
                a.ok(),
                if a.ok() {
                    "Initial sync started; progress shows here.".to_string()
                } else {
                    a.error()
                },
            );
        }),
        "refresh-marketo" => spawn_local(async {
            load_marketo().await;
            render();
        }),
        "test-marketo" => spawn_local(async {
            let a = api::call("POST", "/admin/console/marketo/test", Some(&json!({}))).await;
            load_marketo().await;
            let msg = if a.ok() {
                format!("Test: {}", a.body["message"].as_str().unwrap_or(""))
            } else {
                a.error()
            };
            notice(a.ok() && a.body["ok"] == true, msg);
        }),
        _ if super::experiments::handles(name) => super::experiments::action(name, &arg),
        _ => {}
    }
}

/// A meeting's admin action (`POST meetings/{id}/{verb}`): the meetings reloaded, then `done` or
/// the worker's refusal as the notice.
async fn meeting_action(id: &str, verb: &str, body: serde_json::Value, done: String) {
    let a = api::call(
        "POST",
        &format!("/admin/sites/{SITE}/meetings/{id}/{verb}"),
        Some(&body),
    )
    .await;
    let me = with(|s| s.me.clone());
    if let Some(me) = me {
        load_meetings(&me).await;
    }
    notice(a.ok(), if a.ok() { done } else { a.error() });
}
