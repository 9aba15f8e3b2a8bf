//! The controller's state ([`Inner`]) inside its [`Shell`] next to the JavaScript host; [`act`]
//! runs a change on the state and then makes the host calls it queued.

use crate::ffi::Obj;
use crate::state::*;
use crate::view::{Entry, View};
use dynchat_engine::style::Config;
use dynchat_engine::TextMap;
use dynchat_engine::{Prompt, Session};
use std::cell::RefCell;
use std::rc::{Rc, Weak};

/// The host's methods by number: their places in the host array of `js/chat.js`.
const SAVE: u32 = 0;
const EVENT: u32 = 1;
const EMIT: u32 = 2;
const LEAD: u32 = 3;
const SLOTS: u32 = 4;
const BOOK: u32 = 5;
const REQUEST: u32 = 6;
const CHIME: u32 = 7;
const UI: u32 = 8;
/// A branch rule (`[audience, facts]`) decided by the page's targeting module: 1 when it holds.
const JUDGE: u32 = 9;

/// Branch rules decided through the host by the page's targeting module (its `judge`), which
/// runs the engine's `targeting::judge`: the chat module links no audience code of its own.
pub(super) struct HostJudge<'a>(pub(super) &'a Weak<Shell>);

impl dynchat_engine::machine::BranchJudge for HostJudge<'_> {
    fn matches(&self, query: &str) -> bool {
        self.0
            .upgrade()
            .is_some_and(|s| s.host.call(JUDGE, query, "") == 1)
    }
}

pub(super) struct Inner {
    pub(super) me: Weak<Shell>,
    pub(super) flow: Flow,
    pub(super) hash: String,
    pub(super) cfg: Config,
    pub(super) view: View,
    pub(super) session: Session,
    pub(super) transcript: Vec<Entry>,
    pub(super) fields: TextMap<String>,
    pub(super) overwrite: Vec<String>,
    pub(super) leads: u32,
    pub(super) open: bool,
    pub(super) queue: Queue,
    pub(super) typing: bool,
    pub(super) prompt: Option<Prompt>,
    pub(super) slots: SlotUi,
    pub(super) resuming: bool,
    pub(super) calls: Vec<Call>,
}

pub(super) struct Shell {
    /// The JavaScript host (`js/chat.js`): storage, network, page events.
    pub(super) host: Obj,
    pub(super) inner: RefCell<Option<Inner>>,
}

pub(super) fn now() -> i64 {
    crate::ffi::now() as i64
}

/// Runs `f` on the state, then makes the host calls it queued. Re-entrant calls are deferred to a task.
pub(super) fn act(shell: &Rc<Shell>, f: impl FnOnce(&mut Inner) + 'static) {
    // One non-generic body for every caller: a generic one is copied into the wasm per closure.
    act_boxed(shell, Box::new(f))
}

fn act_boxed(shell: &Rc<Shell>, f: Box<dyn FnOnce(&mut Inner)>) {
    let calls = match shell.inner.try_borrow_mut() {
        Ok(mut guard) => match guard.as_mut() {
            Some(inner) => {
                f(inner);
                std::mem::take(&mut inner.calls)
            }
            None => return,
        },
        Err(_) => {
            let weak = Rc::downgrade(shell);
            later(0, move || {
                if let Some(s) = weak.upgrade() {
                    act_boxed(&s, f);
                }
            });
            return;
        }
    };
    let h = &shell.host;
    for c in calls {
        match c {
            Call::Save(s) => h.call(SAVE, &s, ""),
            Call::Event(e) => h.call(EVENT, &e, ""),
            Call::Emit(n, d) => h.call(EMIT, n, &d),
            Call::Lead(k, b) => h.call(LEAD, &k, &b),
            Call::Slots(q) => h.call(SLOTS, &q, ""),
            Call::Book(k, b) => h.call(BOOK, &k, &b),
            Call::Request(k, b) => h.call(REQUEST, &k, &b),
            Call::Chime => h.call(CHIME, "", ""),
            Call::Ui(s) => h.call(UI, s, ""),
        };
    }
}

pub(super) fn later(ms: u32, f: impl FnOnce() + 'static) {
    // One non-generic body for every caller (as [`act`]).
    crate::ffi::later(ms, Box::new(f))
}
