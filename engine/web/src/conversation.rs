//! The conversation: visitor input into the engine, its effects shown one by one (typing, prompts),
//! leads sent to the host, the state saved.

use crate::shell::*;
use crate::state::*;
use crate::view::{Composer, Entry};
use dynchat_engine::{step, BrowserEvent, Effect, Input, Prompt};
use std::collections::BTreeMap;

impl Inner {
    pub(super) fn ev(&mut self, ty: &str, card: Option<&str>, value: Option<&str>) {
        let mut e = serde_json::json!({"type": ty, "dialogue": self.flow.id, "hash": self.hash, "at": now()});
        if let Some(c) = card {
            e["card"] = c.into();
        }
        if let Some(v) = value {
            e["value"] = v.chars().take(500).collect::<String>().into();
        }
        self.calls.push(Call::Event(e.to_string()));
    }

    pub(super) fn save(&mut self) {
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

    pub(super) fn detail(&self, extra: serde_json::Value) -> String {
        let mut d = serde_json::json!({"dialogue": self.flow.id, "hash": self.hash, "session": self.session.id});
        if let (Some(o), serde_json::Value::Object(x)) = (d.as_object_mut(), extra) {
            o.extend(x);
        }
        d.to_string()
    }

    /// Steps the engine and turns its effects into view operations and host calls.
    pub(super) fn input(&mut self, input: Input, echo: Option<String>) {
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

    pub(super) fn send_lead(&mut self) {
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
        // Bot lines as the visitor read them: without the escapes that kept inserted values
        // from being markup.
        let transcript: Vec<[String; 2]> = self
            .transcript
            .iter()
            .filter(|e| e.who != "note")
            .map(|e| {
                if e.who == "me" {
                    ["visitor".to_string(), e.text.clone()]
                } else {
                    [
                        "bot".to_string(),
                        dynchat_engine::tokens::unescape_markdown(&e.text),
                    ]
                }
            })
            .collect();
        let body = serde_json::json!({
            "session": self.session.id, "dialogue": self.flow.id, "hash": self.hash,
            "fields": self.fields, "answers": answers, "overwrite": self.overwrite, "transcript": transcript,
        });
        self.calls.push(Call::Lead(key, body.to_string()));
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
        if let Some(Op::Bot(e, _)) = self.queue.pop_front() {
            self.view.add(&e);
            if self.cfg.sound && self.open {
                self.calls.push(Call::Chime);
            }
        }
        self.pump();
    }

    pub(super) fn render_prompt(&mut self) {
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
}
