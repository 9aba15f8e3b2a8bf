//! What compiling keeps while it walks the cards: card ids, answerable cards, known lead fields;
//! it resolves targets and parses text templates, reporting what it cannot resolve.

use super::flow::*;
use super::limits::*;
use crate::diag::Diagnostic;
use crate::fields::FieldName;
use crate::model::{BranchCard, Card, Dialogue};
use crate::tokens::{self, RawToken, Segment, Template, TokenError, TokenSource};
use std::collections::HashMap;

pub(super) struct Ctx<'a> {
    pub(super) ids: HashMap<&'a str, CardIx>,
    pub(super) answerable: HashMap<&'a str, CardIx>,
    pub(super) lead_fields: Option<Vec<FieldName>>,
    pub(super) diags: Vec<Diagnostic>,
}

impl Ctx<'_> {
    pub(super) fn target(&mut self, id: Option<&String>, path: String) -> Option<CardIx> {
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

    pub(super) fn check_field(&mut self, name: &str, path: String) {
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

    pub(super) fn template(&mut self, text: &str, path: String) -> Template {
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

pub(super) fn check_audience_fields(d: &Dialogue, cx: &mut Ctx<'_>) {
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
