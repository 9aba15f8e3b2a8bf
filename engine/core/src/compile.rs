//! `compile`: parses and validates a dialogue file, resolves card ids to indexes once, hashes its content.
//!
//! A [`CompiledFlow`] also has a serde wire form ([`CompiledFlow::to_wire`] /
//! [`CompiledFlow::from_wire`]): the worker ships it next to the authored dialogue so the browser
//! runs a published flow without parsing the authoring format or compiling it again. Enums are
//! externally tagged, validation patterns travel as their pattern text (built on first use), and
//! `source` / `warnings` are not part of it.

use crate::diag::{Diagnostic, Severity};
use crate::fields::FieldName;
use crate::model::{
    BranchCard, CaptureCard, CaptureKind, Card, Dialogue, Display, DocumentCard, EndCard, GoalCard,
    MeetingCard, MessageCard, QuestionCard, Route, FORMAT_VERSION,
};
use crate::targeting::{compile_audience, CompiledAudience};
use crate::tokens::{self, RawToken, Segment, Template, TokenError, TokenSource};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::OnceLock;

/// Largest dialogue file accepted, in bytes.
pub const MAX_FILE_BYTES: usize = 1024 * 1024;
/// Most cards in one dialogue.
pub const MAX_CARDS: usize = 1000;
/// Longest text on one card.
pub const MAX_TEXT: usize = 5000;

/// Card index in a compiled flow.
pub type CardIx = u16;

/// A capture card's validation pattern: the text as authored (what the wire form carries) and the
/// whole-answer regex `^(?:pattern)$`, built when first needed (at once by `compile`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Pattern {
    text: String,
    #[serde(skip)]
    re: OnceLock<Option<regex_lite::Regex>>,
}

impl Pattern {
    fn build(text: &str) -> Result<regex_lite::Regex, regex_lite::Error> {
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
    /// Cards that stop and wait for the visitor.
    pub fn waits(&self) -> bool {
        matches!(
            self,
            CCard::Question { .. } | CCard::Capture { .. } | CCard::Meeting { .. }
        )
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

fn empty_source() -> Dialogue {
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

/// Compile options.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// When given, lead fields not in this list are reported (names compared without case).
    pub lead_fields: Option<Vec<String>>,
}

/// Compiles a dialogue file with default options.
pub fn compile(json: &str) -> Result<CompiledFlow, Vec<Diagnostic>> {
    compile_with(json, &Options::default())
}

/// Parses JSON into the model, with the JSON path of any type error.
pub fn parse(json: &str) -> Result<Dialogue, Vec<Diagnostic>> {
    if json.len() > MAX_FILE_BYTES {
        return Err(vec![Diagnostic::error(
            "$",
            "too_large",
            format!(
                "dialogue is {} bytes; the limit is {MAX_FILE_BYTES}",
                json.len()
            ),
        )]);
    }
    parse_tracked(json)
}

/// Without the `paths` feature: one pass, the error located at the document root with serde's line/column.
#[cfg(not(feature = "paths"))]
fn parse_tracked(json: &str) -> Result<Dialogue, Vec<Diagnostic>> {
    serde_json::from_str(json).map_err(|e| {
        let code = if e.is_syntax() || e.is_eof() {
            "invalid_json"
        } else {
            "invalid_type"
        };
        vec![Diagnostic::error("$", code, e.to_string())]
    })
}

#[cfg(feature = "paths")]
fn parse_tracked(json: &str) -> Result<Dialogue, Vec<Diagnostic>> {
    let de = &mut serde_json::Deserializer::from_str(json);
    match serde_path_to_error::deserialize::<_, Dialogue>(de) {
        Ok(d) => Ok(d),
        Err(e) => {
            let p = e.path().to_string();
            let path = if p == "." || p.is_empty() {
                "$".to_string()
            } else {
                format!("$.{p}")
            };
            let inner = e.into_inner();
            let code = if inner.is_syntax() || inner.is_eof() {
                "invalid_json"
            } else {
                "invalid_type"
            };
            let refined = (code == "invalid_type")
                .then(|| refine_deep(json, &path))
                .flatten();
            let (path, msg) = refined.unwrap_or((path, inner.to_string()));
            Err(vec![Diagnostic::error(path, code, msg)])
        }
    }
}

#[cfg(feature = "paths")]
/// serde cannot see inside tagged cards and untagged rules; deserialise that one value again
/// as the type it claims to be, to point at the exact field.
fn refine(json: &str, path: &str) -> Option<(String, String)> {
    use crate::model::Condition;
    let root: serde_json::Value = serde_json::from_str(json).ok()?;
    let pointer = path
        .strip_prefix('$')?
        .replace(['.', '['], "/")
        .replace(']', "");
    let v = root.pointer(&pointer)?.clone();
    fn at<T: serde::de::DeserializeOwned>(
        v: serde_json::Value,
        path: &str,
    ) -> Option<(String, String)> {
        match serde_path_to_error::deserialize::<_, T>(v) {
            Ok(_) => None,
            Err(e) => {
                let p = e.path().to_string();
                let full = if p == "." || p.is_empty() {
                    path.to_string()
                } else {
                    format!("{path}.{p}")
                };
                Some((full, e.into_inner().to_string()))
            }
        }
    }
    let obj = v.as_object()?;
    if let Some(t) = obj.get("type").and_then(|t| t.as_str()) {
        let mut rest = v.clone();
        if let Some(m) = rest.as_object_mut() {
            m.remove("type");
        }
        return match t {
            "message" => at::<MessageCard>(rest, path),
            "question" => at::<QuestionCard>(rest, path),
            "capture" => at::<CaptureCard>(rest, path),
            "meeting" => at::<MeetingCard>(rest, path),
            "goal" => at::<GoalCard>(rest, path),
            "branch" => at::<BranchCard>(rest, path),
            "document" => at::<DocumentCard>(rest, path),
            "end" => at::<EndCard>(rest, path),
            _ => None,
        };
    }
    if obj.contains_key("field") || obj.contains_key("op") {
        return at::<Condition>(v, path);
    }
    if obj.contains_key("all") || obj.contains_key("any") {
        return at::<crate::model::Audience>(v, path);
    }
    None
}

#[cfg(feature = "paths")]
/// Refines repeatedly while each pass points deeper (a card holding a rule holding a condition).
fn refine_deep(json: &str, path: &str) -> Option<(String, String)> {
    let mut best = refine(json, path)?;
    for _ in 0..4 {
        match refine(json, &best.0) {
            Some(next) if next.0.len() > best.0.len() => best = next,
            _ => break,
        }
    }
    Some(best)
}

/// Compiles a dialogue file: every problem is reported at once, with its JSON path.
pub fn compile_with(json: &str, opts: &Options) -> Result<CompiledFlow, Vec<Diagnostic>> {
    let d = parse(json)?;
    compile_model(d, opts)
}

fn valid_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn safe_url(u: &str) -> bool {
    let l = u.trim().to_ascii_lowercase();
    (l.starts_with("https://") || l.starts_with("http://") || l.starts_with('/'))
        && !l.starts_with("//")
        && !u
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '"' || c == '<' || c == '>')
}

struct Ctx<'a> {
    ids: HashMap<&'a str, CardIx>,
    answerable: HashMap<&'a str, CardIx>,
    lead_fields: Option<Vec<FieldName>>,
    diags: Vec<Diagnostic>,
}

impl Ctx<'_> {
    fn target(&mut self, id: Option<&String>, path: String) -> Option<CardIx> {
        let id = id?;
        match self.ids.get(id.as_str()) {
            Some(i) => Some(*i),
            None => {
                self.diags.push(Diagnostic::error(
                    path,
                    "unknown_card",
                    format!("no card has id `{id}`"),
                ));
                None
            }
        }
    }

    fn check_field(&mut self, name: &str, path: String) {
        if let Some(list) = &self.lead_fields {
            let f = FieldName::new(name);
            if !list.contains(&f) {
                self.diags.push(Diagnostic::error(
                    path,
                    "unknown_field",
                    format!("`{name}` is not a lead field of this Marketo instance"),
                ));
            }
        }
    }

    fn template(&mut self, text: &str, path: String) -> Template {
        if text.len() > MAX_TEXT {
            self.diags.push(Diagnostic::error(
                path.clone(),
                "too_large",
                format!("text is {} bytes; the limit is {MAX_TEXT}", text.len()),
            ));
        }
        let mut lead_refs = Vec::new();
        let answerable = &self.answerable;
        let res = tokens::parse(text, |t: RawToken<'_>| {
            let default = match t.default {
                Some(d) => Some(d.to_string()),
                None if t.namespace == "meeting" => None,
                None => {
                    return Err(TokenError::MissingDefault(format!(
                        "{}.{}",
                        t.namespace, t.name
                    )))
                }
            };
            let source = match t.namespace {
                "lead" => {
                    lead_refs.push(t.name.to_string());
                    TokenSource::Lead(FieldName::new(t.name))
                }
                "company" => TokenSource::Company(FieldName::new(t.name)),
                "answer" => TokenSource::Answer(
                    *answerable
                        .get(t.name)
                        .ok_or_else(|| TokenError::UnknownCard(t.name.to_string()))?,
                ),
                "meeting" => match t.name {
                    "agent" => TokenSource::MeetingAgent,
                    "time" => TokenSource::MeetingTime,
                    other => return Err(TokenError::UnknownNamespace(format!("meeting.{other}"))),
                },
                other => return Err(TokenError::UnknownNamespace(other.to_string())),
            };
            Ok(Segment::Token { source, default })
        });
        for f in lead_refs {
            self.check_field(&f, path.clone());
        }
        match res {
            Ok(t) => t,
            Err(e) => {
                let (code, msg) = match e {
                    TokenError::Unclosed => ("bad_token", "`{{` is never closed with `}}`".to_string()),
                    TokenError::Empty => ("bad_token", "a token needs a name, e.g. {{lead.FirstName:there}}".to_string()),
                    TokenError::MissingDefault(n) => ("missing_default", format!("token `{{{{{n}}}}}` needs a default for visitors where it is unknown: write `{{{{{n}:...}}}}`")),
                    TokenError::UnknownNamespace(n) => ("bad_token", format!("unknown token `{n}`: use lead., company., answer. or meeting.")),
                    TokenError::UnknownCard(n) => ("unknown_card", format!("`{{{{answer.{n}}}}}` names no question or capture card")),
                };
                self.diags.push(Diagnostic::error(path, code, msg));
                Template::default()
            }
        }
    }
}

/// Compiles an already parsed model.
pub fn compile_model(d: Dialogue, opts: &Options) -> Result<CompiledFlow, Vec<Diagnostic>> {
    let mut cx = Ctx {
        ids: HashMap::new(),
        answerable: HashMap::new(),
        lead_fields: opts
            .lead_fields
            .as_ref()
            .map(|l| l.iter().map(|f| FieldName::new(f)).collect()),
        diags: Vec::new(),
    };
    if d.version != FORMAT_VERSION {
        cx.diags.push(Diagnostic::error(
            "$.version",
            "unsupported_version",
            format!(
                "format version {} is not supported; this engine reads version {FORMAT_VERSION}",
                d.version
            ),
        ));
    }
    if !valid_id(&d.id) {
        cx.diags.push(Diagnostic::error(
            "$.id",
            "bad_id",
            "dialogue id must be 1-64 letters, digits, `-` or `_`",
        ));
    }
    if d.name.trim().is_empty() {
        cx.diags.push(Diagnostic::error(
            "$.name",
            "empty",
            "dialogue name must not be empty",
        ));
    }
    if d.cards.is_empty() {
        cx.diags.push(Diagnostic::error(
            "$.cards",
            "empty",
            "a dialogue needs at least one card",
        ));
        return Err(cx.diags);
    }
    if d.cards.len() > MAX_CARDS {
        cx.diags.push(Diagnostic::error(
            "$.cards",
            "too_large",
            format!("{} cards; the limit is {MAX_CARDS}", d.cards.len()),
        ));
        return Err(cx.diags);
    }
    for (i, c) in d.cards.iter().enumerate() {
        let id = c.id();
        if !valid_id(id) {
            cx.diags.push(Diagnostic::error(
                format!("$.cards[{i}].id"),
                "bad_id",
                "card id must be 1-64 letters, digits, `-` or `_`",
            ));
        }
        if cx.ids.insert(id, i as CardIx).is_some() {
            cx.diags.push(Diagnostic::error(
                format!("$.cards[{i}].id"),
                "duplicate_id",
                format!("card id `{id}` is used more than once"),
            ));
        } else if matches!(c, Card::Question(_) | Card::Capture(_)) {
            cx.answerable.insert(id, i as CardIx);
        }
    }
    let answerable = cx.answerable.clone();
    let answer_ix = |n: &str| answerable.get(n).copied();
    let mut adiags = Vec::new();
    let audience = compile_audience(&d.audience, "$.audience", &|_| None, &mut adiags);
    for c in adiags.iter_mut() {
        if c.code == "unknown_card" {
            c.message = "answers cannot be used for targeting; use them in a branch card".into();
        }
    }
    cx.diags.append(&mut adiags);
    let mut cards = Vec::with_capacity(d.cards.len());
    // Authors reuse validation patterns across cards; build each distinct one once.
    let mut regexes: HashMap<&str, Pattern> = HashMap::new();
    for (i, card) in d.cards.iter().enumerate() {
        let p = format!("$.cards[{i}]");
        let delay = |o: &Option<u32>| o.unwrap_or(d.response_delay_ms).min(10_000);
        let cc = match card {
            Card::Message(MessageCard {
                text,
                image,
                next,
                delay_ms,
                ..
            }) => {
                if let Some(u) = image.as_ref().filter(|u| !safe_url(u)) {
                    cx.diags.push(Diagnostic::error(
                        format!("{p}.image"),
                        "bad_url",
                        format!("image `{u}` must be an http(s) URL or a site path"),
                    ));
                }
                CCard::Message {
                    text: cx.template(text, format!("{p}.text")),
                    image: image.clone(),
                    next: cx.target(next.as_ref(), format!("{p}.next")),
                    delay_ms: delay(delay_ms),
                }
            }
            Card::Question(QuestionCard {
                text,
                buttons,
                free_text,
                field,
                next,
                delay_ms,
                ..
            }) => {
                if buttons.is_empty() && free_text.is_none() {
                    cx.diags.push(Diagnostic::error(
                        format!("{p}.buttons"),
                        "no_answer",
                        "a question needs buttons or `free_text`",
                    ));
                }
                if buttons.len() > 20 {
                    cx.diags.push(Diagnostic::error(
                        format!("{p}.buttons"),
                        "too_large",
                        "at most 20 buttons",
                    ));
                }
                let mut bs = Vec::new();
                for (j, b) in buttons.iter().enumerate() {
                    if b.label.trim().is_empty() {
                        cx.diags.push(Diagnostic::error(
                            format!("{p}.buttons[{j}].label"),
                            "empty",
                            "button label must not be empty",
                        ));
                    }
                    bs.push(CButton {
                        label: b.label.clone(),
                        value: b.value.clone().unwrap_or_else(|| b.label.clone()),
                        next: cx.target(b.next.as_ref(), format!("{p}.buttons[{j}].next")),
                    });
                }
                if let Some(f) = field {
                    cx.check_field(f, format!("{p}.field"));
                }
                CCard::Question {
                    text: cx.template(text, format!("{p}.text")),
                    buttons: bs,
                    free_text: free_text.as_ref().map(|ft| {
                        (
                            ft.placeholder.clone(),
                            cx.target(ft.next.as_ref(), format!("{p}.free_text.next")),
                        )
                    }),
                    field: field.clone(),
                    next: cx.target(next.as_ref(), format!("{p}.next")),
                    delay_ms: delay(delay_ms),
                }
            }
            Card::Capture(CaptureCard {
                text,
                kind,
                field,
                skip_if_known,
                overwrite,
                pattern,
                error,
                placeholder,
                next,
                delay_ms,
                ..
            }) => {
                if field.trim().is_empty() {
                    cx.diags.push(Diagnostic::error(
                        format!("{p}.field"),
                        "empty",
                        "capture card needs a lead field",
                    ));
                } else {
                    cx.check_field(field, format!("{p}.field"));
                }
                let re = pattern.as_ref().and_then(|pat| {
                    if let Some(r) = regexes.get(pat.as_str()) {
                        return Some(r.clone());
                    }
                    match Pattern::build(pat) {
                        Ok(r) => {
                            let built = Pattern {
                                text: pat.clone(),
                                re: OnceLock::from(Some(r)),
                            };
                            regexes.insert(pat.as_str(), built.clone());
                            Some(built)
                        }
                        Err(e) => {
                            cx.diags.push(Diagnostic::error(
                                format!("{p}.pattern"),
                                "bad_regex",
                                format!("invalid regular expression: {e}"),
                            ));
                            None
                        }
                    }
                });
                CCard::Capture {
                    text: cx.template(text, format!("{p}.text")),
                    kind: *kind,
                    field: field.clone(),
                    skip_if_known: *skip_if_known,
                    overwrite: *overwrite,
                    pattern: re,
                    error: error.as_ref().map(|e| cx.template(e, format!("{p}.error"))),
                    placeholder: placeholder.clone(),
                    next: cx.target(next.as_ref(), format!("{p}.next")),
                    delay_ms: delay(delay_ms),
                }
            }
            Card::Meeting(MeetingCard {
                text,
                route,
                confirmation,
                next,
                on_skip,
                delay_ms,
                ..
            }) => {
                let (Route::Queue(r) | Route::Agent(r)) = route;
                if !valid_id(r) {
                    cx.diags.push(Diagnostic::error(
                        format!("{p}.route"),
                        "bad_id",
                        "queue or agent id must be 1-64 letters, digits, `-` or `_`",
                    ));
                }
                CCard::Meeting {
                    text: cx.template(text, format!("{p}.text")),
                    route: route.clone(),
                    confirmation: confirmation
                        .as_ref()
                        .map(|c| cx.template(c, format!("{p}.confirmation"))),
                    next: cx.target(next.as_ref(), format!("{p}.next")),
                    on_skip: cx.target(on_skip.as_ref(), format!("{p}.on_skip")),
                    delay_ms: delay(delay_ms),
                }
            }
            Card::Goal(GoalCard {
                name, score, next, ..
            }) => {
                if name.trim().is_empty() {
                    cx.diags.push(Diagnostic::error(
                        format!("{p}.name"),
                        "empty",
                        "goal name must not be empty",
                    ));
                }
                CCard::Goal {
                    name: name.clone(),
                    score: *score,
                    next: cx.target(next.as_ref(), format!("{p}.next")),
                }
            }
            Card::Branch(BranchCard {
                rules, otherwise, ..
            }) => {
                let mut rs = Vec::new();
                for (j, r) in rules.iter().enumerate() {
                    let rp = format!("{p}.rules[{j}]");
                    let aud =
                        compile_audience(&r.when, &format!("{rp}.when"), &answer_ix, &mut cx.diags);
                    if let Some(t) = cx.target(Some(&r.next), format!("{rp}.next")) {
                        rs.push((aud, t));
                    }
                }
                if rules.is_empty() {
                    cx.diags.push(Diagnostic::warning(
                        format!("{p}.rules"),
                        "empty",
                        "branch has no rules: it always goes to `otherwise`",
                    ));
                }
                let o = cx
                    .target(Some(otherwise), format!("{p}.otherwise"))
                    .unwrap_or(0);
                CCard::Branch {
                    rules: rs,
                    otherwise: o,
                }
            }
            Card::Document(DocumentCard {
                text,
                url,
                label,
                next,
                delay_ms,
                ..
            }) => {
                if !safe_url(url) {
                    cx.diags.push(Diagnostic::error(
                        format!("{p}.url"),
                        "bad_url",
                        format!("document `{url}` must be an http(s) URL or a site path"),
                    ));
                }
                CCard::Document {
                    text: cx.template(text, format!("{p}.text")),
                    url: url.clone(),
                    label: label.clone(),
                    next: cx.target(next.as_ref(), format!("{p}.next")),
                    delay_ms: delay(delay_ms),
                }
            }
            Card::End(EndCard { text, .. }) => CCard::End {
                text: text.as_ref().map(|t| cx.template(t, format!("{p}.text"))),
            },
        };
        cards.push(cc);
    }
    // Lead-field conditions in the audience and branches.
    check_audience_fields(&d, &mut cx);
    let start = match &d.start {
        Some(s) => cx.target(Some(s), "$.start".into()).unwrap_or(0),
        None => 0,
    };
    graph_checks(&cards, start, &mut cx.diags);
    if cx.diags.iter().any(|x| x.severity == Severity::Error) {
        return Err(cx.diags);
    }
    let hash = content_hash(&d);
    Ok(CompiledFlow {
        id: d.id.clone(),
        name: d.name.clone(),
        hash,
        priority: d.priority,
        display: d.display.clone(),
        audience,
        start,
        card_ids: d.cards.iter().map(|c| c.id().to_string()).collect(),
        cards,
        warnings: cx.diags,
        source: d,
    })
}

fn check_audience_fields(d: &Dialogue, cx: &mut Ctx<'_>) {
    use crate::model::{Audience, Rule};
    fn walk(a: &Audience, path: &str, out: &mut Vec<(String, String)>) {
        for (key, list) in [("all", &a.all), ("any", &a.any)] {
            for (i, r) in list.iter().enumerate() {
                let p = format!("{path}.{key}[{i}]");
                match r {
                    Rule::Condition(c) => {
                        if let Some(f) = c.field.strip_prefix("lead.") {
                            out.push((f.to_string(), format!("{p}.field")));
                        }
                    }
                    Rule::Group(g) => walk(g, &p, out),
                }
            }
        }
    }
    let mut refs = Vec::new();
    walk(&d.audience, "$.audience", &mut refs);
    for (i, c) in d.cards.iter().enumerate() {
        if let Card::Branch(BranchCard { rules, .. }) = c {
            for (j, r) in rules.iter().enumerate() {
                walk(&r.when, &format!("$.cards[{i}].rules[{j}].when"), &mut refs);
            }
        }
    }
    for (f, p) in refs {
        cx.check_field(&f, p);
    }
}

/// Unreachable cards and cycles that would loop without visitor input.
fn graph_checks(cards: &[CCard], start: CardIx, diags: &mut Vec<Diagnostic>) {
    let n = cards.len();
    let mut seen = vec![false; n];
    let mut stack = vec![start as usize];
    while let Some(i) = stack.pop() {
        if i >= n || seen[i] {
            continue;
        }
        seen[i] = true;
        stack.extend(cards[i].successors().into_iter().map(usize::from));
    }
    for (i, s) in seen.iter().enumerate() {
        if !s {
            diags.push(Diagnostic::error(
                format!("$.cards[{i}]"),
                "unreachable_card",
                "no path from the start card leads here",
            ));
        }
    }
    // Cycle among cards that do not wait: iterative DFS with colours.
    let mut colour = vec![0u8; n];
    for root in 0..n {
        if colour[root] != 0 || cards[root].waits() {
            continue;
        }
        let mut path: Vec<(usize, Vec<CardIx>)> = vec![(root, cards[root].successors())];
        colour[root] = 1;
        while let Some((node, succ)) = path.last_mut() {
            let node = *node;
            match succ.pop() {
                Some(s) => {
                    let s = usize::from(s);
                    if s >= n || cards[s].waits() {
                        continue;
                    }
                    if colour[s] == 1 {
                        diags.push(Diagnostic::error(format!("$.cards[{s}]"), "cycle", "these cards loop forever without asking the visitor anything; add a question or an end"));
                        return;
                    }
                    if colour[s] == 0 {
                        colour[s] = 1;
                        path.push((s, cards[s].successors()));
                    }
                }
                None => {
                    colour[node] = 2;
                    path.pop();
                }
            }
        }
    }
}

/// Hex SHA-256 (first 20 hex digits) of the canonical JSON of the model.
pub fn content_hash(d: &Dialogue) -> String {
    let bytes = serde_json::to_vec(d).unwrap_or_default();
    let digest = Sha256::digest(&bytes);
    digest.iter().take(10).map(|b| format!("{b:02x}")).collect()
}
