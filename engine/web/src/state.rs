//! The controller's plain data: what is saved between page loads, slots as the host delivers
//! them, the queue of things to show, and the names the host and the page events use.

use crate::view::Entry;
use dynchat_engine::model::{CaptureKind, Route};
use dynchat_engine::{BrowserEvent, Prompt};
use std::collections::BTreeMap;

/// A call to the host, made once the controller's state is released.
pub(super) enum Call {
    Save(String),
    Event(String),
    Emit(&'static str, String),
    Lead(String, String),
    /// `{route, lead, answers}` JSON: the route and, for a rules route, the visitor's facts.
    Slots(String),
    Book(String, String),
    Chime,
    Ui(&'static str),
}

/// What is persisted between page loads (by the host, when consent allows); its JSON is in `wire`.
pub(super) struct Saved {
    pub(super) v: u32,
    pub(super) dialogue: String,
    pub(super) hash: String,
    pub(super) session: String,
    pub(super) transcript: Vec<Entry>,
    pub(super) fields: BTreeMap<String, String>,
    pub(super) overwrite: Vec<String>,
    pub(super) leads: u32,
    pub(super) open: bool,
}

/// A slot as the host delivers it (already formatted in the visitor's zone).
#[derive(Clone)]
pub(super) struct Slot {
    pub(super) start_ms: i64,
    pub(super) end_ms: i64,
    pub(super) day: String,
    pub(super) time: String,
    pub(super) label: String,
}

/// Slots as the host delivers them, or why they could not be loaded.
pub(super) struct SlotsReply {
    pub(super) tz: String,
    pub(super) slots: Vec<Slot>,
    pub(super) error: Option<String>,
}

pub(super) enum SlotUi {
    Loading,
    Error(String),
    Ready {
        tz: String,
        days: Vec<String>,
        slots: Vec<Slot>,
        day: usize,
    },
    Booking,
}

pub(super) enum Op {
    Bot(Entry, u32),
    Me(Entry),
    Ask(Prompt),
    Reprompt(String),
    Ended,
}

/// The re-prompt for an email whose domain is on the site's blocklist.
pub(super) const WORK_EMAIL: &str = "Please use your work email.";

/// The route as the worker's `/slots` and `/book` read it; a rules route names the dialogue and
/// the meeting card, whose published rules the worker evaluates.
pub(super) fn route_str(r: &Route, dialogue: &str, card: &str) -> String {
    match r {
        Route::Queue(q) => ["queue:", q].concat(),
        Route::Agent(a) => ["agent:", a].concat(),
        Route::Rules(_) => ["rules:", dialogue, "/", card].concat(),
    }
}

pub(super) fn kind_str(k: CaptureKind) -> &'static str {
    match k {
        CaptureKind::Email => "email",
        CaptureKind::Phone => "phone",
        CaptureKind::Name => "name",
        CaptureKind::Company => "company",
        CaptureKind::Text => "text",
    }
}

pub(super) fn event_name(e: BrowserEvent) -> &'static str {
    match e {
        BrowserEvent::Engaged => "engaged",
        BrowserEvent::Completed => "completed",
        BrowserEvent::Closed => "closed",
        BrowserEvent::Email => "email",
        BrowserEvent::Phone => "phone",
        BrowserEvent::MeetingBooked => "meeting-booked",
        BrowserEvent::Goal => "goal",
    }
}
