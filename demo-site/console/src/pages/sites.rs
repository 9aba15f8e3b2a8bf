//! The Sites page (every site the account may see, and creating one: id, name, allowed embed
//! origins) and the Install page of the site in view (script tag and npm snippet with copy
//! buttons, the consent option, and the installation check from `GET .../install`).

use crate::api;
use crate::dom::{el, title, value_of, El};
use crate::format::date_time;
use crate::store::{go, notice, render, set_site, site, with, State, SITE};
use serde_json::{json, Value};
use wasm_bindgen_futures::spawn_local;

/// Loads the sites the account may see (the switcher and the Sites page).
pub async fn load_sites() {
    let a = api::call("GET", "/admin/sites", None).await;
    if !a.ok() {
        notice(false, a.error());
        return;
    }
    let list: Vec<(String, String)> = a.body["sites"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|s| {
            (
                s["id"].as_str().unwrap_or("").to_string(),
                s["name"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    with(|s| s.sites = list);
}

/// Loads the site's installation check.
pub async fn load_install() {
    let a = api::call("GET", &format!("/admin/sites/{SITE}/install"), None).await;
    with(|s| s.install = a.body.clone());
    if !a.ok() {
        notice(false, a.error());
    }
}

/// The actions of these pages.
pub fn handles(name: &str) -> bool {
    matches!(
        name,
        "create-site" | "switch-site" | "copy" | "check-install"
    )
}

/// Runs one of [`handles`]' actions.
pub fn action(name: &str, arg: &str) {
    match name {
        "create-site" => spawn_local(create_site()),
        "switch-site" => {
            let to = value_of("site-switch");
            let page = with(|s| s.page.clone());
            set_site(&to);
            match page {
                Some(crate::store::Page::Editor(_)) | None => {
                    go(&crate::store::Page::Dialogues.hash())
                }
                Some(p) => go(&p.hash()),
            }
        }
        "copy" => {
            let text = crate::dom::document()
                .get_element_by_id(arg)
                .and_then(|e| e.text_content())
                .unwrap_or_default();
            if let Some(w) = web_sys::window() {
                let _ = w.navigator().clipboard().write_text(&text);
            }
            notice(true, "Copied to the clipboard.");
        }
        "check-install" => spawn_local(async {
            load_install().await;
            render();
            crate::dom::focus("install-state");
        }),
        _ => {}
    }
}

async fn create_site() {
    let id = value_of("ns-id").trim().to_string();
    let name = value_of("ns-name").trim().to_string();
    let text = value_of("ns-origins");
    with(|s| s.new_site_form = (id.clone(), name.clone(), text.clone()));
    let origins: Vec<String> = text
        .lines()
        .map(|l| l.trim().trim_end_matches('/').to_string())
        .filter(|l| !l.is_empty())
        .collect();
    // An empty name is the id (the worker's default), not an error.
    let name = if name.is_empty() {
        Value::Null
    } else {
        json!(name)
    };
    let body = json!({"id": id, "name": name, "allowed_origins": origins});
    let a = api::call("POST", "/admin/sites", Some(&body)).await;
    if a.ok() {
        with(|s| {
            s.new_site_error = None;
            s.new_site_form = Default::default();
        });
        load_sites().await;
        set_site(&id);
        with(|s| s.keep_notice = true);
        notice(
            true,
            format!("Site {id} created. Paste its script tag into your pages."),
        );
        go(&crate::store::Page::Install.hash());
    } else {
        let field = a
            .body
            .pointer("/error/field")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        // The worker's message names the field already.
        let msg = a
            .body
            .pointer("/error/message")
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| a.error());
        with(|s| s.new_site_error = Some((field, msg)));
        render();
        crate::dom::focus("ns-error");
    }
}

/// The site switcher in the side bar (a select of the account's sites).
pub fn switcher(s: &State) -> El {
    let current = site();
    let mut sel = el("select")
        .id("site-switch")
        .attr("name", "site-switch")
        .attr("data-live", "switch-site");
    let mut listed = false;
    for (id, name) in &s.sites {
        listed |= *id == current;
        sel = sel.child(
            el("option")
                .attr("value", id)
                .flag("selected", *id == current)
                .text(&format!("{name} ({id})")),
        );
    }
    if !listed {
        sel = sel.child(
            el("option")
                .attr("value", &current)
                .flag("selected", true)
                .text(&current),
        );
    }
    el("div")
        .cls("site-switch")
        .child(el("label").attr("for", "site-switch").text("Site"))
        .child(sel.value(&current))
}

/// The Sites page.
pub(super) fn sites(s: &State) -> El {
    let mut list = el("ul").cls("site-list");
    for (id, name) in &s.sites {
        list = list.child(
            el("li")
                .child(el("strong").text(name))
                .text(&format!(" ({id}) · "))
                .child(
                    el("a")
                        .attr("href", &format!("#/sites/{id}/dialogues"))
                        .text("Dialogues"),
                )
                .text(" · ")
                .child(
                    el("a")
                        .attr("href", &format!("#/sites/{id}/install"))
                        .text("Install"),
                ),
        );
    }
    let err = s.new_site_error.as_ref();
    let described = |f: &str| err.is_some_and(|(x, _)| x.starts_with(f));
    let mut form = el("form")
        .act("create-site")
        .cls("box")
        .attr("aria-labelledby", "ns-h")
        .child(el("h2").id("ns-h").text("New site"));
    if let Some((_, msg)) = err {
        form = form.child(
            el("p")
                .cls("notice bad")
                .id("ns-error")
                .attr("role", "alert")
                .attr("tabindex", "-1")
                .text(msg),
        );
    }
    let field = |label: &str, id: &str, key: &str, hint: &str, value: &str| {
        let hint_id = format!("{id}-hint");
        let i = el("input")
            .id(id)
            .attr("type", "text")
            .attr("name", id)
            .value(value)
            .attr("aria-describedby", &hint_id)
            .attr_opt("aria-invalid", described(key).then_some("true"));
        el("div")
            .cls("field")
            .child(el("label").attr("for", id).text(label).child(i))
            .child(el("span").cls("hint").id(&hint_id).text(hint))
    };
    form = form
        .child(field(
            "Site id",
            "ns-id",
            "id",
            "1-64 letters, digits, '-' or '_'; it appears in the script tag and every URL.",
            &s.new_site_form.0,
        ))
        .child(field(
            "Name",
            "ns-name",
            "name",
            "Shown in the console (up to 100 characters; empty: the id).",
            &s.new_site_form.1,
        ))
        .child(
            el("div")
                .cls("field")
                .child(
                    el("label")
                        .attr("for", "ns-origins")
                        .text("Allowed embed origins (one per line)")
                        .child(
                            el("textarea")
                                .id("ns-origins")
                                .attr_opt(
                                    "aria-invalid",
                                    described("allowed_origins").then_some("true"),
                                )
                                .value(&s.new_site_form.2),
                        ),
                )
                .child(el("span").cls("hint").text(
                    "The pages that may show the chat, e.g. https://www.example.com (scheme, host and port; no path).",
                )),
        )
        .child(
            el("button")
                .attr("type", "submit")
                .cls("primary")
                .text("Create site"),
        );
    el("div")
        .child(title(
            "Sites",
            "Each site has its own dialogues, leads, agents and script tag.",
        ))
        .child(
            el("div")
                .cls("grid2")
                .child(
                    el("section")
                        .cls("box")
                        .attr("aria-labelledby", "sl-h")
                        .child(el("h2").id("sl-h").text("Your sites"))
                        .child(list),
                )
                .child(form),
        )
}

fn snippet(id: &str, heading: &str, hint: &str, code: &str, copy: &str) -> El {
    let h = format!("{id}-h");
    el("section")
        .cls("box")
        .attr("aria-labelledby", &h)
        .child(el("h2").id(&h).text(heading))
        .child(el("p").cls("hint").text(hint))
        .child(el("pre").cls("snippet").id(id).text(code))
        .child(
            el("button")
                .attr("type", "button")
                .act(&format!("copy:{id}"))
                .text(copy),
        )
}

/// One line of the check.
fn check_line(l: &Value) -> El {
    let origin = l["origin"].as_str().unwrap_or("");
    let at = |k: &str| date_time(l[k].as_f64().unwrap_or(0.0));
    let (pill, cls, text) = match l["state"].as_str().unwrap_or("") {
        "seen" => (
            "Installed",
            "pill ok",
            format!(
                "seen on {origin} at {} (first {})",
                at("last_at"),
                at("first_at")
            ),
        ),
        "not_allowed" => (
            "Not allowed",
            "pill bad",
            format!("a page on {origin} loaded the tag at {}, but {origin} is not an allowed origin: the chat cannot start there. Add it under Configuration if it is yours.", at("last_at")),
        ),
        _ => (
            "Waiting",
            "pill warn",
            format!("no request yet from {origin}: open a page of it that has the tag"),
        ),
    };
    el("li")
        .child(el("span").cls(cls).text(pill))
        .text(" ")
        .text(&text)
}

/// The Install page.
pub(super) fn install(s: &State) -> El {
    let origin = web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .unwrap_or_default();
    let site = site();
    let tag =
        format!("<script src=\"{origin}/widget/loader.js\" data-site=\"{site}\" async></script>");
    let npm = format!("npm install @dynchat/widget\n\nimport {{ init }} from '@dynchat/widget';\ninit({{ site: '{site}', endpoint: '{origin}' }});");
    let r = &s.install;
    let lines: Vec<Value> = r["origins"].as_array().cloned().unwrap_or_default();
    let state = if r.is_null() || r.get("error").is_some() {
        el("p")
            .cls("notice bad")
            .text("The check is not available.")
    } else if r["installed"] == true {
        el("p")
            .cls("notice ok")
            .text("Installed: the tag has loaded on an allowed page.")
    } else if lines.is_empty() {
        el("p").cls("notice warn").text(
            "No allowed embed origins yet: add the origins of your pages under Configuration.",
        )
    } else {
        el("p")
            .cls("notice warn")
            .text("Not installed yet: no allowed page has loaded the tag.")
    };
    let check = el("section")
        .cls("box")
        .attr("aria-labelledby", "ic-h")
        .child(el("h2").id("ic-h").text("Installation check"))
        .child(
            el("div")
                .id("install-state")
                .attr("tabindex", "-1")
                .attr("role", "status")
                .child(state)
                .child(
                    el("ul")
                        .cls("install-check")
                        .children(lines.iter().map(check_line)),
                ),
        )
        .child(el("p").cls("hint").text(
            "The worker notes the first and latest bundle request of each page origin (at most every few minutes).",
        ))
        .child(
            el("button")
                .attr("type", "button")
                .act("check-install")
                .text("Check again"),
        );
    let consent = el("section")
        .cls("box")
        .attr("aria-labelledby", "cs-h")
        .child(el("h2").id("cs-h").text("Consent"))
        .child(el("p").text("Without consent mode the widget keeps the visitor's conversation and lead outbox in localStorage. Where your cookie banner must allow that first, add data-consent=\"required\" to the tag (or pick \"Wait for consent\" under Configuration): the widget then stores nothing until your banner calls dynchat.consent(true), and dynchat.consent(false) deletes what it stored."))
        .child(el("pre").cls("snippet").id("consent-tag").text(&format!("<script src=\"{origin}/widget/loader.js\" data-site=\"{site}\" data-consent=\"required\" async></script>\n\n// in your banner's accept handler:\nwindow.dynchat.consent(true);")));
    el("div")
        .child(title(
            "Install",
            &format!("Put {site} on your pages, and check that it arrived."),
        ))
        .child(
            el("div")
                .cls("grid2")
                .child(
                    el("div")
                        .child(snippet(
                            "tag-snippet",
                            "Script tag",
                            "Paste it before </body> on every page of the site.",
                            &tag,
                            "Copy script tag",
                        ))
                        .child(snippet(
                            "npm-snippet",
                            "npm package",
                            "Or bundle the same widget with your app (same methods as window.dynchat).",
                            &npm,
                            "Copy npm snippet",
                        ))
                        .child(consent),
                )
                .child(check),
        )
}
