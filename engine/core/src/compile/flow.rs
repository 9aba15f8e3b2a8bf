//! The compiled form of a dialogue ([`CompiledFlow`], its cards and patterns) and its wire form.

use crate::diag::Diagnostic;
use crate::model::{CaptureKind, Dialogue, Display, Route, FORMAT_VERSION};
use crate::targeting::CompiledAudience;
use crate::tokens::Template;
use serde::{Deserialize, Serialize};
use std::sync::OnceLock;

/// Card index in a compiled flow.
pub type CardIx = u16;

/// A capture card's validation pattern: the text as authored (what the wire form carries) and the
/// whole-answer regex `^(?:pattern)$`, built when first needed (at once by `compile`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Pattern {
    pub(super) text: String,
    #[serde(skip)]
    pub(super) re: OnceLock<Option<regex_lite::Regex>>,
}

impl Pattern {
    pub(super) fn build(text: &str) -> Result<regex_lite::Regex, regex_lite::Error> {
        regex_lite::RegexBuilder::new(&format!("^(?:{text})$"))
            .size_limit(1 << 20)
            .build()
    }

    /// The pattern as authored.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Does the whole answer match? A pattern that does not build (only possible in a wire form
    /// that `compile` did not produce) matches nothing, so such an answer is re-prompted.
    pub fn is_match(&self, s: &str) -> bool {
        self.re
            .get_or_init(|| Self::build(&self.text).ok())
            .as_ref()
            .is_some_and(|r| r.is_match(s))
    }
}

/// A button after compilation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CButton {
    /// Label shown.
    pub label: String,
    /// Value stored.
    pub value: String,
    /// Resolved next card.
    pub next: Option<CardIx>,
}

/// A card after compilation: ids resolved, templates parsed, patterns built.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum CCard {
    /// See [`Card::Message`].
    Message {
        /// Text.
        text: Template,
        /// Image URL.
        image: Option<String>,
        /// Next.
        next: Option<CardIx>,
        /// Typing delay.
        delay_ms: u32,
    },
    /// See [`Card::Question`].
    Question {
        /// Text.
        text: Template,
        /// Buttons.
        buttons: Vec<CButton>,
        /// Free text allowed: (placeholder, next).
        free_text: Option<(Option<String>, Option<CardIx>)>,
        /// Lead field, as authored.
        field: Option<String>,
        /// Next.
        next: Option<CardIx>,
        /// Typing delay.
        delay_ms: u32,
    },
    /// See [`Card::Capture`].
    Capture {
        /// Text.
        text: Template,
        /// Kind.
        kind: CaptureKind,
        /// Lead field, as authored.
        field: String,
        /// Skip when known.
        skip_if_known: bool,
        /// Overwrite known values.
        overwrite: bool,
        /// Extra validation.
        pattern: Option<Pattern>,
        /// Re-prompt text.
        error: Option<Template>,
        /// Placeholder.
        placeholder: Option<String>,
        /// Next.
        next: Option<CardIx>,
        /// Typing delay.
        delay_ms: u32,
    },
    /// See [`Card::Meeting`].
    Meeting {
        /// Text.
        text: Template,
        /// Route.
        route: Route,
        /// Confirmation text.
        confirmation: Option<Template>,
        /// Next after booking.
        next: Option<CardIx>,
        /// Next when skipped.
        on_skip: Option<CardIx>,
        /// Typing delay.
        delay_ms: u32,
    },
    /// See [`Card::Goal`].
    Goal {
        /// Name.
        name: String,
        /// Score.
        score: i32,
        /// Next.
        next: Option<CardIx>,
    },
    /// See [`Card::Branch`].
    Branch {
        /// Ordered (conditions, target).
        rules: Vec<(CompiledAudience, CardIx)>,
        /// Fallback.
        otherwise: CardIx,
    },
    /// See [`Card::Document`].
    Document {
        /// Text.
        text: Template,
        /// URL.
        url: String,
        /// Label.
        label: String,
        /// Next.
        next: Option<CardIx>,
        /// Typing delay.
        delay_ms: u32,
    },
    /// See [`Card::End`].
    End {
        /// Closing text.
        text: Option<Template>,
    },
}

impl CCard {
    /// Cards that wait for the visitor every time they are reached. A capture with
    /// `skip_if_known` does not: once the field is known (or has just been typed) it is passed
    /// without input, so a cycle through it can run on its own.
    pub fn always_waits(&self) -> bool {
        match self {
            CCard::Question { .. } | CCard::Meeting { .. } => true,
            CCard::Capture { skip_if_known, .. } => !skip_if_known,
            _ => false,
        }
    }

    /// Every card this one can lead to.
    pub fn successors(&self) -> Vec<CardIx> {
        let mut v = Vec::new();
        match self {
            CCard::Message { next, .. }
            | CCard::Goal { next, .. }
            | CCard::Document { next, .. } => v.extend(*next),
            CCard::Capture { next, .. } => v.extend(*next),
            CCard::Question {
                buttons,
                free_text,
                next,
                ..
            } => {
                v.extend(buttons.iter().filter_map(|b| b.next.or(*next)));
                if let Some((_, n)) = free_text {
                    v.extend(n.or(*next));
                }
                if buttons.iter().any(|b| b.next.is_none()) {
                    v.extend(*next);
                }
            }
            CCard::Meeting { next, on_skip, .. } => {
                v.extend(*next);
                v.extend(*on_skip);
            }
            CCard::Branch { rules, otherwise } => {
                v.extend(rules.iter().map(|r| r.1));
                v.push(*otherwise);
            }
            CCard::End { .. } => {}
        }
        v
    }
}

/// A dialogue ready to run: ids resolved to indexes, templates parsed, content hashed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CompiledFlow {
    /// Dialogue id.
    pub id: String,
    /// Dialogue name.
    pub name: String,
    /// Content hash (hex), the published version's identity.
    pub hash: String,
    /// Priority.
    pub priority: i32,
    /// Frequency rules.
    pub display: Display,
    /// Audience.
    pub audience: CompiledAudience,
    /// First card.
    pub start: CardIx,
    /// Cards.
    pub cards: Vec<CCard>,
    /// Card ids, by index.
    pub card_ids: Vec<String>,
    /// Non-blocking findings (not in the wire form).
    #[serde(skip)]
    pub warnings: Vec<Diagnostic>,
    /// The source model, for export and the schema-faithful round trip. Not in the wire form: a
    /// flow read with [`CompiledFlow::from_wire`] has an empty one (no cards).
    #[serde(skip, default = "empty_source")]
    pub source: Dialogue,
}

pub(super) fn empty_source() -> Dialogue {
    Dialogue {
        version: FORMAT_VERSION,
        id: String::new(),
        name: String::new(),
        priority: 0,
        audience: Default::default(),
        display: Display::default(),
        response_delay_ms: 0,
        start: None,
        cards: Vec::new(),
    }
}

impl CompiledFlow {
    /// The wire form (JSON) of this flow.
    pub fn to_wire(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Reads a wire form and checks that every card index it holds points at a card, so a
    /// damaged flow is refused here instead of stopping a conversation later.
    pub fn from_wire(json: &str) -> Result<CompiledFlow, String> {
        let f: CompiledFlow = serde_json::from_str(json).map_err(|e| e.to_string())?;
        let n = f.cards.len();
        let inside = |i: CardIx| usize::from(i) < n;
        if n == 0 || f.card_ids.len() != n || !inside(f.start) {
            return Err("flow has no cards, or ids and cards differ".into());
        }
        if f.cards
            .iter()
            .flat_map(CCard::successors)
            .any(|i| !inside(i))
        {
            return Err("flow points at a card that does not exist".into());
        }
        Ok(f)
    }

    /// Index of a card id.
    pub fn index_of(&self, id: &str) -> Option<CardIx> {
        self.card_ids
            .iter()
            .position(|c| c == id)
            .map(|i| i as CardIx)
    }
}
