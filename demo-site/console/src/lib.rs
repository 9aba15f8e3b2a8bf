//! dynchat admin console: a single-page Rust -> wasm app. `store` holds the state, `pages` and
//! `editor` are the views (the only code building DOM, through `dom`), and this module is the
//! controller: hash routing, delegated events, loading data through `api`.

mod api;
mod charts;
mod dom;
mod editor;
mod format;
mod pages;
pub mod paths;
mod routing_text;
mod store;

use serde_json::{json, Value};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::spawn_local;

pub use store::{go, notice, render, with, Me, Page, Reports, State, SITE};

thread_local! {
    /// Counts navigations, so a slow load never renders over a newer page.
    static LOADS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

fn window() -> web_sys::Window {
    web_sys::window().unwrap_or_else(|| wasm_bindgen::throw_str("no window"))
}

fn hash() -> String {
    window().location().hash().unwrap_or_default()
}

/// Draws the whole app from the state, keeping the scroll position and the focused id
/// (`store::render` calls this).
fn draw() {
    let doc = dom::document();
    let Some(app) = doc.get_element_by_id("app") else {
        return;
    };
    let focused = doc
        .active_element()
        .map(|e| e.id())
        .filter(|id| !id.is_empty());
    let y = window().scroll_y().unwrap_or(0.0);
    let node = with(|s| pages::app(s));
    app.set_inner_html("");
    let _ = app.append_child(&node.0);
    window().scroll_to_with_x_and_y(0.0, y);
    if with(|s| matches!(s.page, Some(Page::Editor(_))) && !s.draft.is_null()) {
        editor::show_diagnostics();
    }
    if let Some(id) = focused {
        dom::focus(&id);
    }
}

/// Entry point (wasm-bindgen start).
#[wasm_bindgen(start)]
pub fn start() {
    store::set_renderer(draw);
    let doc = dom::document();
    let Some(app) = doc.get_element_by_id("app") else {
        return;
    };
    for ev in [
        "click",
        "submit",
        "input",
        "change",
        "keydown",
        "dragstart",
        "dragover",
        "drop",
        "dragend",
    ] {
        let cb =
            Closure::<dyn FnMut(web_sys::Event)>::new(move |e: web_sys::Event| on_event(ev, e));
        let _ = app.add_event_listener_with_callback(ev, cb.as_ref().unchecked_ref());
        cb.forget(); // lives as long as the page
    }
    let cb =
        Closure::<dyn FnMut(web_sys::Event)>::new(|_e: web_sys::Event| spawn_local(load_page()));
    let _ = window().add_event_listener_with_callback("hashchange", cb.as_ref().unchecked_ref());
    cb.forget();
    spawn_local(async {
        let a = api::call("GET", "/admin/console/me", None).await;
        if a.ok() {
            signed_in(&a.body);
        }
        load_page().await;
    });
}

fn signed_in(body: &Value) {
    let acc = &body["account"];
    api::set_csrf(body["csrf"].as_str().unwrap_or(""));
    with(|s| {
        s.me = Some(Me {
            email: acc["email"].as_str().unwrap_or("").into(),
            name: acc["name"].as_str().unwrap_or("").into(),
            admin: acc["role"] == "admin",
            agent_id: acc["agent_id"].as_str().map(str::to_string),
            all_sites: acc["sites"].is_null(),
            sites: acc["sites"]
                .as_array()
                .map(|l| {
                    l.iter()
                        .filter_map(|x| x.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default(),
        })
    });
}

/// Loads what the page in the hash needs, then renders it. The site in view comes from the
/// hash (`#/sites/{site}/{page}`); a hash without one keeps the site in view (else the first
/// site of the account) and is rewritten to name it.
pub async fn load_page() {
    let (site_in_url, mut page) = Page::route(&hash());
    if page == Page::Invite {
        // `#/invite/{token}`: keep the token, take it out of the address bar and history.
        let h = hash();
        let token = h.rsplit('/').next().unwrap_or("").to_string();
        if let Ok(hist) = window().history() {
            let _ = hist.replace_state_with_url(&JsValue::NULL, "", Some("#/invite"));
        }
        with(|s| {
            if token != "invite" {
                s.invite_token = token;
            }
            s.page = Some(Page::Invite);
        });
        render();
        dom::focus("new-password");
        return;
    }
    let me = with(|s| s.me.clone());
    let Some(me) = me else {
        with(|s| s.page = Some(Page::SignIn));
        render();
        dom::focus("email");
        return;
    };
    if me.admin && with(|s| s.sites.is_empty()) {
        pages::load_sites().await;
    }
    let before = store::site();
    match &site_in_url {
        Some(site) => store::set_site(site),
        None => {
            let first = with(|s| {
                let known = s.sites.iter().any(|(id, _)| *id == before);
                (!known).then(|| s.sites.first().map(|(id, _)| id.clone()))
            });
            if let Some(Some(first)) = first {
                store::set_site(&first);
            }
        }
    }
    if page == Page::SignIn {
        page = if me.admin {
            Page::Dialogues
        } else {
            Page::Meetings
        };
    }
    if !me.admin && site_in_url.is_none() && !me.sites.is_empty() && !me.sites.contains(&before) {
        // An agent of some sites: the first of their sites.
        store::set_site(&me.sites[0]);
    }
    if !me.admin && !matches!(page, Page::Meetings | Page::Calendar) {
        page = Page::Meetings;
    }
    if me.admin && with(|s| s.sites.is_empty()) {
        page = Page::Sites;
    }
    let canonical = page.hash();
    if hash() != canonical {
        // Name the site in the URL without a second navigation.
        if let Ok(h) = window().history() {
            let _ = h.replace_state_with_url(&JsValue::NULL, "", Some(&canonical));
        }
    }
    let site_changed = store::site() != before;
    let changed = with(|s| {
        let changed = s.page.as_ref() != Some(&page) || site_changed;
        if changed {
            if !std::mem::take(&mut s.keep_notice) {
                s.notice = None;
            }
            if matches!(page, Page::Editor(_)) {
                s.draft = Value::Null;
                s.preview_on = false;
            }
        }
        s.page = Some(page.clone());
        s.loading = true;
        changed
    });
    render();
    let generation = LOADS.with(|l| {
        l.set(l.get() + 1);
        l.get()
    });
    match &page {
        Page::Dialogues => pages::load_dialogues().await,
        Page::Editor(id) => {
            if changed || with(|s| s.draft.is_null()) {
                editor::load(id.clone()).await
            }
        }
        Page::Config => pages::load_config().await,
        Page::Calendar if !me.admin => pages::my_calendar::load_mine(&me).await,
        Page::Calendar => pages::load_calendar(&me).await,
        Page::Agents => pages::agents::load_agents().await,
        Page::Routing => pages::routing::load_routing().await,
        Page::Meetings => pages::load_meetings(&me).await,
        Page::Reports => pages::load_reports().await,
        Page::Marketo => pages::load_marketo().await,
        Page::Sites => pages::load_sites().await,
        Page::Install => pages::load_install().await,
        Page::SignIn | Page::Invite => {}
    }
    if LOADS.with(|l| l.get()) != generation {
        return; // a newer navigation owns the page now
    }
    with(|s| s.loading = false);
    render();
    if changed {
        dom::focus("page-title");
    }
}

fn target_el(e: &web_sys::Event) -> Option<web_sys::Element> {
    e.target()
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
}

fn on_event(kind: &str, e: web_sys::Event) {
    let Some(t) = target_el(&e) else { return };
    match kind {
        "submit" => {
            e.prevent_default();
            if let Some(a) = t.get_attribute("data-act") {
                action(&a);
            }
        }
        "click" => {
            if let Some(b) = t.closest("button[data-act], a[data-act]").ok().flatten() {
                if b.tag_name() == "BUTTON" && b.get_attribute("type").as_deref() == Some("submit")
                {
                    return; // the form's submit event handles it
                }
                e.prevent_default();
                if let Some(a) = b.get_attribute("data-act") {
                    action(&a);
                }
            }
        }
        "input" | "change" => {
            if t.has_attribute("data-path") {
                editor::on_input(&t, kind == "change");
            } else if let Some(a) = t
                .closest("[data-live]")
                .ok()
                .flatten()
                .and_then(|x| x.get_attribute("data-live"))
            {
                if kind == "input"
                    || t.tag_name() == "SELECT"
                    || t.get_attribute("type").as_deref() == Some("checkbox")
                {
                    action(&a);
                }
            }
        }
        "keydown" => {
            let Some(k) = e.dyn_ref::<web_sys::KeyboardEvent>() else {
                return;
            };
            if let Some(item) = t.get_attribute("data-queue-item") {
                let dir = match k.key().as_str() {
                    "ArrowUp" if k.alt_key() => -1,
                    "ArrowDown" if k.alt_key() => 1,
                    _ => return,
                };
                e.prevent_default();
                pages::queue_move(&item, dir);
            }
        }
        "dragstart" => {
            if let Some(item) = t.get_attribute("data-queue-item") {
                if let Some(dt) = e
                    .dyn_ref::<web_sys::DragEvent>()
                    .and_then(|d| d.data_transfer())
                {
                    let _ = dt.set_data("text/plain", &item);
                }
                let _ = t.class_list().add_1("dragging");
            }
        }
        "dragover" if t.closest("[data-queue-item]").ok().flatten().is_some() => {
            e.prevent_default()
        }
        "drop" => {
            if let Some(over) = t
                .closest("[data-queue-item]")
                .ok()
                .flatten()
                .and_then(|x| x.get_attribute("data-queue-item"))
            {
                e.prevent_default();
                let from = e
                    .dyn_ref::<web_sys::DragEvent>()
                    .and_then(|d| d.data_transfer())
                    .and_then(|dt| dt.get_data("text/plain").ok())
                    .unwrap_or_default();
                pages::queue_drop(&from, &over);
            }
        }
        "dragend" => render(),
        _ => {}
    }
}

/// Dispatches a `data-act` string.
fn action(a: &str) {
    let (name, arg) = a.split_once(':').unwrap_or((a, ""));
    let arg = arg.to_string();
    match name {
        "signin" => spawn_local(sign_in()),
        "signout" => spawn_local(async {
            api::call("POST", "/admin/console/logout", Some(&json!({}))).await;
            with(|s| {
                *s = State {
                    preview_page: "/site/pricing.html".into(),
                    ..State::default()
                }
            });
            go("#/signin");
            spawn_local(load_page());
        }),
        _ if editor::handles(name) => editor::action(name, &arg),
        _ if pages::sites::handles(name) => pages::sites::action(name, &arg),
        _ if pages::agents::handles(name) => pages::agents::action(name, &arg),
        _ if pages::routing::handles(name) => pages::routing::action(name, &arg),
        _ if pages::my_calendar::handles(name) => pages::my_calendar::action(name, &arg),
        _ => pages::action(name, &arg),
    }
}

async fn sign_in() {
    let email = dom::value_of("email");
    with(|s| s.signin_email = email.clone());
    let body = json!({"email": email, "password": dom::value_of("password")});
    let a = api::call("POST", "/admin/console/login", Some(&body)).await;
    if a.ok() {
        signed_in(&a.body);
        with(|s| s.signin_error = None);
        let admin = with(|s| s.me.as_ref().is_some_and(|m| m.admin));
        with(|s| s.sites.clear());
        let target = if admin { "#/dialogues" } else { "#/meetings" };
        if Page::route(&hash()).1 == Page::route(target).1 {
            load_page().await;
        } else {
            go(target);
        }
    } else {
        let msg = match a.status {
            401 => "Wrong email or password.".to_string(),
            429 => format!(
                "Too many failed attempts. Try again in {} minutes.",
                a.body
                    .pointer("/error/message")
                    .and_then(Value::as_str)
                    .and_then(|m| m.split("after ").nth(1))
                    .and_then(|x| x.trim_end_matches(" s").parse::<u32>().ok())
                    .map(|s| s.div_ceil(60))
                    .unwrap_or(15)
            ),
            _ => a.error(),
        };
        with(|s| s.signin_error = Some(msg));
        render();
        dom::focus("password");
    }
}
