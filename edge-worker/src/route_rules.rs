//! Routing rules when a visitor books, in plain Rust: the route `rules:<dialogue>/<card>` the
//! widget sends for a meeting card with rules, the card's rules read from the published
//! dialogue, the visitor's facts (their own lead fields and answers, then what Marketo knows,
//! which wins; the lead's owner only from Marketo, never from the visitor), the queues a
//! dialogue's rules name (checked at publish), and how the assignment log names the decision.
//! The decision itself is `dynchat_scheduling::routing`.

use crate::error::ApiError;
use dynchat_engine::fields::FieldName;
use dynchat_engine::model::{Card, Dialogue, Route as Authored, RouteRules};
use dynchat_scheduling::routing::{RouteDecision, VisitorFacts, DEFAULT_OWNER_FIELD};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// The most answers a booking may carry, and the longest answer.
pub const MAX_ANSWERS: usize = 64;
const MAX_ANSWER_CHARS: usize = 500;

/// Key of the company record inside a cached lead's fields (as `/traits` stores it).
pub const COMPANY_KEY: &str = "@company";

/// A route naming a meeting card whose published rules choose the queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RulesRef {
    pub dialogue: String,
    pub card: String,
}

impl RulesRef {
    /// `Some` for `rules:<dialogue>/<card>` (an error when its ids are bad), `None` for any
    /// other route text.
    pub fn parse(s: &str, field: &str) -> Option<Result<RulesRef, ApiError>> {
        let rest = s.strip_prefix("rules:")?;
        let bad = || ApiError::field(field, "must be rules:<dialogue id>/<card id>");
        let parsed = rest
            .split_once('/')
            .filter(|(d, c)| crate::validate::valid_id(d) && crate::validate::valid_id(c))
            .map(|(d, c)| RulesRef {
                dialogue: d.to_string(),
                card: c.to_string(),
            })
            .ok_or_else(bad);
        Some(parsed)
    }
}

/// How the queue of a booking was chosen, as the assignment log keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Routed {
    /// `<dialogue>/<card>`.
    pub card: String,
    /// Index of the rule that matched; `None`: the default queue.
    pub rule: Option<usize>,
    pub queue: String,
    /// The lead's owner (an agent of the queue), asked before the rotation.
    pub owner: Option<String>,
}

impl Routed {
    pub fn new(r: &RulesRef, d: &RouteDecision) -> Routed {
        Routed {
            card: format!("{}/{}", r.dialogue, r.card),
            rule: d.rule,
            queue: d.queue.clone(),
            owner: d.owner.as_ref().map(|a| a.0.clone()),
        }
    }
}

/// The rules of `card` in a published dialogue's JSON; a card without rules is a 400 on
/// `field`.
pub fn card_rules(dialogue_json: &str, card: &str, field: &str) -> Result<RouteRules, ApiError> {
    let d: Dialogue = serde_json::from_str(dialogue_json)
        .map_err(|e| ApiError::Storage(format!("published dialogue: {e}")))?;
    d.cards
        .into_iter()
        .find_map(|c| match c {
            Card::Meeting(m) if m.id == card => match m.route {
                Authored::Rules(r) => Some(std::sync::Arc::unwrap_or_clone(r)),
                _ => None,
            },
            _ => None,
        })
        .ok_or_else(|| ApiError::field(field, "names no meeting card with routing rules"))
}

/// Every queue the rules of a dialogue name, with its JSON path (for the check at publish).
pub fn rule_queues(d: &Dialogue) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (i, c) in d.cards.iter().enumerate() {
        if let Card::Meeting(m) = c {
            if let Authored::Rules(r) = &m.route {
                let p = format!("dialogue.cards[{i}].route");
                for (j, rule) in r.rules.iter().enumerate() {
                    out.push((format!("{p}.rules[{j}].queue"), rule.queue.clone()));
                }
                out.push((format!("{p}.default"), r.default.clone()));
            }
        }
    }
    out
}

/// The lead field a dialogue's routing reads the owner from, per rules route (so the site's
/// trait lookups fetch it).
pub fn owner_fields(d: &Dialogue) -> Vec<String> {
    d.cards
        .iter()
        .filter_map(|c| match c {
            Card::Meeting(m) => match &m.route {
                Authored::Rules(r) => Some(
                    r.owner_field
                        .clone()
                        .unwrap_or_else(|| DEFAULT_OWNER_FIELD.to_string()),
                ),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

/// The visitor's answers sent with a booking: card id -> text, optional.
pub fn answers(v: Option<&Value>) -> Result<BTreeMap<String, String>, ApiError> {
    answers_as(v, "answers")
}

/// [`answers`] sent under the parameter `name` (`answer` for `/slots`' `answer.<card id>`
/// parameters): the errors name it.
pub fn answers_as(v: Option<&Value>, name: &str) -> Result<BTreeMap<String, String>, ApiError> {
    let mut out = BTreeMap::new();
    let Some(v) = v.filter(|v| !v.is_null()) else {
        return Ok(out);
    };
    let o = v
        .as_object()
        .ok_or_else(|| ApiError::field(name, "must be an object of card id to text"))?;
    if o.len() > MAX_ANSWERS {
        return Err(ApiError::field(
            name,
            format!("at most {MAX_ANSWERS} answers"),
        ));
    }
    for (k, v) in o {
        if !crate::validate::valid_id(k) {
            return Err(ApiError::field(name, "keys must be card ids"));
        }
        match v {
            Value::String(s) if s.chars().count() <= MAX_ANSWER_CHARS => {
                out.insert(k.clone(), s.clone());
            }
            _ => {
                return Err(ApiError::field(
                    format!("{name}.{k}"),
                    format!("must be text of at most {MAX_ANSWER_CHARS} characters"),
                ))
            }
        }
    }
    Ok(out)
}

/// The lead fields a visitor sends (with a booking or a slot request): a field name to text of
/// at most 255 characters (`null`: left out); errors name `lead.<field>`.
pub fn visitor_lead(lead: &Map<String, Value>) -> Result<Map<String, Value>, ApiError> {
    let mut fields = Map::new();
    for (k, v) in lead {
        if !crate::validate::valid_field_name(k) {
            return Err(ApiError::field(
                format!(
                    "lead.{}",
                    k.chars()
                        .filter(|c| c.is_ascii_alphanumeric())
                        .collect::<String>()
                ),
                "is not a field name",
            ));
        }
        match v {
            Value::String(s) if s.chars().count() <= 255 => {
                fields.insert(k.clone(), Value::String(s.clone()));
            }
            Value::Null => {}
            _ => {
                return Err(ApiError::field(
                    format!("lead.{k}"),
                    "must be text of at most 255 characters",
                ))
            }
        }
    }
    Ok(fields)
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The facts routing reads: the visitor's own lead fields, then Marketo's lead fields (which
/// win; `known` as `/traits` caches them, the company record under [`COMPANY_KEY`]); company
/// fields from the company record, else the lead's copy; answers by card id. The owner field
/// is read from Marketo only: a visitor who sends it is ignored.
pub fn facts(
    visitor: &Map<String, Value>,
    known: &Map<String, Value>,
    answers: &BTreeMap<String, String>,
    owner_field: &str,
) -> VisitorFacts {
    let mut f = VisitorFacts::new();
    let owner = FieldName::new(owner_field);
    for (k, v) in visitor {
        if FieldName::new(k) == owner {
            continue;
        }
        if let Some(t) = text(v) {
            f = f.lead(k, &t);
        }
    }
    // `@`-keys are the cache's own records (the company under COMPANY_KEY, activity times).
    for (k, v) in known.iter().filter(|(k, _)| !k.starts_with('@')) {
        if let Some(t) = text(v) {
            f = f.lead(k, &t).company(k, &t);
        }
    }
    if let Some(Value::Object(company)) = known.get(COMPANY_KEY) {
        for (k, v) in company {
            if let Some(t) = text(v) {
                f = f.company(k, &t);
            }
        }
    }
    for (card, a) in answers {
        f = f.answer(card, a);
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;
    use dynchat_scheduling::routing::{CompileRouting, QueueAgent};
    use dynchat_scheduling::AgentId;
    use serde_json::json;

    const DIALOGUE: &str = r#"{"version":1,"id":"d","name":"D","cards":[
      {"id":"interest","type":"question","text":"Why?","buttons":[{"label":"Pricing","value":"pricing","next":"m"}]},
      {"id":"m","type":"meeting","text":"Book?","route":{"rules":[
        {"when":{"all":[{"field":"lead.country","op":"in_list","value":["DE","AT","CH"]}]},"queue":"dach"},
        {"when":{"all":[{"field":"company.employees","op":"greater_than","value":500}]},"queue":"enterprise"},
        {"when":{"all":[{"field":"answer.interest","op":"is","value":"pricing"}]},"queue":"pricing"}],
        "default":"sales"}}]}"#;

    fn agents_of(q: &str) -> Vec<QueueAgent> {
        match q {
            "enterprise" => vec![QueueAgent {
                agent: AgentId::from("bea"),
                email: "bea@northwind.example".into(),
            }],
            _ => Vec::new(),
        }
    }

    #[test]
    fn a_rules_route_names_a_dialogue_and_a_card() {
        let ok = RulesRef::parse("rules:pricing/book", "route").map(|r| r.ok());
        assert_eq!(
            ok,
            Some(Some(RulesRef {
                dialogue: "pricing".into(),
                card: "book".into()
            }))
        );
        assert!(RulesRef::parse("queue:sales", "route").is_none());
        for bad in [
            "rules:",
            "rules:pricing",
            "rules:a/b/c",
            "rules:/b",
            "rules:a b/c",
        ] {
            assert!(
                matches!(RulesRef::parse(bad, "route"), Some(Err(ApiError::BadField { ref field, .. })) if field == "route"),
                "{bad}"
            );
        }
    }

    #[test]
    fn the_facts_decide_the_queue_and_the_owner_comes_from_marketo_only() {
        let rules = card_rules(DIALOGUE, "m", "route").expect("rules");
        let compiled = rules.compile("route").expect("compiles");
        let owner = DEFAULT_OWNER_FIELD;
        let none = BTreeMap::new();
        let route = |visitor: Value, known: Value, answers: &BTreeMap<String, String>| {
            let v = visitor.as_object().cloned().unwrap_or_default();
            let k = known.as_object().cloned().unwrap_or_default();
            compiled.route(&facts(&v, &k, answers, owner), &agents_of)
        };
        // The visitor's own fields count when Marketo does not know them...
        let d = route(json!({"country": "de"}), json!({}), &none);
        assert_eq!((d.queue.as_str(), d.rule), ("dach", Some(0)));
        // ... and Marketo's win when it does.
        let d = route(json!({"country": "de"}), json!({"country": "US"}), &none);
        assert_eq!((d.queue.as_str(), d.rule), ("sales", None));
        // The company record, then the lead's copy.
        let d = route(json!({}), json!({"@company": {"employees": 1200}}), &none);
        assert_eq!((d.queue.as_str(), d.rule), ("enterprise", Some(1)));
        let d = route(json!({}), json!({"employees": "900"}), &none);
        assert_eq!(d.queue, "enterprise");
        // Answers by card id.
        let answers = BTreeMap::from([("interest".to_string(), "Pricing".to_string())]);
        let d = route(json!({}), json!({}), &answers);
        assert_eq!((d.queue.as_str(), d.rule), ("pricing", Some(2)));
        // The owner: from Marketo, and only when an agent of the chosen queue.
        let big =
            json!({"@company": {"employees": 1200}, "leadOwnerEmail": "Bea@northwind.example"});
        assert_eq!(
            route(json!({}), big, &none).owner,
            Some(AgentId::from("bea"))
        );
        let claimed = json!({"leadOwnerEmail": "bea@northwind.example", "LEADOWNEREMAIL": "bea@northwind.example"});
        assert_eq!(
            route(claimed, json!({"@company": {"employees": 1200}}), &none).owner,
            None,
            "a visitor cannot name their own owner"
        );
    }

    #[test]
    fn a_card_without_rules_and_bad_answers_are_400s() {
        for card in ["interest", "ghost"] {
            assert!(matches!(
                card_rules(DIALOGUE, card, "route"),
                Err(ApiError::BadField { ref field, .. }) if field == "route"
            ));
        }
        for (v, field) in [
            (json!([1]), "answers"),
            (json!({"a b": "x"}), "answers"),
            (json!({"interest": 5}), "answers.interest"),
            (json!({"interest": "x".repeat(501)}), "answers.interest"),
        ] {
            assert!(
                matches!(answers(Some(&v)), Err(ApiError::BadField { field: ref f, .. }) if f == field),
                "{v}"
            );
        }
        assert_eq!(answers(None).map(|a| a.len()).ok(), Some(0));
    }

    #[test]
    fn slot_request_facts_name_their_parameter() {
        let long = json!({"region": "x".repeat(501)});
        assert!(matches!(
            answers_as(Some(&long), "answer"),
            Err(ApiError::BadField { ref field, .. }) if field == "answer.region"
        ));
        let lead = |v: Value| visitor_lead(v.as_object().unwrap_or(&Map::new()));
        for (v, field) in [
            (json!({"country": "x".repeat(256)}), "lead.country"),
            (json!({"bad name": "x"}), "lead.badname"),
            (json!({"country": 5}), "lead.country"),
        ] {
            assert!(
                matches!(lead(v.clone()), Err(ApiError::BadField { field: ref f, .. }) if f == field),
                "{v}"
            );
        }
        let ok = lead(json!({"email": "a@b.example", "gone": null})).ok();
        assert_eq!(ok.map(|m| m.len()), Some(1));
    }

    #[test]
    fn publish_sees_every_queue_the_rules_name() {
        let d: Dialogue = serde_json::from_str(DIALOGUE).expect("dialogue");
        let q: Vec<String> = rule_queues(&d).into_iter().map(|(_, q)| q).collect();
        assert_eq!(q, ["dach", "enterprise", "pricing", "sales"]);
        assert_eq!(
            rule_queues(&d).last().map(|(p, _)| p.as_str()),
            Some("dialogue.cards[1].route.default")
        );
        assert_eq!(owner_fields(&d), [DEFAULT_OWNER_FIELD]);
    }
}
