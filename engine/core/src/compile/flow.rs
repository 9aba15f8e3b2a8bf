//! The compiled form of a dialogue ([`CompiledFlow`], its cards and patterns) and its wire form.

use crate::diag::Diagnostic;
use crate::model::{CaptureKind, Dialogue, Display, Route, RouteRules, FORMAT_VERSION};
use crate::targeting::{audience_from_wire, CompiledAudience};
use crate::tokens::Template;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::sync::OnceLock;

/// Card index in a compiled flow.
pub type CardIx = u16;

/// A capture card's validation pattern: the text as authored (what the wire form carries) and,
/// with the `regex` feature, the whole-answer regex `^(?:pattern)$`, built when first needed (at
/// once by `compile`). Without it (the browser's build) the host's matcher decides
/// ([`set_pattern_matcher`]: the browser's own `RegExp`), so the widget ships no regex engine.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Pattern {
    pub(super) text: String,
    #[cfg(feature = "regex")]
    #[serde(skip)]
    pub(super) re: OnceLock<Option<regex_lite::Regex>>,
}

/// Whole-answer matcher for builds without the `regex` feature: `(pattern, answer) -> matches`.
static MATCHER: OnceLock<fn(&str, &str) -> bool> = OnceLock::new();

/// Sets the whole-answer matcher used when the `regex` feature is off (once; later calls are
/// ignored). Without one, a pattern matches nothing, so such an answer is re-prompted. With the
/// feature (a workspace build unifies it on), regex-lite decides and this is not consulted.
pub fn set_pattern_matcher(f: fn(&str, &str) -> bool) {
    let _ = MATCHER.set(f);
}

impl Pattern {
    /// A pattern from its text (the wire form); built on first use.
    pub fn new(text: String) -> Pattern {
        Pattern {
            text,
            #[cfg(feature = "regex")]
            re: OnceLock::new(),
        }
    }

    #[cfg(feature = "regex")]
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
    #[cfg(feature = "regex")]
    pub fn is_match(&self, s: &str) -> bool {
        self.re
            .get_or_init(|| Self::build(&self.text).ok())
            .as_ref()
            .is_some_and(|r| r.is_match(s))
    }

    /// Does the whole answer match? Asks the host's matcher ([`set_pattern_matcher`]).
    #[cfg(not(feature = "regex"))]
    pub fn is_match(&self, s: &str) -> bool {
        MATCHER.get().is_some_and(|m| m(&self.text, s))
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

/// A branch rule's compiled audience in its wire form (the JSON serde writes for a
/// [`CompiledAudience`]). The state machine hands the text to a `machine::BranchJudge`
/// (`targeting::judge` by default; in the browser, the page's targeting module), so the chat
/// module reads and evaluates no audience itself. The wire form of the flow is unchanged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireAudience(pub(super) String);

impl WireAudience {
    /// The wire form of a compiled audience.
    pub fn new(a: &CompiledAudience) -> WireAudience {
        WireAudience(serde_json::to_string(a).unwrap_or_default())
    }

    /// The JSON text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Serialize for WireAudience {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        crate::json::parse(&self.0)
            .as_ref()
            .and_then(audience_from_wire)
            .ok_or_else(|| serde::ser::Error::custom("a branch rule's audience does not read"))?
            .serialize(s)
    }
}

impl<'de> Deserialize<'de> for WireAudience {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        CompiledAudience::deserialize(d).map(|a| WireAudience::new(&a))
    }
}

/// A meeting card's route as a compiled flow keeps it (and as effects carry it): a queue, an
/// agent, or routing rules by their default queue only. The rules themselves stay in the
/// published dialogue, where the worker evaluates them when the visitor books, so a compiled
/// flow (and the browser) carries no conditions. Serde form: the authored
/// [`Route`]'s, a rules route with an empty `rules` list (`{"rules": [], "default": id}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CRoute {
    /// Round robin over a queue, by queue id.
    Queue(String),
    /// One named agent, by agent id.
    Agent(String),
    /// Rules (evaluated by the worker) with this default queue.
    Rules {
        /// Queue id when no rule holds.
        default: String,
    },
}

impl From<&Route> for CRoute {
    fn from(r: &Route) -> CRoute {
        match r {
            Route::Queue(q) => CRoute::Queue(q.clone()),
            Route::Agent(a) => CRoute::Agent(a.clone()),
            Route::Rules(r) => CRoute::Rules {
                default: r.default.clone(),
            },
        }
    }
}

impl Serialize for CRoute {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            CRoute::Queue(q) => Route::Queue(q.clone()),
            CRoute::Agent(a) => Route::Agent(a.clone()),
            CRoute::Rules { default } => Route::Rules(std::sync::Arc::new(RouteRules {
                rules: Vec::new(),
                default: default.clone(),
                owner_field: None,
            })),
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for CRoute {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Route::deserialize(d).map(|r| CRoute::from(&r))
    }
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
        route: CRoute,
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
        rules: Vec<(WireAudience, CardIx)>,
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

/// One card's texts in another language (see [`crate::model::CardText`]); what is absent is
/// shown as authored in the default language.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CText {
    /// Text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<Template>,
    /// Button labels, in the card's order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub buttons: Vec<String>,
    /// Input placeholder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub placeholder: Option<String>,
    /// Capture re-prompt text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<Template>,
    /// Meeting confirmation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirmation: Option<Template>,
    /// Document link label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

/// A language's card texts, by card index.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CLang {
    /// Primary subtag.
    pub lang: String,
    /// Texts by card index (same length as the flow's cards).
    pub cards: Vec<CText>,
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
    /// The dialogue's languages, the default first (empty: English only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub languages: Vec<String>,
    /// The card texts of every language after the first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub translations: Vec<CLang>,
    /// Non-blocking findings (not in the wire form).
    #[serde(skip)]
    pub warnings: Vec<Diagnostic>,
    /// The source model, for export and the schema-faithful round trip. Not in the wire form: a
    /// flow read with [`CompiledFlow::from_wire`] has an empty one (no cards).
    #[serde(skip, default = "empty_source")]
    pub source: Dialogue,
    /// The compiled experiment, if the dialogue has one. Not in the wire form: the worker ships
    /// each variant's own flow ([`CompiledFlow::variant_flow`]).
    #[serde(skip)]
    pub experiment: Option<CExperiment>,
}

/// A compiled experiment (not in the wire form: the worker ships each variant's own flow).
#[derive(Debug, Clone, PartialEq)]
pub struct CExperiment {
    /// Experiment id.
    pub id: String,
    /// Variants in authoring order; the first is the control.
    pub variants: Vec<CVariant>,
}

/// One compiled variant.
#[derive(Debug, Clone, PartialEq)]
pub struct CVariant {
    /// Variant id.
    pub id: String,
    /// Relative weight.
    pub weight: u32,
    /// Its own first card, if any.
    pub start: Option<CardIx>,
    /// Cards whose `text` it replaces.
    pub texts: Vec<(CardIx, Template)>,
    /// The same replacements in the dialogue's other languages: (language, card, text).
    pub translations: Vec<(String, CardIx, Template)>,
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
        experiment: None,
        languages: Vec::new(),
        translations: Default::default(),
    }
}

impl CompiledFlow {
    /// The wire form (JSON) of this flow.
    pub fn to_wire(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The language the cards are written in (the first of `languages`; English when none).
    pub fn default_lang(&self) -> &str {
        self.languages.first().map_or("en", String::as_str)
    }

    /// Card `i`'s texts in `lang`, when the dialogue has that translation.
    pub fn texts(&self, lang: &str, i: CardIx) -> Option<&CText> {
        self.translations
            .iter()
            .find(|t| t.lang == lang)?
            .cards
            .get(usize::from(i))
    }

    /// Index of a card id.
    pub fn index_of(&self, id: &str) -> Option<CardIx> {
        self.card_ids
            .iter()
            .position(|c| c == id)
            .map(|i| i as CardIx)
    }
}
