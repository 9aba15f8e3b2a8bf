//! The Calendar & routing page: agents, their calendar connections, queues and their order.

use crate::api;
use crate::dom::{el, input, title, El};
use crate::format::*;
use crate::store::{render, with, Me, State, SITE};
use serde_json::{json, Value};

/// Loads agents, queues, the assignment log and the invitation template (meetings admin API).
pub async fn load_calendar(me: &Me) {
    if !me.admin {
        return;
    }
    let mut out = json!({});
    let mut error = None;
    for (k, path) in [
        ("agents", "agents"),
        ("queues", "queues"),
        ("assignments", "assignments?limit=5000"),
        ("template", "meeting-template"),
    ] {
        let a = api::call("GET", &format!("/admin/sites/{SITE}/{path}"), None).await;
        if a.ok() {
            out[k] = a.body;
        } else if a.status != 404 || k != "template" {
            error = Some(format!(
                "The meetings admin API answered {} for {path}: {}",
                a.status,
                a.error()
            ));
        }
    }
    let order: Vec<(String, Vec<String>)> = out["queues"]["queues"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|q| {
            (
                q["id"].as_str().unwrap_or("").to_string(),
                q["agents"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|x| x.as_str().map(str::to_string))
                            .collect()
                    })
                    .unwrap_or_default(),
            )
        })
        .collect();
    with(|s| {
        s.calendar = out;
        s.calendar_error = error;
        s.queue_order = order;
    });
}

/// Connect or reconnect an agent's calendar: Google / Microsoft 365 go through the provider's
/// consent page (the worker's OAuth start, back to this page after the callback); CalDAV takes
/// the calendar URL and a login, stored encrypted by the worker.
pub(super) fn connect_actions(id: &str, provider: &str, state: &str, conn: &Value) -> El {
    let mut cell = el("div").cls("actions");
    let oauth = [("google", "Google"), ("graph", "Microsoft 365")];
    for (p, label) in oauth {
        if provider == p || !matches!(provider, "google" | "graph" | "caldav") {
            let verb = if provider == p {
                "Reconnect"
            } else {
                "Connect"
            };
            cell = cell.child(
                el("button")
                    .attr("type", "button")
                    .cls(if provider == p && state != "connected" {
                        "primary"
                    } else {
                        ""
                    })
                    .act(&format!("cal-oauth:{id}|{p}"))
                    .attr("aria-label", &format!("{verb} {label} calendar of {id}"))
                    .text(&format!("{verb} {label}")),
            );
        }
    }
    if matches!(provider, "google" | "graph") {
        return cell;
    }
    let url = if provider == "caldav" {
        conn["account"].as_str().unwrap_or("")
    } else {
        ""
    };
    cell.child(
        el("details")
            .child(el("summary").text(if provider == "caldav" {
                "CalDAV login"
            } else {
                "Connect CalDAV"
            }))
            .child(
                el("form")
                    .act(&format!("cal-caldav:{id}"))
                    .child(el("div").cls("field").child(input(
                        "Calendar URL",
                        &format!("cd-url-{id}"),
                        url,
                        "url",
                    )))
                    .child(el("div").cls("field").child(input(
                        "User name",
                        &format!("cd-user-{id}"),
                        "",
                        "text",
                    )))
                    .child(
                        el("div").cls("field").child(
                            input("Password", &format!("cd-pass-{id}"), "", "password")
                                .attr("autocomplete", "off"),
                        ),
                    )
                    .child(
                        el("button")
                            .attr("type", "submit")
                            .text("Save calendar login"),
                    ),
            ),
    )
}

pub(super) fn calendar(s: &State, me: &Me) -> El {
    if !me.admin {
        let agent = me.agent_id.clone().unwrap_or_default();
        return el("div").child(title("My calendar", "Your calendar connection and your place in the queues.")).child(
            el("section").cls("box").child(el("p").child(el("strong").text("Agent id: ")).child(el("code").text(&agent))).child(el("p").cls("notice warn").text(
                "Connecting a calendar from the console needs the meetings API to accept agent sessions for the agent's own record; it accepts only the admin token today. Your meetings are under My meetings.",
            )),
        );
    }
    let mut root = el("div").child(title(
        "Calendar & routing",
        "Agents, their calendars, the round-robin order and the invitation text.",
    ));
    if let Some(e) = &s.calendar_error {
        root = root.child(
            el("p")
                .cls("notice warn")
                .attr("role", "status")
                .text(&format!(
                    "{e}. This page shows what the API returned and nothing else."
                )),
        );
    }
    let agents = s.calendar["agents"]["agents"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mut tb = el("tbody");
    for a in &agents {
        let conn = &a["calendar"];
        let state = conn["state"]
            .as_str()
            .or_else(|| a["connection"].as_str())
            .unwrap_or("not connected");
        let pill = match state {
            "connected" => "pill ok",
            "disconnected" => "pill bad",
            _ => "pill off",
        };
        let id = a["id"].as_str().unwrap_or("");
        let provider = conn["provider"].as_str().unwrap_or("");
        tb = tb.child(
            el("tr")
                .child(
                    el("td")
                        .text(a["name"].as_str().unwrap_or(""))
                        .child(el("br"))
                        .child(el("code").text(a["id"].as_str().unwrap_or(""))),
                )
                .child(
                    el("td")
                        .cls("wrap hide-sm")
                        .text(a["email"].as_str().unwrap_or("")),
                )
                .child(el("td").text(conn["provider"].as_str().unwrap_or("–")))
                .child(
                    el("td").child(el("span").cls(pill).text(state)).text(
                        &conn["reason"]
                            .as_str()
                            .map(|r| format!(" {r}"))
                            .unwrap_or_default(),
                    ),
                )
                .child(el("td").child(connect_actions(id, provider, state, conn))),
        );
    }
    let agents_box = el("section")
        .cls("box")
        .attr("aria-labelledby", "ag-h")
        .child(el("h2").id("ag-h").text("Agents"))
        .child(if agents.is_empty() {
            el("p").cls("hint").text("No agents returned.")
        } else {
            el("div")
                .cls("table-wrap")
                .attr("tabindex", "0")
                .attr("role", "region")
                .attr("aria-label", "Agents table")
                .child(
                    el("table")
                        .child(
                            el("thead").child(
                                el("tr").children(
                                    ["Agent", "Email", "Calendar", "Connection", "Connect"]
                                        .iter()
                                        .map(|c| {
                                            let th = el("th").attr("scope", "col");
                                            if *c == "Email" { th.cls("hide-sm") } else { th }
                                                .text(c)
                                        }),
                                ),
                            ),
                        )
                        .child(tb),
                )
        });
    let mut queues =
        el("section")
            .cls("box")
            .attr("aria-labelledby", "q-h")
            .child(el("h2").id("q-h").text("Queue order"))
            .child(el("p").cls("hint").text(
                "Drag agents, or focus one and press Alt+Arrow up / Alt+Arrow down. Then save.",
            ));
    let name_of = |id: &str| -> String {
        agents
            .iter()
            .find(|a| a["id"] == id)
            .and_then(|a| a["name"].as_str())
            .unwrap_or(id)
            .to_string()
    };
    for (qid, order) in &s.queue_order {
        let mut ol = el("ol")
            .cls("queue")
            .attr("aria-label", &format!("Rotation order of queue {qid}"));
        for (i, a) in order.iter().enumerate() {
            let key = format!("{qid}|{a}");
            ol = ol.child(
                el("li")
                    .attr("draggable", "true")
                    .attr("tabindex", "0")
                    .id(&format!("q-{qid}-{a}"))
                    .attr("data-queue-item", &key)
                    .attr(
                        "aria-label",
                        &format!("{}, position {} of {}", name_of(a), i + 1, order.len()),
                    )
                    .child(el("span").cls("pos").text(&(i + 1).to_string()))
                    .child(el("span").cls("who").text(&name_of(a)))
                    .child(
                        el("button")
                            .attr("type", "button")
                            .cls("small")
                            .act(&format!("qup:{key}"))
                            .attr("aria-label", &format!("Move {} up", name_of(a)))
                            .text("↑"),
                    )
                    .child(
                        el("button")
                            .attr("type", "button")
                            .cls("small")
                            .act(&format!("qdown:{key}"))
                            .attr("aria-label", &format!("Move {} down", name_of(a)))
                            .text("↓"),
                    ),
            );
        }
        queues = queues
            .child(el("h3").text(&format!("Queue {qid}")))
            .child(ol)
            .child(
                el("button")
                    .attr("type", "button")
                    .cls("primary")
                    .act(&format!("save-queue:{qid}"))
                    .text(&format!("Save order of {qid}")),
            );
    }
    if s.queue_order.is_empty() {
        queues = queues.child(el("p").cls("hint").text("No queues returned."));
    }
    let log = s.calendar["assignments"]["assignments"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mut lt = el("tbody");
    // Newest decision first.
    for r in log.iter().rev().take(50) {
        let next = r["next_in_line"]
            .as_str()
            .map(&name_of)
            .unwrap_or_else(|| "–".into());
        let chosen = r["chosen"]
            .as_str()
            .map(&name_of)
            .unwrap_or_else(|| "nobody".into());
        let skipped: Vec<String> = r["skipped"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|x| {
                        format!(
                            "{} ({})",
                            name_of(x["agent"].as_str().unwrap_or("?")),
                            x["reason"].as_str().unwrap_or("?").replace('_', " ")
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        let why = if skipped.is_empty() {
            format!("{chosen} was next in line and free")
        } else {
            format!(
                "skipped {}; {chosen} was the first free",
                skipped.join(", ")
            )
        };
        let outcome = r["outcome"].as_str().unwrap_or("");
        lt = lt.child(
            el("tr")
                .attr("data-meeting", r["meeting"].as_str().unwrap_or(""))
                .child(el("td").text(&r["start"].as_str().map(iso_short).unwrap_or_default()))
                .child(
                    el("td")
                        .cls("hide-sm")
                        .text(r["route"].as_str().unwrap_or("")),
                )
                .child(el("td").cls("next hide-sm").text(&next))
                .child(el("td").cls("chosen").child(el("strong").text(&chosen)))
                .child(el("td").cls("why").text(&why))
                .child(
                    el("td").child(
                        el("span")
                            .cls(if outcome == "booked" {
                                "pill ok"
                            } else {
                                "pill off"
                            })
                            .text(&outcome.replace('_', " ")),
                    ),
                ),
        );
    }
    let log_box = el("section")
        .cls("box")
        .attr("aria-labelledby", "log-h")
        .child(el("h2").id("log-h").text("Assignment log"))
        .child(if log.is_empty() {
            el("p").cls("hint").text("No assignments yet.")
        } else {
            el("div")
                .cls("table-wrap")
                .attr("tabindex", "0")
                .attr("role", "region")
                .attr("aria-label", "Assignment log table")
                .child(
                    el("table")
                        .child(
                            el("thead").child(
                                el("tr").children(
                                    [
                                        "Slot (UTC)",
                                        "Route",
                                        "Next in line",
                                        "Chosen",
                                        "Why",
                                        "Outcome",
                                    ]
                                    .iter()
                                    .map(|c| {
                                        let th = el("th").attr("scope", "col");
                                        if matches!(*c, "Route" | "Next in line") {
                                            th.cls("hide-sm")
                                        } else {
                                            th
                                        }
                                        .text(c)
                                    }),
                                ),
                            ),
                        )
                        .child(lt),
                )
        });
    let t = &s.calendar["template"];
    let tpl = el("section")
        .cls("box")
        .attr("aria-labelledby", "tpl-h")
        .child(el("h2").id("tpl-h").text("Invitation"))
        .child(
            el("p").cls("hint").text(
                "Tokens: {{visitor.name}}, {{agent.name}}, {{meeting.time}}, {{meeting.link}}",
            ),
        )
        .child(input(
            "Subject",
            "tpl-subject",
            t["subject"]
                .as_str()
                .unwrap_or("Your call with Northwind Analytics"),
            "text",
        ))
        .child(
            el("label").attr("for", "tpl-body").text("Body").child(
                el("textarea")
                    .id("tpl-body")
                    .attr("rows", "6")
                    .value(t["body"].as_str().unwrap_or(
                    "Hi {{visitor.name}},\n\n{{agent.name}} will meet you on {{meeting.time}}.\n",
                )),
            ),
        )
        .child(input(
            "Location",
            "tpl-location",
            t["location"].as_str().unwrap_or(""),
            "text",
        ))
        .child(
            el("button")
                .attr("type", "button")
                .act("save-template")
                .text("Save invitation"),
        );
    root.child(
        el("div")
            .cls("grid2")
            .child(el("div").child(agents_box).child(queues))
            .child(el("div").child(tpl)),
    )
    .child(log_box)
}

/// Keyboard / button reordering: `item` is `queue|agent`.
pub fn queue_move(item: &str, dir: i64) {
    let Some((q, a)) = item.split_once('|') else {
        return;
    };
    with(|s| {
        if let Some((_, order)) = s.queue_order.iter_mut().find(|(id, _)| id == q) {
            if let Some(i) = order.iter().position(|x| x == a) {
                let j = i as i64 + dir;
                if j >= 0 && (j as usize) < order.len() {
                    order.swap(i, j as usize);
                }
            }
        }
    });
    render();
    crate::dom::focus(&format!("q-{q}-{a}"));
}

/// Drag and drop: moves `from` to the position of `over` (same queue).
pub fn queue_drop(from: &str, over: &str) {
    let (Some((q1, a)), Some((q2, b))) = (from.split_once('|'), over.split_once('|')) else {
        return;
    };
    if q1 != q2 {
        return;
    }
    with(|s| {
        if let Some((_, order)) = s.queue_order.iter_mut().find(|(id, _)| id == q1) {
            if let (Some(i), Some(j)) = (
                order.iter().position(|x| x == a),
                order.iter().position(|x| x == b),
            ) {
                let x = order.remove(i);
                order.insert(j, x);
            }
        }
    });
    render();
}
