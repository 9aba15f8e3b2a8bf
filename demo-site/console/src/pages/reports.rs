//! The Reports page: metrics over a date range, the outbox and dead letters.

use crate::dom::{el, input, title, El};
use crate::format::*;
use crate::store::{notice, with, State, SITE};
use crate::{api, charts};

/// Loads metrics in the range, outbox state and dead letters.
pub async fn load_reports() {
    let (mut from, mut to) = with(|s| (s.reports.from.clone(), s.reports.to.clone()));
    if from.is_empty() {
        let now = js_sys::Date::now();
        from = day(now - 29.0 * DAY_MS);
        to = day(now);
    }
    let err = match (day_ms(&from), day_ms(&to)) {
        (Some(a), Some(b)) if b < a => Some("The end date is before the start date."),
        (Some(a), Some(b)) if (b - a) / DAY_MS > 89.0 => {
            Some("The range can be at most 90 days (data older than 90 days is deleted).")
        }
        (Some(_), Some(_)) => None,
        _ => Some("Dates must be YYYY-MM-DD."),
    };
    with(|s| {
        s.reports.from = from.clone();
        s.reports.to = to.clone();
        s.reports.range_error = err.map(str::to_string);
    });
    if err.is_some() {
        return;
    }
    let m = api::call(
        "GET",
        &format!("/admin/sites/{SITE}/metrics?from={from}&to={to}"),
        None,
    )
    .await;
    let st = api::call("GET", &format!("/admin/sites/{SITE}/stats"), None).await;
    let waiting = api::call(
        "GET",
        &format!("/admin/sites/{SITE}/leads?status=queued"),
        None,
    )
    .await;
    let dead = api::call("GET", &format!("/admin/sites/{SITE}/dead-letters"), None).await;
    let gate = api::call("GET", "/admin/marketo/gate", None).await;
    if !m.ok() {
        notice(false, m.error());
    }
    let ids: Vec<String> = m.body["dialogues"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|d| d["dialogue"].as_str().map(str::to_string))
        .collect();
    let experiments = super::experiments::load_experiments(&ids).await;
    with(|s| {
        s.reports.days = m.body["days"].as_array().cloned().unwrap_or_default();
        s.reports.total = m.body["total"].clone();
        s.reports.stats = st.body;
        s.reports.waiting = waiting.body["leads"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        s.reports.dead = dead.body["dead_letters"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        s.reports.gate = gate.body;
        s.reports.experiments = experiments;
    });
}

pub(super) const METRICS: [&str; 6] = [
    "triggered",
    "engaged",
    "completed",
    "captured",
    "meetings",
    "goals",
];

pub(super) fn reports(s: &State) -> El {
    let r = &s.reports;
    let range = el("form")
        .act("reports-range")
        .cls("row box")
        .attr("aria-label", "Date range")
        .child(input("From", "r-from", &r.from, "date"))
        .child(input("To", "r-to", &r.to, "date"))
        .child(
            el("button")
                .attr("type", "submit")
                .cls("primary")
                .text("Show"),
        );
    let mut root = el("div")
        .child(title(
            "Reports",
            "Conversations, leads and meetings from chat; data is kept 90 days.",
        ))
        .child(range);
    if let Some(e) = &r.range_error {
        return root.child(
            el("p")
                .cls("notice bad")
                .attr("role", "alert")
                .id("range-error")
                .text(e),
        );
    }
    let mut total = [0i64; 6];
    let mut by_day: Vec<(String, [i64; 6])> = Vec::new();
    let mut by_dialogue: Vec<(String, [i64; 6])> = Vec::new();
    for d in &r.days {
        let vals = METRICS.map(|k| d[k].as_i64().unwrap_or(0));
        total.iter_mut().zip(vals).for_each(|(a, b)| *a += b);
        let dd = d["day"].as_str().unwrap_or("").to_string();
        match by_day.iter_mut().find(|(x, _)| *x == dd) {
            Some((_, t)) => t.iter_mut().zip(vals).for_each(|(a, b)| *a += b),
            None => by_day.push((dd, vals)),
        }
        let dl = d["dialogue"].as_str().unwrap_or("").to_string();
        match by_dialogue.iter_mut().find(|(x, _)| *x == dl) {
            Some((_, t)) => t.iter_mut().zip(vals).for_each(|(a, b)| *a += b),
            None => by_dialogue.push((dl, vals)),
        }
    }
    // Rates are the worker's, over conversations (metrics::Funnel): never above 100%.
    let f = &r.total;
    let conversations = f["conversations"].as_i64().unwrap_or(0);
    let pct = |k: &str| {
        if conversations > 0 {
            format!("{:.1}%", f[k].as_f64().unwrap_or(0.0))
        } else {
            "–".into()
        }
    };
    let mut kpis = el("div").cls("kpis").id("kpis");
    for (i, k) in METRICS.iter().enumerate() {
        kpis = kpis.child(
            el("div")
                .cls("kpi")
                .attr("data-metric", k)
                .child(el("b").text(&total[i].to_string()))
                .child(el("span").text(k)),
        );
    }
    for (id, label, v) in [
        ("conversations", "conversations", conversations.to_string()),
        ("engagement_rate", "engagement rate", pct("engagement_rate")),
        ("conversion_rate", "conversion rate", pct("conversion_rate")),
        (
            "leads_without_conversation",
            "leads without a known conversation",
            f["leads_without_conversation"]
                .as_i64()
                .unwrap_or(0)
                .to_string(),
        ),
    ] {
        kpis = kpis.child(
            el("div")
                .cls("kpi")
                .attr("data-metric", id)
                .child(el("b").text(&v))
                .child(el("span").text(label)),
        );
    }
    root = root.child(kpis);
    // Every day of the range on the x axis, zero where nothing happened.
    let (mut labels, mut series) = (Vec::new(), vec![Vec::new(), Vec::new(), Vec::new()]);
    if let (Some(a), Some(b)) = (day_ms(&r.from), day_ms(&r.to)) {
        let mut t = a;
        while t <= b && labels.len() < 91 {
            let d = day(t);
            let v = by_day
                .iter()
                .find(|(x, _)| *x == d)
                .map(|(_, v)| *v)
                .unwrap_or_default();
            series[0].push(v[0]);
            series[1].push(v[1]);
            series[2].push(v[3]);
            labels.push(d);
            t += DAY_MS;
        }
    }
    let [s0, s1, s2] = [series[0].clone(), series[1].clone(), series[2].clone()];
    let chart = charts::lines(
        "Triggered, engaged and captured per day",
        &labels,
        &[("triggered", s0), ("engaged", s1), ("captured", s2)],
    );
    root = root.child(
        el("section")
            .cls("box")
            .attr("aria-labelledby", "daily-h")
            .child(el("h2").id("daily-h").text("Per day"))
            .child(el("div").html(&chart)),
    );
    let mut funnels = el("section")
        .cls("box")
        .attr("aria-labelledby", "fun-h")
        .child(el("h2").id("fun-h").text("Funnel per dialogue"));
    if by_dialogue.is_empty() {
        funnels = funnels.child(el("p").cls("hint").text("No conversations in this range."));
    }
    for (d, v) in &by_dialogue {
        let svg = charts::funnel(
            &format!("Funnel of {d}"),
            &[
                ("triggered", v[0]),
                ("engaged", v[1]),
                ("completed", v[2]),
                ("captured", v[3]),
                ("meetings", v[4]),
            ],
        );
        funnels = funnels.child(el("h3").text(d)).child(el("div").html(&svg));
    }
    root = root.child(funnels);
    if let Some(x) = super::experiments::experiments(&r.experiments) {
        root = root.child(x);
    }
    let st = &r.stats;
    let n = |k: &str| st[k].as_i64().unwrap_or(0).to_string();
    let mut outbox = el("section")
        .cls("box")
        .attr("aria-labelledby", "ob-h")
        .child(el("h2").id("ob-h").text("Marketo outbox"))
        .child(
            el("div")
                .cls("kpis")
                .child(
                    el("div")
                        .cls("kpi")
                        .id("ob-waiting")
                        .child(el("b").text(&n("leads_queued")))
                        .child(el("span").text("waiting")),
                )
                .child(
                    el("div")
                        .cls("kpi")
                        .child(el("b").text(&n("leads_delivered")))
                        .child(el("span").text("delivered")),
                )
                .child(
                    el("div")
                        .cls("kpi")
                        .id("ob-failed")
                        .child(el("b").text(&n("leads_dead")))
                        .child(el("span").text("failed")),
                ),
        );
    if !r.waiting.is_empty() {
        let mut tb = el("tbody");
        for l in &r.waiting {
            tb = tb.child(
                el("tr")
                    .child(el("td").text(l["email"].as_str().unwrap_or("")))
                    .child(el("td").cls("num").text(&l["attempts"].to_string()))
                    .child(el("td").text(l["last_error"].as_str().unwrap_or("–"))),
            );
        }
        outbox = outbox.child(el("h3").text("Waiting")).child(
            el("div").cls("table-wrap").child(
                el("table")
                    .child(
                        el("thead").child(
                            el("tr").children(
                                ["Email", "Attempts", "Last error"]
                                    .iter()
                                    .map(|c| el("th").attr("scope", "col").text(c)),
                            ),
                        ),
                    )
                    .child(tb),
            ),
        );
    }
    let mut dtb = el("tbody");
    for d in &r.dead {
        let id = d["id"].as_i64().unwrap_or(0);
        let retried = !d["retried_at"].is_null();
        dtb = dtb.child(
            el("tr")
                .child(el("td").text(d["kind"].as_str().unwrap_or("")))
                .child(el("td").child(el("code").text(d["code"].as_str().unwrap_or(""))))
                .child(el("td").text(d["reason"].as_str().unwrap_or("")))
                .child(el("td").text(&date_time(d["created_at"].as_f64().unwrap_or(0.0))))
                .child(el("td").child(if retried {
                    el("span").cls("pill off").text("retried")
                } else {
                    el("button")
                        .attr("type", "button")
                        .cls("small")
                        .act(&format!("retry:{id}"))
                        .attr(
                            "aria-label",
                            &format!("Retry failed {} {id}", d["kind"].as_str().unwrap_or("")),
                        )
                        .text("Retry")
                })),
        );
    }
    outbox = outbox
        .child(el("h3").text("Failed (dead letters)"))
        .child(if r.dead.is_empty() {
            el("p").cls("hint").text("Nothing failed.")
        } else {
            el("div").cls("table-wrap").child(
                el("table")
                    .child(
                        el("thead").child(
                            el("tr").children(
                                ["Kind", "Code", "Reason", "When", ""]
                                    .iter()
                                    .map(|c| el("th").attr("scope", "col").text(c)),
                            ),
                        ),
                    )
                    .child(dtb),
            )
        });
    root.child(outbox)
}
