//! The controller's plain data: what is saved between page loads, slots as the host delivers
//! them, the queue of things to show, and the names the host and the page events use.

use crate::view::Entry;
use dynchat_engine::compile::{CRoute, WireError};
use dynchat_engine::model::CaptureKind;
use dynchat_engine::TextMap;
use dynchat_engine::{BrowserEvent, CompiledFlow, Prompt};
use std::mem::ManuallyDrop;
use std::ops::Deref;

/// The conversation's flow, read from the wire and dropped with [`CompiledFlow::drop_run`], so
/// the wasm carries no drop code for the authoring model (its `source` is always empty here) nor
/// for audiences (its own is always the empty one).
pub(super) struct Flow(ManuallyDrop<CompiledFlow>);

impl Flow {
    /// Reads a flow's wire form to run it ([`CompiledFlow::from_wire_to_run`]: no audience code).
    pub(super) fn from_wire(wire: &str) -> Result<Flow, WireError> {
        CompiledFlow::from_wire_to_run(wire).map(|f| Flow(ManuallyDrop::new(f)))
    }
}

impl Deref for Flow {
    type Target = CompiledFlow;
    fn deref(&self) -> &CompiledFlow {
        &self.0
    }
}

impl Drop for Flow {
    fn drop(&mut self) {
        // SAFETY: taken once, here, and never used after.
        let f = unsafe { ManuallyDrop::take(&mut self.0) };
        f.drop_run();
    }
}

/// A call to the host, made once the controller's state is released.
pub(super) enum Call {
    Save(String),
    Event(String),
    Emit(&'static str, String),
    Lead(String, String),
    /// `{route, lead, answers}` JSON: the route and, for a rules route, the visitor's facts.
    Slots(String),
    Book(String, String),
    /// The no-slot fallback: preferred times (Idempotency-Key, body).
    Request(String, String),
    Chime,
    Ui(&'static str),
}

/// What is persisted between page loads (by the host, when consent allows); its JSON is in `wire`.
pub(super) struct Saved {
    pub(super) v: u32,
    pub(super) dialogue: String,
    /// Required when a state is read, never consulted after (the session holds its flow hash);
    /// saving writes it from the controller ([`SavedRef`]).
    #[cfg_attr(not(test), allow(dead_code))]
    pub(super) hash: String,
    pub(super) session: String,
    pub(super) transcript: Vec<Entry>,
    pub(super) fields: TextMap<String>,
    pub(super) overwrite: Vec<String>,
    pub(super) leads: u32,
    pub(super) open: bool,
}

/// A [`Saved`] by reference: what saving writes, without copying the controller's state.
pub(super) struct SavedRef<'a> {
    pub(super) v: u32,
    pub(super) dialogue: &'a str,
    pub(super) hash: &'a str,
    pub(super) session: &'a str,
    pub(super) transcript: &'a [Entry],
    pub(super) fields: &'a TextMap<String>,
    pub(super) overwrite: &'a [String],
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
    /// The preferred-times form when none of the offered times fit (the no-slot form is `Ready`
    /// with no slots).
    NoneFit,
    /// The preferred times are being sent; the reason (`no_slots` or `none_fit`).
    Requesting(&'static str),
}

pub(super) enum Op {
    Bot(Entry, u32),
    Me(Entry),
    Ask(Prompt),
    Reprompt(String),
    Ended,
}

/// The things to show, first in first out: a few at a time, so a `Vec` (no `VecDeque` code in
/// the wasm).
#[derive(Default)]
pub(super) struct Queue(Vec<Op>);

impl Queue {
    pub(super) fn iter_mut(&mut self) -> std::slice::IterMut<'_, Op> {
        self.0.iter_mut()
    }
    pub(super) fn push_back(&mut self, op: Op) {
        self.0.push(op);
    }
    pub(super) fn push_front(&mut self, op: Op) {
        self.0.insert(0, op);
    }
    pub(super) fn pop_front(&mut self) -> Option<Op> {
        if self.0.is_empty() {
            None
        } else {
            Some(self.0.remove(0))
        }
    }
    pub(super) fn clear(&mut self) {
        self.0.clear();
    }
}

/// The route as the worker's `/slots` and `/book` read it; a rules route names the dialogue and
/// the meeting card, whose published rules the worker evaluates.
pub(super) fn route_str(r: &CRoute, dialogue: &str, card: &str) -> String {
    match r {
        CRoute::Queue(q) => ["queue:", q].concat(),
        CRoute::Agent(a) => ["agent:", a].concat(),
        CRoute::Rules { .. } => ["rules:", dialogue, "/", card].concat(),
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
