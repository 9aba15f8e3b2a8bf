//! The console's pages other than the dialogue editor: the shell and sign-in, the dialogue list,
//! configuration, calendar and routing, meetings, reports and the Marketo connection, with the
//! loaders and actions that feed them.

use crate::dom::{checkbox, el, input, select, value_of, El};
use crate::{api, charts, editor, notice, render, with, Me, Page, State, SITE};
use serde_json::{json, Value};
use wasm_bindgen_futures::spawn_local;

/// `YYYY-MM-DD HH:MM UTC` from ms.
pub fn date_time(ms: f64) -> String {
    let iso = js_sys::Date::new(&ms.into())
        .to_iso_string()
        .as_string()
        .unwrap_or_default();
    format!(
        "{} {} UTC",
        iso.get(..10).unwrap_or(""),
        iso.get(11..16).unwrap_or("")
    )
}

fn day(ms: f64) -> String {
    js_sys::Date::new(&ms.into())
        .to_iso_string()
        .as_string()
        .unwrap_or_default()
        .get(..10)
        .unwrap_or("")
        .to_string()
}

fn day_ms(d: &str) -> Option<f64> {
    let t = js_sys::Date::parse(&format!("{d}T00:00:00Z"));
    (d.len() == 10 && !t.is_nan()).then_some(t)
}

const DAY_MS: f64 = 86_400_000.0;

/// The whole app for the current state.
pub fn app(s: &State) -> El {
    let Some(me) = &s.me else { return signin(s) };
    let page = s.page.clone().unwrap_or(Page::Dialogues);
    let mut nav = el("nav").attr("aria-label", "Console");
    let items: Vec<(&str, &str, bool)> = if me.admin {
        vec![
            (
                "#/dialogues",
                "Dialogues",
                matches!(page, Page::Dialogues | Page::Editor(_)),
            ),
            ("#/config", "Configuration", page == Page::Config),
            ("#/calendar", "Calendar & routing", page == Page::Calendar),
            ("#/meetings", "Meetings", page == Page::Meetings),
            ("#/reports", "Reports", page == Page::Reports),
            ("#/marketo", "Marketo", page == Page::Marketo),
        ]
    } else {
        vec![
            ("#/meetings", "My meetings", page == Page::Meetings),
            ("#/calendar", "My calendar", page == Page::Calendar),
        ]
    };
    for (href, label, cur) in items {
        nav = nav.child(
            el("a")
                .attr("href", href)
                .attr_opt("aria-current", cur.then_some("page"))
                .text(label),
        );
    }
    let side = el("header")
        .cls("side")
        .child(el("div").cls("logo").child(el("span").cls("logo-mark").attr("aria-hidden", "true").html("<svg viewBox=\"0 0 32 32\" width=\"18\" height=\"18\"><path d=\"M6 8h20v13H13l-5 5v-5H6z\" fill=\"#fff\"/></svg>")).text("dynchat"))
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
        Page::Calendar => calendar(s, me),
        Page::Meetings => meetings(s, me),
        Page::Reports => reports(s),
        Page::Marketo => marketo(s),
        Page::SignIn => el("p"),
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
    let mut form = el("form")
        .act("signin")
        .attr("aria-labelledby", "page-title")
        .child(
            el("h1")
                .id("page-title")
                .attr("tabindex", "-1")
                .text("Sign in to dynchat"),
        )
        .child(
            el("p")
                .cls("sub")
                .text("Northwind Analytics · chat console"),
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
    form = form.child(email).child(pw).child(
        el("button")
            .attr("type", "submit")
            .cls("primary")
            .text("Sign in"),
    );
    el("main").cls("signin").child(form)
}

fn title(t: &str, sub: &str) -> El {
    el("div")
        .child(el("h1").id("page-title").attr("tabindex", "-1").text(t))
        .child(el("p").cls("sub").text(sub))
}

// ---- Dialogues ------------------------------------------------------------------------------

/// Loads versions, live names and the last 30 days of metrics.
pub async fn load_dialogues() {
    let v = api::call("GET", &format!("/admin/sites/{SITE}/dialogues"), None).await;
    if !v.ok() {
        notice(false, v.error());
        return;
    }
    let versions = v.body["versions"].as_array().cloned().unwrap_or_default();
    let now = js_sys::Date::now();
    let m = api::call(
        "GET",
        &format!(
            "/admin/sites/{SITE}/metrics?from={}&to={}",
            day(now - 29.0 * DAY_MS),
            day(now)
        ),
        None,
    )
    .await;
    let mut totals: Vec<(String, [i64; 6])> = Vec::new();
    for r in m.body["days"].as_array().cloned().unwrap_or_default() {
        let id = r["dialogue"].as_str().unwrap_or("").to_string();
        let add = [
            "triggered",
            "engaged",
            "completed",
            "captured",
            "meetings",
            "goals",
        ]
        .map(|k| r[k].as_i64().unwrap_or(0));
        match totals.iter_mut().find(|(d, _)| *d == id) {
            Some((_, t)) => t.iter_mut().zip(add).for_each(|(a, b)| *a += b),
            None => totals.push((id, add)),
        }
    }
    let mut names = Vec::new();
    let mut ids: Vec<String> = versions
        .iter()
        .filter_map(|v| v["dialogue"].as_str().map(str::to_string))
        .collect();
    ids.dedup();
    for id in &ids {
        let mine: Vec<&Value> = versions
            .iter()
            .filter(|v| v["dialogue"].as_str() == Some(id))
            .collect();
        if let Some(h) = mine
            .iter()
            .find(|v| v["live"] == 1)
            .or(mine.last())
            .and_then(|v| v["hash"].as_str())
        {
            let f = api::call("GET", &format!("/v1/sites/{SITE}/flows/{h}"), None).await;
            names.push((
                id.clone(),
                f.body["dialogue"]["name"]
                    .as_str()
                    .unwrap_or(id)
                    .to_string(),
            ));
        }
    }
    with(|s| {
        s.versions = versions;
        s.totals = totals;
        s.names = names;
    });
}

fn dialogues(s: &State) -> El {
    let mut ids: Vec<String> = s
        .versions
        .iter()
        .filter_map(|v| v["dialogue"].as_str().map(str::to_string))
        .collect();
    ids.dedup();
    let head = el("div")
        .cls("row spread")
        .child(title(
            "Dialogues",
            "What visitors see, where and to whom. Metrics: last 30 days.",
        ))
        .child(
            el("a")
                .cls("btn")
                .id("new-dialogue")
                .attr("href", "#/dialogues/new")
                .text("+ New dialogue"),
        );
    let mut tbody = el("tbody");
    for id in &ids {
        let mine: Vec<&Value> = s
            .versions
            .iter()
            .filter(|v| v["dialogue"].as_str() == Some(id))
            .collect();
        let live = mine.iter().find(|v| v["live"] == 1);
        let t = s
            .totals
            .iter()
            .find(|(d, _)| d == id)
            .map(|(_, t)| *t)
            .unwrap_or_default();
        let rate = |a: i64, b: i64| {
            if b > 0 {
                format!("{:.0}%", 100.0 * a as f64 / b as f64)
            } else {
                "–".into()
            }
        };
        let name = s
            .names
            .iter()
            .find(|(d, _)| d == id)
            .map(|(_, n)| n.as_str())
            .unwrap_or(id);
        tbody = tbody.child(
            el("tr")
                .child(
                    el("td")
                        .child(
                            el("a")
                                .attr("href", &format!("#/dialogues/{id}"))
                                .text(name),
                        )
                        .child(el("br"))
                        .child(el("code").text(id)),
                )
                .child(el("td").child(match live {
                    Some(_) => el("span").cls("pill ok").text("Live"),
                    None => el("span").cls("pill off").text("Paused"),
                }))
                .child(el("td").cls("num").text(&mine.len().to_string()))
                .child(el("td").cls("num").text(&t[0].to_string()))
                .child(el("td").cls("num").text(&t[1].to_string()))
                .child(el("td").cls("num").text(&t[2].to_string()))
                .child(el("td").cls("num").text(&t[3].to_string()))
                .child(el("td").cls("num").text(&rate(t[1], t[0])))
                .child(el("td").cls("num").text(&rate(t[3], t[0]))),
        );
    }
    let cols = [
        "Dialogue",
        "Status",
        "Versions",
        "Triggered",
        "Engaged",
        "Completed",
        "Captured",
        "Engagement",
        "Conversion",
    ];
    let thead = el("thead").child(el("tr").children(cols.iter().enumerate().map(|(i, c)| {
        el("th")
            .attr("scope", "col")
            .cls(if i >= 2 { "num" } else { "" })
            .text(c)
    })));
    let table = if ids.is_empty() {
        el("p").text("No dialogues yet. Create one, or import a JSON file in the editor.")
    } else {
        el("div").cls("table-wrap box").child(
            el("table")
                .child(
                    el("caption")
                        .cls("sr-only")
                        .text("Dialogues with status and metrics"),
                )
                .child(thead)
                .child(tbody),
        )
    };
    el("div").child(head).child(table)
}

// ---- Configuration --------------------------------------------------------------------------

/// Loads the site record.
pub async fn load_config() {
    let a = api::call("GET", &format!("/admin/sites/{SITE}"), None).await;
    if a.ok() {
        with(|s| s.site = a.body);
    } else {
        notice(false, a.error());
    }
}

fn cfg_str(c: &Value, k: &str, d: &str) -> String {
    c[k].as_str().unwrap_or(d).to_string()
}

fn config(s: &State) -> El {
    let c = &s.site["config"];
    let origins = s.site["allowed_origins"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default();
    let block = c["email_blocklist"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default();
    let look = el("section")
        .cls("box")
        .attr("aria-labelledby", "look-h")
        .child(el("h2").id("look-h").text("Look and feel"))
        .child(
            el("div")
                .cls("fields")
                .child(
                    input(
                        "Bot name",
                        "c-bot_name",
                        &cfg_str(c, "bot_name", "Assistant"),
                        "text",
                    )
                    .attr("data-live", "cfg-preview"),
                )
                .child(input(
                    "Avatar URL",
                    "c-avatar_url",
                    &cfg_str(c, "avatar_url", ""),
                    "url",
                ))
                .child(input(
                    "Font (or inherit)",
                    "c-font",
                    &cfg_str(c, "font", "inherit"),
                    "text",
                ))
                .child(input(
                    "Primary colour",
                    "c-primary_color",
                    &cfg_str(c, "primary_color", "#1d4ed8"),
                    "color",
                ))
                .child(
                    el("label")
                        .attr("for", "c-position")
                        .text("Launcher position")
                        .child(select(
                            "c-position",
                            &cfg_str(c, "position", "right"),
                            &[("right", "Bottom right"), ("left", "Bottom left")],
                        )),
                )
                .child(
                    el("label")
                        .attr("for", "c-dark_mode")
                        .text("Dark mode")
                        .child(select(
                            "c-dark_mode",
                            &cfg_str(c, "dark_mode", "auto"),
                            &[
                                ("auto", "Follow the visitor's system"),
                                ("light", "Always light"),
                                ("dark", "Always dark"),
                            ],
                        )),
                )
                .child(input(
                    "Welcome message",
                    "c-welcome",
                    &cfg_str(c, "welcome", ""),
                    "text",
                ))
                .child(input(
                    "Privacy policy URL",
                    "c-privacy_url",
                    &cfg_str(c, "privacy_url", ""),
                    "url",
                )),
        )
        .child(
            el("div")
                .cls("row")
                .child(checkbox(
                    "Sound on new messages",
                    "c-sound",
                    c["sound"] == true,
                ))
                .child(checkbox(
                    "Keep the launcher after a conversation",
                    "c-launcher_always",
                    c["launcher_always"] == true,
                ))
                .child(checkbox(
                    "Open the panel when a dialogue triggers",
                    "c-auto_open",
                    c["auto_open"] == true,
                )),
        );
    let preview = el("section")
        .cls("box")
        .attr("aria-labelledby", "mock-h")
        .child(el("h2").id("mock-h").text("Preview"))
        .child(el("div").id("cfg-mock").child(mock(c)))
        .child(
            el("button")
                .attr("type", "button")
                .cls("small")
                .act("cfg-preview")
                .text("Refresh preview"),
        );
    let privacy = el("section")
        .cls("box")
        .attr("aria-labelledby", "priv-h")
        .child(el("h2").id("priv-h").text("Embedding, privacy and leads"))
        .child(el("label").attr("for", "c-origins").text("Allowed embed origins (one per line)").child(el("textarea").id("c-origins").value(&origins)))
        .child(el("p").cls("hint").text("Only pages on these origins can send events and leads, e.g. https://www.northwind.example"))
        .child(el("label").attr("for", "c-blocklist").text("Blocked email domains (one per line)").child(el("textarea").id("c-blocklist").value(&block)))
        .child(el("label").attr("for", "c-consent").text("Consent mode").child(select("c-consent", if c["consent_required"] == true { "required" } else { "none" }, &[("none", "No consent needed (store visitor state)"), ("required", "Wait for consent: store nothing until dynchat.consent(true)")])));
    let origin = web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .unwrap_or_default();
    let tag =
        format!("<script src=\"{origin}/widget/loader.js\" data-site=\"{SITE}\" async></script>");
    let snippet = el("section")
        .cls("box")
        .attr("aria-labelledby", "tag-h")
        .child(el("h2").id("tag-h").text("Script tag"))
        .child(
            el("p")
                .cls("hint")
                .text("Paste it before </body> on every page of the site."),
        )
        .child(el("pre").cls("snippet").id("script-tag").text(&tag))
        .child(
            el("button")
                .attr("type", "button")
                .act("copy-tag")
                .text("Copy script tag"),
        );
    el("div")
        .child(
            el("div")
                .cls("row spread")
                .child(title(
                    "Configuration",
                    "How the widget looks and where it may run.",
                ))
                .child(
                    el("button")
                        .attr("type", "button")
                        .cls("primary")
                        .act("save-config")
                        .text("Save configuration"),
                ),
        )
        .child(
            el("div")
                .cls("grid2")
                .child(el("div").child(look).child(privacy))
                .child(el("div").child(preview).child(snippet)),
        )
}

fn valid_colour(c: &str) -> bool {
    (c.len() == 7 || c.len() == 4)
        && c.starts_with('#')
        && c[1..].chars().all(|x| x.is_ascii_hexdigit())
}

/// The preview's brand colour and the text colour on it: the widget's rule
/// (`dynchat_engine::rules::text_on_brand`), so the preview shows what visitors will see.
fn mock_colours(c: &Value) -> (String, &'static str) {
    let colour = c["primary_color"]
        .as_str()
        .filter(|x| valid_colour(x))
        .unwrap_or("#1d4ed8")
        .to_string();
    let text_on = dynchat_engine::rules::text_on_brand(&colour).unwrap_or("#ffffff");
    (colour, text_on)
}

fn mock(c: &Value) -> El {
    let (colour, text_on) = mock_colours(c);
    let name = c["bot_name"].as_str().unwrap_or("Assistant").to_string();
    let dark = c["dark_mode"] == "dark";
    let head_style = format!("background:{colour};color:{text_on}");
    el("div")
        .cls(if dark { "mock dark" } else { "mock" })
        .attr("role", "img")
        .attr(
            "aria-label",
            &format!("Chat panel preview: {name}, colour {colour}"),
        )
        .child(
            el("div")
                .cls("head")
                .attr("style", &head_style)
                .child(
                    el("span")
                        .cls("avatar")
                        .attr("style", &format!("color:{colour}"))
                        .text(&name.chars().next().unwrap_or('A').to_string()),
                )
                .text(&name),
        )
        .child(
            el("div")
                .cls("body")
                .child(
                    el("div").cls("bubble").text(
                        c["welcome"]
                            .as_str()
                            .filter(|w| !w.is_empty())
                            .unwrap_or("Hi! Can I help you find the right plan?"),
                    ),
                )
                .child(
                    el("div")
                        .cls("btns")
                        .child(
                            el("span")
                                .attr("style", &format!("background:{colour};color:{text_on}"))
                                .text("Compare plans"),
                        )
                        .child(
                            el("span")
                                .attr("style", &format!("border:1px solid {colour}"))
                                .text("Talk to sales"),
                        ),
                ),
        )
}

fn config_from_form(site: &Value) -> Value {
    let mut c = site["config"].as_object().cloned().unwrap_or_default();
    for k in [
        "bot_name",
        "avatar_url",
        "font",
        "primary_color",
        "welcome",
        "privacy_url",
        "position",
        "dark_mode",
    ] {
        let v = value_of(&format!("c-{k}"));
        if v.trim().is_empty() {
            c.remove(k);
        } else {
            c.insert(k.into(), json!(v.trim()));
        }
    }
    for k in ["sound", "launcher_always", "auto_open"] {
        c.insert(k.into(), json!(value_of(&format!("c-{k}")) == "true"));
    }
    c.insert(
        "consent_required".into(),
        json!(value_of("c-consent") == "required"),
    );
    let block: Vec<String> = value_of("c-blocklist")
        .lines()
        .map(|l| l.trim().trim_start_matches('@').to_ascii_lowercase())
        .filter(|l| !l.is_empty())
        .collect();
    c.insert("email_blocklist".into(), json!(block));
    Value::Object(c)
}

// ---- Calendar & routing ---------------------------------------------------------------------

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
fn connect_actions(id: &str, provider: &str, state: &str, conn: &Value) -> El {
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

fn calendar(s: &State, me: &Me) -> El {
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

/// `2027-03-01T09:00:00Z` -> `2027-03-01 09:00`.
fn iso_short(t: &str) -> String {
    t.get(..16).unwrap_or(t).replace('T', " ")
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

// ---- Meetings -------------------------------------------------------------------------------

/// Loads meetings: all (admin) or the agent's own.
pub async fn load_meetings(me: &Me) {
    let path = if me.admin {
        format!("/admin/sites/{SITE}/meetings")
    } else {
        format!(
            "/admin/console/agents/{}/meetings",
            me.agent_id.clone().unwrap_or_default()
        )
    };
    let a = api::call("GET", &path, None).await;
    with(|s| {
        if a.ok() {
            s.meetings = a.body["meetings"].as_array().cloned().unwrap_or_default();
            s.meetings_error = None;
        } else {
            s.meetings = Vec::new();
            s.meetings_error = Some(format!("{path}: {}", a.error()));
        }
    });
}

fn meeting_start(m: &Value) -> String {
    m["start"]
        .as_str()
        .map(|t| format!("{} UTC", iso_short(t)))
        .unwrap_or_else(|| m["start_ms"].as_f64().map(date_time).unwrap_or_default())
}

/// The meeting's agent: `{"id","name"}` from the meetings admin API, an id from the agent's own list.
fn agent_label(m: &Value) -> String {
    let a = &m["agent"];
    a["name"]
        .as_str()
        .or_else(|| a["id"].as_str())
        .or_else(|| a.as_str())
        .unwrap_or("")
        .to_string()
}

fn meeting_rows(s: &State) -> Vec<Value> {
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

fn meetings(s: &State, me: &Me) -> El {
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
    root.child(filters).child(table)
}

fn csv_cell(s: &str) -> String {
    // Quote everything; neutralise spreadsheet formulas.
    let s = if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    format!("\"{}\"", s.replace('"', "\"\""))
}

// ---- Reports --------------------------------------------------------------------------------

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
    let dead = api::call("GET", "/admin/dead-letters", None).await;
    let gate = api::call("GET", "/admin/marketo/gate", None).await;
    if !m.ok() {
        notice(false, m.error());
    }
    with(|s| {
        s.reports.days = m.body["days"].as_array().cloned().unwrap_or_default();
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
    });
}

const METRICS: [&str; 6] = [
    "triggered",
    "engaged",
    "completed",
    "captured",
    "meetings",
    "goals",
];

fn reports(s: &State) -> El {
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
    let pct = |a: i64, b: i64| {
        if b > 0 {
            format!("{:.1}%", 100.0 * a as f64 / b as f64)
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
    for (label, v) in [
        ("engagement rate", pct(total[1], total[0])),
        ("completion rate", pct(total[2], total[0])),
        ("capture rate", pct(total[3], total[0])),
    ] {
        kpis = kpis.child(
            el("div")
                .cls("kpi")
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

// ---- Marketo --------------------------------------------------------------------------------

/// Loads the Marketo connection (never its secret) and the gate's state.
pub async fn load_marketo() {
    let a = api::call("GET", "/admin/console/marketo", None).await;
    with(|s| s.marketo = a.body.clone());
    if !a.ok() {
        notice(false, a.error());
    }
}

fn marketo(s: &State) -> El {
    let c = &s.marketo["connection"];
    let secret_set = c["secret_set"] == true;
    let form = el("form")
        .act("save-marketo")
        .cls("box")
        .attr("aria-labelledby", "mc-h")
        .child(el("h2").id("mc-h").text("Connection"))
        .child(el("div").cls("field").child(input(
            "REST endpoint",
            "mk-endpoint",
            c["endpoint"].as_str().unwrap_or(""),
            "url",
        )))
        .child(el("div").cls("field").child(input(
            "Client id",
            "mk-client",
            c["client_id"].as_str().unwrap_or(""),
            "text",
        )))
        .child(
            el("div")
                .cls("field")
                .child(
                    input(
                        if secret_set {
                            "Client secret (stored encrypted; leave empty to keep it)"
                        } else {
                            "Client secret"
                        },
                        "mk-secret",
                        "",
                        "password",
                    )
                    .attr("autocomplete", "off"),
                )
                .child(
                    el("span")
                        .cls("hint")
                        .id("mk-secret-state")
                        .text(if secret_set {
                            "A secret is stored. It is never shown again."
                        } else {
                            "No secret stored yet."
                        }),
                ),
        )
        .child(
            el("div")
                .cls("row")
                .child(
                    el("button")
                        .attr("type", "submit")
                        .cls("primary")
                        .text("Save connection"),
                )
                .child(
                    el("button")
                        .attr("type", "button")
                        .act("test-marketo")
                        .text("Test connection"),
                ),
        );
    let last = &c["last_test"];
    let test = if last.is_null() {
        el("p").cls("hint").id("mk-test").text("Not tested yet.")
    } else {
        el("p")
            .cls(if last["ok"] == true {
                "notice ok"
            } else {
                "notice bad"
            })
            .id("mk-test")
            .text(&format!(
                "{} · {} · {}",
                if last["ok"] == true {
                    "Connected"
                } else {
                    "Failed"
                },
                last["message"].as_str().unwrap_or(""),
                date_time(last["at"].as_f64().unwrap_or(0.0))
            ))
    };
    let g = &s.marketo["gate"];
    let mut sync = el("dl").cls("kv");
    if let Some(o) = g.as_object() {
        for (k, v) in o.iter().take(16) {
            sync = sync
                .child(el("dt").text(k))
                .child(el("dd").text(&v.to_string()));
        }
    }
    el("div")
        .child(title("Marketo", "Where leads, activities and program memberships go."))
        .child(el("p").cls("notice warn").text("Once saved, lead forwarding, program membership, activities and trait lookups use this connection instead of the worker's MARKETO_* settings (within 10 seconds). Leads wait in the outbox while it does not work."))
        .child(
            el("div")
                .cls("grid2")
                .child(el("div").child(form).child(el("section").cls("box").attr("aria-labelledby", "mt-h").child(el("h2").id("mt-h").text("Last test")).child(test)))
                .child(
                    el("div")
                        .child(el("section").cls("box").attr("aria-labelledby", "ms-h").child(el("h2").id("ms-h").text("Sync state")).child(el("p").cls("hint").text("From the Marketo gate: calls in the window, daily quota, last sync.")).child(sync))
                        .child(el("section").cls("box").attr("aria-labelledby", "mp-h").child(el("h2").id("mp-h").text("Programs per dialogue")).child(el("p").text("Each dialogue's program and member statuses are set in its editor, under Marketo program.")).child(el("a").attr("href", "#/dialogues").text("Open the dialogues"))),
                ),
        )
}

// ---- Actions --------------------------------------------------------------------------------

/// Runs a page action (`data-act` name and argument).
pub fn action(name: &str, arg: &str) {
    let arg = arg.to_string();
    match name {
        "skip" => crate::dom::focus("page-title"),
        "cfg-preview" => {
            let c = with(|s| config_from_form(&s.site));
            if let Some(m) = crate::dom::document().get_element_by_id("cfg-mock") {
                m.set_inner_html("");
                let _ = m.append_child(&mock(&c).0);
            }
        }
        "copy-tag" => {
            let text = crate::dom::document()
                .get_element_by_id("script-tag")
                .and_then(|e| e.text_content())
                .unwrap_or_default();
            if let Some(w) = web_sys::window() {
                let _ = w.navigator().clipboard().write_text(&text);
            }
            notice(true, "Script tag copied.");
        }
        "save-config" => spawn_local(async {
            let site = with(|s| s.site.clone());
            let origins: Vec<String> = value_of("c-origins")
                .lines()
                .map(|l| l.trim().trim_end_matches('/').to_string())
                .filter(|l| !l.is_empty())
                .collect();
            let body = json!({"name": site["name"], "allowed_origins": origins, "config": config_from_form(&site), "lead_fields": site["lead_fields"], "marketo": site["marketo"]});
            let a = api::call("PUT", &format!("/admin/sites/{SITE}"), Some(&body)).await;
            if a.ok() {
                load_config().await;
            }
            notice(
                a.ok(),
                if a.ok() {
                    "Configuration saved. Visitors get it within a minute.".to_string()
                } else {
                    a.error()
                },
            );
        }),
        "qup" => queue_move(&arg, -1),
        "qdown" => queue_move(&arg, 1),
        "save-queue" => spawn_local(async move {
            let order = with(|s| {
                s.queue_order
                    .iter()
                    .find(|(q, _)| *q == arg)
                    .map(|(_, o)| o.clone())
                    .unwrap_or_default()
            });
            let a = api::call(
                "PUT",
                &format!("/admin/sites/{SITE}/queues/{arg}"),
                Some(&json!({"agents": order})),
            )
            .await;
            notice(
                a.ok(),
                if a.ok() {
                    format!("Queue {arg} saved.")
                } else {
                    a.error()
                },
            );
        }),
        "save-template" => spawn_local(async {
            let body = json!({"subject": value_of("tpl-subject"), "body": value_of("tpl-body"), "location": value_of("tpl-location")});
            let a = api::call(
                "PUT",
                &format!("/admin/sites/{SITE}/meeting-template"),
                Some(&body),
            )
            .await;
            notice(
                a.ok(),
                if a.ok() {
                    "Invitation saved.".to_string()
                } else {
                    a.error()
                },
            );
        }),
        "m-filter" => {
            with(|s| s.meeting_filter = (value_of("m-q"), value_of("m-status")));
            render();
        }
        "m-sort" => {
            with(|s| {
                let asc = if s.meeting_sort.0 == arg {
                    !s.meeting_sort.1
                } else {
                    true
                };
                s.meeting_sort = (arg.clone(), asc);
            });
            render();
        }
        "m-noshow" | "m-cancel" => {
            let verb = if name == "m-noshow" {
                "no-show"
            } else {
                "cancel"
            };
            spawn_local(async move {
                let a = api::call(
                    "POST",
                    &format!("/admin/sites/{SITE}/meetings/{arg}/{verb}"),
                    Some(&json!({})),
                )
                .await;
                let me = with(|s| s.me.clone());
                if let Some(me) = me {
                    load_meetings(&me).await;
                }
                notice(
                    a.ok(),
                    if a.ok() {
                        format!("Meeting {arg}: {verb} recorded.")
                    } else {
                        a.error()
                    },
                );
            });
        }
        "export-csv" => {
            let rows = with(|s| meeting_rows(s));
            let mut csv = String::from("start,lead_email,lead_name,agent,dialogue,status\n");
            for m in rows {
                let cells = [
                    meeting_start(&m),
                    m["lead_email"].as_str().unwrap_or("").into(),
                    m["lead_name"].as_str().unwrap_or("").into(),
                    agent_label(&m),
                    m["dialogue"].as_str().unwrap_or("").into(),
                    m["status"].as_str().unwrap_or("").into(),
                ];
                csv += &(cells
                    .iter()
                    .map(|c| csv_cell(c))
                    .collect::<Vec<_>>()
                    .join(",")
                    + "\n");
            }
            api::download("meetings.csv", "text/csv", &csv);
        }
        "reports-range" => {
            with(|s| {
                s.reports.from = value_of("r-from");
                s.reports.to = value_of("r-to");
            });
            spawn_local(async {
                load_reports().await;
                render();
            });
        }
        "retry" => spawn_local(async move {
            let a = api::call("POST", &format!("/admin/dead-letters/{arg}/retry"), None).await;
            load_reports().await;
            notice(
                a.ok(),
                if a.ok() {
                    format!("Dead letter {arg} is back in the outbox.")
                } else {
                    a.error()
                },
            );
        }),
        "cal-oauth" => spawn_local(async move {
            let (id, provider) = arg.split_once('|').unwrap_or((arg.as_str(), ""));
            let a = api::call(
                "POST",
                &format!("/admin/sites/{SITE}/agents/{id}/calendar/connect"),
                Some(&json!({ "provider": provider })),
            )
            .await;
            match a.body["redirect_url"].as_str().filter(|_| a.ok()) {
                // To the provider's consent page; its callback brings the browser back here.
                Some(url) => {
                    if let Some(w) = web_sys::window() {
                        let _ = w.location().assign(url);
                    }
                }
                None => notice(false, a.error()),
            }
        }),
        "cal-caldav" => spawn_local(async move {
            let body = json!({
                "provider": "caldav",
                "url": value_of(&format!("cd-url-{arg}")),
                "username": value_of(&format!("cd-user-{arg}")),
                "password": value_of(&format!("cd-pass-{arg}")),
            });
            let a = api::call(
                "PUT",
                &format!("/admin/sites/{SITE}/agents/{arg}/calendar"),
                Some(&body),
            )
            .await;
            let me = with(|s| s.me.clone());
            if let Some(me) = me {
                load_calendar(&me).await;
            }
            notice(
                a.ok(),
                if a.ok() {
                    format!("Calendar login of {arg} saved; the agent is in rotation again.")
                } else {
                    a.error()
                },
            );
        }),
        "save-marketo" => spawn_local(async {
            let mut body =
                json!({"endpoint": value_of("mk-endpoint"), "client_id": value_of("mk-client")});
            let secret = value_of("mk-secret");
            if !secret.is_empty() {
                body["client_secret"] = json!(secret);
            }
            let a = api::call("PUT", "/admin/console/marketo", Some(&body)).await;
            if a.ok() {
                with(|s| s.marketo = a.body.clone());
            }
            notice(
                a.ok(),
                if a.ok() {
                    "Marketo connection saved.".to_string()
                } else {
                    a.error()
                },
            );
        }),
        "test-marketo" => spawn_local(async {
            let a = api::call("POST", "/admin/console/marketo/test", Some(&json!({}))).await;
            load_marketo().await;
            let msg = if a.ok() {
                format!("Test: {}", a.body["message"].as_str().unwrap_or(""))
            } else {
                a.error()
            };
            notice(a.ok() && a.body["ok"] == true, msg);
        }),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_are_quoted_and_formulas_neutralised() {
        assert_eq!(csv_cell("a\"b"), "\"a\"\"b\"");
        assert_eq!(csv_cell("=cmd()"), "\"'=cmd()\"");
    }

    #[test]
    fn preview_picks_the_widgets_readable_text() {
        // The widget's answers (engine/web style.rs `brand`, engine/core/tests/rules.rs).
        for (colour, want) in [
            ("#3b82f6", "#111827"),
            ("#ef4444", "#111827"),
            ("#f97316", "#111827"),
            ("#1d4ed8", "#ffffff"),
            ("#ffffff", "#111827"),
            ("#000000", "#ffffff"),
        ] {
            let (c, on) = mock_colours(&serde_json::json!({ "primary_color": colour }));
            assert_eq!((c.as_str(), on), (colour, want), "{colour}");
        }
        assert_eq!(
            mock_colours(&serde_json::json!({ "primary_color": "red" })),
            ("#1d4ed8".to_string(), "#ffffff")
        );
        assert!(valid_colour("#abc") && !valid_colour("red"));
    }
}
