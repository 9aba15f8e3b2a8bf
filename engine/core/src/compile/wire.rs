//! Reads a [`CompiledFlow`] from its wire form (the serde JSON [`CompiledFlow::to_wire`] writes)
//! with the small JSON reader (`crate::json`), so the browser ships no serde_json; the worker,
//! the CLI and the tests read it with the same code.

use super::flow::*;
use crate::fields::FieldName;
use crate::json::{self, Need, J};
use crate::model::{CaptureKind, Display};
use crate::targeting::{audience_from_wire, CompiledAudience};
use crate::tokens::{Segment, Template, TokenSource};

impl CompiledFlow {
    /// Reads a wire form and checks that every card index it holds points at a card, so a
    /// damaged flow is refused here instead of stopping a conversation later. Every audience
    /// (the flow's own and each branch rule's) must read.
    pub fn from_wire(wire: &str) -> Result<CompiledFlow, WireError> {
        read(wire, &ReadAll)
    }

    /// [`CompiledFlow::from_wire`] for running the flow only, as the browser's chat module does:
    /// the audiences are checked to be JSON objects, not read. The flow's own audience (which
    /// only selecting a dialogue reads: the targeting module, from the same wire form) is left
    /// empty; branch rules keep their text for a `machine::BranchJudge`, which says when one
    /// does not read. So the chat module links no audience reader.
    pub fn from_wire_to_run(wire: &str) -> Result<CompiledFlow, WireError> {
        read(wire, &CheckOnly)
    }
    /// Drops a flow [`CompiledFlow::from_wire`] read. Its `source` is the empty dialogue (the wire
    /// form has none), which owns no memory, so it is forgotten instead of dropped: the browser's
    /// modules then link no drop code for the authoring model's maps (about 3 KB of B-tree code
    /// in the chat module). Any other flow would leak its source: drop those as usual.
    pub fn drop_read(self) {
        let CompiledFlow { source, .. } = self;
        debug_assert!(source.cards.is_empty() && source.id.is_empty());
        std::mem::forget(source);
    }

    /// Drops a flow [`CompiledFlow::from_wire_to_run`] read: as [`CompiledFlow::drop_read`],
    /// and its audience (there always the empty one, which owns no memory) forgotten too, so the
    /// chat module links no drop code for audiences. Any other flow would leak its audience.
    pub fn drop_run(self) {
        let CompiledFlow {
            source, audience, ..
        } = self;
        debug_assert!(source.cards.is_empty() && audience == CompiledAudience::default());
        std::mem::forget(source);
        std::mem::forget(audience);
    }
}

/// How a read treats the audiences in a wire form.
trait Audiences {
    /// The flow's own audience as the flow keeps it, a failure noted in `n` when it does not
    /// read.
    fn read(&self, v: &J, n: &Need) -> CompiledAudience;
    /// Whether a branch rule's audience reads (the rule keeps its text).
    fn check(&self, v: &J) -> bool;
    /// Drops a flow this read made.
    fn drop(&self, f: CompiledFlow);
}

/// [`CompiledFlow::from_wire`]: every audience read.
struct ReadAll;

impl Audiences for ReadAll {
    fn read(&self, v: &J, n: &Need) -> CompiledAudience {
        n.of(audience_from_wire(v))
    }
    fn check(&self, v: &J) -> bool {
        audience_from_wire(v).is_some()
    }
    fn drop(&self, f: CompiledFlow) {
        f.drop_read()
    }
}

/// [`CompiledFlow::from_wire_to_run`]: audiences checked to be JSON objects; the flow's own
/// left empty.
struct CheckOnly;

impl Audiences for CheckOnly {
    fn read(&self, v: &J, n: &Need) -> CompiledAudience {
        // No `n.of(Some(default))`: that would drop a second empty audience (drop code).
        n.of(v.obj().map(|_| ()));
        CompiledAudience::default()
    }
    fn check(&self, v: &J) -> bool {
        v.obj().is_some()
    }
    fn drop(&self, f: CompiledFlow) {
        f.drop_run()
    }
}

/// Reads a wire form with `aud` reading (or checking) each audience in it.
fn read<A: Audiences>(wire: &str, aud: &A) -> Result<CompiledFlow, WireError> {
    let f = json::parse(wire)
        .as_ref()
        .and_then(|v| flow(v, aud))
        .ok_or(WireError::Unreadable)?;
    let n = f.cards.len();
    let inside = |i: CardIx| usize::from(i) < n;
    let why = if n == 0
        || f.card_ids.len() != n
        || !inside(f.start)
        || f.translations.iter().any(|t| t.cards.len() != n)
    {
        WireError::Cards
    } else if f
        .cards
        .iter()
        // `any` in `any`, not `flat_map`: the flattening adapter was its own code in the chat.
        .any(|c| c.successors().into_iter().any(|i| !inside(i)))
    {
        WireError::Target
    } else {
        return Ok(f);
    };
    aud.drop(f);
    Err(why)
}

/// Why a wire form was refused: a short stable code ([`WireError::code`], all the browser's
/// chat module says, so it carries none of the texts) and its text (`Display`: the worker, the
/// CLI, the npm engine).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WireError {
    /// Not JSON, or not a flow's wire form.
    Unreadable,
    /// No cards, or the card ids (or a translation's cards) do not match the cards.
    Cards,
    /// A card index that points at no card.
    Target,
}

impl WireError {
    /// `unreadable`, `cards` or `target`.
    pub fn code(self) -> &'static str {
        match self {
            WireError::Unreadable => "unreadable",
            WireError::Cards => "cards",
            WireError::Target => "target",
        }
    }
}

impl std::fmt::Display for WireError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            WireError::Unreadable => "the flow's wire form is unreadable",
            WireError::Cards => "flow has no cards, or ids and cards differ",
            WireError::Target => "flow points at a card that does not exist",
        })
    }
}

fn text(v: &J) -> Option<String> {
    v.str().map(str::to_string)
}

/// A member that may be missing or `null`, read with `f` when present.
fn opt<T>(v: &J, k: &str, f: impl Fn(&J) -> Option<T>) -> Option<Option<T>> {
    match v.opt(k) {
        None => Some(None),
        Some(x) => f(x).map(Some),
    }
}

/// A list member that may be missing (then empty), its elements read with `f`.
fn list_or_empty<T>(v: &J, k: &str, f: &dyn Fn(&J) -> Option<T>) -> Option<Vec<T>> {
    match v.get(k) {
        None => Some(Vec::new()),
        Some(l) => l.list(f),
    }
}

fn int<T: TryFrom<i64>>(v: &J) -> Option<T> {
    T::try_from(v.int()?).ok()
}

fn flow<A: Audiences>(v: &J, aud: &A) -> Option<CompiledFlow> {
    let n = Need::default();
    let s = |k: &str| n.of(text(n.get(v, k)));
    let f = CompiledFlow {
        cards: n.of(n.get(v, "cards").list(&|c| card(c, aud))),
        card_ids: n.of(n.get(v, "card_ids").list(&text)),
        id: s("id"),
        name: s("name"),
        hash: s("hash"),
        priority: n.of(int(n.get(v, "priority"))),
        display: n.of(display(n.get(v, "display"))),
        audience: aud.read(n.get(v, "audience"), &n),
        start: n.of(int(n.get(v, "start"))),
        languages: n.of(list_or_empty(v, "languages", &text)),
        translations: n.of(list_or_empty(v, "translations", &lang)),
        warnings: Vec::new(),
        source: empty_source(),
        experiment: None,
    };
    match n.then(()) {
        Some(()) => Some(f),
        None => {
            aud.drop(f);
            None
        }
    }
}

fn lang(v: &J) -> Option<CLang> {
    let n = Need::default();
    n.then(CLang {
        lang: n.of(text(n.get(v, "lang"))),
        cards: n.of(n.get(v, "cards").list(&ctext)),
    })
}

fn ctext(v: &J) -> Option<CText> {
    let n = Need::default();
    n.then(CText {
        text: n.of(opt(v, "text", template)),
        buttons: n.of(list_or_empty(v, "buttons", &text)),
        placeholder: n.of(opt(v, "placeholder", text)),
        error: n.of(opt(v, "error", template)),
        confirmation: n.of(opt(v, "confirmation", template)),
        label: n.of(opt(v, "label", text)),
    })
}

fn display(v: &J) -> Option<Display> {
    let d = Display::default();
    Some(Display {
        hide_after_completion: match v.get("hide_after_completion") {
            None => d.hide_after_completion,
            Some(b) => b.bool()?,
        },
        max_times: opt(v, "max_times", int)?,
        min_interval_minutes: opt(v, "min_interval_minutes", int)?,
    })
}

fn template(v: &J) -> Option<Template> {
    v.list(&segment).map(Template)
}

fn segment(v: &J) -> Option<Segment> {
    match v.variant()? {
        ("Text", t) => Some(Segment::Text(text(t)?)),
        ("Token", t) => {
            let n = Need::default();
            n.then(Segment::Token {
                source: n.or(source(n.get(t, "source")), TokenSource::MeetingTime),
                default: n.of(opt(t, "default", text)),
            })
        }
        _ => None,
    }
}

fn source(v: &J) -> Option<TokenSource> {
    Some(match v.variant()? {
        ("Lead", f) => TokenSource::Lead(FieldName::new(f.str()?)),
        ("Company", f) => TokenSource::Company(FieldName::new(f.str()?)),
        ("Answer", i) => TokenSource::Answer(int(i)?),
        ("MeetingAgent", J::Null) => TokenSource::MeetingAgent,
        ("MeetingTime", J::Null) => TokenSource::MeetingTime,
        _ => return None,
    })
}

fn kind(v: &J) -> Option<CaptureKind> {
    Some(match v.str()? {
        "name" => CaptureKind::Name,
        "email" => CaptureKind::Email,
        "phone" => CaptureKind::Phone,
        "company" => CaptureKind::Company,
        "text" => CaptureKind::Text,
        _ => return None,
    })
}

fn route(v: &J) -> Option<CRoute> {
    // A rules route reaches the browser as its default only (the worker evaluates the rules).
    if let (Some(J::Arr(rules)), Some(default)) = (v.get("rules"), v.get("default")) {
        if !rules.is_empty() {
            return None;
        }
        return Some(CRoute::Rules {
            default: text(default)?,
        });
    }
    match v.variant()? {
        ("queue", q) => Some(CRoute::Queue(text(q)?)),
        ("agent", a) => Some(CRoute::Agent(text(a)?)),
        _ => None,
    }
}

fn button(v: &J) -> Option<CButton> {
    let n = Need::default();
    n.then(CButton {
        label: n.of(text(n.get(v, "label"))),
        value: n.of(text(n.get(v, "value"))),
        next: n.of(opt(v, "next", int)),
    })
}

fn free_text(v: &J) -> Option<(Option<String>, Option<CardIx>)> {
    match v.arr()? {
        [p, n] => {
            let p = match p {
                J::Null => None,
                p => Some(text(p)?),
            };
            let n = match n {
                J::Null => None,
                n => Some(int(n)?),
            };
            Some((p, n))
        }
        _ => None,
    }
}

/// A branch rule: its audience (checked by `aud`) kept as JSON text, and its target.
fn branch_rule<A: Audiences>(v: &J, aud: &A) -> Option<(WireAudience, CardIx)> {
    match v.arr()? {
        [a, n] => {
            if !aud.check(a) {
                return None;
            }
            let mut t = String::new();
            json::write_value(&mut t, a);
            Some((WireAudience(t), int(n)?))
        }
        _ => None,
    }
}

fn card<A: Audiences>(v: &J, aud: &A) -> Option<CCard> {
    let (tag, c) = v.variant()?;
    let n = Need::default();
    // The members several kinds share, each read once here (missing or `null`: `None`; present
    // but unreadable: refused); a kind then takes its own, refusing a missing required one. One
    // read per member, not one per kind, is about 1 KB less in the browser's chat module.
    let body = n.of(opt(c, "text", template));
    let next = n.of(opt(c, "next", int));
    let delay_ms = n.of(opt(c, "delay_ms", int));
    let s = |k: &str| n.of(opt(c, k, text));
    let member = |k: &str| n.get(c, k);
    let card = match tag {
        "Message" => CCard::Message {
            next,
            delay_ms: n.of(delay_ms),
            image: s("image"),
            text: n.of(body),
        },
        "Question" => CCard::Question {
            next,
            delay_ms: n.of(delay_ms),
            free_text: n.of(opt(c, "free_text", free_text)),
            field: s("field"),
            buttons: n.of(member("buttons").list(&button)),
            text: n.of(body),
        },
        "Capture" => CCard::Capture {
            next,
            delay_ms: n.of(delay_ms),
            kind: n.or(kind(member("kind")), CaptureKind::Text),
            skip_if_known: n.of(member("skip_if_known").bool()),
            overwrite: n.of(member("overwrite").bool()),
            field: n.of(s("field")),
            pattern: s("pattern").map(Pattern::new),
            placeholder: s("placeholder"),
            error: n.of(opt(c, "error", template)),
            text: n.of(body),
        },
        "Meeting" => CCard::Meeting {
            next,
            delay_ms: n.of(delay_ms),
            on_skip: n.of(opt(c, "on_skip", int)),
            route: n.or(route(member("route")), CRoute::Queue(String::new())),
            confirmation: n.of(opt(c, "confirmation", template)),
            text: n.of(body),
        },
        "Goal" => CCard::Goal {
            next,
            score: n.of(int(member("score"))),
            name: n.of(s("name")),
        },
        "Branch" => CCard::Branch {
            otherwise: n.of(int(member("otherwise"))),
            rules: n.of(member("rules").list(&|r| branch_rule(r, aud))),
        },
        "Document" => CCard::Document {
            next,
            delay_ms: n.of(delay_ms),
            url: n.of(s("url")),
            label: n.of(s("label")),
            text: n.of(body),
        },
        "End" => CCard::End { text: body },
        _ => return None,
    };
    n.then(card)
}
