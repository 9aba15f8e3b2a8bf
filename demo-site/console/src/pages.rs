//! The console's pages other than the dialogue editor: the shell (with the site switcher) and
//! sign-in, sites and the Install page, the dialogue list, configuration, calendar, routing (weights, fairness, rules, decisions), meetings, reports and the Marketo connection, with the
//! loaders and actions that feed them.

use crate::dom::{el, El};
use crate::editor;
use crate::store::{Page, State};

// Layers, top down: this file (the app shell) and `actions` -> one module per page -> `crate::format`, `crate::dom`.
mod actions;
mod agent_form;
pub mod agents;
mod calendar;
mod config;
mod dialogues;
mod experiments;
mod marketo;
mod meetings;
pub mod my_calendar;
mod reports;
pub mod routing;
pub mod sites;

pub use actions::action;
use calendar::calendar;
pub use calendar::{load_calendar, queue_drop, queue_move};
use config::config;
pub use config::load_config;
use dialogues::dialogues;
pub use dialogues::load_dialogues;
pub use marketo::load_marketo;
use marketo::marketo;
pub use meetings::load_meetings;
use meetings::meetings;
pub use reports::load_reports;
use reports::reports;
pub use sites::{load_install, load_sites};

/// The whole app for the current state.
pub fn app(s: &State) -> El {
    if s.page == Some(Page::Invite) {
        return my_calendar::invite_page(s);
    }
    let Some(me) = &s.me else { return signin(s) };
    let page = s.page.clone().unwrap_or(Page::Dialogues);
    let mut nav = el("nav").attr("aria-label", "Console");
    let items: Vec<(Page, &str, bool)> = if me.admin {
        vec![
            (
                Page::Dialogues,
                "Dialogues",
                matches!(page, Page::Dialogues | Page::Editor(_)),
            ),
            (Page::Install, "Install", page == Page::Install),
            (Page::Config, "Configuration", page == Page::Config),
            (Page::Calendar, "Calendar & routing", page == Page::Calendar),
            (Page::Agents, "Agents & queues", page == Page::Agents),
            (Page::Routing, "Routing", page == Page::Routing),
            (Page::Meetings, "Meetings", page == Page::Meetings),
            (Page::Reports, "Reports", page == Page::Reports),
            (Page::Marketo, "Marketo", page == Page::Marketo),
            (Page::Sites, "All sites", page == Page::Sites),
        ]
    } else {
        vec![
            (Page::Meetings, "My meetings", page == Page::Meetings),
            (Page::Calendar, "My calendar", page == Page::Calendar),
        ]
    };
    for (target, label, cur) in items {
        // The Marketo connection is the whole instance's: only for accounts of every site.
        if target == Page::Marketo && !me.all_sites {
            continue;
        }
        nav = nav.child(
            el("a")
                .attr("href", &target.hash())
                .attr_opt("aria-current", cur.then_some("page"))
                .text(label),
        );
    }
    let side = el("header")
        .cls("side")
        .child(el("div").cls("logo").child(el("span").cls("logo-mark").attr("aria-hidden", "true").html("<svg viewBox=\"0 0 32 32\" width=\"18\" height=\"18\"><path d=\"M6 8h20v13H13l-5 5v-5H6z\" fill=\"#fff\"/></svg>")).text("dynchat"))
        .child(if me.admin {
            sites::switcher(s)
        } else {
            el("span")
        })
        .child(nav)
        .child(
            el("div")
                .cls("who")
                .child(
                    el("div")
                        .child(el("strong").text(&me.name))
                        .child(el("br"))
                        .text(&format!(
                            "{} · {}",
                            me.email,
                            if me.admin { "admin" } else { "agent" }
                        )),
                )
                .child(
                    el("button")
                        .attr("type", "button")
                        .cls("small")
                        .act("signout")
                        .text("Sign out"),
                ),
        );
    let mut main = el("main").id("main");
    if let Some((ok, msg)) = &s.notice {
        main = main.child(
            el("div")
                .cls(if *ok { "notice ok" } else { "notice bad" })
                .attr("role", if *ok { "status" } else { "alert" })
                .text(msg),
        );
    }
    let body = match &page {
        _ if s.loading && !matches!(page, Page::Editor(_)) => {
            el("p").attr("role", "status").text("Loading…")
        }
        Page::Dialogues => dialogues(s),
        Page::Editor(_) => {
            if s.draft.is_null() {
                el("p").text("Loading…")
            } else {
                editor::view(s)
            }
        }
        Page::Config => config(s),
        Page::Calendar if !me.admin => my_calendar::my_calendar(s, me),
        Page::Calendar => calendar(s, me),
        Page::Agents => agents::agents_page(s),
        Page::Routing => routing::routing_page(s),
        Page::Meetings => meetings(s, me),
        Page::Reports => reports(s),
        Page::Marketo => marketo(s),
        Page::Sites => sites::sites(s),
        Page::Install => sites::install(s),
        Page::SignIn | Page::Invite => el("p"),
    };
    el("div")
        .cls("shell")
        .child(
            el("a")
                .cls("skip")
                .attr("href", "#main")
                .act("skip")
                .text("Skip to content"),
        )
        .child(side)
        .child(main.child(body))
}

fn signin(s: &State) -> El {
    let form = my_calendar::session_form(
        s,
        "signin",
        "Sign in to dynchat",
        "Northwind Analytics · chat console",
    );
    let email = el("div")
        .cls("field")
        .child(el("label").attr("for", "email").text("Email"))
        .child(
            el("input")
                .id("email")
                .attr("type", "email")
                .attr("name", "email")
                .attr("autocomplete", "username")
                .flag("required", true)
                .value(&s.signin_email),
        );
    let pw = el("div")
        .cls("field")
        .child(el("label").attr("for", "password").text("Password"))
        .child(
            el("input")
                .id("password")
                .attr("type", "password")
                .attr("name", "password")
                .attr("autocomplete", "current-password")
                .flag("required", true),
        );
    let form = form.child(email).child(pw).child(
        el("button")
            .attr("type", "submit")
            .cls("primary")
            .text("Sign in"),
    );
    el("main").cls("signin").child(form)
}
