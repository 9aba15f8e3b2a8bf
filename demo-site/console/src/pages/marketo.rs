//! The Marketo page: the connection, its test and the gate's state.

use crate::api;
use crate::dom::{el, input, title, El};
use crate::format::*;
use crate::store::{notice, with, State};

/// Loads the Marketo connection (never its secret) and the gate's state.
pub async fn load_marketo() {
    let a = api::call("GET", "/admin/console/marketo", None).await;
    with(|s| s.marketo = a.body.clone());
    if !a.ok() {
        notice(false, a.error());
    }
}

pub(super) fn marketo(s: &State) -> El {
    let c = &s.marketo["connection"];
    let secret_set = c["secret_set"] == true;
    let form = el("form")
        .act("save-marketo")
        .cls("box")
        .attr("aria-labelledby", "mc-h")
        .child(el("h2").id("mc-h").text("Connection"))
        .child(el("div").cls("field").child(input(
            "REST endpoint",
            "mk-endpoint",
            c["endpoint"].as_str().unwrap_or(""),
            "url",
        )))
        .child(el("div").cls("field").child(input(
            "Client id",
            "mk-client",
            c["client_id"].as_str().unwrap_or(""),
            "text",
        )))
        .child(
            el("div")
                .cls("field")
                .child(
                    input(
                        if secret_set {
                            "Client secret (stored encrypted; leave empty to keep it)"
                        } else {
                            "Client secret"
                        },
                        "mk-secret",
                        "",
                        "password",
                    )
                    .attr("autocomplete", "off"),
                )
                .child(
                    el("span")
                        .cls("hint")
                        .id("mk-secret-state")
                        .text(if secret_set {
                            "A secret is stored. It is never shown again."
                        } else {
                            "No secret stored yet."
                        }),
                ),
        )
        .child(
            el("div")
                .cls("row")
                .child(
                    el("button")
                        .attr("type", "submit")
                        .cls("primary")
                        .text("Save connection"),
                )
                .child(
                    el("button")
                        .attr("type", "button")
                        .act("test-marketo")
                        .text("Test connection"),
                ),
        );
    let last = &c["last_test"];
    let test = if last.is_null() {
        el("p").cls("hint").id("mk-test").text("Not tested yet.")
    } else {
        el("p")
            .cls(if last["ok"] == true {
                "notice ok"
            } else {
                "notice bad"
            })
            .id("mk-test")
            .text(&format!(
                "{} · {} · {}",
                if last["ok"] == true {
                    "Connected"
                } else {
                    "Failed"
                },
                last["message"].as_str().unwrap_or(""),
                date_time(last["at"].as_f64().unwrap_or(0.0))
            ))
    };
    let g = &s.marketo["gate"];
    let mut sync = el("dl").cls("kv");
    if let Some(o) = g.as_object() {
        for (k, v) in o.iter().take(16) {
            sync = sync
                .child(el("dt").text(k))
                .child(el("dd").text(&v.to_string()));
        }
    }
    el("div")
        .child(title("Marketo", "Where leads, activities and program memberships go."))
        .child(el("p").cls("notice warn").text("Once saved, lead forwarding, program membership, activities and trait lookups use this connection instead of the worker's MARKETO_* settings (within 10 seconds). Leads wait in the outbox while it does not work."))
        .child(
            el("div")
                .cls("grid2")
                .child(el("div").child(form).child(el("section").cls("box").attr("aria-labelledby", "mt-h").child(el("h2").id("mt-h").text("Last test")).child(test)))
                .child(
                    el("div")
                        .child(el("section").cls("box").attr("aria-labelledby", "ms-h").child(el("h2").id("ms-h").text("Sync state")).child(el("p").cls("hint").text("From the Marketo gate: calls in the window, daily quota, last sync.")).child(sync))
                        .child(el("section").cls("box").attr("aria-labelledby", "mp-h").child(el("h2").id("mp-h").text("Programs per dialogue")).child(el("p").text("Each dialogue's program and member statuses are set in its editor, under Marketo program.")).child(el("a").attr("href", "#/dialogues").text("Open the dialogues"))),
                ),
        )
}
