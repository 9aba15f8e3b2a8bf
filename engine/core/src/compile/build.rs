//! Compiling a parsed model card by card into a [`CompiledFlow`], with every problem reported at once.

use super::flow::*;
use super::graph::graph_checks;
use super::hash::content_hash;
use super::limits::*;
use super::resolve::*;
use super::translate::compile_translations;
use super::variants::compile_experiment;
use crate::diag::{Diagnostic, Severity};
use crate::fields::FieldName;
use crate::model::{
    BranchCard, CaptureCard, Card, Dialogue, DocumentCard, EndCard, GoalCard, MeetingCard,
    MessageCard, QuestionCard, Route, FORMAT_VERSION,
};
use crate::routing::compile_route_rules;
use crate::targeting::{audience_checks, compile_audience};
use std::collections::HashMap;
#[cfg(feature = "regex")]
use std::sync::OnceLock;

/// Compile options.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// When given, lead fields not in this list are reported (names compared without case).
    pub lead_fields: Option<Vec<String>>,
}

use crate::rules::valid_id;

pub(super) fn safe_url(u: &str) -> bool {
    let l = u.trim().to_ascii_lowercase();
    (l.starts_with("https://") || l.starts_with("http://") || l.starts_with('/'))
        && !l.starts_with("//")
        && !u
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '"' || c == '<' || c == '>')
}

/// Compiles an already parsed model.
pub fn compile_model(d: Dialogue, opts: &Options) -> Result<CompiledFlow, Vec<Diagnostic>> {
    let d = crate::model::migrate(d);
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
        let msg = if d.version == 1 {
            "`languages` and `translations` need format version 2: set `\"version\": 2`".to_string()
        } else {
            format!(
                "format version {} is not supported; this engine reads versions 1 and {FORMAT_VERSION}",
                d.version
            )
        };
        cx.diags
            .push(Diagnostic::error("$.version", "unsupported_version", msg));
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
    audience_checks(&d.audience, "$.audience", &mut cx.diags);
    let mut cards = Vec::with_capacity(d.cards.len());
    // Authors reuse validation patterns across cards; build each distinct one once.
    #[cfg(feature = "regex")]
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
                // Without a regex engine (the browser's build, which never compiles) the pattern
                // is kept unchecked.
                #[cfg(not(feature = "regex"))]
                let re = pattern.clone().map(Pattern::new);
                #[cfg(feature = "regex")]
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
                let route = match route {
                    Route::Queue(r) | Route::Agent(r) => {
                        if !valid_id(r) {
                            cx.diags.push(Diagnostic::error(
                                format!("{p}.route"),
                                "bad_id",
                                "queue or agent id must be 1-64 letters, digits, `-` or `_`",
                            ));
                        }
                        CRoute::from(route)
                    }
                    // Checked here; evaluated by the worker from the published dialogue when
                    // the visitor books. The compiled flow (and so the browser) keeps only the
                    // default (`CRoute`): the browser asks the worker, which routes by the rules.
                    Route::Rules(rules) => {
                        compile_route_rules(
                            rules,
                            &format!("{p}.route"),
                            &answer_ix,
                            &mut cx.diags,
                        );
                        CRoute::from(route)
                    }
                };
                CCard::Meeting {
                    text: cx.template(text, format!("{p}.text")),
                    route,
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
                    audience_checks(&r.when, &format!("{rp}.when"), &mut cx.diags);
                    if let Some(t) = cx.target(Some(&r.next), format!("{rp}.next")) {
                        rs.push((WireAudience::new(&aud), t));
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
    let experiment = d
        .experiment
        .as_ref()
        .map(|x| compile_experiment(x, &d, &mut cx));
    // A card reachable only from a variant's own start belongs to that variant.
    let mut starts = vec![start];
    if let Some(x) = &experiment {
        starts.extend(x.variants.iter().filter_map(|v| v.start));
    }
    graph_checks(&cards, &starts, &mut cx.diags);
    let translations = compile_translations(&d, &mut cx);
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
        languages: d.languages.clone(),
        translations,
        warnings: cx.diags,
        source: d,
        experiment,
    })
}
