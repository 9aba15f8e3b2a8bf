//! The sans-IO state machine: `step(&CompiledFlow, &mut Session, Input, Now) -> Vec<Effect>`; the host performs the effects.

use crate::compile::{CCard, CardIx, CompiledFlow};
use crate::fields::{valid_email, valid_phone, MAX_ANSWER_LEN};
use crate::model::{CaptureKind, Route};
use crate::targeting::{Facts, FieldRef, Val};
use crate::tokens::{Template, TokenSource};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Session format version.
pub const SESSION_VERSION: u32 = 1;
/// Cards passed without visitor input before the machine gives up (compile rejects such cycles; this is a second fence).
const MAX_AUTO_STEPS: usize = 512;
/// Re-prompts counted per card (the counter stops there; re-prompting goes on).
const MAX_TRIES: u8 = 100;

/// Milliseconds since the Unix epoch, supplied by the host.
pub type Now = i64;

/// Where a conversation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Created, not started.
    New,
    /// Waiting for the visitor.
    Active,
    /// Reached an end.
    Completed,
    /// Closed or timed out before the end.
    Dropped,
}

/// What the machine waits for at the current card.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Wait {
    /// Nothing (not active).
    Nothing,
    /// A button or typed answer.
    Answer,
    /// A slot choice (slots were requested).
    Slot,
    /// A booking result (a booking was requested).
    Booking,
}

/// A booked meeting as the host reported it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meeting {
    /// Meeting id from the worker.
    pub id: String,
    /// Agent's display name.
    pub agent: String,
    /// Start time formatted for the visitor, with its zone.
    pub time: String,
}

/// One visitor's conversation; small, versioned, holds the flow's hash and never the flow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// Format version.
    pub v: u32,
    /// Host-chosen unique id (used in idempotency keys).
    pub id: String,
    /// Content hash of the flow version this session runs.
    pub flow: String,
    /// Status.
    pub status: Status,
    /// Card waiting for input.
    pub at: Option<CardIx>,
    /// What is awaited at `at`.
    pub wait: Wait,
    /// Answers by card index.
    pub answers: BTreeMap<CardIx, String>,
    /// Lead fields (lower-cased name → value), known or captured.
    pub lead: BTreeMap<String, String>,
    /// Company fields (lower-cased name → value).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub company: BTreeMap<String, String>,
    /// Invalid answers at the current card.
    pub tries: u8,
    /// Goals reached (card indexes).
    pub goals: Vec<CardIx>,
    /// Total goal score.
    pub score: i32,
    /// The visitor has answered at least once.
    pub engaged: bool,
    /// Booked meeting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meeting: Option<Meeting>,
    /// Slot being booked (start, end ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub booking: Option<(i64, i64)>,
    /// Started at (ms).
    pub started_ms: i64,
    /// Last input at (ms).
    pub last_ms: i64,
}

/// A visitor or host input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Input {
    /// Start, or resume after a reload (re-asks the current card).
    Start,
    /// A button by index.
    Button {
        /// Button index on the current question.
        index: usize,
    },
    /// Typed text.
    Text {
        /// What was typed.
        text: String,
    },
    /// A slot picked from those the host showed.
    SlotChosen {
        /// Start, ms UTC.
        start_ms: i64,
        /// End, ms UTC.
        end_ms: i64,
    },
    /// What the booking or slot lookup came to.
    BookingResult {
        /// Result.
        result: Booking,
    },
    /// The visitor was idle too long.
    Timeout,
    /// The visitor closed the chat.
    Close,
}

/// Booking or slot-lookup outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Booking {
    /// Booked.
    Booked {
        /// Meeting id.
        meeting_id: String,
        /// Agent name.
        agent: String,
        /// Time for the visitor.
        time: String,
    },
    /// Someone else got the slot first.
    SlotTaken,
    /// No slot available at all.
    NoSlots,
    /// The visitor chose not to book.
    Declined,
    /// The booking failed for another reason.
    Failed {
        /// Why.
        reason: String,
    },
}

/// A choice shown as a button.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choice {
    /// Label.
    pub label: String,
    /// Value.
    pub value: String,
}

/// What the visitor is asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Prompt {
    /// Buttons, maybe with a text box.
    Choices {
        /// Buttons.
        buttons: Vec<Choice>,
        /// Text box placeholder when typing is allowed.
        free_text: Option<String>,
    },
    /// A validated field.
    Field {
        /// Kind of field.
        field: CaptureKind,
        /// Placeholder.
        placeholder: Option<String>,
    },
    /// A slot picker.
    Slots,
}

/// Events the host dispatches as DOM CustomEvents (`dynchat:<name>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BrowserEvent {
    /// The visitor answered for the first time.
    Engaged,
    /// The dialogue reached its end.
    Completed,
    /// The visitor closed the chat.
    Closed,
    /// An email was captured.
    Email,
    /// A phone number was captured.
    Phone,
    /// A meeting was booked.
    MeetingBooked,
    /// A goal was reached.
    Goal,
}

/// What the host must do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Effect {
    /// Show a bot message after a typing indicator.
    Show {
        /// Card id.
        card: String,
        /// Rendered text (plain text + allowlisted markdown; never HTML).
        text: String,
        /// Typing delay.
        delay_ms: u32,
        /// Image URL.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        image: Option<String>,
        /// Tracked document link (url, label).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        link: Option<(String, String)>,
    },
    /// Ask for input.
    Ask {
        /// Card id.
        card: String,
        /// Prompt.
        prompt: Prompt,
    },
    /// The answer was not accepted; say why and ask again.
    Reprompt {
        /// Card id.
        card: String,
        /// Message.
        message: String,
    },
    /// The visitor answered a card.
    Answer {
        /// Card id.
        card: String,
        /// Value stored.
        value: String,
    },
    /// Store a lead field.
    Capture {
        /// Lead field (as authored).
        field: String,
        /// Value.
        value: String,
        /// Replace a value already known.
        overwrite: bool,
    },
    /// Fetch slots for a route.
    RequestSlots {
        /// Card id.
        card: String,
        /// Route.
        route: Route,
    },
    /// Book a slot.
    Book {
        /// Card id.
        card: String,
        /// Route.
        route: Route,
        /// Start ms.
        start_ms: i64,
        /// End ms.
        end_ms: i64,
        /// Idempotency key: a retry books the same meeting.
        key: String,
    },
    /// A goal was reached.
    Goal {
        /// Card id.
        card: String,
        /// Name.
        name: String,
        /// Score.
        score: i32,
    },
    /// Dispatch a browser event.
    Emit {
        /// Event.
        event: BrowserEvent,
    },
    /// The conversation completed.
    Complete,
    /// The conversation was dropped at a card.
    Drop {
        /// Card where the visitor left.
        card: Option<String>,
    },
    /// The input did not fit the state and changed nothing.
    Ignored {
        /// Why.
        reason: String,
    },
}

impl Session {
    /// A new session for a flow; `known_lead` holds fields already known about the visitor.
    pub fn new(
        flow: &CompiledFlow,
        id: &str,
        known_lead: &[(String, String)],
        now: Now,
    ) -> Session {
        Session {
            v: SESSION_VERSION,
            id: id.chars().take(64).collect(),
            flow: flow.hash.clone(),
            status: Status::New,
            at: None,
            wait: Wait::Nothing,
            answers: BTreeMap::new(),
            lead: known_lead
                .iter()
                .filter(|(_, v)| !v.trim().is_empty())
                .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.clone()))
                .collect(),
            company: BTreeMap::new(),
            tries: 0,
            goals: Vec::new(),
            score: 0,
            engaged: false,
            meeting: None,
            booking: None,
            started_ms: now,
            last_ms: now,
        }
    }

    /// Reads a stored session; refuses other versions and other flows.
    pub fn from_json(json: &str, flow: &CompiledFlow) -> Result<Session, String> {
        let s: Session =
            serde_json::from_str(json).map_err(|e| format!("stored session unreadable: {e}"))?;
        if s.v != SESSION_VERSION {
            return Err(format!("session version {} is not supported", s.v));
        }
        s.check(flow)?;
        Ok(s)
    }

    /// Serialises to JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Checks the session's invariants against the flow it claims to run.
    pub fn check(&self, flow: &CompiledFlow) -> Result<(), String> {
        if self.flow != flow.hash {
            return Err("session belongs to another flow version".into());
        }
        let n = flow.cards.len();
        match (self.status, self.at, self.wait) {
            (Status::Active, Some(at), w) => {
                let card = flow
                    .cards
                    .get(usize::from(at))
                    .ok_or("current card out of range")?;
                let ok = match card {
                    CCard::Question { .. } | CCard::Capture { .. } => w == Wait::Answer,
                    CCard::Meeting { .. } => matches!(w, Wait::Slot | Wait::Booking),
                    _ => false,
                };
                if !ok {
                    return Err("active session waits at a card that cannot take that input".into());
                }
                if (w == Wait::Booking) != self.booking.is_some() {
                    return Err("booking state inconsistent".into());
                }
            }
            (Status::Active, None, _) => return Err("active session without a current card".into()),
            (_, Some(_), _) => return Err("inactive session with a current card".into()),
            (_, None, w) if w != Wait::Nothing => {
                return Err("inactive session waiting for input".into())
            }
            _ => {}
        }
        if self.answers.keys().any(|k| usize::from(*k) >= n)
            || self.goals.iter().any(|k| usize::from(*k) >= n)
        {
            return Err("answer or goal for a card that does not exist".into());
        }
        Ok(())
    }
}

struct Run<'a> {
    flow: &'a CompiledFlow,
    out: Vec<Effect>,
}

fn render(t: &Template, s: &Session, flow: &CompiledFlow) -> String {
    let _ = flow;
    t.render(|src| match src {
        TokenSource::Lead(f) => s.lead.get(f.as_str()).cloned(),
        TokenSource::Company(f) => s.company.get(f.as_str()).cloned(),
        TokenSource::Answer(i) => s.answers.get(i).cloned(),
        TokenSource::MeetingAgent => s.meeting.as_ref().map(|m| m.agent.clone()),
        TokenSource::MeetingTime => s.meeting.as_ref().map(|m| m.time.clone()),
    })
}

/// Branch facts: answers and lead/company fields, lower-cased.
struct SessionFacts {
    answers: BTreeMap<CardIx, String>,
    lead: BTreeMap<String, String>,
    company: BTreeMap<String, String>,
}

impl Facts for SessionFacts {
    fn get(&self, f: &FieldRef, _offset: Option<i32>) -> Val<'_> {
        let v = match f {
            FieldRef::Answer(i) => self.answers.get(i),
            FieldRef::Lead(k) => self.lead.get(k),
            FieldRef::Company(k) => self.company.get(k),
            _ => None,
        };
        v.map_or(Val::Missing, |s| Val::Text(s))
    }
}

fn lower<K: Ord + Clone>(m: &BTreeMap<K, String>) -> BTreeMap<K, String> {
    m.iter()
        .map(|(k, v)| (k.clone(), v.to_lowercase()))
        .collect()
}

impl Run<'_> {
    fn id(&self, i: CardIx) -> String {
        self.flow
            .card_ids
            .get(usize::from(i))
            .cloned()
            .unwrap_or_default()
    }

    fn emit(&mut self, event: BrowserEvent) {
        self.out.push(Effect::Emit { event });
    }

    fn complete(&mut self, s: &mut Session) {
        s.status = Status::Completed;
        s.at = None;
        s.wait = Wait::Nothing;
        s.booking = None;
        self.emit(BrowserEvent::Completed);
        self.out.push(Effect::Complete);
    }

    fn show(&mut self, s: &Session, i: CardIx, t: &Template, delay_ms: u32) {
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
    fn ask(&mut self, s: &mut Session, i: CardIx, with_text: bool) {
        let flow = self.flow;
        let Some(card) = flow.cards.get(usize::from(i)) else {
            return;
        };
        let card_id = self.id(i);
        match card {
            CCard::Question {
                text,
                buttons,
                free_text,
                delay_ms,
                ..
            } => {
                if with_text {
                    self.show(s, i, text, *delay_ms);
                }
                let buttons = buttons
                    .iter()
                    .map(|b| Choice {
                        label: b.label.clone(),
                        value: b.value.clone(),
                    })
                    .collect();
                let free_text = free_text
                    .as_ref()
                    .map(|(p, _)| p.clone().unwrap_or_default());
                self.out.push(Effect::Ask {
                    card: card_id,
                    prompt: Prompt::Choices { buttons, free_text },
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
                    self.show(s, i, text, *delay_ms);
                }
                self.out.push(Effect::Ask {
                    card: card_id,
                    prompt: Prompt::Field {
                        field: *kind,
                        placeholder: placeholder.clone(),
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
                    self.show(s, i, text, *delay_ms);
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
    fn run_from(&mut self, s: &mut Session, mut next: Option<CardIx>) {
        let flow = self.flow;
        s.tries = 0;
        for _ in 0..MAX_AUTO_STEPS {
            let Some(i) = next else {
                self.complete(s);
                return;
            };
            let Some(card) = flow.cards.get(usize::from(i)) else {
                self.complete(s);
                return;
            };
            match card {
                CCard::Message {
                    text,
                    image,
                    next: n,
                    delay_ms,
                } => {
                    let text = render(text, s, flow);
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
                    let text = render(text, s, flow);
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
                    let facts = SessionFacts {
                        answers: lower(&s.answers),
                        lead: lower(&s.lead),
                        company: lower(&s.company),
                    };
                    next = Some(
                        rules
                            .iter()
                            .find(|(a, _)| a.eval(&facts))
                            .map_or(*otherwise, |r| r.1),
                    );
                }
                CCard::End { text } => {
                    if let Some(t) = text {
                        self.show(s, i, t, 0);
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
        // Unreachable for compiled flows (cycles are rejected); end cleanly rather than spin.
        self.complete(s);
    }

    fn reprompt(&mut self, s: &mut Session, i: CardIx, message: String) {
        s.tries = s.tries.saturating_add(1).min(MAX_TRIES);
        self.out.push(Effect::Reprompt {
            card: self.id(i),
            message,
        });
    }

    fn answered(&mut self, s: &mut Session, i: CardIx, value: String) {
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

fn book_key(s: &Session, card: CardIx, start_ms: i64) -> String {
    format!("{}:{}:{}:{start_ms}", s.id, s.flow, card)
}

fn default_error(kind: CaptureKind) -> &'static str {
    match kind {
        CaptureKind::Email => {
            "That doesn't look like an email address. Please check it, e.g. name@company.com."
        }
        CaptureKind::Phone => {
            "That doesn't look like a phone number. Please use digits, e.g. +1 415 555 0100."
        }
        CaptureKind::Name => "Please tell me your name.",
        CaptureKind::Company => "Please tell me your company's name.",
        CaptureKind::Text => "Please type an answer.",
    }
}

fn valid_for(kind: CaptureKind, v: &str) -> bool {
    match kind {
        CaptureKind::Email => valid_email(v),
        CaptureKind::Phone => valid_phone(v),
        CaptureKind::Name => v.chars().count() <= 200 && v.chars().any(char::is_alphabetic),
        CaptureKind::Company => v.chars().count() <= 255,
        CaptureKind::Text => true,
    }
}

/// Advances a conversation by one input. Never panics; bad visitor input is a re-prompt.
pub fn step(flow: &CompiledFlow, s: &mut Session, input: Input, now: Now) -> Vec<Effect> {
    let mut r = Run {
        flow,
        out: Vec::new(),
    };
    if s.check(flow).is_err() {
        r.out.push(Effect::Ignored {
            reason: "session does not match this flow".into(),
        });
        return r.out;
    }
    s.last_ms = s.last_ms.max(now);
    let at = s.at;
    match (s.status, input) {
        (Status::New, Input::Start) => {
            s.status = Status::Active;
            s.started_ms = now;
            r.run_from(s, Some(flow.start));
        }
        (Status::Active, Input::Start) => {
            if let Some(i) = at {
                r.ask(s, i, true);
            }
        }
        (Status::New, Input::Close) => r.emit(BrowserEvent::Closed),
        (Status::Active, Input::Close | Input::Timeout) => {
            let card = at.map(|i| r.id(i));
            s.status = Status::Dropped;
            s.at = None;
            s.wait = Wait::Nothing;
            s.booking = None;
            r.emit(BrowserEvent::Closed);
            r.out.push(Effect::Drop { card });
        }
        (Status::Completed | Status::Dropped, Input::Close) => r.emit(BrowserEvent::Closed),
        (Status::Active, input) => {
            let Some(i) = at else {
                r.out.push(Effect::Ignored {
                    reason: "nothing is being asked".into(),
                });
                return r.out;
            };
            on_input(&mut r, s, i, input);
        }
        (st, _) => r.out.push(Effect::Ignored {
            reason: format!("conversation is {st:?}").to_lowercase(),
        }),
    }
    r.out
}

fn on_input(r: &mut Run<'_>, s: &mut Session, i: CardIx, input: Input) {
    let flow = r.flow;
    let Some(card) = flow.cards.get(usize::from(i)) else {
        return;
    };
    match (card, input, s.wait) {
        (
            CCard::Question {
                buttons,
                field,
                next,
                ..
            },
            Input::Button { index },
            Wait::Answer,
        ) => match buttons.get(index) {
            Some(b) => {
                r.answered(s, i, b.value.clone());
                if let Some(f) = field {
                    s.lead.insert(f.to_ascii_lowercase(), b.value.clone());
                    r.out.push(Effect::Capture {
                        field: f.clone(),
                        value: b.value.clone(),
                        overwrite: true,
                    });
                }
                r.run_from(s, b.next.or(*next));
            }
            None => r.out.push(Effect::Ignored {
                reason: format!("no button {index}"),
            }),
        },
        (
            CCard::Question {
                free_text: Some((_, ft_next)),
                field,
                next,
                ..
            },
            Input::Text { text },
            Wait::Answer,
        ) => {
            let v = text.trim();
            if v.is_empty() || v.len() > MAX_ANSWER_LEN {
                let m = if v.is_empty() {
                    "Please type an answer or pick one of the options."
                } else {
                    "That answer is too long; please shorten it."
                };
                r.reprompt(s, i, m.into());
                return;
            }
            r.answered(s, i, v.to_string());
            if let Some(f) = field {
                s.lead.insert(f.to_ascii_lowercase(), v.to_string());
                r.out.push(Effect::Capture {
                    field: f.clone(),
                    value: v.to_string(),
                    overwrite: true,
                });
            }
            r.run_from(s, ft_next.or(*next));
        }
        (CCard::Question { buttons, .. }, Input::Text { text }, Wait::Answer) => {
            // Typed text on a buttons-only question: accept a label typed exactly, else re-prompt.
            match buttons
                .iter()
                .position(|b| b.label.eq_ignore_ascii_case(text.trim()))
            {
                Some(index) => on_input(r, s, i, Input::Button { index }),
                None => r.reprompt(s, i, "Please pick one of the options.".into()),
            }
        }
        (
            CCard::Capture {
                kind,
                field,
                overwrite,
                pattern,
                error,
                next,
                ..
            },
            Input::Text { text },
            Wait::Answer,
        ) => {
            let v = text.trim();
            let ok = !v.is_empty()
                && v.len() <= MAX_ANSWER_LEN
                && valid_for(*kind, v)
                && pattern.as_ref().is_none_or(|re| re.is_match(v));
            if !ok {
                let m = match error {
                    Some(t) => render(t, s, flow),
                    None => default_error(*kind).to_string(),
                };
                r.reprompt(s, i, m);
                return;
            }
            let value = if *kind == CaptureKind::Email {
                v.to_lowercase()
            } else {
                v.to_string()
            };
            r.answered(s, i, value.clone());
            s.lead.insert(field.to_ascii_lowercase(), value.clone());
            r.out.push(Effect::Capture {
                field: field.clone(),
                value,
                overwrite: *overwrite,
            });
            match kind {
                CaptureKind::Email => r.emit(BrowserEvent::Email),
                CaptureKind::Phone => r.emit(BrowserEvent::Phone),
                _ => {}
            }
            r.run_from(s, *next);
        }
        (CCard::Meeting { route, .. }, Input::SlotChosen { start_ms, end_ms }, Wait::Slot) => {
            if end_ms <= start_ms || end_ms.saturating_sub(start_ms) > 24 * 3_600_000 {
                r.reprompt(s, i, "That time is not valid; please pick another.".into());
                return;
            }
            if !s.engaged {
                s.engaged = true;
                r.emit(BrowserEvent::Engaged);
            }
            s.booking = Some((start_ms, end_ms));
            s.wait = Wait::Booking;
            let key = book_key(s, i, start_ms);
            r.out.push(Effect::Book {
                card: r.id(i),
                route: route.clone(),
                start_ms,
                end_ms,
                key,
            });
        }
        (
            CCard::Meeting {
                route,
                confirmation,
                next,
                on_skip,
                ..
            },
            Input::BookingResult { result },
            w,
        ) => match (result, w) {
            (
                Booking::Booked {
                    meeting_id,
                    agent,
                    time,
                },
                Wait::Booking,
            ) => {
                s.meeting = Some(Meeting {
                    id: meeting_id,
                    agent,
                    time,
                });
                s.booking = None;
                let value = s.meeting.as_ref().map(|m| m.id.clone()).unwrap_or_default();
                r.answered(s, i, value);
                r.emit(BrowserEvent::MeetingBooked);
                if let Some(c) = confirmation {
                    r.show(s, i, c, 0);
                }
                r.run_from(s, *next);
            }
            (Booking::SlotTaken, _) => {
                s.booking = None;
                s.wait = Wait::Slot;
                r.reprompt(
                    s,
                    i,
                    "Sorry, that time was just taken. Here are the times still open.".into(),
                );
                r.out.push(Effect::RequestSlots {
                    card: r.id(i),
                    route: route.clone(),
                });
            }
            (Booking::Failed { reason }, _) => {
                s.booking = None;
                s.wait = Wait::Slot;
                r.reprompt(
                    s,
                    i,
                    format!(
                        "The booking did not go through ({}). Please pick a time again.",
                        reason.chars().take(200).collect::<String>()
                    ),
                );
                r.out.push(Effect::RequestSlots {
                    card: r.id(i),
                    route: route.clone(),
                });
            }
            (Booking::NoSlots | Booking::Declined, _) => {
                s.booking = None;
                r.answered(s, i, "skipped".into());
                r.run_from(s, *on_skip);
            }
            (Booking::Booked { .. }, _) => r.out.push(Effect::Ignored {
                reason: "no booking was requested".into(),
            }),
        },
        (_, input, _) => r.out.push(Effect::Ignored {
            reason: format!(
                "input {} does not fit card `{}`",
                input_name(&input),
                r.id(i)
            ),
        }),
    }
}

fn input_name(i: &Input) -> &'static str {
    match i {
        Input::Start => "start",
        Input::Button { .. } => "button",
        Input::Text { .. } => "text",
        Input::SlotChosen { .. } => "slot_chosen",
        Input::BookingResult { .. } => "booking_result",
        Input::Timeout => "timeout",
        Input::Close => "close",
    }
}
