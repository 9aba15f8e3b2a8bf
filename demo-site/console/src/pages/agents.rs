//! The Agents & queues page (admin: add / edit / remove agents with their hours, meeting
//! length, buffers, notice and horizon; invite them by email; queues with members in rotation
//! order; the site's default queue; the site's accounts), an agent's own "My calendar" page
//! (connect a calendar, own hours, the queues they are in) and the set-password page of an
//! invitation (`#/invite/{token}`, no session).

use crate::api;
use crate::dom::{el, input, select, title, value_of, El};
use crate::store::{go, notice, render, with, Me, State, SITE};
use serde_json::{json, Value};
use wasm_bindgen_futures::spawn_local;

const DAYS: [(&str, &str); 7] = [
    ("mon", "Monday"),
    ("tue", "Tuesday"),
    ("wed", "Wednesday"),
    ("thu", "Thursday"),
    ("fri", "Friday"),
    ("sat", "Saturday"),
    ("sun", "Sunday"),
];

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

/// Loads the signed-in agent's own record ("My calendar").
pub async fn load_mine(me: &Me) {
    let Some(agent) = &me.agent_id else { return };
    let a = api::call(
        "GET",
        &format!("/admin/console/sites/{SITE}/agents/{agent}"),
        None,
    )
    .await;
    with(|s| {
        s.mine = if a.ok() {
            a.body
        } else {
            json!({"error": a.error()})
        }
    });
}

/// `09:00-12:00, 13:00-17:00` from a day's ranges.
fn ranges_text(v: &Value) -> String {
    v.as_array()
        .map(|r| {
            r.iter()
                .map(|x| {
                    format!(
                        "{}-{}",
                        x["start"].as_str().unwrap_or(""),
                        x["end"].as_str().unwrap_or("")
                    )
                })
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
}

/// A day's ranges from `09:00-12:00, 13:00-17:00`; the worker names a malformed one.
fn ranges_of(text: &str) -> Value {
    let list: Vec<Value> = text
        .split(',')
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(|r| {
            let (a, b) = r.split_once('-').unwrap_or((r, ""));
            json!({"start": a.trim(), "end": b.trim()})
        })
        .collect();
    json!(list)
}

fn num(id: &str) -> Value {
    let v = value_of(id);
    v.trim()
        .parse::<u64>()
        .map(|n| json!(n))
        .unwrap_or_else(|_| json!(v))
}

/// The settings fields (zone, hours per day, length, buffers, notice, horizon), ids `{p}-...`.
fn settings_fields(p: &str, st: &Value) -> El {
    let n = |k: &str, d: u64| st[k].as_u64().unwrap_or(d).to_string();
    let mut days = el("fieldset").child(el("legend").text(
        "Working hours (several ranges a day: 09:00-12:00, 13:00-17:00; empty: not working)",
    ));
    for (d, label) in DAYS {
        days = days.child(el("div").cls("field").child(input(
            label,
            &format!("{p}-h-{d}"),
            &ranges_text(&st["working_hours"][d]),
            "text",
        )));
    }
    let field = |label: &str, id: &str, v: &str, kind: &str| {
        el("div")
            .cls("field")
            .child(input(label, &format!("{p}-{id}"), v, kind))
    };
    el("div")
        .child(field(
            "Time zone (IANA, e.g. Europe/Amsterdam)",
            "tz",
            st["time_zone"].as_str().unwrap_or("UTC"),
            "text",
        ))
        .child(days)
        .child(field(
            "Meeting length (minutes)",
            "len",
            &n("meeting_minutes", 30),
            "number",
        ))
        .child(field(
            "Buffer before (minutes)",
            "bb",
            &n("buffer_before_minutes", 0),
            "number",
        ))
        .child(field(
            "Buffer after (minutes)",
            "ba",
            &n("buffer_after_minutes", 0),
            "number",
        ))
        .child(field(
            "Minimum notice (minutes)",
            "notice",
            &n("min_notice_minutes", 60),
            "number",
        ))
        .child(field(
            "Horizon (days)",
            "horizon",
            &n("horizon_days", 14),
            "number",
        ))
}

/// The settings as the worker reads them, from the fields with prefix `p`.
fn settings_from(p: &str) -> Value {
    let mut hours = json!({});
    for (d, _) in DAYS {
        hours[d] = ranges_of(&value_of(&format!("{p}-h-{d}")));
    }
    json!({
        "time_zone": value_of(&format!("{p}-tz")).trim(),
        "working_hours": hours,
        "meeting_minutes": num(&format!("{p}-len")),
        "buffer_before_minutes": num(&format!("{p}-bb")),
        "buffer_after_minutes": num(&format!("{p}-ba")),
        "min_notice_minutes": num(&format!("{p}-notice")),
        "horizon_days": num(&format!("{p}-horizon")),
    })
}

fn table(label: &str, head: &[&str], body: El) -> El {
    el("div")
        .cls("table-wrap")
        .attr("tabindex", "0")
        .attr("role", "region")
        .attr("aria-label", label)
        .child(
            el("table")
                .child(el("thead").child(
                    el("tr").children(head.iter().map(|h| el("th").attr("scope", "col").text(h))),
                ))
                .child(body),
        )
}

fn button(act: &str, label: &str, aria: &str) -> El {
    el("button")
        .attr("type", "button")
        .cls("small")
        .act(act)
        .attr("aria-label", aria)
        .text(label)
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
                .child(el("td").cls("wrap").text(a["email"].as_str().unwrap_or("")))
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
    let editing = f["id"].as_str().is_some_and(|x| !x.is_empty());
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
                .child(settings_fields("ag", &f["settings"]))
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
                        .child(input("Queue id", "q-id", "", "text")),
                )
                .child(
                    el("div")
                        .cls("field")
                        .child(input("Name", "q-name", "", "text")),
                )
                .child(el("div").cls("field").child(input(
                    "Members in rotation order (agent ids, comma-separated)",
                    "q-members",
                    "",
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
    root.child(
        el("div")
            .cls("grid2")
            .child(el("div").child(list).child(qbox))
            .child(el("div").child(form)),
    )
    .child(accounts_box(s))
}

/// The accounts that belong to the site in view.
fn accounts_box(s: &State) -> El {
    let site = crate::store::site();
    let mut tb = el("tbody");
    let mut n = 0;
    for a in s.agents["accounts"]["accounts"]
        .as_array()
        .cloned()
        .unwrap_or_default()
    {
        let sites = match a["sites"].as_array() {
            None => "every site".to_string(),
            Some(l) if l.iter().any(|x| x == site.as_str()) => l
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(", "),
            Some(_) => continue,
        };
        n += 1;
        tb = tb.child(
            el("tr")
                .child(el("td").cls("wrap").text(a["email"].as_str().unwrap_or("")))
                .child(el("td").text(a["role"].as_str().unwrap_or("")))
                .child(el("td").text(a["agent_id"].as_str().unwrap_or("–")))
                .child(el("td").text(&sites)),
        );
    }
    el("section")
        .cls("box")
        .attr("aria-labelledby", "acc-h")
        .child(el("h2").id("acc-h").text("Accounts of this site"))
        .child(if n == 0 {
            el("p").cls("hint").text("No accounts.")
        } else {
            table("Accounts table", &["Email", "Role", "Agent", "Sites"], tb)
        })
}

/// An agent's own page: calendar connection, hours, queues.
pub(super) fn my_calendar(s: &State, me: &Me) -> El {
    let m = &s.mine;
    let mut root = el("div").child(title(
        "My calendar",
        "Connect your calendar, set your hours, see your queues.",
    ));
    if me.agent_id.is_none() {
        return root.child(
            el("p")
                .cls("notice warn")
                .text("This account has no agent record."),
        );
    }
    if let Some(e) = m["error"].as_str() {
        return root.child(el("p").cls("notice bad").attr("role", "alert").text(e));
    }
    let cal = &m["calendar"];
    let state = cal["state"].as_str().unwrap_or("not connected");
    let queues: Vec<&str> = m["queues"]
        .as_array()
        .map(|q| q.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let status = el("section")
        .cls("box")
        .attr("aria-labelledby", "mc-h")
        .child(el("h2").id("mc-h").text("Calendar"))
        .child(
            el("p")
                .child(el("strong").text("Connection: "))
                .child(
                    el("span")
                        .cls(if state == "connected" {
                            "pill ok"
                        } else {
                            "pill off"
                        })
                        .text(state),
                )
                .text(&format!(
                    " {} {}",
                    cal["provider"].as_str().unwrap_or(""),
                    cal["account"].as_str().unwrap_or("")
                )),
        )
        .child(
            el("p")
                .child(el("strong").text("Queues: "))
                .text(&if queues.is_empty() {
                    "none yet (connecting a calendar adds you to the site's default queue)"
                        .to_string()
                } else {
                    queues.join(", ")
                }),
        )
        .child(
            el("div")
                .cls("actions")
                .child(button(
                    "my-oauth:google",
                    "Connect Google",
                    "Connect Google calendar",
                ))
                .child(button(
                    "my-oauth:graph",
                    "Connect Microsoft 365",
                    "Connect Microsoft 365 calendar",
                )),
        )
        .child(
            el("form")
                .act("my-caldav")
                .child(el("h3").text("CalDAV"))
                .child(el("div").cls("field").child(input(
                    "Calendar URL",
                    "my-url",
                    if cal["provider"] == "caldav" {
                        cal["account"].as_str().unwrap_or("")
                    } else {
                        ""
                    },
                    "url",
                )))
                .child(
                    el("div")
                        .cls("field")
                        .child(input("User name", "my-user", "", "text")),
                )
                .child(el("div").cls("field").child(
                    input("Password", "my-pass", "", "password").attr("autocomplete", "off"),
                ))
                .child(
                    el("button")
                        .attr("type", "submit")
                        .cls("primary")
                        .text("Connect CalDAV"),
                ),
        );
    let hours = el("section")
        .cls("box")
        .attr("aria-labelledby", "mh-h")
        .child(el("h2").id("mh-h").text("My hours"))
        .child(
            el("form")
                .act("my-hours")
                .child(settings_fields("my", &m["settings"]))
                .child(el("button").attr("type", "submit").text("Save my hours")),
        );
    root = root.child(el("div").cls("grid2").child(status).child(hours));
    root.child(
        el("p").child(
            el("a")
                .attr("href", &crate::store::href("meetings"))
                .text("My upcoming meetings"),
        ),
    )
}

/// The set-password page of an invitation (no session).
pub fn invite_page(s: &State) -> El {
    let mut form = el("form")
        .act("invite-accept")
        .attr("aria-labelledby", "page-title")
        .child(
            el("h1")
                .id("page-title")
                .attr("tabindex", "-1")
                .text("Set your password"),
        )
        .child(
            el("p")
                .cls("sub")
                .text("dynchat console · agent invitation"),
        );
    if let Some(e) = &s.signin_error {
        form = form.child(
            el("p")
                .cls("notice bad")
                .attr("role", "alert")
                .id("signin-error")
                .text(e),
        );
    }
    form = form
        .child(
            el("div").cls("field").child(
                input(
                    "New password (at least 10 characters)",
                    "new-password",
                    "",
                    "password",
                )
                .attr("autocomplete", "new-password"),
            ),
        )
        .child(
            el("button")
                .attr("type", "submit")
                .cls("primary")
                .text("Set password"),
        );
    el("main").cls("signin").child(form)
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
            | "my-caldav"
            | "my-oauth"
            | "my-hours"
            | "invite-accept"
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
                    .unwrap_or(Value::Null)
            });
            render();
            crate::dom::focus("ag-name");
        }
        "ag-save" => spawn_local(async {
            let id = value_of("ag-id").trim().to_string();
            let body = json!({"name": value_of("ag-name"), "email": value_of("ag-email").trim(), "settings": settings_from("ag")});
            let a = api::call(
                "PUT",
                &format!("/admin/sites/{SITE}/agents/{id}"),
                Some(&body),
            )
            .await;
            if a.ok() {
                with(|s| s.agent_form = Value::Null);
            }
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
            let a = api::call(
                "PUT",
                &format!("/admin/sites/{SITE}/queues/{id}"),
                Some(&body),
            )
            .await;
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
        "my-caldav" | "my-hours" | "my-oauth" => spawn_local(mine_action(name.to_string(), arg)),
        "invite-accept" => spawn_local(async {
            let token = with(|s| s.invite_token.clone());
            let body = json!({"token": token, "password": value_of("new-password")});
            let a = api::call("POST", "/admin/console/invite/accept", Some(&body)).await;
            if a.ok() {
                with(|s| {
                    s.signin_error = None;
                    s.signin_email = a.body["email"].as_str().unwrap_or("").to_string();
                    s.invite_token.clear();
                    s.notice = Some((true, "Password set. Sign in with it.".into()));
                });
                go("#/signin");
            } else {
                with(|s| s.signin_error = Some(a.error()));
                render();
            }
        }),
        _ => {}
    }
}

async fn mine_action(name: String, arg: String) {
    let Some(me) = with(|s| s.me.clone()) else {
        return;
    };
    let Some(agent) = me.agent_id.clone() else {
        return;
    };
    let base = format!("/admin/console/sites/{SITE}/agents/{agent}");
    let a = match name.as_str() {
        "my-caldav" => {
            let body = json!({"provider": "caldav", "url": value_of("my-url").trim(), "username": value_of("my-user"), "password": value_of("my-pass")});
            api::call("PUT", &format!("{base}/calendar"), Some(&body)).await
        }
        "my-hours" => {
            let body = json!({"settings": settings_from("my")});
            api::call("PUT", &format!("{base}/settings"), Some(&body)).await
        }
        _ => {
            let a = api::call(
                "POST",
                &format!("{base}/calendar/connect"),
                Some(&json!({"provider": arg})),
            )
            .await;
            if let (true, Some(url)) = (a.ok(), a.body["redirect_url"].as_str()) {
                if let Some(w) = web_sys::window() {
                    let _ = w.location().assign(url);
                }
                return;
            }
            a
        }
    };
    if a.ok() {
        with(|s| s.mine = a.body.clone());
    }
    let ok = if name == "my-hours" {
        "Your hours are saved."
    } else {
        "Calendar connected; you are in rotation."
    };
    notice(a.ok(), if a.ok() { ok.to_string() } else { a.error() });
}
