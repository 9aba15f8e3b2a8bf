//! The Dialogues page: versions, live names and 30-day metrics of every dialogue.

use crate::api;
use crate::dom::{el, title, El};
use crate::format::*;
use crate::store::{notice, with, State, SITE};
use serde_json::Value;

/// Loads versions, live names and the last 30 days of metrics.
pub async fn load_dialogues() {
    let v = api::call("GET", &format!("/admin/sites/{SITE}/dialogues"), None).await;
    if !v.ok() {
        notice(false, v.error());
        return;
    }
    let versions = v.body["versions"].as_array().cloned().unwrap_or_default();
    let now = js_sys::Date::now();
    let m = api::call(
        "GET",
        &format!(
            "/admin/sites/{SITE}/metrics?from={}&to={}",
            day(now - 29.0 * DAY_MS),
            day(now)
        ),
        None,
    )
    .await;
    let mut totals: Vec<(String, [i64; 6])> = Vec::new();
    for r in m.body["days"].as_array().cloned().unwrap_or_default() {
        let id = r["dialogue"].as_str().unwrap_or("").to_string();
        let add = [
            "triggered",
            "engaged",
            "completed",
            "captured",
            "meetings",
            "goals",
        ]
        .map(|k| r[k].as_i64().unwrap_or(0));
        match totals.iter_mut().find(|(d, _)| *d == id) {
            Some((_, t)) => t.iter_mut().zip(add).for_each(|(a, b)| *a += b),
            None => totals.push((id, add)),
        }
    }
    let funnels = m.body["dialogues"].as_array().cloned().unwrap_or_default();
    let mut names = Vec::new();
    let mut ids: Vec<String> = versions
        .iter()
        .filter_map(|v| v["dialogue"].as_str().map(str::to_string))
        .collect();
    ids.dedup();
    for id in &ids {
        let mine: Vec<&Value> = versions
            .iter()
            .filter(|v| v["dialogue"].as_str() == Some(id))
            .collect();
        if let Some(h) = mine
            .iter()
            .find(|v| v["live"] == 1)
            .or(mine.last())
            .and_then(|v| v["hash"].as_str())
        {
            let f = api::call("GET", &format!("/v1/sites/{SITE}/flows/{h}"), None).await;
            names.push((
                id.clone(),
                f.body["dialogue"]["name"]
                    .as_str()
                    .unwrap_or(id)
                    .to_string(),
            ));
        }
    }
    with(|s| {
        s.versions = versions;
        s.totals = totals;
        s.funnels = funnels;
        s.names = names;
    });
}

pub(super) fn dialogues(s: &State) -> El {
    let mut ids: Vec<String> = s
        .versions
        .iter()
        .filter_map(|v| v["dialogue"].as_str().map(str::to_string))
        .collect();
    ids.dedup();
    let head = el("div")
        .cls("row spread")
        .child(title(
            "Dialogues",
            "What visitors see, where and to whom. Metrics: last 30 days; rates are per \
             conversation (a lead or goal counts for the conversation it came from).",
        ))
        .child(
            el("a")
                .cls("btn")
                .id("new-dialogue")
                .attr("href", "#/dialogues/new")
                .text("+ New dialogue"),
        );
    let mut tbody = el("tbody");
    for id in &ids {
        let mine: Vec<&Value> = s
            .versions
            .iter()
            .filter(|v| v["dialogue"].as_str() == Some(id))
            .collect();
        let live = mine.iter().find(|v| v["live"] == 1);
        let t = s
            .totals
            .iter()
            .find(|(d, _)| d == id)
            .map(|(_, t)| *t)
            .unwrap_or_default();
        // Rates come from the worker's funnel over conversations (never above 100%).
        let funnel = s
            .funnels
            .iter()
            .find(|f| f["dialogue"].as_str() == Some(id));
        let rate = |k: &str| match funnel {
            Some(f) if f["conversations"].as_i64().unwrap_or(0) > 0 => {
                format!("{:.0}%", f[k].as_f64().unwrap_or(0.0))
            }
            _ => "–".into(),
        };
        let apart = funnel
            .and_then(|f| f["leads_without_conversation"].as_i64())
            .unwrap_or(0);
        let name = s
            .names
            .iter()
            .find(|(d, _)| d == id)
            .map(|(_, n)| n.as_str())
            .unwrap_or(id);
        tbody = tbody.child(
            el("tr")
                .child(
                    el("td")
                        .child(
                            el("a")
                                .attr("href", &format!("#/dialogues/{id}"))
                                .text(name),
                        )
                        .child(el("br"))
                        .child(el("code").text(id)),
                )
                .child(el("td").child(match live {
                    Some(_) => el("span").cls("pill ok").text("Live"),
                    None => el("span").cls("pill off").text("Paused"),
                }))
                .child(el("td").cls("num").text(&mine.len().to_string()))
                .child(el("td").cls("num").text(&t[0].to_string()))
                .child(el("td").cls("num").text(&t[1].to_string()))
                .child(el("td").cls("num").text(&t[2].to_string()))
                .child(el("td").cls("num").text(&t[3].to_string()))
                .child(el("td").cls("num").text(&rate("engagement_rate")))
                .child(el("td").cls("num").text(&rate("conversion_rate")))
                .child(el("td").cls("num").text(&apart.to_string())),
        );
    }
    let cols = [
        "Dialogue",
        "Status",
        "Versions",
        "Triggered",
        "Engaged",
        "Completed",
        "Captured",
        "Engagement",
        "Conversion",
        "Leads without conversation",
    ];
    let thead = el("thead").child(el("tr").children(cols.iter().enumerate().map(|(i, c)| {
        el("th")
            .attr("scope", "col")
            .cls(if i >= 2 { "num" } else { "" })
            .text(c)
    })));
    let table = if ids.is_empty() {
        el("p").text("No dialogues yet. Create one, or import a JSON file in the editor.")
    } else {
        el("div").cls("table-wrap box").child(
            el("table")
                .child(
                    el("caption")
                        .cls("sr-only")
                        .text("Dialogues with status and metrics"),
                )
                .child(thead)
                .child(tbody),
        )
    };
    el("div").child(head).child(table)
}
