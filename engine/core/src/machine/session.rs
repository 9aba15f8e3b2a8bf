//! A conversation's state ([`Session`]): where it is, what it waits for, what the visitor answered.

use super::why::Mismatch;
use crate::compile::{CCard, CardIx, CompiledFlow};
use crate::i18n::lang_tag;
use crate::textmap::TextMap;
use serde::{Deserialize, Serialize};

/// Session format version.
pub const SESSION_VERSION: u32 = 1;
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
    /// The conversation's language (primary subtag, chosen when it starts: [`Session::in_lang`]);
    /// re-prompts and translated cards use it. Left out when English, so sessions stored before
    /// languages read back unchanged.
    #[serde(default = "english", skip_serializing_if = "is_english")]
    pub lang: String,
    /// Status.
    pub status: Status,
    /// Card waiting for input.
    pub at: Option<CardIx>,
    /// What is awaited at `at`.
    pub wait: Wait,
    /// Answers by card index.
    pub answers: TextMap<CardIx>,
    /// Lead fields (lower-cased name → value), known or captured.
    pub lead: TextMap<String>,
    /// Company fields (lower-cased name → value).
    #[serde(default, skip_serializing_if = "TextMap::is_empty")]
    pub company: TextMap<String>,
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

impl Session {
    /// A new session for a flow; `known_lead` holds fields already known about the visitor.
    pub fn new(
        flow: &CompiledFlow,
        id: &str,
        known_lead: &[(String, String)],
        now: Now,
    ) -> Session {
        let mut lead = TextMap::new();
        for (k, v) in known_lead {
            if !v.trim().is_empty() {
                lead.insert(k.trim().to_ascii_lowercase(), v.clone());
            }
        }
        Session {
            v: SESSION_VERSION,
            id: crate::fields::char_prefix(id, 64).to_string(),
            flow: flow.hash.clone(),
            lang: english(),
            status: Status::New,
            at: None,
            wait: Wait::Nothing,
            answers: TextMap::new(),
            lead,
            company: TextMap::new(),
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

    /// Sets the conversation's language (before its first step): the primary subtag of `tag`
    /// (`de-AT` -> `de`), lower-cased; anything that is not 2-8 ASCII letters means English.
    pub fn in_lang(mut self, tag: &str) -> Session {
        self.lang = lang_tag(tag);
        self
    }

    /// Checks the session's invariants against the flow it claims to run, its format version
    /// first: `step` and `from_json` (`session_json.rs`) refuse the same sessions.
    pub fn check(&self, flow: &CompiledFlow) -> Result<(), Mismatch> {
        if self.v != SESSION_VERSION {
            return Err(Mismatch::Version(self.v));
        }
        if self.flow != flow.hash {
            return Err(Mismatch::OtherFlow);
        }
        let n = flow.cards.len();
        match (self.status, self.at, self.wait) {
            (Status::Active, Some(at), w) => {
                let card = flow
                    .cards
                    .get(usize::from(at))
                    .ok_or(Mismatch::AtOutOfRange)?;
                let ok = match card {
                    CCard::Question { .. } | CCard::Capture { .. } => w == Wait::Answer,
                    CCard::Meeting { .. } => matches!(w, Wait::Slot | Wait::Booking),
                    _ => false,
                };
                if !ok {
                    return Err(Mismatch::WrongWait);
                }
                if (w == Wait::Booking) != self.booking.is_some() {
                    return Err(Mismatch::Booking);
                }
            }
            (Status::Active, None, _) => return Err(Mismatch::NoCard),
            (_, Some(_), _) => return Err(Mismatch::InactiveAtCard),
            (_, None, w) if w != Wait::Nothing => return Err(Mismatch::InactiveWaiting),
            _ => {}
        }
        if self.answers.keys().any(|k| usize::from(*k) >= n)
            || self.goals.iter().any(|k| usize::from(*k) >= n)
        {
            return Err(Mismatch::UnknownCard);
        }
        Ok(())
    }
}

fn english() -> String {
    lang_tag("")
}

fn is_english(l: &String) -> bool {
    l == "en"
}
