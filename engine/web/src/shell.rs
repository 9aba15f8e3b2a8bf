//! The controller's state ([`Inner`]) inside its [`Shell`] next to the JavaScript [`Host`]; [`act`]
//! runs a change on the state and then makes the host calls it queued.

use crate::state::*;
use crate::style::Config;
use crate::view::{Entry, View};
use dynchat_engine::TextMap;
use dynchat_engine::{Prompt, Session};
use std::cell::RefCell;
use std::rc::{Rc, Weak};
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    /// The JavaScript host: storage, network, page events.
    pub type Host;
    #[wasm_bindgen(method)]
    fn save(this: &Host, state: &str);
    #[wasm_bindgen(method)]
    fn event(this: &Host, event: &str);
    #[wasm_bindgen(method)]
    fn emit(this: &Host, name: &str, detail: &str);
    #[wasm_bindgen(method)]
    fn lead(this: &Host, key: &str, body: &str);
    #[wasm_bindgen(method)]
    fn slots(this: &Host, query: &str);
    #[wasm_bindgen(method)]
    fn book(this: &Host, key: &str, body: &str);
    #[wasm_bindgen(method)]
    fn request(this: &Host, key: &str, body: &str);
    #[wasm_bindgen(method)]
    fn chime(this: &Host);
    #[wasm_bindgen(method)]
    fn ui(this: &Host, state: &str);
    /// A branch rule (`[audience, facts]`) decided by the page's targeting module: 1 when it holds.
    #[wasm_bindgen(method)]
    fn judge(this: &Host, query: &str) -> u32;
}

/// Branch rules decided through the host by the page's targeting module (its `judge`), which
/// runs the engine's `targeting::judge`: the chat module links no audience code of its own.
pub(super) struct HostJudge<'a>(pub(super) &'a Weak<Shell>);

impl dynchat_engine::machine::BranchJudge for HostJudge<'_> {
    fn matches(&self, query: &str) -> bool {
        self.0.upgrade().is_some_and(|s| s.host.judge(query) == 1)
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
    pub(super) host: Host,
    pub(super) inner: RefCell<Option<Inner>>,
}

pub(super) fn now() -> i64 {
    js_sys::Date::now() as i64
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
            Call::Save(s) => h.save(&s),
            Call::Event(e) => h.event(&e),
            Call::Emit(n, d) => h.emit(n, &d),
            Call::Lead(k, b) => h.lead(&k, &b),
            Call::Slots(q) => h.slots(&q),
            Call::Book(k, b) => h.book(&k, &b),
            Call::Request(k, b) => h.request(&k, &b),
            Call::Chime => h.chime(),
            Call::Ui(s) => h.ui(s),
        }
    }
}

pub(super) fn later(ms: u32, f: impl FnOnce() + 'static) {
    // One `Closure::once_into_js` instance for every caller (as [`act`]).
    later_boxed(ms, Box::new(f))
}

fn later_boxed(ms: u32, f: Box<dyn FnOnce()>) {
    crate::browser_text::set_timeout(&Closure::once_into_js(f), ms.min(10_000) as i32);
}
