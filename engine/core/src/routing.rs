//! A meeting card's routing rules, `"route": {"rules": [{"when", "queue"}], "default": id}`: the
//! first rule whose `when` holds chooses the queue, else `default`. The conditions are the
//! audiences' own language over `lead.<field>`, `company.<field>` and `answer.<card id>` (routing
//! runs when the visitor books, where no page is known). The checks here are the one place both
//! the engine's compile and the worker's routing (`dynchat-scheduling`'s `routing`) apply; which
//! queue ids exist is known only to the worker, which checks them when a dialogue is published.
//! The types are the dialogue format's ([`crate::model::Route`]).

use crate::diag::Diagnostic;
use crate::model::{Audience, Rule};
use crate::targeting::{audience_checks, compile_audience, CompiledAudience, MAX_AUDIENCE_DEPTH};

pub use crate::model::{RouteRule, RouteRules};

/// The most rules one route may have (each is evaluated once per booking).
pub const MAX_ROUTE_RULES: usize = 100;

/// The field namespaces a routing condition may read.
pub const ROUTE_FIELDS: [&str; 3] = ["lead.", "company.", "answer."];

/// A queue id as the worker stores it: 1-64 letters, digits, `-` or `_`.
fn valid_queue(s: &str) -> bool {
    crate::rules::valid_id(s)
}

/// Checks routing rules at `path` (the route object) and compiles their conditions;
/// `answer` numbers an answer's card id (`None`: no such card, reported `unknown_card`).
pub fn compile_route_rules(
    r: &RouteRules,
    path: &str,
    answer: &dyn Fn(&str) -> Option<u16>,
    diags: &mut Vec<Diagnostic>,
) -> Vec<(CompiledAudience, String)> {
    if r.rules.len() > MAX_ROUTE_RULES {
        diags.push(Diagnostic::error(
            format!("{path}.rules"),
            "too_many_rules",
            format!("at most {MAX_ROUTE_RULES} routing rules"),
        ));
    }
    queue_check(
        &r.default,
        &format!("{path}.default"),
        "default queue",
        diags,
    );
    if let Some(f) = &r.owner_field {
        if f.trim().is_empty() || f.contains('.') || f.chars().any(char::is_whitespace) {
            diags.push(Diagnostic::error(
                format!("{path}.owner_field"),
                "bad_field",
                "the owner field is a Marketo lead field name, like `leadOwnerEmail`",
            ));
        }
    }
    let mut out = Vec::with_capacity(r.rules.len().min(MAX_ROUTE_RULES));
    for (i, rule) in r.rules.iter().enumerate().take(MAX_ROUTE_RULES) {
        let p = format!("{path}.rules[{i}]");
        queue_check(&rule.queue, &format!("{p}.queue"), "rule's queue", diags);
        let wp = format!("{p}.when");
        audience_checks(&rule.when, &wp, diags);
        visitor_fields_only(&rule.when, &wp, 0, diags);
        out.push((
            compile_audience(&rule.when, &wp, answer, diags),
            rule.queue.clone(),
        ));
    }
    out
}

fn queue_check(q: &str, path: &str, what: &str, diags: &mut Vec<Diagnostic>) {
    if q.trim().is_empty() {
        diags.push(Diagnostic::error(
            path,
            "missing_queue",
            format!("the {what} is empty"),
        ));
    } else if !valid_queue(q) {
        diags.push(Diagnostic::error(
            path,
            "bad_id",
            "queue or agent id must be 1-64 letters, digits, `-` or `_`",
        ));
    }
}

/// Routing runs when the visitor books, where no page is known: only `lead.`, `company.` and
/// `answer.` fields may be read. The recursion stops at the audiences' depth limit (which
/// `audience_checks` reports).
fn visitor_fields_only(a: &Audience, path: &str, depth: usize, diags: &mut Vec<Diagnostic>) {
    if depth > MAX_AUDIENCE_DEPTH {
        return;
    }
    for (key, list) in [("all", &a.all), ("any", &a.any)] {
        for (i, r) in list.iter().enumerate() {
            let p = format!("{path}.{key}[{i}]");
            match r {
                Rule::Group(g) => visitor_fields_only(g, &p, depth + 1, diags),
                Rule::Condition(c) => {
                    if !ROUTE_FIELDS.iter().any(|ns| c.field.starts_with(ns)) {
                        diags.push(Diagnostic::error(
                            format!("{p}.field"),
                            "unknown_field",
                            format!(
                                "routing reads lead., company. and answer. fields, not `{}`",
                                c.field
                            ),
                        ));
                    }
                }
            }
        }
    }
}
