//! The Routing page (admins): each queue's members in rotation order with their weights and the
//! queue's fairness options (saved through `PUT /admin/sites/{site}/queues/{id}`), the routing
//! rules of the published dialogues written out readably, and the recent assignment log with
//! each decision explained (the rule that matched, the lead's owner first, a weight or fairness
//! correction). The words for rules and decisions are in `routing_text`.

use super::agent_form::table;
use crate::api;
use crate::dom::{checkbox, el, title, value_of, El};
use crate::format::iso_short;
use crate::routing_text::{decision, route_lines};
use crate::store::{notice, with, State, SITE};
use serde_json::{json, Value};
use wasm_bindgen_futures::spawn_local;

/// The highest weight the worker accepts (`dynchat_scheduling::fair::MAX_WEIGHT`); the form
/// lets the worker refuse anything else with a 400 naming the field.
const MAX_WEIGHT: u32 = 100;

/// Loads queues, agents, the assignment log and the routes of every live dialogue version.
pub async fn load_routing() {
    let mut out = json!({});
    let mut errors = Vec::new();
    for (k, path) in [
        ("queues", "queues"),
        ("agents", "agents"),
        ("assignments", "assignments?limit=100"),
        ("versions", "dialogues"),
    ] {
        let a = api::call("GET", &format!("/admin/sites/{SITE}/{path}"), None).await;
        if a.ok() {
            out[k] = a.body;
        } else {
            errors.push(format!("{path}: {}", a.error()));
        }
    }
    let live: Vec<(String, String)> = out["versions"]["versions"]
        .as_array()
        .map(|v| {
            v.iter()
                .filter(|x| x["live"] == 1)
                .filter_map(|x| Some((x["dialogue"].as_str()?.into(), x["hash"].as_str()?.into())))
                .collect()
        })
        .unwrap_or_default();
    let mut routes = Vec::new();
    for (dialogue, hash) in live {
        let f = api::call("GET", &format!("/v1/sites/{SITE}/flows/{hash}"), None).await;
        if !f.ok() {
            errors.push(format!("dialogue {dialogue}: {}", f.error()));
            continue;
        }
        for card in f.body["dialogue"]["cards"].as_array().into_iter().flatten() {
            if card["type"] == "meeting" && !card["route"].is_null() {
                routes.push(
                    json!({"dialogue": dialogue, "card": card["id"], "route": card["route"]}),
                );
            }
        }
    }
    out["routes"] = json!(routes);
    let ids: Vec<String> = out["queues"]["queues"]
        .as_array()
        .map(|q| {
            q.iter()
                .filter_map(|q| q["id"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    for id in ids {
        let t = api::call(
            "GET",
            &format!("/admin/sites/{SITE}/queues/{id}/template"),
            None,
        )
        .await;
        if t.ok() {
            out["templates"][&id] = t.body;
        } else {
            errors.push(format!("template of {id}: {}", t.error()));
        }
        let n = api::call(
            "GET",
            &format!("/admin/sites/{SITE}/queues/{id}/request-notify"),
            None,
        )
        .await;
        if n.ok() {
            out["notify"][&id] = n.body["email"].clone();
        } else {
            errors.push(format!("request notices of {id}: {}", n.error()));
        }
    }
    if !errors.is_empty() {
        out["error"] = json!(errors.join("; "));
    }
    with(|s| s.routing = out);
}

/// Whether this module runs the action `name`.
pub fn handles(name: &str) -> bool {
    matches!(name, "rt-save" | "rt-tpl" | "rt-tpl-reset" | "rt-notify")
}

/// Runs a Routing page action: `rt-save:{queue}` saves the queue's weights and fairness options
/// (its order stays as the worker has it).
pub fn action(name: &str, arg: &str) {
    let queue = arg.to_string();
    if name == "rt-notify" {
        spawn_local(save_notify(queue));
        return;
    }
    if name != "rt-save" {
        spawn_local(save_template(queue, name == "rt-tpl-reset"));
        return;
    }
    spawn_local(async move {
        let agents = with(|s| queue_of(&s.routing, &queue)["agents"].clone());
        let mut weights = serde_json::Map::new();
        for a in agents
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            let raw = value_of(&format!("rw-{queue}-{a}"));
            // A whole number goes as a number; anything else as typed, for the worker's 400.
            let w = raw
                .trim()
                .parse::<u64>()
                .map(Value::from)
                .unwrap_or(Value::String(raw));
            weights.insert(a.to_string(), w);
        }
        let fairness = json!({
            "count_cancelled": value_of(&format!("rf-{queue}-cancelled")) == "true",
            "count_no_show": value_of(&format!("rf-{queue}-noshow")) == "true",
        });
        let body = json!({"agents": agents, "weights": weights, "fairness": fairness});
        let a = api::call(
            "PUT",
            &format!("/admin/sites/{SITE}/queues/{queue}"),
            Some(&body),
        )
        .await;
        if a.ok() {
            load_routing().await;
        }
        notice(
            a.ok(),
            if a.ok() {
                format!("Weights and fairness of queue {queue} saved.")
            } else {
                a.error()
            },
        );
    });
}

/// `rt-tpl:{queue}` saves the queue's invitation texts, `rt-tpl-reset:{queue}` gives it the
/// site's again.
async fn save_template(queue: String, reset: bool) {
    let path = format!("/admin/sites/{SITE}/queues/{queue}/template");
    let a = if reset {
        api::call("DELETE", &path, None).await
    } else {
        let body = json!({"subject": value_of(&format!("rt-subj-{queue}")), "body": value_of(&format!("rt-body-{queue}"))});
        api::call("PUT", &path, Some(&body)).await
    };
    if a.ok() {
        load_routing().await;
    }
    notice(
        a.ok(),
        match (a.ok(), reset) {
            (true, false) => format!("Invitation of queue {queue} saved."),
            (true, true) => format!("Queue {queue} uses the site's invitation again."),
            _ => a.error(),
        },
    );
}

/// `rt-notify:{queue}` saves the address the queue's no-slot requests are sent to (empty: every
/// member again).
async fn save_notify(queue: String) {
    let typed = value_of(&format!("rn-{queue}"));
    let email = match typed.trim() {
        "" => Value::Null,
        t => json!(t),
    };
    // Kept through the re-render: a refusal loses nothing typed.
    with(|s| s.routing["notify"][&queue] = json!(typed));
    let path = format!("/admin/sites/{SITE}/queues/{queue}/request-notify");
    let a = api::call("PUT", &path, Some(&json!({ "email": email }))).await;
    if a.ok() {
        load_routing().await;
    }
    notice(
        a.ok(),
        if a.ok() {
            format!("Request notices of queue {queue} saved.")
        } else {
            a.error()
        },
    );
}

/// The address the queue's no-slot meeting requests go to.
fn notify_form(d: &Value, q: &Value) -> El {
    let id = q["id"].as_str().unwrap_or("");
    let fid = format!("rn-{id}");
    el("form")
        .cls("queue-notify")
        .attr("data-queue-notify", id)
        .flag("novalidate", true)
        .act(&format!("rt-notify:{id}"))
        .child(
            el("div")
                .cls("field")
                .child(
                    crate::dom::input(
                        &format!("Send meeting requests of {id} to"),
                        &fid,
                        d["notify"][id].as_str().unwrap_or(""),
                        "email",
                    )
                    .attr("aria-describedby", &format!("{fid}-hint")),
                )
                .child(el("span").cls("hint").id(&format!("{fid}-hint")).text(
                    "When a visitor finds no free time and leaves a request; empty: every member.",
                )),
        )
        .child(
            el("button")
                .attr("type", "submit")
                .text(&format!("Save request address of {id}")),
        )
}

fn queue_of<'a>(d: &'a Value, id: &str) -> &'a Value {
    d["queues"]["queues"]
        .as_array()
        .and_then(|q| q.iter().find(|q| q["id"] == id))
        .unwrap_or(&Value::Null)
}

/// The agent's name (its id when unknown).
fn name_of(d: &Value, id: &str) -> String {
    d["agents"]["agents"]
        .as_array()
        .and_then(|a| a.iter().find(|a| a["id"] == id))
        .and_then(|a| a["name"].as_str())
        .unwrap_or(id)
        .to_string()
}

/// The Routing page.
pub(super) fn routing_page(s: &State) -> El {
    let d = &s.routing;
    let mut root = el("div").child(title(
        "Routing",
        "Which queue a meeting goes to, who in the queue takes it, and why.",
    ));
    if let Some(e) = d["error"].as_str() {
        root = root.child(
            el("p")
                .cls("notice warn")
                .attr("role", "status")
                .text(&format!("The admin API refused: {e}")),
        );
    }
    let queues = d["queues"]["queues"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mut qbox = el("section")
        .cls("box")
        .attr("aria-labelledby", "rq-h")
        .child(el("h2").id("rq-h").text("Queues"))
        .child(el("p").cls("hint").text(&format!(
            "A weight of 2 takes twice the meetings of a weight of 1 (whole numbers 1 to {MAX_WEIGHT}). \
             Members are listed in rotation order; change the order under Calendar & routing."
        )));
    if queues.is_empty() {
        qbox = qbox.child(el("p").cls("hint").text("No queues yet."));
    }
    for q in &queues {
        qbox = qbox
            .child(queue_form(d, q))
            .child(notify_form(d, q))
            .child(template_form(d, q));
    }
    root.child(qbox).child(rules_box(d)).child(log_box(d))
}

fn queue_form(d: &Value, q: &Value) -> El {
    let id = q["id"].as_str().unwrap_or("");
    let name = q["name"].as_str().filter(|n| !n.is_empty()).unwrap_or(id);
    let members: Vec<&str> = q["agents"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let weight = |a: &str| q["weights"][a].as_u64().unwrap_or(1);
    let total: u64 = members.iter().map(|a| weight(a)).sum();
    let next = q["next_in_line"].as_str().unwrap_or("");
    let mut tb = el("tbody");
    for (i, a) in members.iter().enumerate() {
        let who = name_of(d, a);
        let share = (weight(a) * 100 + total / 2)
            .checked_div(total)
            .unwrap_or(0);
        tb = tb.child(
            el("tr")
                .attr("data-agent", a)
                .child(el("td").text(&(i + 1).to_string()))
                .child(
                    el("td")
                        .text(&who)
                        .child(el("br"))
                        .child(el("code").text(a)),
                )
                .child(
                    el("td").child(
                        el("input")
                            .id(&format!("rw-{id}-{a}"))
                            .attr("type", "number")
                            .attr("min", "1")
                            .attr("max", &MAX_WEIGHT.to_string())
                            .attr("step", "1")
                            .attr("inputmode", "numeric")
                            .attr("aria-label", &format!("Weight of {who} in queue {name}"))
                            .cls("weight")
                            .value(&weight(a).to_string()),
                    ),
                )
                .child(el("td").cls("share").text(&format!("{share}%")))
                .child(el("td").text(if *a == next { "next in line" } else { "" })),
        );
    }
    let f = &q["fairness"];
    let on = |k: &str| f[k].as_bool().unwrap_or(true);
    // `novalidate`: the worker checks the weights and names the field it refuses.
    el("form")
        .cls("queue-weights")
        .attr("data-queue", id)
        .flag("novalidate", true)
        .act(&format!("rt-save:{id}"))
        .child(el("h3").text(&format!("{name} ({id})")))
        .child(if members.is_empty() {
            el("p").cls("hint").text("No members.")
        } else {
            table(
                &format!("Members of queue {id}"),
                &["#", "Agent", "Weight", "Share", ""],
                tb,
            )
        })
        .child(
            el("fieldset")
                .child(el("legend").text("Fairness"))
                .child(checkbox(
                    "Cancelled meetings count as meetings taken",
                    &format!("rf-{id}-cancelled"),
                    on("count_cancelled"),
                ))
                .child(checkbox(
                    "Meetings the visitor did not attend (no-show) count",
                    &format!("rf-{id}-noshow"),
                    on("count_no_show"),
                ))
                .child(el("p").cls("hint").text(
                    "Always on: an agent who was away (no free time) comes back at the fair point, \
                     not owed the meetings they missed; a new member starts at the fair point, not at zero.",
                )),
        )
        .child(
            el("button")
                .attr("type", "submit")
                .cls("primary")
                .text(&format!("Save weights and fairness of {id}")),
        )
}

/// The queue's invitation texts (its own, or the site's shown as the starting point).
fn template_form(d: &Value, q: &Value) -> El {
    let id = q["id"].as_str().unwrap_or("");
    let t = &d["templates"][id];
    let own = t["own"] == true;
    let mut f =
        el("form")
            .cls("queue-template")
            .attr("data-queue-template", id)
            .act(&format!("rt-tpl:{id}"))
            .child(el("h4").text(&format!(
                "Invitation for {id} ({})",
                if own { "its own" } else { "the site's" }
            )))
            .child(el("p").cls("hint").text(
                "Tokens: {{visitor.name}}, {{agent.name}}, {{meeting.time}}, {{meeting.link}}",
            ))
            .child(el("div").cls("field").child(crate::dom::input(
                "Subject",
                &format!("rt-subj-{id}"),
                t["subject"].as_str().unwrap_or(""),
                "text",
            )))
            .child(
                el("div").cls("field").child(
                    el("label")
                        .attr("for", &format!("rt-body-{id}"))
                        .text("Body")
                        .child(
                            el("textarea")
                                .id(&format!("rt-body-{id}"))
                                .attr("rows", "4")
                                .value(t["body"].as_str().unwrap_or("")),
                        ),
                ),
            )
            .child(
                el("button")
                    .attr("type", "submit")
                    .text(&format!("Save invitation of {id}")),
            );
    if own {
        f = f.child(
            el("button")
                .attr("type", "button")
                .act(&format!("rt-tpl-reset:{id}"))
                .text("Use the site's invitation"),
        );
    }
    f
}

fn rules_box(d: &Value) -> El {
    let routes = d["routes"].as_array().cloned().unwrap_or_default();
    let mut b = el("section")
        .cls("box")
        .attr("aria-labelledby", "rr-h")
        .child(
            el("h2")
                .id("rr-h")
                .text("Routing rules of published dialogues"),
        );
    if routes.is_empty() {
        return b.child(
            el("p")
                .cls("hint")
                .text("No published dialogue books meetings."),
        );
    }
    for r in &routes {
        let card = format!(
            "{}/{}",
            r["dialogue"].as_str().unwrap_or(""),
            r["card"].as_str().unwrap_or("")
        );
        let mut ol = el("ol")
            .cls("rules")
            .attr("aria-label", &format!("Routes of {card}"));
        for line in route_lines(&r["route"]) {
            ol = ol.child(el("li").text(&line));
        }
        b = b.child(el("h3").child(el("code").text(&card))).child(ol);
    }
    b
}

fn log_box(d: &Value) -> El {
    let log = d["assignments"]["assignments"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let name = |id: &str| name_of(d, id);
    let mut tb = el("tbody");
    // Newest decision first.
    for r in log.iter().rev().take(50) {
        let chosen = r["chosen"]
            .as_str()
            .map(name)
            .unwrap_or_else(|| "nobody".into());
        tb = tb.child(
            el("tr")
                .attr("data-meeting", r["meeting"].as_str().unwrap_or(""))
                .child(el("td").text(&r["start"].as_str().map(iso_short).unwrap_or_default()))
                .child(el("td").text(r["route"].as_str().unwrap_or("")))
                .child(el("td").cls("chosen").child(el("strong").text(&chosen)))
                .child(el("td").cls("why").text(&decision(r, &name)))
                .child(el("td").text(&r["outcome"].as_str().unwrap_or("").replace('_', " "))),
        );
    }
    el("section")
        .cls("box")
        .attr("aria-labelledby", "rl-h")
        .child(el("h2").id("rl-h").text("Recent assignments"))
        .child(if log.is_empty() {
            el("p").cls("hint").text("No assignments yet.")
        } else {
            table(
                "Recent assignments",
                &["Slot (UTC)", "Queue", "Chosen", "Why", "Outcome"],
                tb,
            )
        })
}
