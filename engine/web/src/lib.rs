//! dynchat's chat module for the browser: runs the engine's state machine and drives the shadow-root view.
//!
//! Split (wasm-bindgen todomvc style): `view` is the only code that touches the DOM; the host
//! (JavaScript, `js/host.js`) is the only code that touches storage and the network; this
//! controller touches neither. Calls to the host are queued while the controller's state is
//! borrowed and made after, so host code may call back into the widget at any time.

pub mod markdown;
pub mod style;
mod view;

use dynchat_engine::machine::Wait;
use dynchat_engine::model::{CaptureKind, Route};
use dynchat_engine::{
    step, Booking, BrowserEvent, CompiledFlow, Effect, Input, Prompt, Session, Status,
};
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::collections::{BTreeMap, VecDeque};
use std::rc::{Rc, Weak};
use style::Config;
use view::{Composer, Entry, Ui, View};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

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
    fn slots(this: &Host, route: &str);
    #[wasm_bindgen(method)]
    fn book(this: &Host, key: &str, body: &str);
    #[wasm_bindgen(method)]
    fn chime(this: &Host);
    #[wasm_bindgen(method)]
    fn ui(this: &Host, state: &str);
}

/// A call to the host, made once the controller's state is released.
enum Call {
    Save(String),
    Event(String),
    Emit(&'static str, String),
    Lead(String, String),
    Slots(String),
    Book(String, String),
    Chime,
    Ui(&'static str),
}

/// What is persisted between page loads (by the host, when consent allows).
#[derive(Serialize, Deserialize)]
struct Saved {
    v: u32,
    dialogue: String,
    hash: String,
    session: String,
    transcript: Vec<Entry>,
    #[serde(default)]
    fields: BTreeMap<String, String>,
    #[serde(default)]
    overwrite: Vec<String>,
    #[serde(default)]
    leads: u32,
    #[serde(default)]
    open: bool,
}

/// A slot as the host delivers it (already formatted in the visitor's zone).
#[derive(Deserialize, Clone)]
struct Slot {
    start_ms: f64,
    end_ms: f64,
    day: String,
    time: String,
    #[serde(default)]
    label: String,
}

#[derive(Deserialize)]
struct SlotsReply {
    #[serde(default)]
    tz: String,
    #[serde(default)]
    slots: Vec<Slot>,
    #[serde(default)]
    error: Option<String>,
}

enum SlotUi {
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

enum Op {
    Bot(Entry, u32),
    Me(Entry),
    Ask(Prompt),
    Reprompt(String),
    Ended,
}

struct Inner {
    me: Weak<Shell>,
    flow: CompiledFlow,
    hash: String,
    cfg: Config,
    view: View,
    session: Session,
    transcript: Vec<Entry>,
    fields: BTreeMap<String, String>,
    overwrite: Vec<String>,
    leads: u32,
    open: bool,
    queue: VecDeque<Op>,
    typing: bool,
    prompt: Option<Prompt>,
    slots: SlotUi,
    resuming: bool,
    calls: Vec<Call>,
}

struct Shell {
    host: Host,
    inner: RefCell<Option<Inner>>,
}

/// The re-prompt for an email whose domain is on the site's blocklist.
const WORK_EMAIL: &str = "Please use your work email.";

fn now() -> i64 {
    js_sys::Date::now() as i64
}

fn route_str(r: &Route) -> String {
    match r {
        Route::Queue(q) => format!("queue:{q}"),
        Route::Agent(a) => format!("agent:{a}"),
    }
}

fn kind_str(k: CaptureKind) -> &'static str {
    match k {
        CaptureKind::Email => "email",
        CaptureKind::Phone => "phone",
        CaptureKind::Name => "name",
        CaptureKind::Company => "company",
        CaptureKind::Text => "text",
    }
}

fn event_name(e: BrowserEvent) -> &'static str {
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

/// Runs `f` on the state, then makes the host calls it queued. Re-entrant calls are deferred to a task.
fn act(shell: &Rc<Shell>, f: impl FnOnce(&mut Inner) + 'static) {
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
                    act(&s, f);
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
            Call::Slots(r) => h.slots(&r),
            Call::Book(k, b) => h.book(&k, &b),
            Call::Chime => h.chime(),
            Call::Ui(s) => h.ui(s),
        }
    }
}

fn later(ms: u32, f: impl FnOnce() + 'static) {
    if let Some(w) = web_sys::window() {
        let cb = Closure::once_into_js(f);
        let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(
            cb.unchecked_ref(),
            ms.min(10_000) as i32,
        );
    }
}

impl Inner {
    fn ev(&mut self, ty: &str, card: Option<&str>, value: Option<&str>) {
        let mut e = serde_json::json!({"type": ty, "dialogue": self.flow.id, "hash": self.hash, "at": now()});
        if let Some(c) = card {
            e["card"] = c.into();
        }
        if let Some(v) = value {
            e["value"] = v.chars().take(500).collect::<String>().into();
        }
        self.calls.push(Call::Event(e.to_string()));
    }

    fn save(&mut self) {
        let s = Saved {
            v: 1,
            dialogue: self.flow.id.clone(),
            hash: self.hash.clone(),
            session: self.session.to_json(),
            transcript: self.transcript.clone(),
            fields: self.fields.clone(),
            overwrite: self.overwrite.clone(),
            leads: self.leads,
            open: self.open,
        };
        self.calls
            .push(Call::Save(serde_json::to_string(&s).unwrap_or_default()));
    }

    fn detail(&self, extra: serde_json::Value) -> String {
        let mut d = serde_json::json!({"dialogue": self.flow.id, "hash": self.hash, "session": self.session.id});
        if let (Some(o), serde_json::Value::Object(x)) = (d.as_object_mut(), extra) {
            o.extend(x);
        }
        d.to_string()
    }

    /// Steps the engine and turns its effects into view operations and host calls.
    fn input(&mut self, input: Input, echo: Option<String>) {
        let effects = step(&self.flow, &mut self.session, input, now());
        let accepted = effects
            .iter()
            .any(|e| matches!(e, Effect::Answer { .. } | Effect::Book { .. }));
        if accepted {
            self.prompt = None;
            self.view.composer(Composer::Empty);
            if let Some(text) = echo {
                let e = Entry {
                    who: "me".into(),
                    card: String::new(),
                    text,
                    image: None,
                    link: None,
                };
                self.transcript.push(e.clone());
                self.queue.push_back(Op::Me(e));
            }
        }
        let mut captured = false;
        let mut last_capture: Option<(String, String)> = None;
        let mut last_goal: Option<(String, i32)> = None;
        for eff in effects {
            match eff {
                Effect::Show {
                    card,
                    text,
                    delay_ms,
                    image,
                    link,
                } => {
                    let dup = self.resuming
                        && self
                            .transcript
                            .last()
                            .is_some_and(|l| l.who == "bot" && l.card == card && l.text == text);
                    if !dup {
                        let e = Entry {
                            who: "bot".into(),
                            card,
                            text,
                            image,
                            link,
                        };
                        self.transcript.push(e.clone());
                        self.queue.push_back(Op::Bot(
                            e,
                            if self.resuming { 0 } else { delay_ms.min(4000) },
                        ));
                    }
                }
                Effect::Ask { prompt, .. } => self.queue.push_back(Op::Ask(prompt)),
                Effect::Reprompt { message, .. } => self.queue.push_back(Op::Reprompt(message)),
                Effect::Answer { card, value } => self.ev("answer", Some(&card), Some(&value)),
                Effect::Capture {
                    field,
                    value,
                    overwrite,
                } => {
                    if overwrite && !self.overwrite.contains(&field) {
                        self.overwrite.push(field.clone());
                    }
                    self.fields.insert(field.clone(), value.clone());
                    last_capture = Some((field, value));
                    captured = true;
                }
                Effect::RequestSlots { route, .. } => {
                    self.slots = SlotUi::Loading;
                    self.calls.push(Call::Slots(route_str(&route)));
                    self.refresh_slots();
                }
                Effect::Book {
                    route,
                    start_ms,
                    end_ms,
                    key,
                    ..
                } => {
                    self.slots = SlotUi::Booking;
                    let body = serde_json::json!({
                        "route": route_str(&route), "start_ms": start_ms, "end_ms": end_ms,
                        "lead": self.fields, "dialogue": self.flow.id, "session": self.session.id,
                    });
                    self.calls.push(Call::Book(key, body.to_string()));
                    self.refresh_slots();
                }
                Effect::Goal { card, name, score } => {
                    self.ev("goal", Some(&card), Some(&name));
                    last_goal = Some((name, score));
                }
                Effect::Emit { event } => {
                    let extra = match event {
                        BrowserEvent::Email | BrowserEvent::Phone => {
                            last_capture.as_ref().map(|(f, v)| serde_json::json!({"field": f, "value": v}))
                        }
                        BrowserEvent::Goal => last_goal.as_ref().map(|(n, s)| serde_json::json!({"name": n, "score": s})),
                        BrowserEvent::MeetingBooked => self.session.meeting.as_ref().map(|m| serde_json::json!({"meeting": m.id, "agent": m.agent, "time": m.time})),
                        _ => None,
                    };
                    match event {
                        BrowserEvent::Engaged => self.ev("engaged", None, None),
                        BrowserEvent::Closed => self.ev("closed", None, None),
                        _ => {}
                    }
                    let d = self.detail(extra.unwrap_or(serde_json::Value::Null));
                    self.calls.push(Call::Emit(event_name(event), d));
                }
                Effect::Complete => {
                    self.ev("completed", None, None);
                    self.queue.push_back(Op::Ended);
                }
                Effect::Drop { card } => self.ev("dropped", card.as_deref(), None),
                Effect::Ignored { .. } => {}
            }
        }
        if captured && self.fields.keys().any(|k| k.eq_ignore_ascii_case("email")) {
            self.send_lead();
        }
        self.save();
        self.pump();
    }

    fn send_lead(&mut self) {
        self.leads += 1;
        let key = format!("lead-{}-{}", self.session.id, self.leads);
        let answers: BTreeMap<String, String> = self
            .session
            .answers
            .iter()
            .map(|(i, v)| {
                (
                    self.flow
                        .card_ids
                        .get(usize::from(*i))
                        .cloned()
                        .unwrap_or_default(),
                    v.clone(),
                )
            })
            .collect();
        let transcript: Vec<[&str; 2]> = self
            .transcript
            .iter()
            .filter(|e| e.who != "note")
            .map(|e| {
                [
                    if e.who == "me" { "visitor" } else { "bot" },
                    e.text.as_str(),
                ]
            })
            .collect();
        let body = serde_json::json!({
            "session": self.session.id, "dialogue": self.flow.id, "hash": self.hash,
            "fields": self.fields, "answers": answers, "overwrite": self.overwrite, "transcript": transcript,
        });
        self.calls.push(Call::Lead(key, body.to_string()));
    }

    /// Works through queued view operations; a bot line with a delay shows the typing indicator first.
    fn pump(&mut self) {
        if self.typing {
            return;
        }
        while let Some(op) = self.queue.pop_front() {
            match op {
                Op::Bot(e, delay) if delay > 0 && self.open => {
                    self.typing = true;
                    self.view.typing(true);
                    self.queue.push_front(Op::Bot(e, 0));
                    let me = self.me.clone();
                    later(delay, move || {
                        if let Some(s) = me.upgrade() {
                            act(&s, Inner::typing_done);
                        }
                    });
                    return;
                }
                Op::Bot(e, _) => {
                    self.view.add(&e);
                    if self.cfg.sound && self.open && !self.resuming {
                        self.calls.push(Call::Chime);
                    }
                }
                Op::Me(e) => self.view.add(&e),
                Op::Ask(p) => {
                    self.prompt = Some(p);
                    self.render_prompt();
                }
                Op::Reprompt(m) => {
                    if !self.view.error(&m) {
                        let e = Entry {
                            who: "bot".into(),
                            card: String::new(),
                            text: m,
                            image: None,
                            link: None,
                        };
                        self.view.add(&e);
                    }
                }
                Op::Ended => {
                    self.prompt = None;
                    self.view.composer(Composer::Ended);
                }
            }
        }
    }

    fn typing_done(&mut self) {
        if !self.typing {
            return;
        }
        self.typing = false;
        self.view.typing(false);
        if let Some(Op::Bot(e, _)) = self.queue.pop_front() {
            self.view.add(&e);
            if self.cfg.sound && self.open {
                self.calls.push(Call::Chime);
            }
        }
        self.pump();
    }

    fn render_prompt(&mut self) {
        match &self.prompt {
            None => {}
            Some(Prompt::Choices { buttons, free_text }) => {
                let labels: Vec<String> = buttons.iter().map(|b| b.label.clone()).collect();
                let ft = free_text.clone();
                self.view.composer(Composer::Choices {
                    buttons: labels.iter().map(String::as_str).collect(),
                    free_text: ft.as_deref(),
                });
            }
            Some(Prompt::Field { field, placeholder }) => {
                let p = placeholder.clone().unwrap_or_default();
                self.view.composer(Composer::Field {
                    kind: kind_str(*field),
                    placeholder: &p,
                });
            }
            Some(Prompt::Slots) => self.refresh_slots(),
        }
    }

    fn refresh_slots(&mut self) {
        if !matches!(self.prompt, Some(Prompt::Slots)) {
            return;
        }
        let c = match &self.slots {
            SlotUi::Loading => Composer::SlotsLoading,
            SlotUi::Booking => Composer::Booking,
            SlotUi::Error(m) => Composer::SlotsError(m),
            SlotUi::Ready { slots, .. } if slots.is_empty() => Composer::SlotsNone,
            SlotUi::Ready {
                tz,
                days,
                slots,
                day,
            } => Composer::Slots {
                tz,
                days: days.iter().map(String::as_str).collect(),
                day: *day,
                times: slots
                    .iter()
                    .filter(|s| days.get(*day) == Some(&s.day))
                    .map(|s| s.time.as_str())
                    .collect(),
            },
        };
        self.view.composer(c);
    }

    fn open(&mut self, focus: bool) {
        self.open = true;
        self.view.poke(false);
        self.view.panel(true, focus);
        if self.session.status == Status::New {
            self.input(Input::Start, None);
        } else {
            self.pump();
            self.save();
        }
        self.calls.push(Call::Ui("open"));
    }

    fn minimise(&mut self, focus: bool) {
        if !self.open {
            return;
        }
        self.open = false;
        self.view.panel(false, focus);
        self.save();
        self.calls.push(Call::Ui("minimised"));
    }

    fn on_ui(&mut self, ui: Ui) {
        match ui {
            Ui::Open => {
                if self.open {
                    self.minimise(true)
                } else {
                    self.open(true)
                }
            }
            Ui::Minimise => self.minimise(true),
            Ui::DismissPoke => {
                self.view.poke(false);
                self.calls.push(Call::Ui("poke-dismissed"));
            }
            Ui::End => self.end(),
            Ui::Button(i) => {
                let label = match &self.prompt {
                    Some(Prompt::Choices { buttons, .. }) => {
                        buttons.get(i).map(|b| b.label.clone())
                    }
                    _ => None,
                };
                if label.is_some() {
                    self.input(Input::Button { index: i }, label);
                }
            }
            Ui::Submit(text) => {
                let echo = text.trim().to_string();
                if echo.is_empty()
                    && !matches!(
                        self.prompt,
                        Some(
                            Prompt::Field { .. }
                                | Prompt::Choices {
                                    free_text: Some(_),
                                    ..
                                }
                        )
                    )
                {
                    return;
                }
                if matches!(
                    self.prompt,
                    Some(Prompt::Field {
                        field: CaptureKind::Email,
                        ..
                    })
                ) && self.cfg.blocks_email(&echo)
                {
                    // The site refuses this domain (so would POST /leads): ask again, keep the card.
                    self.queue.push_back(Op::Reprompt(WORK_EMAIL.into()));
                    self.pump();
                    return;
                }
                self.input(Input::Text { text }, Some(echo));
            }
            Ui::Day(d) => {
                if let SlotUi::Ready { day, .. } = &mut self.slots {
                    *day = d;
                }
                self.refresh_slots();
                self.view.focus_composer(false);
            }
            Ui::Slot(i) => {
                let chosen = match &self.slots {
                    SlotUi::Ready {
                        days, slots, day, ..
                    } => slots
                        .iter()
                        .filter(|s| days.get(*day) == Some(&s.day))
                        .nth(i)
                        .cloned(),
                    _ => None,
                };
                if let Some(s) = chosen {
                    let label = if s.label.is_empty() {
                        format!("{} {}", s.day, s.time)
                    } else {
                        s.label.clone()
                    };
                    self.input(
                        Input::SlotChosen {
                            start_ms: s.start_ms as i64,
                            end_ms: s.end_ms as i64,
                        },
                        Some(label),
                    );
                }
            }
            Ui::SkipMeeting => {
                let result = if matches!(&self.slots, SlotUi::Ready { slots, .. } if slots.is_empty())
                {
                    Booking::NoSlots
                } else {
                    Booking::Declined
                };
                self.input(
                    Input::BookingResult { result },
                    Some("Continue without a meeting".into()),
                );
            }
            Ui::RetrySlots => {
                let card = self
                    .session
                    .at
                    .and_then(|i| self.flow.cards.get(usize::from(i)));
                if let Some(dynchat_engine::compile::CCard::Meeting { route, .. }) = card {
                    let r = route_str(route);
                    self.slots = SlotUi::Loading;
                    self.calls.push(Call::Slots(r));
                    self.refresh_slots();
                }
            }
            Ui::Document(card) => self.ev("document_opened", Some(&card), None),
        }
    }

    fn end(&mut self) {
        self.input(Input::Close, None);
        self.queue.clear();
        self.typing = false;
        self.open = false;
        self.view.panel(false, false);
        self.view.poke(false);
        self.view.launcher(self.cfg.launcher_always);
        self.save();
        self.calls.push(Call::Ui("ended"));
    }

    fn on_slots(&mut self, json: &str) {
        let reply: SlotsReply = serde_json::from_str(json).unwrap_or(SlotsReply {
            tz: String::new(),
            slots: Vec::new(),
            error: Some("The times could not be loaded.".into()),
        });
        self.slots = match reply.error {
            Some(e) => SlotUi::Error(e),
            None => {
                let mut days: Vec<String> = Vec::new();
                for s in &reply.slots {
                    if !days.contains(&s.day) {
                        days.push(s.day.clone());
                    }
                }
                SlotUi::Ready {
                    tz: reply.tz,
                    days,
                    slots: reply.slots,
                    day: 0,
                }
            }
        };
        self.refresh_slots();
    }
}

/// One chat conversation mounted on the page.
#[wasm_bindgen]
pub struct Chat {
    shell: Rc<Shell>,
}

fn dispatcher(weak: Weak<Shell>) -> view::Dispatch {
    Rc::new(move |ui: Ui| {
        if let Some(s) = weak.upgrade() {
            act(&s, move |i| i.on_ui(ui));
        }
    })
}

#[wasm_bindgen]
impl Chat {
    /// Mounts the widget. `flow_json` is the published version's compiled flow in its wire form
    /// (`flow` of the bundle / `/flows/{hash}`: the browser never compiles), `hash` that version's hash,
    /// `saved` a state from `Host.save` (resumed when it belongs to this version), `known_lead` `{field: value}`.
    #[wasm_bindgen(constructor)]
    pub fn new(
        host: Host,
        config_json: &str,
        flow_json: &str,
        hash: &str,
        saved: Option<String>,
        session_id: &str,
        known_lead: &str,
    ) -> Result<Chat, JsError> {
        let flow = CompiledFlow::from_wire(flow_json)
            .map_err(|e| JsError::new(&format!("unusable flow: {e}")))?;
        if flow.hash != hash {
            return Err(JsError::new("flow does not match its version hash"));
        }
        let cfg = Config::from_json(config_json);
        let known: BTreeMap<String, String> = serde_json::from_str(known_lead).unwrap_or_default();
        let known: Vec<(String, String)> = known.into_iter().collect();
        let restored = saved
            .and_then(|s| serde_json::from_str::<Saved>(&s).ok())
            .filter(|s| s.v == 1 && s.dialogue == flow.id)
            .and_then(|s| {
                Session::from_json(&s.session, &flow)
                    .ok()
                    .map(|session| (s, session))
            });
        let css = style::css(&cfg);
        let welcome = cfg
            .welcome
            .clone()
            .filter(|w| !w.trim().is_empty())
            .unwrap_or_else(|| "Hi there! Have a question? I'm here to help.".into());
        let mut err = None;
        let shell = Rc::new_cyclic(|weak: &Weak<Shell>| {
            let inner = match View::new(&cfg, &css, &welcome, dispatcher(weak.clone())) {
                Ok(view) => {
                    let (session, transcript, fields, overwrite, leads, open) = match restored {
                        Some((s, session)) => (
                            session,
                            s.transcript,
                            s.fields,
                            s.overwrite,
                            s.leads,
                            s.open,
                        ),
                        None => (
                            Session::new(&flow, session_id, &known, now()),
                            Vec::new(),
                            BTreeMap::new(),
                            Vec::new(),
                            0,
                            false,
                        ),
                    };
                    Some(Inner {
                        me: weak.clone(),
                        flow,
                        hash: hash.to_string(),
                        cfg,
                        view,
                        session,
                        transcript,
                        fields,
                        overwrite,
                        leads,
                        open,
                        queue: VecDeque::new(),
                        typing: false,
                        prompt: None,
                        slots: SlotUi::Loading,
                        resuming: false,
                        calls: Vec::new(),
                    })
                }
                Err(e) => {
                    err = Some(e);
                    None
                }
            };
            Shell {
                host,
                inner: RefCell::new(inner),
            }
        });
        if let Some(e) = err {
            return Err(JsError::new(&e));
        }
        act(&shell, |i| {
            for e in i.transcript.clone() {
                i.view.add(&e);
            }
            let open = i.open;
            let auto = i.cfg.auto_open;
            match i.session.status {
                Status::Active => {
                    // A reload mid-conversation: re-ask the current card without repeating its text.
                    i.resuming = true;
                    i.input(Input::Start, None);
                    i.resuming = false;
                    if open {
                        i.open(false);
                    } else {
                        i.view.poke(false);
                    }
                }
                Status::New if auto => i.open(false),
                Status::New => i.view.poke(true),
                _ => {
                    i.view.composer(Composer::Ended);
                    i.view.launcher(i.cfg.launcher_always || open);
                    if open {
                        i.open = true;
                        i.view.panel(true, false);
                    }
                }
            }
        });
        Ok(Chat { shell })
    }

    /// Opens the panel (starts the conversation the first time).
    pub fn open(&self) {
        act(&self.shell, |i| {
            i.view.launcher(true);
            i.open(true)
        });
    }

    /// Hides the panel; the conversation stays where it is.
    pub fn close(&self) {
        act(&self.shell, |i| i.minimise(false));
    }

    /// Ends the conversation (the visitor closed it).
    pub fn end(&self) {
        act(&self.shell, Inner::end);
    }

    /// Delivers slots: `{"tz","slots":[{"start_ms","end_ms","day","time","label"}]}` or `{"error":".."}`.
    pub fn slots(&self, json: &str) {
        let json = json.to_string();
        act(&self.shell, move |i| i.on_slots(&json));
    }

    /// Delivers a booking result in the engine's `Booking` JSON form.
    pub fn booking(&self, json: &str) {
        let result: Booking = serde_json::from_str(json).unwrap_or(Booking::Failed {
            reason: "unreadable answer".into(),
        });
        act(&self.shell, move |i| {
            if i.session.wait == Wait::Booking {
                i.input(Input::BookingResult { result }, None);
            }
        });
    }

    /// Adds known lead fields (`{field: value}`) for tokens, branches and skip-if-known.
    pub fn identify(&self, fields_json: &str) {
        let fields: BTreeMap<String, String> =
            serde_json::from_str(fields_json).unwrap_or_default();
        act(&self.shell, move |i| {
            for (k, v) in fields {
                if !v.trim().is_empty() {
                    i.session.lead.insert(k.trim().to_ascii_lowercase(), v);
                }
            }
            i.save();
        });
    }

    /// `new`, `active`, `completed` or `dropped`.
    pub fn status(&self) -> String {
        self.shell
            .inner
            .try_borrow()
            .ok()
            .and_then(|g| {
                g.as_ref()
                    .map(|i| format!("{:?}", i.session.status).to_lowercase())
            })
            .unwrap_or_default()
    }

    /// Removes the widget from the page.
    pub fn destroy(&self) {
        if let Ok(mut g) = self.shell.inner.try_borrow_mut() {
            if let Some(i) = g.take() {
                i.view.remove();
            }
        }
    }
}
