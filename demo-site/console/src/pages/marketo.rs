//! The Marketo page: the connection, its test, the gate's state and the initial sync's progress
//! (with how the rules' lead and company fields map to the instance's).

use crate::api;
use crate::dom::{el, input, title, El};
use crate::format::*;
use crate::store::{notice, with, State};

/// Loads the Marketo connection (never its secret) and the gate's state.
pub async fn load_marketo() {
    let a = api::call("GET", "/admin/console/marketo", None).await;
    let initial = api::call("GET", "/admin/console/marketo/initial-sync", None).await;
    with(|s| {
        s.marketo = a.body.clone();
        s.marketo["initial"] = initial.body.clone();
    });
    if !a.ok() {
        notice(false, a.error());
    }
}

/// The initial sync: progress, errors, the field mapping, and the form that starts it.
fn initial_sync(s: &State) -> El {
    let i = &s.marketo["initial"];
    let r = &i["sync"];
    let num = |k: &str| r[k].as_i64().unwrap_or(0).to_string();
    let percent = i["percent"].as_f64().unwrap_or(0.0);
    let mut state = el("dl").cls("kv");
    if r.is_null() {
        state = state
            .child(el("dt").text("State"))
            .child(el("dd").text("Not started"));
    } else {
        let phase = r["phase"].as_str().unwrap_or("");
        for (k, v) in [
            ("State", phase.to_string()),
            ("Leads stored", num("rows_done")),
            ("Without email (skipped)", num("rows_skipped")),
            ("With their company record", num("companies_done")),
            (
                "31-day windows",
                format!("{} of {}", num("windows_done"), num("windows_total")),
            ),
            ("Export jobs", num("jobs_created")),
            ("Marketo calls", num("calls")),
            ("Errors", num("errors")),
            (
                "Started",
                date_time(r["started_at"].as_f64().unwrap_or(0.0)),
            ),
        ] {
            state = state.child(el("dt").text(k)).child(el("dd").text(&v));
        }
        if let Some(f) = r["finished_at"].as_f64() {
            state = state
                .child(el("dt").text("Finished"))
                .child(el("dd").text(&date_time(f)));
        }
    }
    let error = r["last_error"].as_str().map(|e| {
        el("p")
            .cls(if r["phase"] == "failed" {
                "notice bad"
            } else {
                "notice warn"
            })
            .id("mi-error")
            .text(&format!("Last error: {e}"))
    });
    let mut fields = el("ul").id("mi-fields");
    let company = i["company_fields"].as_array().into_iter().flatten();
    for f in i["fields"].as_array().into_iter().flatten().chain(company) {
        let name = f["field"].as_str().unwrap_or("");
        let line = match (f["marketo"].as_str(), f["error"].as_str()) {
            (_, Some(e)) => el("li").cls("bad").text(e),
            (Some(m), None) => el("li").text(&format!("{name} reads Marketo's {m}")),
            _ => el("li").text(name),
        };
        fields = fields.child(line);
    }
    let form =
        el("form")
            .act("start-initial-sync")
            .child(el("div").cls("field").child(input(
                "Leads created since (YYYY-MM-DD; empty: one year back)",
                "mi-since",
                "",
                "text",
            )))
            .child(
                el("div")
                    .cls("row")
                    .child(el("button").attr("type", "submit").cls("primary").text(
                        if r.is_null() {
                            "Start initial sync"
                        } else {
                            "Start over"
                        },
                    ))
                    .child(
                        el("button")
                            .attr("type", "button")
                            .act("refresh-marketo")
                            .text("Refresh"),
                    ),
            );
    let mut section = el("section")
        .cls("box")
        .attr("aria-labelledby", "mi-h")
        .child(el("h2").id("mi-h").text("Initial sync"))
        .child(el("p").cls("hint").text("Every lead's rule fields through Marketo's Bulk Extract, once, with each lead's company record through the Companies API when a rule reads one; then lead changes every minute. It runs in the background within Marketo's limits and resumes after a restart."))
        .child(
            el("progress")
                .id("mi-progress")
                .attr("max", "100")
                .attr("value", &percent.to_string())
                .attr("aria-label", "Initial sync progress"),
        )
        .child(el("p").id("mi-percent").text(&format!("{percent}%")))
        .child(state);
    if let Some(e) = error {
        section = section.child(e);
    }
    section
        .child(el("h3").text("Rule fields in Marketo"))
        .child(fields)
        .child(form)
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
                        .child(initial_sync(s))
                        .child(el("section").cls("box").attr("aria-labelledby", "ms-h").child(el("h2").id("ms-h").text("Sync state")).child(el("p").cls("hint").text("From the Marketo gate: calls in the window, daily quota, last sync.")).child(sync))
                        .child(el("section").cls("box").attr("aria-labelledby", "mp-h").child(el("h2").id("mp-h").text("Programs per dialogue")).child(el("p").text("Each dialogue's program and member statuses are set in its editor, under Marketo program.")).child(el("a").attr("href", "#/dialogues").text("Open the dialogues"))),
                ),
        )
}
