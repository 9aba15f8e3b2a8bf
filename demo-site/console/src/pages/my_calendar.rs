//! An agent's own "My calendar" page (connect Google / Microsoft 365 / CalDAV for themselves,
//! their own hours, the queues they are in) and the set-password page of an invitation
//! (`#/invite/{token}`, no session; the token is taken out of the address bar).

use super::agent_form::{button, refusal, settings_fields, settings_from};
use crate::api;
use crate::dom::{el, input, title, value_of, El};
use crate::store::{go, notice, render, with, Me, State, SITE};
use serde_json::{json, Value};
use wasm_bindgen_futures::spawn_local;

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
                    match m["form"][0].as_str() {
                        Some(typed) => typed,
                        None if cal["provider"] == "caldav" => {
                            cal["account"].as_str().unwrap_or("")
                        }
                        None => "",
                    },
                    "url",
                )))
                .child(el("div").cls("field").child(input(
                    "User name",
                    "my-user",
                    m["form"][1].as_str().unwrap_or(""),
                    "text",
                )))
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
                .child(settings_fields("my", &m["settings"], &m["settings_error"]))
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

/// The start of a form of a page without a session (sign-in, set-password): its action, the
/// focusable heading, the subtitle and the last sign-in error, if any.
pub(super) fn session_form(s: &State, action: &str, heading: &str, sub: &str) -> El {
    let form = el("form")
        .act(action)
        .attr("aria-labelledby", "page-title")
        .child(
            el("h1")
                .id("page-title")
                .attr("tabindex", "-1")
                .text(heading),
        )
        .child(el("p").cls("sub").text(sub));
    match &s.signin_error {
        Some(e) => form.child(
            el("p")
                .cls("notice bad")
                .attr("role", "alert")
                .id("signin-error")
                .text(e),
        ),
        None => form,
    }
}

/// The set-password page of an invitation (no session).
pub fn invite_page(s: &State) -> El {
    let form = session_form(
        s,
        "invite-accept",
        "Set your password",
        "dynchat console · agent invitation",
    )
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
        "my-caldav" | "my-oauth" | "my-hours" | "invite-accept"
    )
}

/// Runs one of [`handles`]' actions.
pub fn action(name: &str, arg: &str) {
    let arg = arg.to_string();
    match name {
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
            with(|s| s.mine["form"] = json!([body["url"], body["username"]]));
            api::call("PUT", &format!("{base}/calendar"), Some(&body)).await
        }
        "my-hours" => {
            let stored = with(|s| s.mine["settings"].clone());
            let body = json!({"settings": settings_from("my", &stored)});
            // Kept through the re-render: a refusal loses nothing typed.
            with(|s| s.mine["settings"] = body["settings"].clone());
            let a = api::call("PUT", &format!("{base}/settings"), Some(&body)).await;
            with(|s| s.mine["settings_error"] = refusal(&a));
            a
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
