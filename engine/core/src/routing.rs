//! A meeting card's routing rules, `"route": {"rules": [{"when", "queue"}], "default": id}`: the
//! first rule whose `when` holds chooses the queue, else `default`. The conditions are the
//! audiences' own language over `lead.<field>`, `company.<field>` and `answer.<card id>` (routing
//! runs when the visitor books, where no page is known). The checks here are the one place both
//! the engine's compile and the worker's routing (`dynchat-scheduling`'s `routing`) apply; which
//! queue ids exist is known only to the worker, which checks them when a dialogue is published.

use crate::diag::Diagnostic;
use crate::model::{Audience, Route, Rule};
use crate::targeting::{audience_checks, compile_audience, CompiledAudience, MAX_AUDIENCE_DEPTH};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The most rules one route may have (each is evaluated once per booking).
pub const MAX_ROUTE_RULES: usize = 100;

/// The field namespaces a routing condition may read.
pub const ROUTE_FIELDS: [&str; 3] = ["lead.", "company.", "answer."];

/// One rule: when `when` holds, the meeting goes to `queue`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RouteRule {
    /// Conditions on `lead.<field>`, `company.<field>` and `answer.<card id>`.
    pub when: Audience,
    /// Queue id.
    pub queue: String,
}

/// The rules of a route in order, the default queue, and the lead field naming the lead's owner
/// (account routing: the owner is asked first when they are an agent of the chosen queue).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RouteRules {
    /// Rules in order; the first that holds wins.
    pub rules: Vec<RouteRule>,
    /// Queue id when no rule holds.
    pub default: String,
    /// The Marketo lead field holding the owner's email (`leadOwnerEmail` when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_field: Option<String>,
}

/// The authored form of [`Route`]: exactly one of `queue`, `agent` or `rules` (+ `default`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteForm {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    queue: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    agent: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    rules: Option<Vec<RouteRule>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    default: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    owner_field: Option<String>,
}

impl TryFrom<RouteForm> for Route {
    type Error = String;

    fn try_from(f: RouteForm) -> Result<Route, String> {
        match f {
            RouteForm {
                queue: Some(q),
                agent: None,
                rules: None,
                default: None,
                owner_field: None,
            } => Ok(Route::Queue(q)),
            RouteForm {
                queue: None,
                agent: Some(a),
                rules: None,
                default: None,
                owner_field: None,
            } => Ok(Route::Agent(a)),
            RouteForm {
                queue: None,
                agent: None,
                rules: Some(rules),
                default: Some(default),
                owner_field,
            } => Ok(Route::Rules(RouteRules {
                rules,
                default,
                owner_field,
            })),
            RouteForm {
                queue: None,
                agent: None,
                rules: Some(_),
                default: None,
                ..
            } => Err("routing rules need a `default` queue".into()),
            _ => Err(
                "route is one of {\"queue\": id}, {\"agent\": id} or {\"rules\": [...], \"default\": id}"
                    .into(),
            ),
        }
    }
}

impl From<Route> for RouteForm {
    fn from(r: Route) -> RouteForm {
        match r {
            Route::Queue(q) => RouteForm {
                queue: Some(q),
                ..RouteForm::default()
            },
            Route::Agent(a) => RouteForm {
                agent: Some(a),
                ..RouteForm::default()
            },
            Route::Rules(r) => RouteForm {
                rules: Some(r.rules),
                default: Some(r.default),
                owner_field: r.owner_field,
                ..RouteForm::default()
            },
        }
    }
}

/// A queue: round robin over its agents.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct QueueRoute {
    /// Round robin over a queue, by queue id.
    queue: String,
}

/// One named agent.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct AgentRoute {
    /// One named agent, by agent id.
    agent: String,
}

/// Who a meeting is booked with: a queue (round robin), one agent, or routing rules that choose
/// the queue when the visitor books.
#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum RouteSchema {
    Queue(QueueRoute),
    Agent(AgentRoute),
    Rules(RouteRules),
}

impl JsonSchema for Route {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Route".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        RouteSchema::json_schema(generator)
    }
}

/// A queue id as the worker stores it: 1-64 letters, digits, `-` or `_`.
fn valid_queue(s: &str) -> bool {
    crate::compile::valid_id(s)
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
