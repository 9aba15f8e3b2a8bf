//! Branch-card rules: a conversation's facts as JSON ([`branch_facts`]) and one rule decided on them ([`judge`]).
//!
//! A compiled flow keeps each branch rule's audience in its wire form (text). Every caller
//! decides a rule with [`judge`]: the state machine's default (`machine::NativeJudge`: worker,
//! CLI, tests, npm engine) and the browser's targeting module (its `targeter_judge` export),
//! which the chat module asks through its host, so the chat module ships no targeting code.

use super::cond::{Facts, FieldRef, Val};
use super::text::{int_text, lower};
use super::wire::audience_from_wire;
use crate::json::{self, Out, J};
use crate::textmap::TextMap;

/// The facts branch rules read, as JSON: `{"answers":{"<card index>":..},"lead":{..},"company":{..}}`,
/// every value lower-cased (field names already are).
pub fn branch_facts(
    answers: &TextMap<u16>,
    lead: &TextMap<String>,
    company: &TextMap<String>,
) -> String {
    let mut o = Out::new();
    let mut a = Out::new();
    for (k, v) in answers {
        a.str(&int_text(i128::from(*k)), &lower(v));
    }
    o.raw("answers", &a.finish());
    for (name, m) in [("lead", lead), ("company", company)] {
        let mut f = Out::new();
        for (k, v) in m {
            f.str(k, &lower(v));
        }
        o.raw(name, &f.finish());
    }
    o.finish()
}

/// Facts read from [`branch_facts`]' JSON: answers, lead and company fields; nothing else.
struct JsonFacts(J);

impl Facts for JsonFacts {
    fn get(&self, f: &FieldRef, _offset: Option<i32>) -> Val<'_> {
        let at = |m: &str, k: &str| self.0.get(m).and_then(|m| m.get(k)).and_then(J::str);
        let v = match f {
            FieldRef::Answer(i) => at("answers", &int_text(i128::from(*i))),
            FieldRef::Lead(k) => at("lead", k),
            FieldRef::Company(k) => at("company", k),
            _ => None,
        };
        v.map_or(Val::Missing, Val::Text)
    }
}

/// Does a branch rule (a compiled audience in its wire form) hold for the facts
/// ([`branch_facts`])? `None` when either does not read.
pub fn judge(audience_wire: &str, facts_json: &str) -> Option<bool> {
    let audience = audience_from_wire(&json::parse(audience_wire)?)?;
    let facts = JsonFacts(json::parse(facts_json)?);
    Some(audience.eval(&facts))
}
