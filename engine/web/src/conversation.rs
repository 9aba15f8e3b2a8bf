//! The conversation: visitor input into the engine, its effects shown one by one (typing, prompts),
//! leads sent to the host, the state saved.

use crate::shell::*;
use crate::state::*;
use crate::view::{Composer, Entry};
use dynchat_engine::compile::CRoute;
use dynchat_engine::fields::char_count;
use dynchat_engine::json::{self, Out};
use dynchat_engine::machine::step_with;
use dynchat_engine::{BrowserEvent, Effect, Input, Prompt};

impl Inner {
    /// A transcript line: recorded, and queued for the view (`Op::Me` without a delay).
    pub(super) fn line(&mut self, e: Entry, delay: Option<u32>) {
        self.transcript.push(e.clone());
        self.queue.push_back(match delay {
            Some(d) => Op::Bot(e, d),
            None => Op::Me(e),
        });
    }

    pub(super) fn ev(&mut self, ty: &str, card: Option<&str>, value: Option<&str>) {
        let mut e = Out::new();
        e.str("type", ty)
            .str("dialogue", &self.flow.id)
            .str("hash", &self.hash)
            .int("at", now());
        if let Some(c) = card {
            e.str("card", c);
        }
        if let Some(v) = value {
            e.str("value", dynchat_engine::fields::char_prefix(v, 500));
        }
        self.calls.push(Call::Event(e.finish()));
    }

    /// The answers a rules route reads, as `/book` and `/slots` both send them: by
    /// card id, at most 64, each at most 500 characters (the worker's limits).
    fn rule_answers(&self, out: &mut Out) {
        let ids = &self.flow.card_ids;
        out.map(
            "answers",
            self.session
                .answers
                .iter()
                .filter(|(_, v)| char_count(v) <= 500)
                .filter_map(|(i, v)| Some((ids.get(usize::from(*i))?.as_str(), v.as_str())))
                .take(64),
        );
    }

    /// The captured lead fields under `key` (one copy of the map writer for every caller).
    fn fields_map<'o>(&self, out: &'o mut Out, key: &str) -> &'o mut Out {
        out.map(
            key,
            self.fields.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        )
    }

    /// The facts a rules route reads, as `/book` carries them (the captured lead fields and the
    /// answers); nothing for a named route. The slot request and the no-slot request send them,
    /// so both reach the queue the booking would land in.
    pub(super) fn rule_facts(&self, route: &CRoute, out: &mut Out) {
        if matches!(route, CRoute::Rules { .. }) {
            self.fields_map(out, "lead");
            self.rule_answers(out);
        }
    }

    /// The slot request of a meeting card (`{route, lead, answers}` JSON), with the route's facts.
    pub(super) fn slots_call(&self, route: &CRoute, card: &str) -> Call {
        let mut q = Out::new();
        q.str("route", &route_str(route, &self.flow.id, card));
        self.rule_facts(route, &mut q);
        Call::Slots(q.finish())
    }

    pub(super) fn save(&mut self) {
        let session = self.session.to_json();
        let s = SavedRef {
            v: 1,
            dialogue: &self.flow.id,
            hash: &self.hash,
            session: &session,
            transcript: &self.transcript,
            fields: &self.fields,
            overwrite: &self.overwrite,
            leads: self.leads,
            open: self.open,
        };
        let json = s.to_json();
        self.calls.push(Call::Save(json));
    }

    /// A page event's `detail`: the dialogue, its version and the session, then what `extra` adds.
    pub(super) fn detail(&self, extra: impl FnOnce(&mut Out)) -> String {
        let mut d = Out::new();
        d.str("dialogue", &self.flow.id)
            .str("hash", &self.hash)
            .str("session", &self.session.id);
        extra(&mut d);
        d.finish()
    }

    /// Steps the engine and turns its effects into view operations and host calls.
    pub(super) fn input(&mut self, input: Input, echo: Option<String>) {
        let judge = HostJudge(&self.me);
        let effects = step_with(&self.flow, &mut self.session, input, now(), &judge);
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
                self.line(e, None);
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
                        let delay = if self.resuming { 0 } else { delay_ms.min(4000) };
                        self.line(e, Some(delay));
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
                Effect::RequestSlots { route, card } => {
                    self.slots = SlotUi::Loading;
                    let call = self.slots_call(&route, &card);
                    self.calls.push(call);
                    self.refresh_slots();
                }
                Effect::Book {
                    route,
                    start_ms,
                    end_ms,
                    key,
                    card,
                } => {
                    self.slots = SlotUi::Booking;
                    let mut out = Out::new();
                    out.str("route", &route_str(&route, &self.flow.id, &card))
                        .int("start_ms", start_ms)
                        .int("end_ms", end_ms);
                    self.fields_map(&mut out, "lead")
                        .str("dialogue", &self.flow.id)
                        .str("session", &self.session.id);
                    if matches!(route, CRoute::Rules { .. }) {
                        self.rule_answers(&mut out);
                    }
                    let body = out.finish();
                    self.calls.push(Call::Book(key, body));
                    self.refresh_slots();
                }
                Effect::Goal { card, name, score } => {
                    self.ev("goal", Some(&card), Some(&name));
                    last_goal = Some((name, score));
                }
                Effect::Emit { event } => {
                    match event {
                        BrowserEvent::Engaged => self.ev("engaged", None, None),
                        BrowserEvent::Closed => self.ev("closed", None, None),
                        _ => {}
                    }
                    let meeting = self.session.meeting.as_ref();
                    let d = self.detail(|o| match event {
                        BrowserEvent::Email | BrowserEvent::Phone => {
                            if let Some((f, v)) = &last_capture {
                                o.str("field", f).str("value", v);
                            }
                        }
                        BrowserEvent::Goal => {
                            if let Some((n, s)) = &last_goal {
                                o.str("name", n).int("score", i64::from(*s));
                            }
                        }
                        BrowserEvent::MeetingBooked => {
                            if let Some(m) = meeting {
                                o.str("meeting", &m.id)
                                    .str("agent", &m.agent)
                                    .str("time", &m.time);
                            }
                        }
                        _ => {}
                    });
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

    pub(super) fn send_lead(&mut self) {
        self.leads += 1;
        let key = [
            "lead-",
            &self.session.id,
            "-",
            &json::int_string(i64::from(self.leads)),
        ]
        .concat();
        // By card id, in card order (ids are unique; no map of its own: one less map type in the wasm).
        let answers = self.session.answers.iter().map(|(i, v)| {
            let id = self.flow.card_ids.get(usize::from(*i));
            (id.map_or("", String::as_str), v.as_str())
        });
        // Bot lines as the visitor read them (without the escapes that kept inserted values from
        // being markup), each at most what the worker takes for a line; the most recent lines
        // that fit the lead's limits, after a marker when some were left out.
        let lines: Vec<(bool, String)> = self
            .transcript
            .iter()
            .filter(|e| e.who != "note")
            .map(|e| {
                let text = if e.who == "me" {
                    e.text.clone()
                } else {
                    dynchat_engine::tokens::unescape_markdown(&e.text)
                };
                (
                    e.who == "me",
                    clip(text, dynchat_engine::fields::MAX_ANSWER_BYTES),
                )
            })
            .collect();
        let lens: Vec<usize> = lines.iter().map(|(_, t)| t.len()).collect();
        let first = dynchat_engine::fields::transcript_cut(&lens);
        let mut transcript = String::from("[");
        if first > 0 {
            let marker = [
                "(",
                &json::int_string(first as i64),
                " earlier lines of this conversation left out)",
            ]
            .concat();
            transcript.push_str("[\"bot\",");
            json::write_str(&mut transcript, &marker);
            transcript.push(']');
        }
        for (visitor, text) in lines.iter().skip(first) {
            if transcript.len() > 1 {
                transcript.push(',');
            }
            transcript.push_str(if *visitor {
                "[\"visitor\","
            } else {
                "[\"bot\","
            });
            json::write_str(&mut transcript, text);
            transcript.push(']');
        }
        transcript.push(']');
        let mut body = Out::new();
        body.str("session", &self.session.id)
            .str("dialogue", &self.flow.id)
            .str("hash", &self.hash);
        let body = self
            .fields_map(&mut body, "fields")
            .map("answers", answers)
            .strs("overwrite", self.overwrite.iter().map(String::as_str))
            .raw("transcript", &transcript)
            .finish();
        self.calls.push(Call::Lead(key, body));
    }

    /// Works through queued view operations; a bot line with a delay shows the typing indicator first.
    pub(super) fn pump(&mut self) {
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

    pub(super) fn typing_done(&mut self) {
        if !self.typing {
            return;
        }
        self.typing = false;
        self.view.typing(false);
        // The queue's first entry is the line `pump` held back (without its delay now): `pump`
        // shows it (and chimes: `resuming` is only ever set during the mount, not in a timer).
        self.pump();
    }

    pub(super) fn render_prompt(&mut self) {
        match &self.prompt {
            None => {}
            Some(Prompt::Choices { buttons, free_text }) => {
                self.view.composer(Composer::Choices {
                    buttons: buttons.iter().map(|b| b.label.as_str()).collect(),
                    free_text: free_text.as_deref(),
                });
            }
            Some(Prompt::Field { field, placeholder }) => {
                self.view.composer(Composer::Field {
                    kind: kind_str(*field),
                    placeholder: placeholder.as_deref().unwrap_or(""),
                });
            }
            Some(Prompt::Slots) => self.refresh_slots(),
        }
    }
}

/// `text` cut to at most `max` bytes at a character boundary (no slicing that could panic).
fn clip(mut text: String, max: usize) -> String {
    if text.len() > max {
        let mut end = max;
        while end > 0 && !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    text
}
