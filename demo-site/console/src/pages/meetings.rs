//! The Meetings page: filters, the table and its CSV export.

use crate::api;
use crate::dom::{el, input, select, title, El};
use crate::format::*;
use crate::store::{with, Me, State, SITE};
use serde_json::Value;

/// Loads meetings: all (admin) or the agent's own. An admin also gets the site's agents and
/// queues (into the Calendar page's `calendar` answers) for the Reassign control.
pub async fn load_meetings(me: &Me) {
    if me.admin {
        for k in ["agents", "queues"] {
            let a = api::call("GET", &format!("/admin/sites/{SITE}/{k}"), None).await;
            if a.ok() {
                with(|s| s.calendar[k] = a.body);
            }
        }
    }
    let path = if me.admin {
        format!("/admin/sites/{SITE}/meetings")
    } else {
        format!(
            "/admin/console/sites/{SITE}/agents/{}/meetings",
            me.agent_id.clone().unwrap_or_default()
        )
    };
    let a = api::call("GET", &path, None).await;
    let requests = if me.admin {
        let r = api::call(
            "GET",
            &format!("/admin/sites/{SITE}/meeting-requests"),
            None,
        )
        .await;
        r.body["requests"].as_array().cloned().unwrap_or_default()
    } else {
        Vec::new()
    };
    with(|s| {
        s.meeting_requests = requests;
        if a.ok() {
            s.meetings = a.body["meetings"].as_array().cloned().unwrap_or_default();
            s.meetings_error = None;
        } else {
            s.meetings = Vec::new();
            s.meetings_error = Some(format!("{path}: {}", a.error()));
        }
    });
}

pub(super) fn meeting_start(m: &Value) -> String {
    m["start"]
        .as_str()
        .map(|t| format!("{} UTC", iso_short(t)))
        .unwrap_or_else(|| m["start_ms"].as_f64().map(date_time).unwrap_or_default())
}

/// The meeting's agent: `{"id","name"}` from the meetings admin API, an id from the agent's own list.
pub(super) fn agent_label(m: &Value) -> String {
    let a = &m["agent"];
    a["name"]
        .as_str()
        .or_else(|| a["id"].as_str())
        .or_else(|| a.as_str())
        .unwrap_or("")
        .to_string()
}

/// The Reassign control of a scheduled queue meeting: a select of the queue's other agents
/// and the button (the worker refuses a busy agent with a 409, shown as the notice).
fn reassign_control(s: &State, m: &Value) -> Option<El> {
    let id = m["id"].as_str()?;
    let queue = m["route"].as_str()?.strip_prefix("queue:")?;
    let current = m["agent"]["id"].as_str().unwrap_or("");
    let members: Vec<String> = s.calendar["queues"]["queues"]
        .as_array()?
        .iter()
        .find(|q| q["id"].as_str() == Some(queue))?["agents"]
        .as_array()?
        .iter()
        .filter_map(|a| a.as_str().or_else(|| a["id"].as_str()))
        .filter(|a| *a != current)
        .map(str::to_string)
        .collect();
    if members.is_empty() {
        return None;
    }
    let name = |a: &str| {
        s.calendar["agents"]["agents"]
            .as_array()
            .and_then(|l| l.iter().find(|x| x["id"].as_str() == Some(a)))
            .and_then(|x| x["name"].as_str())
            .unwrap_or(a)
            .to_string()
    };
    let labels: Vec<(String, String)> = members.iter().map(|a| (a.clone(), name(a))).collect();
    let opts: Vec<(&str, &str)> = labels
        .iter()
        .map(|(a, l)| (a.as_str(), l.as_str()))
        .collect();
    let sel = format!("m-ra-{id}");
    Some(
        el("span")
            .cls("row")
            .child(
                el("label")
                    .cls("sr-only")
                    .attr("for", &sel)
                    .text("Reassign to"),
            )
            .child(select(&sel, &members[0], &opts))
            .child(
                el("button")
                    .attr("type", "button")
                    .cls("small")
                    .act(&format!("m-reassign:{id}"))
                    .text("Reassign"),
            ),
    )
}

pub(super) fn meeting_rows(s: &State) -> Vec<Value> {
    let (q, st) = &s.meeting_filter;
    let q = q.to_ascii_lowercase();
    let mut rows: Vec<Value> = s
        .meetings
        .iter()
        .filter(|m| st.is_empty() || m["status"].as_str() == Some(st))
        .filter(|m| {
            q.is_empty()
                || [
                    m["lead_email"].as_str().unwrap_or("").to_string(),
                    agent_label(m),
                    m["dialogue"].as_str().unwrap_or("").to_string(),
                    m["lead_name"].as_str().unwrap_or("").to_string(),
                ]
                .iter()
                .any(|v| v.to_ascii_lowercase().contains(&q))
        })
        .cloned()
        .collect();
    let (key, asc) = &s.meeting_sort;
    rows.sort_by(|a, b| {
        let k = |m: &Value| {
            if key == "start" {
                m["start"].as_str().map(str::to_string).unwrap_or_else(|| {
                    format!("{:020}", m["start_ms"].as_f64().unwrap_or(0.0) as i64)
                })
            } else if key == "agent" {
                agent_label(m)
            } else {
                m[key.as_str()].as_str().unwrap_or("").to_string()
            }
        };
        let o = k(a).cmp(&k(b));
        if *asc {
            o
        } else {
            o.reverse()
        }
    });
    rows
}

pub(super) fn meetings(s: &State, me: &Me) -> El {
    let mut root = el("div").child(
        el("div")
            .cls("row spread")
            .child(title(
                if me.admin { "Meetings" } else { "My meetings" },
                "Booked from chat conversations.",
            ))
            .child(
                el("button")
                    .attr("type", "button")
                    .act("export-csv")
                    .text("Export CSV"),
            ),
    );
    if let Some(e) = &s.meetings_error {
        root = root.child(
            el("p")
                .cls("notice warn")
                .attr("role", "status")
                .text(&format!("Could not load meetings ({e}).")),
        );
    }
    let filters = el("div")
        .cls("row box")
        .child(
            input(
                "Search (email, agent, dialogue)",
                "m-q",
                &s.meeting_filter.0,
                "search",
            )
            .attr("data-live", "m-filter"),
        )
        .child(
            el("label").attr("for", "m-status").text("Status").child(
                select(
                    "m-status",
                    &s.meeting_filter.1,
                    &[
                        ("", "Any"),
                        ("scheduled", "Scheduled"),
                        ("completed", "Completed"),
                        ("no_show", "No-show"),
                        ("cancelled", "Cancelled"),
                    ],
                )
                .attr("data-live", "m-filter"),
            ),
        );
    let cols = [
        ("start", "Time"),
        ("lead_email", "Lead"),
        ("agent", "Agent"),
        ("dialogue", "Dialogue"),
        ("status", "Status"),
    ];
    let mut head = el("tr");
    for (k, label) in cols {
        let sorted = s.meeting_sort.0 == k;
        let aria = if sorted {
            if s.meeting_sort.1 {
                "ascending"
            } else {
                "descending"
            }
        } else {
            "none"
        };
        head = head.child(
            el("th").attr("scope", "col").attr("aria-sort", aria).child(
                el("button")
                    .attr("type", "button")
                    .cls("sort")
                    .act(&format!("m-sort:{k}"))
                    .text(&format!(
                        "{label}{}",
                        if sorted {
                            if s.meeting_sort.1 {
                                " ▲"
                            } else {
                                " ▼"
                            }
                        } else {
                            ""
                        }
                    )),
            ),
        );
    }
    if me.admin {
        head = head.child(el("th").attr("scope", "col").text("Actions"));
    }
    let rows = meeting_rows(s);
    let mut tb = el("tbody");
    for m in &rows {
        let id = m["id"].as_str().unwrap_or("");
        let status = m["status"].as_str().unwrap_or("");
        let mut tr = el("tr")
            .child(el("td").text(&meeting_start(m)))
            .child(el("td").text(m["lead_email"].as_str().unwrap_or("")))
            .child(el("td").text(&agent_label(m)))
            .child(el("td").text(m["dialogue"].as_str().unwrap_or("")))
            .child(
                el("td").child(
                    el("span")
                        .cls(if status == "scheduled" {
                            "pill ok"
                        } else {
                            "pill off"
                        })
                        .text(status),
                ),
            );
        if me.admin {
            let mut td = el("td");
            if status == "scheduled" || status == "completed" {
                td = td.child(
                    el("button")
                        .attr("type", "button")
                        .cls("small")
                        .act(&format!("m-noshow:{id}"))
                        .text("Mark no-show"),
                );
            }
            if status == "scheduled" {
                td = td.child(
                    el("button")
                        .attr("type", "button")
                        .cls("small danger")
                        .act(&format!("m-cancel:{id}"))
                        .text("Cancel"),
                );
                if let Some(r) = reassign_control(s, m) {
                    td = td.child(r);
                }
            }
            tr = tr.child(td);
        }
        tb = tb.child(tr);
    }
    let table = if rows.is_empty() {
        el("p").cls("box").text("No meetings match.")
    } else {
        el("div").cls("table-wrap box").child(
            el("table")
                .child(el("caption").cls("sr-only").text("Meetings"))
                .child(el("thead").child(head))
                .child(tb),
        )
    };
    let root = root.child(filters).child(table);
    if me.admin {
        root.child(requests_box(&s.meeting_requests))
    } else {
        root
    }
}

/// The no-slot fallback's meeting requests: when, visitor, preferred times, queue.
fn requests_box(list: &[Value]) -> El {
    let sec = el("section")
        .cls("box")
        .attr("aria-labelledby", "mr-h")
        .child(el("h2").id("mr-h").text("Meeting requests"))
        .child(el("p").cls("hint").text(
            "Visitors who found no free time and left their preferred times (newest first).",
        ));
    if list.is_empty() {
        return sec.child(el("p").cls("hint").text("No meeting requests."));
    }
    let mut tb = el("tbody");
    for r in list {
        let s = |k: &str| r[k].as_str().unwrap_or("").to_string();
        let days: Vec<String> = serde_json::from_str(&s("days")).unwrap_or_default();
        let mut when = s("preferred");
        if !days.is_empty() {
            when = format!("{when} ({})", days.join(", ")).trim().to_string();
        }
        let visitor = match s("name") {
            n if n.is_empty() => s("email"),
            n => format!("{n} <{}>", s("email")),
        };
        let route = s("route");
        tb = tb.child(
            el("tr")
                .attr("data-request", &s("id"))
                .child(el("td").text(&date_time(r["created_at"].as_f64().unwrap_or(0.0))))
                .child(el("td").text(&visitor))
                .child(el("td").text(format!("{when} {}", s("tz")).trim()))
                .child(answers_cell(&s("answers")))
                .child(el("td").text(route.strip_prefix("queue:").unwrap_or(&route))),
        );
    }
    sec.child(super::agent_form::table(
        "Meeting requests table",
        &["When", "Visitor", "Preferred times", "Answers", "Queue"],
        tb,
    ))
}

/// A request's answers (JSON text, card id -> text) as a compact `card: value` list, each
/// value cut to 120 characters; an empty cell without answers.
fn answers_cell(json: &str) -> El {
    let answers: serde_json::Map<String, Value> = serde_json::from_str(json).unwrap_or_default();
    if answers.is_empty() {
        return el("td");
    }
    let mut ul = el("ul").cls("answers");
    for (card, v) in &answers {
        let v = v.as_str().unwrap_or("");
        let mut cut: String = v.chars().take(120).collect();
        if v.chars().count() > 120 {
            cut.push('…');
        }
        ul = ul.child(el("li").text(&format!("{card}: {cut}")));
    }
    el("td").child(ul)
}

pub(super) fn csv_cell(s: &str) -> String {
    // Quote everything; neutralise spreadsheet formulas.
    let s = if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    format!("\"{}\"", s.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_are_quoted_and_formulas_neutralised() {
        assert_eq!(csv_cell("a\"b"), "\"a\"\"b\"");
        assert_eq!(csv_cell("=cmd()"), "\"'=cmd()\"");
    }
}
