//! One `step` in progress ([`Run`]): renders templates, asks cards, runs the cards that do not wait.

use super::io::*;
use super::session::*;
use crate::compile::{CCard, CText, CardIx, CompiledFlow};
use crate::tokens::{Template, TokenSource};

/// Re-prompts counted per card (the counter stops there; re-prompting goes on).
pub(super) const MAX_TRIES: u8 = 100;

pub(super) struct Run<'a> {
    pub(super) flow: &'a CompiledFlow,
    pub(super) judge: &'a dyn BranchJudge,
    pub(super) out: Vec<Effect>,
}

/// Decides a branch card's rules. `query` is `[audience, facts]`
/// ([`crate::targeting::branch_query`]): a rule's compiled audience in its wire form
/// ([`crate::compile::WireAudience`]) and the conversation's answers, lead and company fields,
/// lower-cased ([`crate::targeting::branch_facts`]). A rule that does not read is false.
pub trait BranchJudge {
    /// Does the rule hold?
    fn matches(&self, query: &str) -> bool;

    /// Lower-cases a fact for the query (default: [`crate::targeting::lower`]; the browser's chat
    /// module uses JavaScript's `toLowerCase`, full Unicode, and links no case fold of its own).
    fn lower(&self, text: &str) -> String {
        crate::targeting::lower(text)
    }
}

/// The engine's own judge ([`crate::targeting::judge`]), which [`super::step`] uses. The browser's
/// chat module asks the page's targeting module instead, which runs the same function.
pub struct NativeJudge;

impl BranchJudge for NativeJudge {
    fn matches(&self, query: &str) -> bool {
        crate::targeting::judge(query) == Some(true)
    }
}

pub(super) fn render(t: &Template, s: &Session, flow: &CompiledFlow) -> String {
    let _ = flow;
    t.render(|src| match src {
        TokenSource::Lead(f) => s.lead.get(f.as_str()).map(String::as_str),
        TokenSource::Company(f) => s.company.get(f.as_str()).map(String::as_str),
        TokenSource::Answer(i) => s.answers.get(i).map(String::as_str),
        TokenSource::MeetingAgent => s.meeting.as_ref().map(|m| m.agent.as_str()),
        TokenSource::MeetingTime => s.meeting.as_ref().map(|m| m.time.as_str()),
    })
}

impl<'a> Run<'a> {
    /// Card `i`'s texts in the session's language, when the dialogue translates into it.
    pub(super) fn tr(&self, s: &Session, i: CardIx) -> Option<&'a CText> {
        let flow: &'a CompiledFlow = self.flow;
        flow.texts(&s.lang, i)
    }

    pub(super) fn id(&self, i: CardIx) -> String {
        self.flow
            .card_ids
            .get(usize::from(i))
            .cloned()
            .unwrap_or_default()
    }

    pub(super) fn emit(&mut self, event: BrowserEvent) {
        self.out.push(Effect::Emit { event });
    }

    pub(super) fn complete(&mut self, s: &mut Session) {
        s.status = Status::Completed;
        s.at = None;
        s.wait = Wait::Nothing;
        s.booking = None;
        self.emit(BrowserEvent::Completed);
        self.out.push(Effect::Complete);
    }

    pub(super) fn show(&mut self, s: &Session, i: CardIx, t: &Template, delay_ms: u32) {
        let text = render(t, s, self.flow);
        self.out.push(Effect::Show {
            card: self.id(i),
            text,
            delay_ms,
            image: None,
            link: None,
        });
    }

    /// Shows the prompt of a waiting card (also used to resume).
    pub(super) fn ask(&mut self, s: &mut Session, i: CardIx, with_text: bool) {
        let flow = self.flow;
        let Some(card) = flow.cards.get(usize::from(i)) else {
            return;
        };
        let card_id = self.id(i);
        let tr = self.tr(s, i);
        match card {
            CCard::Question {
                text,
                buttons,
                free_text,
                delay_ms,
                ..
            } => {
                if with_text {
                    self.show(
                        s,
                        i,
                        pick(tr.and_then(|t| t.text.as_ref()), text),
                        *delay_ms,
                    );
                }
                // A plain loop: `map(..).collect()` made its own copy of the adapters.
                let mut choices = Vec::with_capacity(buttons.len());
                for (j, b) in buttons.iter().enumerate() {
                    let shown = tr.and_then(|t| t.buttons.get(j));
                    choices.push(Choice {
                        label: shown.unwrap_or(&b.label).clone(),
                        value: b.value.clone(),
                    });
                }
                let free_text = free_text.as_ref().map(|(p, _)| {
                    tr.and_then(|t| t.placeholder.as_ref())
                        .or(p.as_ref())
                        .cloned()
                        .unwrap_or_default()
                });
                self.out.push(Effect::Ask {
                    card: card_id,
                    prompt: Prompt::Choices {
                        buttons: choices,
                        free_text,
                    },
                });
                s.wait = Wait::Answer;
            }
            CCard::Capture {
                text,
                kind,
                placeholder,
                delay_ms,
                ..
            } => {
                if with_text {
                    self.show(
                        s,
                        i,
                        pick(tr.and_then(|t| t.text.as_ref()), text),
                        *delay_ms,
                    );
                }
                let placeholder = tr
                    .and_then(|t| t.placeholder.as_ref())
                    .or(placeholder.as_ref())
                    .cloned();
                self.out.push(Effect::Ask {
                    card: card_id,
                    prompt: Prompt::Field {
                        field: *kind,
                        placeholder,
                    },
                });
                s.wait = Wait::Answer;
            }
            CCard::Meeting {
                text,
                route,
                delay_ms,
                ..
            } => {
                if with_text {
                    self.show(
                        s,
                        i,
                        pick(tr.and_then(|t| t.text.as_ref()), text),
                        *delay_ms,
                    );
                }
                if s.wait == Wait::Booking {
                    // A reload while booking: the host retries with the same key.
                    if let Some((start_ms, end_ms)) = s.booking {
                        self.out.push(Effect::Book {
                            card: card_id,
                            route: route.clone(),
                            start_ms,
                            end_ms,
                            key: book_key(s, i, start_ms),
                        });
                    }
                } else {
                    self.out.push(Effect::Ask {
                        card: card_id.clone(),
                        prompt: Prompt::Slots,
                    });
                    self.out.push(Effect::RequestSlots {
                        card: card_id,
                        route: route.clone(),
                    });
                    s.wait = Wait::Slot;
                }
            }
            _ => {}
        }
        s.at = Some(i);
        s.status = Status::Active;
    }

    /// Runs from card `i` until a card waits for input or the dialogue ends.
    ///
    /// Compile rejects every cycle that can run without input, so a run passes each card at most
    /// once before it waits or ends: the card count bounds it, however long an acyclic chain is.
    /// A flow that still loops (a wire form `compile` did not produce) is stopped and the
    /// conversation dropped, never reported completed.
    pub(super) fn run_from(&mut self, s: &mut Session, mut next: Option<CardIx>) {
        let flow = self.flow;
        s.tries = 0;
        let mut last = next;
        for _ in 0..=flow.cards.len() {
            last = next.or(last);
            let Some(i) = next else {
                self.complete(s);
                return;
            };
            let Some(card) = flow.cards.get(usize::from(i)) else {
                self.complete(s);
                return;
            };
            let tr = self.tr(s, i);
            match card {
                CCard::Message {
                    text,
                    image,
                    next: n,
                    delay_ms,
                } => {
                    let text = render(pick(tr.and_then(|t| t.text.as_ref()), text), s, flow);
                    self.out.push(Effect::Show {
                        card: self.id(i),
                        text,
                        delay_ms: *delay_ms,
                        image: image.clone(),
                        link: None,
                    });
                    next = *n;
                }
                CCard::Document {
                    text,
                    url,
                    label,
                    next: n,
                    delay_ms,
                } => {
                    let text = render(pick(tr.and_then(|t| t.text.as_ref()), text), s, flow);
                    let label = tr.and_then(|t| t.label.as_ref()).unwrap_or(label);
                    self.out.push(Effect::Show {
                        card: self.id(i),
                        text,
                        delay_ms: *delay_ms,
                        image: None,
                        link: Some((url.clone(), label.clone())),
                    });
                    next = *n;
                }
                CCard::Goal {
                    name,
                    score,
                    next: n,
                } => {
                    if !s.goals.contains(&i) {
                        s.goals.push(i);
                        s.score = s.score.saturating_add(*score);
                        self.out.push(Effect::Goal {
                            card: self.id(i),
                            name: name.clone(),
                            score: *score,
                        });
                        self.emit(BrowserEvent::Goal);
                    }
                    next = *n;
                }
                CCard::Branch { rules, otherwise } => {
                    let facts =
                        crate::targeting::branch_facts_by(&s.answers, &s.lead, &s.company, &|t| {
                            self.judge.lower(t)
                        });
                    next = Some(
                        rules
                            .iter()
                            .find(|(a, _)| {
                                self.judge
                                    .matches(&crate::targeting::branch_query(a.as_str(), &facts))
                            })
                            .map_or(*otherwise, |r| r.1),
                    );
                }
                CCard::End { text } => {
                    if let Some(t) = text {
                        self.show(s, i, pick(tr.and_then(|t| t.text.as_ref()), t), 0);
                    }
                    self.complete(s);
                    return;
                }
                CCard::Capture {
                    field,
                    skip_if_known: true,
                    next: n,
                    ..
                } if s
                    .lead
                    .get(&field.to_ascii_lowercase())
                    .is_some_and(|v| !v.trim().is_empty()) =>
                {
                    next = *n;
                }
                CCard::Question { .. } | CCard::Capture { .. } | CCard::Meeting { .. } => {
                    s.wait = Wait::Nothing;
                    self.ask(s, i, true);
                    return;
                }
            }
        }
        self.abort(s, last);
    }

    /// Stops a conversation that loops without input: it did not reach an end, so it is dropped
    /// (reports count it as a drop, not a completion) at the card where it was cut.
    fn abort(&mut self, s: &mut Session, at: Option<CardIx>) {
        s.status = Status::Dropped;
        s.at = None;
        s.wait = Wait::Nothing;
        s.booking = None;
        let card = at.map(|i| self.id(i));
        self.out.push(Effect::Drop { card });
    }

    pub(super) fn reprompt(&mut self, s: &mut Session, i: CardIx, message: String) {
        s.tries = s.tries.saturating_add(1).min(MAX_TRIES);
        self.out.push(Effect::Reprompt {
            card: self.id(i),
            message,
        });
    }

    pub(super) fn answered(&mut self, s: &mut Session, i: CardIx, value: String) {
        if !s.engaged {
            s.engaged = true;
            self.emit(BrowserEvent::Engaged);
        }
        s.answers.insert(i, value.clone());
        self.out.push(Effect::Answer {
            card: self.id(i),
            value,
        });
    }
}

/// The translated text when there is one, else the card's own.
pub(super) fn pick<'t>(translated: Option<&'t Template>, own: &'t Template) -> &'t Template {
    translated.unwrap_or(own)
}

pub(super) fn book_key(s: &Session, card: CardIx, start_ms: i64) -> String {
    let n = crate::json::int_string;
    [&s.id, ":", &s.flow, ":", &n(card.into()), ":", &n(start_ms)].concat()
}
