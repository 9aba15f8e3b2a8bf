//! The Agents & queues page (admins): add / edit / remove agents with their hours, meeting
//! length, buffers, notice, horizon and meeting location; invite them by email; queues with members in rotation
//! order; the site's default queue; the accounts of the site in view. Form values survive a
//! refusal (they are kept in the state before the call).

use super::agent_form::{button, refusal, settings_fields, settings_from, table};
use crate::api;
use crate::dom::{el, input, select, title, value_of, El};
use crate::store::{notice, render, with, State, SITE};
use serde_json::{json, Value};
use wasm_bindgen_futures::spawn_local;

/// Loads agents, queues, the default queue and the accounts of the site in view.
pub async fn load_agents() {
    let mut out = json!({});
    for (k, path) in [
        ("agents", format!("/admin/sites/{SITE}/agents")),
        ("queues", format!("/admin/sites/{SITE}/queues")),
        ("default", format!("/admin/sites/{SITE}/default-queue")),
        ("accounts", "/admin/console/accounts".to_string()),
    ] {
        let a = api::call("GET", &path, None).await;
        if a.ok() {
            out[k] = a.body;
        } else {
            out["error"] = json!(a.error());
        }
    }
    with(|s| s.agents = out);
}

/// The admin's Agents & queues page.
pub(super) fn agents_page(s: &State) -> El {
    let d = &s.agents;
    let mut root = el("div").child(title(
        "Agents & queues",
        "Who takes meetings, when, and in which order.",
    ));
    if let Some(e) = d["error"].as_str() {
        root = root.child(el("p").cls("notice warn").attr("role", "status").text(e));
    }
    let agents = d["agents"]["agents"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mut tb = el("tbody");
    for a in &agents {
        let id = a["id"].as_str().unwrap_or("");
        let name = a["name"].as_str().unwrap_or(id);
        let queues: Vec<&str> = a["queues"]
            .as_array()
            .map(|q| q.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        tb = tb.child(
            el("tr")
                .child(
                    el("td")
                        .text(name)
                        .child(el("br"))
                        .child(el("code").text(id)),
                )
                .child(el("td").text(a["email"].as_str().unwrap_or("")))
                .child(el("td").text(a["settings"]["time_zone"].as_str().unwrap_or("")))
                .child(el("td").text(a["calendar"]["provider"].as_str().unwrap_or("–")))
                .child(el("td").text(&queues.join(", ")))
                .child(
                    el("td")
                        .cls("actions")
                        .child(button(
                            &format!("ag-edit:{id}"),
                            "Edit",
                            &format!("Edit {name}"),
                        ))
                        .child(button(
                            &format!("ag-invite:{id}"),
                            "Invite",
                            &format!("Invite {name} by email"),
                        ))
                        .child(button(
                            &format!("ag-remove:{id}"),
                            "Remove",
                            &format!("Remove {name}"),
                        )),
                ),
        );
    }
    let list = el("section")
        .cls("box")
        .attr("aria-labelledby", "agl-h")
        .child(el("h2").id("agl-h").text("Agents"))
        .child(if agents.is_empty() {
            el("p").cls("hint").text("No agents yet: add one below.")
        } else {
            table(
                "Agents table",
                &["Agent", "Email", "Zone", "Calendar", "Queues", "Actions"],
                tb,
            )
        });
    let f = &s.agent_form;
    let editing = f["editing"] == true;
    let form = el("section")
        .cls("box")
        .attr("aria-labelledby", "agf-h")
        .child(el("h2").id("agf-h").text(if editing {
            "Edit agent"
        } else {
            "Add an agent"
        }))
        .child(
            el("form")
                .act("ag-save")
                .child(el("div").cls("field").child(input(
                    "Id (letters, digits, - and _)",
                    "ag-id",
                    f["id"].as_str().unwrap_or(""),
                    "text",
                )))
                .child(el("div").cls("field").child(input(
                    "Name",
                    "ag-name",
                    f["name"].as_str().unwrap_or(""),
                    "text",
                )))
                .child(el("div").cls("field").child(input(
                    "Email",
                    "ag-email",
                    f["email"].as_str().unwrap_or(""),
                    "email",
                )))
                .child(el("div").cls("field").child(input(
                    "Meeting location (optional: office, room or phone; the invitation's location)",
                    "ag-location",
                    f["location"].as_str().unwrap_or(""),
                    "text",
                )))
                .child(settings_fields("ag", &f["settings"], &f["error"]))
                .child(
                    el("button")
                        .attr("type", "submit")
                        .cls("primary")
                        .text("Save agent"),
                ),
        );
    let queues = d["queues"]["queues"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mut qb = el("tbody");
    for q in &queues {
        let members: Vec<&str> = q["agents"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        qb = qb.child(
            el("tr")
                .child(el("td").child(el("code").text(q["id"].as_str().unwrap_or(""))))
                .child(el("td").text(q["name"].as_str().unwrap_or("")))
                .child(el("td").text(&members.join(" → ")))
                .child(el("td").text(q["next_in_line"].as_str().unwrap_or("–"))),
        );
    }
    let default = d["default"]["default_queue"].as_str().unwrap_or("");
    let qf = |i: usize| d["qform"][i].as_str().unwrap_or("");
    let mut options: Vec<(&str, &str)> = vec![("", "none")];
    for q in &queues {
        let id = q["id"].as_str().unwrap_or("");
        options.push((id, id));
    }
    let qbox = el("section")
        .cls("box")
        .attr("aria-labelledby", "qs-h")
        .child(el("h2").id("qs-h").text("Queues"))
        .child(if queues.is_empty() {
            el("p").cls("hint").text("No queues yet.")
        } else {
            table(
                "Queues table",
                &["Queue", "Name", "Rotation order", "Next"],
                qb,
            )
        })
        .child(
            el("form")
                .act("q-save")
                .child(el("h3").text("Create or change a queue"))
                .child(
                    el("div")
                        .cls("field")
                        .child(input("Queue id", "q-id", qf(0), "text")),
                )
                .child(
                    el("div")
                        .cls("field")
                        .child(input("Name", "q-name", qf(1), "text")),
                )
                .child(el("div").cls("field").child(input(
                    "Members in rotation order (agent ids, comma-separated)",
                    "q-members",
                    qf(2),
                    "text",
                )))
                .child(el("button").attr("type", "submit").text("Save queue")),
        )
        .child(
            el("form")
                .act("dq-save")
                .child(el("h3").text("Default queue"))
                .child(el("p").cls("hint").text(
                    "An agent who connects a calendar joins this queue at the end of the rotation.",
                ))
                .child(
                    el("label")
                        .attr("for", "dq")
                        .text("Default queue")
                        .child(select("dq", default, &options)),
                )
                .child(
                    el("button")
                        .attr("type", "submit")
                        .text("Save default queue"),
                ),
        );
    root.child(list)
        .child(
            el("div")
                .cls("grid2")
                .child(el("div").child(qbox))
                .child(el("div").child(form)),
        )
        .child(accounts_box(s))
}

/// The accounts the admin may see: those of the site in view first, each with a button that
/// gives or takes this site (accounts of every site have no button).
fn accounts_box(s: &State) -> El {
    let site = crate::store::site();
    let mut rows: Vec<(bool, El)> = Vec::new();
    for a in s.agents["accounts"]["accounts"]
        .as_array()
        .cloned()
        .unwrap_or_default()
    {
        let email = a["email"].as_str().unwrap_or("");
        let (member, sites, act) = match a["sites"].as_array() {
            None => (true, "every site".to_string(), None),
            Some(l) => {
                let list: Vec<&str> = l.iter().filter_map(Value::as_str).collect();
                let member = list.contains(&site.as_str());
                let act = if member {
                    (format!("acc-take:{email}"), format!("Remove {site}"))
                } else {
                    (format!("acc-give:{email}"), format!("Give {site}"))
                };
                (member, list.join(", "), Some(act))
            }
        };
        let cell = match act {
            Some((act, label)) => {
                el("td").child(button(&act, &label, &format!("{label}: {email}")))
            }
            None => el("td").text("–"),
        };
        rows.push((
            member,
            el("tr")
                .child(el("td").text(email))
                .child(el("td").text(a["role"].as_str().unwrap_or("")))
                .child(el("td").text(a["agent_id"].as_str().unwrap_or("–")))
                .child(el("td").text(&sites))
                .child(cell),
        ));
    }
    rows.sort_by_key(|(member, _)| !*member);
    let empty = rows.is_empty();
    let tb = el("tbody").children(rows.into_iter().map(|(_, r)| r));
    el("section")
        .cls("box")
        .attr("aria-labelledby", "acc-h")
        .child(el("h2").id("acc-h").text("Accounts"))
        .child(el("p").cls("hint").text(
            "Accounts of this site first. Give or take this site; an account of every site keeps them all.",
        ))
        .child(if empty {
            el("p").cls("hint").text("No accounts.")
        } else {
            table(
                "Accounts table",
                &["Email", "Role", "Agent", "Sites", "This site"],
                tb,
            )
        })
}

/// Whether [`action`] runs `name`.
pub fn handles(name: &str) -> bool {
    matches!(
        name,
        "ag-edit"
            | "ag-save"
            | "ag-remove"
            | "ag-invite"
            | "q-save"
            | "dq-save"
            | "acc-give"
            | "acc-take"
    )
}

async fn reload_agents(a: &api::Answer, ok: &str) {
    if a.ok() {
        load_agents().await;
    }
    notice(a.ok(), if a.ok() { ok.to_string() } else { a.error() });
}

/// Runs one of [`handles`]' actions.
pub fn action(name: &str, arg: &str) {
    let arg = arg.to_string();
    match name {
        "ag-edit" => {
            with(|s| {
                s.agent_form = s.agents["agents"]["agents"]
                    .as_array()
                    .and_then(|l| l.iter().find(|a| a["id"] == arg.as_str()).cloned())
                    .unwrap_or(Value::Null);
                s.agent_form["editing"] = json!(true);
            });
            render();
            crate::dom::focus("ag-name");
        }
        "ag-save" => spawn_local(async {
            let id = value_of("ag-id").trim().to_string();
            let location = value_of("ag-location");
            let stored = with(|s| s.agent_form["settings"].clone());
            let body = json!({"name": value_of("ag-name"), "email": value_of("ag-email").trim(), "settings": settings_from("ag", &stored),
                              "location": if location.trim().is_empty() { Value::Null } else { json!(location) }});
            // Kept through the re-render: a refusal loses nothing typed.
            with(
                |s| s.agent_form = json!({"id": id, "name": body["name"], "email": body["email"], "settings": body["settings"], "location": body["location"], "editing": s.agent_form["editing"]}),
            );
            let a = api::call(
                "PUT",
                &format!("/admin/sites/{SITE}/agents/{id}"),
                Some(&body),
            )
            .await;
            with(|s| {
                if a.ok() {
                    s.agent_form = Value::Null;
                } else {
                    s.agent_form["error"] = refusal(&a);
                }
            });
            reload_agents(&a, &format!("Agent {id} saved.")).await;
        }),
        "ag-remove" => spawn_local(async move {
            let a = api::call("DELETE", &format!("/admin/sites/{SITE}/agents/{arg}"), None).await;
            reload_agents(
                &a,
                &format!("Agent {arg} removed from every queue and deleted."),
            )
            .await;
        }),
        "ag-invite" => spawn_local(async move {
            let a = api::call(
                "POST",
                &format!("/admin/console/sites/{SITE}/agents/{arg}/invite"),
                Some(&json!({})),
            )
            .await;
            let to = a.body["invited"].as_str().unwrap_or("").to_string();
            reload_agents(
                &a,
                &format!("Invitation sent to {to}; the link works once, for 72 hours."),
            )
            .await;
        }),
        "q-save" => spawn_local(async {
            let id = value_of("q-id").trim().to_string();
            let members: Vec<String> = value_of("q-members")
                .split(',')
                .map(|m| m.trim().to_string())
                .filter(|m| !m.is_empty())
                .collect();
            let body = json!({"name": value_of("q-name"), "agents": members});
            with(|s| s.agents["qform"] = json!([id, value_of("q-name"), value_of("q-members")]));
            let a = api::call(
                "PUT",
                &format!("/admin/sites/{SITE}/queues/{id}"),
                Some(&body),
            )
            .await;
            if a.ok() {
                with(|s| s.agents["qform"] = Value::Null);
            }
            reload_agents(&a, &format!("Queue {id} saved.")).await;
        }),
        "dq-save" => spawn_local(async {
            let q = value_of("dq");
            let body = json!({"default_queue": if q.is_empty() { Value::Null } else { json!(q) }});
            let a = api::call(
                "PUT",
                &format!("/admin/sites/{SITE}/default-queue"),
                Some(&body),
            )
            .await;
            reload_agents(&a, "Default queue saved.").await;
        }),
        "acc-give" | "acc-take" => {
            let give = name == "acc-give";
            spawn_local(async move {
                let site = crate::store::site();
                let mut list: Vec<String> = with(|s| {
                    s.agents["accounts"]["accounts"]
                        .as_array()
                        .and_then(|l| l.iter().find(|a| a["email"] == arg.as_str()).cloned())
                        .and_then(|a| a["sites"].as_array().cloned())
                        .unwrap_or_default()
                        .iter()
                        .filter_map(|x| x.as_str().map(str::to_string))
                        .collect()
                });
                list.retain(|x| *x != site);
                if give {
                    list.push(site.clone());
                }
                let body = json!({"email": arg, "sites": list});
                let a = api::call("PUT", "/admin/console/accounts/sites", Some(&body)).await;
                let done = if give {
                    format!("{arg} now belongs to {site}.")
                } else {
                    format!("{arg} no longer belongs to {site}.")
                };
                reload_agents(&a, &done).await;
            });
        }
        _ => {}
    }
}
