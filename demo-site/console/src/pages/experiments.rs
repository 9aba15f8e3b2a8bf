//! The experiments section of the Reports page: per dialogue with an experiment, a table of its
//! variants (conversations, engagement, conversion, meetings) with each variant's always-valid
//! interval and verdict against the control, as the worker computes them
//! (`GET /admin/sites/{site}/dialogues/{id}/experiment`); and ending a live experiment: "Publish
//! B as the new version", confirmed, calls `POST .../experiment/end`.

use crate::api;
use crate::dom::{el, El};
use crate::store::{notice, render, with, SITE};
use serde_json::{json, Value};
use std::cell::RefCell;
use wasm_bindgen_futures::spawn_local;

thread_local! {
    /// The ending awaiting confirmation: (dialogue, variant).
    static CONFIRM: RefCell<Option<(String, String)>> = const { RefCell::new(None) };
}

/// Whether `name` is one of this section's actions.
pub fn handles(name: &str) -> bool {
    matches!(name, "xp-end" | "xp-end-yes" | "xp-end-no")
}

/// Runs one of [`handles`]' actions; `arg` is `dialogue|variant`.
pub fn action(name: &str, arg: &str) {
    let (dialogue, variant) = arg.split_once('|').unwrap_or((arg, ""));
    let (dialogue, variant) = (dialogue.to_string(), variant.to_string());
    match name {
        "xp-end" => {
            CONFIRM.with(|c| *c.borrow_mut() = Some((dialogue, variant)));
            render();
            crate::dom::focus("xp-confirm");
        }
        "xp-end-no" => {
            CONFIRM.with(|c| *c.borrow_mut() = None);
            render();
            crate::dom::focus(&format!("xp-end-{dialogue}"));
        }
        "xp-end-yes" => spawn_local(async move {
            let a = api::call(
                "POST",
                &format!("/admin/sites/{SITE}/dialogues/{dialogue}/experiment/end"),
                Some(&json!({ "variant": variant })),
            )
            .await;
            CONFIRM.with(|c| *c.borrow_mut() = None);
            // This dialogue's report again (now of the ended experiment), in place.
            if let Some(fresh) = load_experiments(std::slice::from_ref(&dialogue))
                .await
                .pop()
            {
                with(|s| {
                    for r in s.reports.experiments.iter_mut() {
                        if r["dialogue"] == dialogue.as_str() {
                            *r = fresh.clone();
                        }
                    }
                });
            }
            notice(
                a.ok(),
                if a.ok() {
                    format!(
                        "Experiment {} ended: {variant} is published as the new version of {dialogue} ({}); every visitor now sees it.",
                        a.body["experiment"].as_str().unwrap_or(""),
                        a.body["hash"].as_str().unwrap_or(""),
                    )
                } else {
                    a.error()
                },
            );
        }),
        _ => {}
    }
}

/// Under a live experiment's table: a button per variant to end the experiment with it, or the
/// confirmation of the one chosen.
fn end_controls(dialogue: &str, experiment: &str, variants: &[&str]) -> El {
    let pending = CONFIRM.with(|c| c.borrow().clone());
    let group = el("div")
        .cls("xp-end")
        .attr("role", "group")
        .attr("aria-label", &format!("End experiment {experiment}"));
    match pending.filter(|(d, v)| d == dialogue && variants.contains(&v.as_str())) {
        Some((_, v)) => {
            let arg = format!("{dialogue}|{v}");
            group
                .child(el("p").id("xp-confirm-text").text(&format!(
                    "End experiment {experiment} and publish {v} as the new version of {dialogue}? \
                     Every visitor then sees {v}; this report keeps the experiment's data."
                )))
                .child(
                    el("button")
                        .attr("type", "button")
                        .id("xp-confirm")
                        .attr("aria-describedby", "xp-confirm-text")
                        .act(&format!("xp-end-yes:{arg}"))
                        .text(&format!("Yes, publish {v}")),
                )
                .child(
                    el("button")
                        .attr("type", "button")
                        .cls("small")
                        .act(&format!("xp-end-no:{arg}"))
                        .text("Keep the experiment running"),
                )
        }
        None => variants.iter().enumerate().fold(
            group.child(el("p").cls("hint").text(
                "End the experiment by publishing one variant as the new version of the dialogue:",
            )),
            |g, (i, v)| {
                let b = el("button")
                    .attr("type", "button")
                    .cls("small")
                    .act(&format!("xp-end:{dialogue}|{v}"))
                    .text(&format!("Publish {v} as the new version"));
                g.child(if i == 0 {
                    b.id(&format!("xp-end-{dialogue}"))
                } else {
                    b
                })
            },
        ),
    }
}

/// The experiment reports of `dialogues` that have variant data (others are left out).
pub async fn load_experiments(dialogues: &[String]) -> Vec<Value> {
    let mut out = Vec::new();
    for d in dialogues.iter().take(50) {
        let a = api::call(
            "GET",
            &format!("/admin/sites/{SITE}/dialogues/{d}/experiment"),
            None,
        )
        .await;
        let has_rows = a.body["variants"].as_array().is_some_and(|v| !v.is_empty());
        if a.ok() && (has_rows || !a.body["experiment"].is_null()) {
            out.push(a.body);
        }
    }
    out
}

fn pct(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

fn signed_pct(x: f64) -> String {
    format!(
        "{}{:.1}",
        if x >= 0.0 { "+" } else { "−" },
        (x * 100.0).abs()
    )
}

/// The section: one table per experiment, or nothing when no dialogue has one.
pub fn experiments(reports: &[Value]) -> Option<El> {
    if reports.is_empty() {
        return None;
    }
    let mut section = el("section")
        .cls("box")
        .id("experiments")
        .attr("aria-labelledby", "xp-h")
        .child(el("h2").id("xp-h").text("Experiments"))
        .child(el("p").cls("hint").text(
            "Conversion: a goal reached or a lead left, per conversation. Each variant is compared \
             with the first (the control) by a sequential test that stays valid however often you \
             look; the interval is the difference in conversion rate, in points.",
        ));
    for r in reports {
        let dialogue = r["dialogue"].as_str().unwrap_or("");
        let name = match r["experiment"].as_str() {
            Some(x) => format!("{dialogue}: experiment {x}"),
            None => format!("{dialogue}: ended experiment"),
        };
        let mut tb = el("tbody");
        for (i, v) in r["variants"].as_array().into_iter().flatten().enumerate() {
            let id = v["id"].as_str().unwrap_or("");
            let cmp = r["comparisons"]
                .as_array()
                .and_then(|c| c.iter().find(|c| c["variant"] == id));
            let (interval, verdict) = match cmp {
                _ if i == 0 && !v["weight"].is_null() => ("control".to_string(), String::new()),
                Some(c) => (
                    match c["interval"]
                        .as_array()
                        .map(|a| (a[0].as_f64(), a[1].as_f64()))
                    {
                        Some((Some(lo), Some(hi))) => {
                            format!("{} to {}", signed_pct(lo), signed_pct(hi))
                        }
                        _ => "–".into(),
                    },
                    c["verdict"].as_str().unwrap_or("").to_string(),
                ),
                None => ("–".into(), "no longer in the experiment".into()),
            };
            let n = |k: &str| v[k].as_u64().unwrap_or(0).to_string();
            let weight = v["weight"]
                .as_u64()
                .map(|w| w.to_string())
                .unwrap_or("–".into());
            let winner = cmp.is_some_and(|c| c["winner"] == id);
            tb = tb.child(
                el("tr")
                    .attr("data-variant", id)
                    .child(el("th").attr("scope", "row").text(id))
                    .child(el("td").cls("num").text(&weight))
                    .child(el("td").cls("num").text(&n("conversations")))
                    .child(
                        el("td")
                            .cls("num")
                            .text(&pct(v["engagement_rate"].as_f64().unwrap_or(0.0))),
                    )
                    .child(el("td").cls("num").text(&n("converted")))
                    .child(
                        el("td")
                            .cls("num")
                            .text(&pct(v["conversion_rate"].as_f64().unwrap_or(0.0))),
                    )
                    .child(el("td").cls("num").text(&n("meetings")))
                    .child(el("td").cls("num").text(&interval))
                    .child(
                        el("td")
                            .cls(if winner { "verdict win" } else { "verdict" })
                            .text(&verdict),
                    ),
            );
        }
        let head = [
            "Variant",
            "Weight",
            "Conversations",
            "Engagement",
            "Converted",
            "Conversion",
            "Meetings",
            "vs control (points, 95%)",
            "Verdict",
        ];
        // The verdicts in words above the table too: on a phone the table scrolls sideways.
        let said = r["comparisons"].as_array().into_iter().flatten().map(|c| {
            el("p")
                .cls("xp-verdict")
                .child(el("strong").text(&format!(
                    "{} vs {}: ",
                    c["variant"].as_str().unwrap_or(""),
                    c["control"].as_str().unwrap_or("")
                )))
                .text(c["verdict"].as_str().unwrap_or(""))
        });
        section =
            section.child(el("h3").text(&name)).children(said).child(
                el("div")
                    .cls("table-wrap")
                    // Scrolls sideways on a phone: reachable by keyboard, named.
                    .attr("tabindex", "0")
                    .attr("role", "region")
                    .attr("aria-label", &format!("{name}: variants"))
                    .child(
                        el("table")
                            .attr("data-experiment", dialogue)
                            .child(el("thead").child(el("tr").children(
                                head.iter().map(|c| el("th").attr("scope", "col").text(c)),
                            )))
                            .child(tb),
                    ),
            );
        if let Some(x) = r["experiment"].as_str() {
            let live: Vec<&str> = r["variants"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|v| !v["weight"].is_null())
                .filter_map(|v| v["id"].as_str())
                .collect();
            section = section.child(end_controls(dialogue, x, &live));
        }
    }
    Some(section)
}
