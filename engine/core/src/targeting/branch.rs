//! Branch-card rules: a conversation's facts as JSON ([`branch_facts`]) and one rule decided on them ([`judge`]).
//!
//! A compiled flow keeps each branch rule's audience in its wire form (text). Every caller
//! decides a rule with [`judge`] on one JSON document, `[audience, facts]` ([`branch_query`]):
//! the state machine's default (`machine::NativeJudge`: worker, CLI, tests, npm engine) and the
//! browser's targeting module (its `targeter_judge` export), which the chat module asks through
//! its host, so the chat module ships no targeting code.

use super::cond::{Facts, FieldRef, Val};
use super::text::{int_text, lower};
use super::wire::audience_from_wire;
use crate::json::{self, Out, J};
use crate::textmap::TextMap;

/// The facts branch rules read, as JSON: one object, every value lower-cased (field names
/// already are), keyed `a<card index>` for answers, `l<field>` for lead and `c<field>` for
/// company fields (one letter: the targeting module looks them up, and every byte of it is on
/// every page).
pub fn branch_facts(
    answers: &TextMap<u16>,
    lead: &TextMap<String>,
    company: &TextMap<String>,
) -> String {
    branch_facts_by(answers, lead, company, &lower)
}

/// [`branch_facts`] lower-casing with `lower` (the state machine passes its
/// `machine::BranchJudge`'s: the browser's chat module lower-cases with JavaScript, and so links
/// no case fold of its own).
pub fn branch_facts_by(
    answers: &TextMap<u16>,
    lead: &TextMap<String>,
    company: &TextMap<String>,
    lower: &dyn Fn(&str) -> String,
) -> String {
    let mut o = Out::new();
    for (k, v) in answers {
        let mut key = String::from("a");
        crate::json::write_int(&mut key, i64::from(*k));
        o.str(&key, &lower(v));
    }
    for (ns, m) in [("l", lead), ("c", company)] {
        for (k, v) in m {
            o.str(&[ns, k].concat(), &lower(v));
        }
    }
    o.finish()
}

/// Facts read from [`branch_facts`]' JSON: answers, lead and company fields; nothing else.
struct JsonFacts<'a>(&'a J);

impl Facts for JsonFacts<'_> {
    fn get(&self, f: &FieldRef, _offset: Option<i32>) -> Val<'_> {
        // Pushed, not `concat`: `join`'s generic copy would be in the targeting module for this.
        let mut key = String::new();
        match f {
            FieldRef::Answer(i) => {
                key.push('a');
                key.push_str(&int_text(i128::from(*i)));
            }
            FieldRef::Lead(k) => {
                key.push('l');
                key.push_str(k);
            }
            FieldRef::Company(k) => {
                key.push('c');
                key.push_str(k);
            }
            _ => return Val::Missing,
        }
        match self.0.get(&key) {
            Some(J::Str(v)) => Val::Text(v),
            _ => Val::Missing,
        }
    }
}

/// The document [`judge`] reads: `[audience, facts]`, a branch rule's compiled audience in its
/// wire form and the facts from [`branch_facts`].
pub fn branch_query(audience_wire: &str, facts_json: &str) -> String {
    ["[", audience_wire, ",", facts_json, "]"].concat()
}

/// Does the branch rule in `query` ([`branch_query`]) hold for its facts? `None` when the query
/// does not read (an audience this engine cannot read included).
pub fn judge(query: &str) -> Option<bool> {
    match json::parse(query)?.arr()? {
        [audience, facts] => Some(audience_from_wire(audience)?.eval(&JsonFacts(facts))),
        _ => None,
    }
}
