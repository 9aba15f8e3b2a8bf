//! Which queue a visitor's meeting goes to: rules `{when, queue}` on lead fields, company fields
//! and the dialogue's answers (the engine's own conditions, compiled by the engine), the first
//! that holds wins, else the default; then account routing: a known lead whose owner (a lead
//! field, `leadOwnerEmail` unless the rules name another) is an agent of that queue is asked
//! first ([`crate::rotation::Assigning::owner_first`]), the queue's rotation after them.

use crate::ids::AgentId;
use dynchat_engine::diag::{Diagnostic, Severity};
use dynchat_engine::fields::FieldName;
use dynchat_engine::routing::compile_route_rules;
use dynchat_engine::targeting::{lower, CompiledAudience, Facts, FieldRef, Val};
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::collections::BTreeMap;

pub use dynchat_engine::routing::{RouteRule, MAX_ROUTE_RULES};

/// The authored routing of a meeting (the dialogue format's type): rules in order, the default
/// queue, the owner field.
pub type Routing = dynchat_engine::routing::RouteRules;

/// The lead field that names the lead's owner when the rules do not name one.
pub const DEFAULT_OWNER_FIELD: &str = "leadOwnerEmail";

/// [`Routing`] compiled once: conditions parsed, answer card ids numbered.
#[derive(Debug, Clone)]
pub struct CompiledRouting {
    rules: Vec<(CompiledAudience, String)>,
    default: String,
    /// As facts are stored ([`FieldName`]).
    owner_field: String,
    /// The card ids answers are read by; a condition's `Answer(i)` is `answer_ids[i]`.
    answer_ids: Vec<String>,
}

/// What is known about the visitor: lead fields, company fields, answers by card id.
#[derive(Debug, Clone, Default)]
pub struct VisitorFacts {
    lead: BTreeMap<String, String>,
    company: BTreeMap<String, String>,
    answers: BTreeMap<String, String>,
}

/// One agent of a queue and the email the owner field is compared with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueAgent {
    pub agent: AgentId,
    pub email: String,
}

/// The routing decision, for the booking and the assignment log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteDecision {
    pub queue: String,
    /// Index of the rule that matched; `None`: the default.
    pub rule: Option<usize>,
    /// The lead's owner, an agent of `queue`, to ask before the rotation.
    pub owner: Option<AgentId>,
}

/// Compiling [`Routing`] for evaluation (the checks are the engine's, shared with `compile`).
pub trait CompileRouting {
    /// Checks and compiles the rules; errors name the JSON path under `path`.
    fn compile(&self, path: &str) -> Result<CompiledRouting, Vec<Diagnostic>>;
}

impl CompileRouting for Routing {
    fn compile(&self, path: &str) -> Result<CompiledRouting, Vec<Diagnostic>> {
        let mut diags = Vec::new();
        // Answers are read by card id: each id a rule names gets a number here.
        let answer_ids = RefCell::new(Vec::<String>::new());
        let number = |card: &str| -> Option<u16> {
            let mut ids = answer_ids.borrow_mut();
            let i = match ids.iter().position(|c| c == card) {
                Some(i) => i,
                None => {
                    ids.push(card.to_string());
                    ids.len() - 1
                }
            };
            u16::try_from(i).ok()
        };
        let rules = compile_route_rules(self, path, &number, &mut diags);
        if diags.iter().any(|d| d.severity == Severity::Error) {
            return Err(diags);
        }
        Ok(CompiledRouting {
            rules,
            default: self.default.clone(),
            owner_field: FieldName::new(self.owner_field.as_deref().unwrap_or(DEFAULT_OWNER_FIELD))
                .as_str()
                .to_string(),
            answer_ids: answer_ids.into_inner(),
        })
    }
}

impl VisitorFacts {
    pub fn new() -> Self {
        VisitorFacts::default()
    }

    /// A lead field (names ignore case by the rules' one rule, [`FieldName`]).
    pub fn lead(mut self, field: &str, value: &str) -> Self {
        self.lead
            .insert(FieldName::new(field).as_str().to_string(), lower(value));
        self
    }

    /// A company field (names ignore case by the rules' one rule, [`FieldName`]).
    pub fn company(mut self, field: &str, value: &str) -> Self {
        self.company
            .insert(FieldName::new(field).as_str().to_string(), lower(value));
        self
    }

    /// The visitor's answer to a card (by card id, as authored).
    pub fn answer(mut self, card: &str, value: &str) -> Self {
        self.answers.insert(card.to_string(), lower(value));
        self
    }
}

/// The facts as the compiled conditions read them (answers by the routing's card numbers).
struct Reading<'a> {
    facts: &'a VisitorFacts,
    answer_ids: &'a [String],
}

impl Facts for Reading<'_> {
    fn get(&self, f: &FieldRef, _offset: Option<i32>) -> Val<'_> {
        let found = match f {
            FieldRef::Lead(k) => self.facts.lead.get(k),
            FieldRef::Company(k) => self.facts.company.get(k),
            FieldRef::Answer(i) => self
                .answer_ids
                .get(usize::from(*i))
                .and_then(|card| self.facts.answers.get(card)),
            _ => None,
        };
        found.map_or(Val::Missing, |v| Val::Text(v))
    }
}

impl CompiledRouting {
    /// The queue for these facts (first rule that holds, else the default) and the lead's owner
    /// when they are one of that queue's agents (`agents_of` lists a queue's agents).
    pub fn route(
        &self,
        facts: &VisitorFacts,
        agents_of: &dyn Fn(&str) -> Vec<QueueAgent>,
    ) -> RouteDecision {
        let reading = Reading {
            facts,
            answer_ids: &self.answer_ids,
        };
        let matched = self.rules.iter().position(|(when, _)| when.eval(&reading));
        let queue = matched
            .and_then(|i| self.rules.get(i))
            .map_or(&self.default, |(_, q)| q)
            .clone();
        let owner = facts
            .lead
            .get(&self.owner_field)
            .map(|e| e.trim())
            .filter(|e| !e.is_empty())
            .and_then(|email| {
                agents_of(&queue)
                    .into_iter()
                    .find(|a| lower(a.email.trim()) == email)
                    .map(|a| a.agent)
            });
        RouteDecision {
            queue,
            rule: matched,
            owner,
        }
    }
}
