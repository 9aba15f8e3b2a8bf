//! The console's store: the state every view shows ([`State`], read and changed through [`with`]),
//! the page routes, and the few things views may ask of the controller (navigate, notice, render).
//!
//! Views (`pages`, `editor`) and the controller (the crate root) both sit above this module: the
//! controller registers how to draw the app ([`set_renderer`]) so that [`render`] never has to
//! import the views.

use serde_json::Value;
use std::cell::{Cell, RefCell};

/// The site the console manages (the demo has one).
pub const SITE: &str = "acme";

/// Which page is shown (from the URL hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Page {
    SignIn,
    Dialogues,
    Editor(Option<String>),
    Config,
    Calendar,
    Meetings,
    Reports,
    Marketo,
}

impl Page {
    pub(crate) fn from_hash(h: &str) -> Page {
        let h = h.trim_start_matches('#').trim_start_matches('/');
        let parts: Vec<&str> = h.split('/').collect();
        match parts.as_slice() {
            ["signin"] => Page::SignIn,
            ["dialogues", "new"] => Page::Editor(None),
            ["dialogues", id] => Page::Editor(Some(id.to_string())),
            ["config"] => Page::Config,
            ["calendar"] => Page::Calendar,
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
    pub reports: Reports,
    pub marketo: Value,
    pub calendar: Value,
    pub calendar_error: Option<String>,
    pub queue_order: Vec<(String, Vec<String>)>,
    pub meetings: Vec<Value>,
    pub meetings_error: Option<String>,
    pub meeting_filter: (String, String),
    pub meeting_sort: (String, bool),
}

thread_local! {
    static STATE: RefCell<State> = RefCell::new(State { preview_page: "/site/pricing.html".into(), ..State::default() });
    /// How the controller draws the app from the state (set once at start).
    static RENDERER: Cell<Option<fn()>> = const { Cell::new(None) };
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
