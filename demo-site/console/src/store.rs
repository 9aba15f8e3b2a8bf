//! The console's store: the state every view shows ([`State`], read and changed through [`with`]),
//! the page routes, and the few things views may ask of the controller (navigate, notice, render).
//!
//! Views (`pages`, `editor`) and the controller (the crate root) both sit above this module: the
//! controller registers how to draw the app ([`set_renderer`]) so that [`render`] never has to
//! import the views.

use serde_json::Value;
use std::cell::{Cell, RefCell};

/// The site in view, written as text: `format!("/admin/sites/{SITE}/...")`. It is the site
/// named by the URL (`#/sites/{site}/...`), kept in [`set_site`] by the controller.
pub const SITE: CurrentSite = CurrentSite;

/// See [`SITE`].
#[derive(Debug, Clone, Copy)]
pub struct CurrentSite;

impl std::fmt::Display for CurrentSite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        CURRENT_SITE.with(|s| f.write_str(&s.borrow()))
    }
}

/// The site in view.
pub fn site() -> String {
    CURRENT_SITE.with(|s| s.borrow().clone())
}

/// Sets the site in view (from the URL).
pub fn set_site(id: &str) {
    CURRENT_SITE.with(|s| *s.borrow_mut() = id.to_string());
}

/// The link to a page of the site in view: `#/sites/{site}/{rest}`.
pub fn href(rest: &str) -> String {
    format!("#/sites/{}/{rest}", site())
}

/// Which page is shown (from the URL hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Page {
    SignIn,
    /// Every site the account may see, and the form that creates one.
    Sites,
    /// The site's script tag, npm snippet and installation check.
    Install,
    Dialogues,
    Editor(Option<String>),
    Config,
    Calendar,
    /// Agents, queues, the default queue and the site's accounts (admins).
    Agents,
    /// Queues' weights and fairness options, the dialogues' routing rules, the decisions.
    Routing,
    Meetings,
    Reports,
    Marketo,
    /// The set-password page of an invitation (no session); the token stays in the state.
    Invite,
}

impl Page {
    /// The site (when the hash names one: `#/sites/{site}/...`) and the page of a URL hash.
    /// Hashes without a site (`#/dialogues`) mean the site in view.
    pub(crate) fn route(h: &str) -> (Option<String>, Page) {
        let h = h.trim_start_matches('#').trim_start_matches('/');
        match h.split_once('/') {
            Some(("sites", rest)) if !rest.is_empty() => {
                let (site, page) = rest.split_once('/').unwrap_or((rest, ""));
                (Some(site.to_string()), Page::from_hash(page))
            }
            _ if h == "sites" => (None, Page::Sites),
            _ => (None, Page::from_hash(h)),
        }
    }

    /// The hash of this page on the site in view.
    pub fn hash(&self) -> String {
        match self {
            Page::SignIn => "#/signin".into(),
            Page::Sites => "#/sites".into(),
            Page::Install => href("install"),
            Page::Dialogues => href("dialogues"),
            Page::Editor(None) => href("dialogues/new"),
            Page::Editor(Some(id)) => href(&format!("dialogues/{id}")),
            Page::Config => href("config"),
            Page::Calendar => href("calendar"),
            Page::Agents => href("agents"),
            Page::Routing => href("routing"),
            Page::Invite => "#/invite".into(),
            Page::Meetings => href("meetings"),
            Page::Reports => href("reports"),
            Page::Marketo => href("marketo"),
        }
    }

    pub(crate) fn from_hash(h: &str) -> Page {
        let h = h.trim_start_matches('#').trim_start_matches('/');
        let parts: Vec<&str> = h.split('/').collect();
        match parts.as_slice() {
            ["signin"] => Page::SignIn,
            ["install"] => Page::Install,
            ["dialogues", "new"] => Page::Editor(None),
            ["dialogues", id] => Page::Editor(Some(id.to_string())),
            ["config"] => Page::Config,
            ["calendar"] => Page::Calendar,
            ["agents"] => Page::Agents,
            ["routing"] => Page::Routing,
            ["invite", ..] => Page::Invite,
            ["meetings"] => Page::Meetings,
            ["reports"] => Page::Reports,
            ["marketo"] => Page::Marketo,
            _ => Page::Dialogues,
        }
    }
}

/// The signed-in account.
#[derive(Debug, Clone)]
pub struct Me {
    pub email: String,
    pub name: String,
    pub admin: bool,
    pub agent_id: Option<String>,
    /// The account belongs to every site (else only to some: no instance-wide pages).
    pub all_sites: bool,
    /// The sites of an account of some sites (empty for every site).
    pub sites: Vec<String>,
}

/// Data for the Reports page.
#[derive(Default)]
pub struct Reports {
    pub from: String,
    pub to: String,
    pub range_error: Option<String>,
    pub days: Vec<Value>,
    /// The range's funnel over conversations (`total` of the metrics answer): its rates.
    pub total: Value,
    pub stats: Value,
    pub waiting: Vec<Value>,
    pub dead: Vec<Value>,
    pub gate: Value,
    /// Experiment reports of the range's dialogues that have one (`pages::experiments`).
    pub experiments: Vec<Value>,
}

/// Everything the views show.
#[derive(Default)]
pub struct State {
    pub me: Option<Me>,
    pub page: Option<Page>,
    pub notice: Option<(bool, String)>,
    pub loading: bool,
    pub signin_error: Option<String>,
    pub signin_email: String,
    /// Keep the notice through the next navigation (publishing a new dialogue moves to its URL).
    pub keep_notice: bool,
    /// The preview frame loads only on request (each load is a real visit with real events).
    pub preview_on: bool,
    /// The preview shows the published version instead of the editor's draft (the default).
    pub preview_published: bool,
    /// `GET /admin/sites/{site}/dialogues` versions.
    pub versions: Vec<Value>,
    /// Per dialogue: triggered, engaged, completed, captured, meetings, goals (last 30 days).
    pub totals: Vec<(String, [i64; 6])>,
    /// Per dialogue: its funnel over conversations with the worker's rates (last 30 days).
    pub funnels: Vec<Value>,
    /// Dialogue id -> name (from the live or newest version).
    pub names: Vec<(String, String)>,
    pub site: Value,
    pub draft: Value,
    pub draft_id: Option<String>,
    pub diags: Vec<dynchat_engine::Diagnostic>,
    pub preview_page: String,
    pub dialogue_marketo: Value,
    /// The site's queues as (id, name) for the editor's route selects (`GET .../queues`);
    /// empty when there are none or the list could not be read (the editor then asks for text).
    pub editor_queues: Vec<(String, String)>,
    pub reports: Reports,
    pub marketo: Value,
    pub calendar: Value,
    pub calendar_error: Option<String>,
    pub queue_order: Vec<(String, Vec<String>)>,
    pub meetings: Vec<Value>,
    pub meetings_error: Option<String>,
    /// `GET /admin/sites/{site}/meeting-requests` (admins): the no-slot fallback's requests.
    pub meeting_requests: Vec<Value>,
    pub meeting_filter: (String, String),
    pub meeting_sort: (String, bool),
    /// `GET /admin/sites`: (id, name) of every site the account may see.
    pub sites: Vec<(String, String)>,
    /// `GET /admin/sites/{site}/install`: the installation check.
    pub install: Value,
    /// The create-site form's last answer: (field, message) of a refusal.
    pub new_site_error: Option<(String, String)>,
    /// The create-site form's values (id, name, origins), kept across re-renders.
    pub new_site_form: (String, String, String),
    /// The Agents & queues page: agents, queues, default queue, accounts (API answers).
    pub agents: Value,
    /// The agent being edited (`Null`: the form adds one).
    pub agent_form: Value,
    /// The Routing page: queues, agents, assignments, versions and live routes (API answers).
    pub routing: Value,
    /// "My calendar": the signed-in agent's own record.
    pub mine: Value,
    /// The token of the set-password link being used (from `#/invite/{token}`).
    pub invite_token: String,
}

thread_local! {
    static STATE: RefCell<State> = RefCell::new(State { preview_page: "/site/pricing.html".into(), ..State::default() });
    /// How the controller draws the app from the state (set once at start).
    static RENDERER: Cell<Option<fn()>> = const { Cell::new(None) };
    /// The site in view (see [`SITE`]).
    static CURRENT_SITE: RefCell<String> = RefCell::new(String::from("acme"));
}

/// Reads or changes the state (never across an await).
pub fn with<R>(f: impl FnOnce(&mut State) -> R) -> R {
    STATE.with(|s| f(&mut s.borrow_mut()))
}

fn window() -> web_sys::Window {
    web_sys::window().unwrap_or_else(|| wasm_bindgen::throw_str("no window"))
}

/// Navigates (the `hashchange` listener loads and renders).
pub fn go(h: &str) {
    let _ = window().location().set_hash(h);
}

/// Shows a notice on the current page.
pub fn notice(ok: bool, msg: impl Into<String>) {
    with(|s| s.notice = Some((ok, msg.into())));
    render();
}

/// Sets how [`render`] draws the app (the controller does this once, at start).
pub fn set_renderer(draw: fn()) {
    RENDERER.with(|r| r.set(Some(draw)));
}

/// Re-renders the whole app from the state, keeping the scroll position and the focused id.
pub fn render() {
    if let Some(draw) = RENDERER.with(Cell::get) {
        draw();
    }
}
