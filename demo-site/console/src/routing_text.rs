//! The Routing page's words: a meeting card's route as readable lines (rule -> queue, then the
//! default) and an assignment log row's decision explained. Pure functions over the API's JSON.

use serde_json::Value;

/// One line per rule (`When lead.country is one of DE, AT -> queue dach`), then the default
/// and the account-owner note; a plain queue or agent route is one line.
pub fn route_lines(route: &Value) -> Vec<String> {
    if let Some(q) = route["queue"].as_str() {
        return vec![format!("Every meeting -> queue {q}")];
    }
    if let Some(a) = route["agent"].as_str() {
        return vec![format!("Every meeting -> agent {a}")];
    }
    let mut out: Vec<String> = route["rules"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            format!(
                "When {} -> queue {}",
                audience(&r["when"]),
                r["queue"].as_str().unwrap_or("?")
            )
        })
        .collect();
    out.push(format!(
        "Otherwise -> queue {}",
        route["default"].as_str().unwrap_or("?")
    ));
    out.push(format!(
        "A known lead whose owner ({}) is an agent of the chosen queue goes to the owner when free",
        route["owner_field"].as_str().unwrap_or("leadOwnerEmail")
    ));
    out
}

/// `{all: [..], any: [..]}` as text: the `all` conditions joined by "and", the `any` ones by
/// "or" (in parentheses when both are present); nested groups in parentheses.
fn audience(a: &Value) -> String {
    let part = |k: &str, sep: &str| -> Vec<String> {
        let items: Vec<String> = a[k]
            .as_array()
            .into_iter()
            .flatten()
            .map(|r| {
                if r.get("field").is_some() {
                    condition(r)
                } else {
                    format!("({})", audience(r))
                }
            })
            .collect();
        if items.is_empty() {
            vec![]
        } else {
            vec![items.join(sep)]
        }
    };
    let all = part("all", " and ");
    let any = part("any", " or ");
    match (all.first(), any.first()) {
        (Some(a), Some(o)) => format!("{a} and ({o})"),
        (Some(a), None) => a.clone(),
        (None, Some(o)) => o.clone(),
        (None, None) => "always".into(),
    }
}

fn condition(c: &Value) -> String {
    let field = c["field"].as_str().unwrap_or("?");
    let v = value(&c["value"]);
    let op = c["op"].as_str().unwrap_or("?");
    match op {
        "is" => format!("{field} is {v}"),
        "is_not" => format!("{field} is not {v}"),
        "contains" => format!("{field} contains {v}"),
        "not_contains" => format!("{field} does not contain {v}"),
        "starts_with" => format!("{field} starts with {v}"),
        "is_empty" => format!("{field} is empty"),
        "is_not_empty" => format!("{field} is not empty"),
        "greater_than" => format!("{field} is over {v}"),
        "less_than" => format!("{field} is under {v}"),
        "in_list" => format!("{field} is one of {v}"),
        "matches" => format!("{field} matches {v}"),
        "not_matches" => format!("{field} does not match {v}"),
        "between" => format!("{field} is between {v}"),
        "within_days" => format!("{field} within the last {v} days"),
        other => format!("{field} {} {v}", other.replace('_', " ")),
    }
}

fn value(v: &Value) -> String {
    match v {
        Value::String(s) => format!("\"{s}\""),
        Value::Array(a) => a.iter().map(value).collect::<Vec<_>>().join(", "),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Why an assignment log row chose whom it chose: the rule that matched (or the default), the
/// lead's owner first, the agents skipped and the weight or fairness correction.
pub fn decision(r: &Value, name: &dyn Fn(&str) -> String) -> String {
    let mut parts = Vec::new();
    let routed = &r["routed"];
    if routed.is_object() {
        let queue = routed["queue"].as_str().unwrap_or("?");
        let card = routed["card"].as_str().unwrap_or("?");
        parts.push(match routed["rule"].as_u64() {
            Some(i) => format!("rule {} of {card} chose queue {queue}", i + 1),
            None => format!("no rule of {card} held: default queue {queue}"),
        });
    }
    let reason = &r["reason"];
    if let Some(j) = reason["joined"].as_str() {
        parts.push(format!(
            "joined at position {} ({j})",
            reason["position"].as_u64().unwrap_or(0)
        ));
        return parts.join("; ");
    }
    let chosen = r["chosen"]
        .as_str()
        .map(name)
        .unwrap_or_else(|| "nobody".into());
    let skipped: Vec<String> = r["skipped"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|x| {
            format!(
                "{} ({})",
                name(x["agent"].as_str().unwrap_or("?")),
                x["reason"].as_str().unwrap_or("?").replace('_', " ")
            )
        })
        .collect();
    if !skipped.is_empty() {
        parts.push(format!("skipped {}", skipped.join(", ")));
    }
    let in_order = reason["in_order"].as_str().map(name).unwrap_or_default();
    parts.push(match reason["kind"].as_str().unwrap_or("order") {
        "account_owner" => format!("{chosen} owns the lead and was free (owner first)"),
        "weight_correction" => format!(
            "weight correction: {chosen} was behind their weighted share, ahead of {in_order}"
        ),
        "fairness_correction" => format!(
            "fairness correction: {chosen} was behind the fair point (uncounted meetings, or joined or back from away), ahead of {in_order}"
        ),
        "nobody_free" => "nobody in the queue was free".into(),
        _ => {
            let owner = routed["owner"].as_str().filter(|o| Some(*o) != r["chosen"].as_str());
            match owner {
                Some(o) => format!("the lead's owner {} was not free; {chosen} was next in line", name(o)),
                None if skipped.is_empty() => format!("{chosen} was next in line and free"),
                None => format!("{chosen} was the first free in order"),
            }
        }
    });
    parts.join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn routes_read_as_lines() {
        let r = json!({"rules": [
            {"when": {"all": [{"field": "lead.country", "op": "in_list", "value": ["DE", "AT"]}]}, "queue": "dach"},
            {"when": {"all": [{"field": "company.size", "op": "greater_than", "value": 500}],
                      "any": [{"field": "answer.interest", "op": "is", "value": "pricing"}, {"any": [{"field": "lead.title", "op": "is_empty"}]}]}, "queue": "ent"}
        ], "default": "sales", "owner_field": "ownerEmail"});
        assert_eq!(
            route_lines(&r),
            [
                "When lead.country is one of \"DE\", \"AT\" -> queue dach",
                "When company.size is over 500 and (answer.interest is \"pricing\" or (lead.title is empty)) -> queue ent",
                "Otherwise -> queue sales",
                "A known lead whose owner (ownerEmail) is an agent of the chosen queue goes to the owner when free",
            ]
        );
        assert_eq!(
            route_lines(&json!({"queue": "sales"})),
            ["Every meeting -> queue sales"]
        );
    }

    #[test]
    fn decisions_are_explained() {
        let name = |id: &str| id.to_uppercase();
        let row = |reason: serde_json::Value, routed: serde_json::Value| json!({"chosen": "ana", "skipped": [{"agent": "ben", "reason": "busy"}], "reason": reason, "routed": routed});
        let cases = [
            (json!({"kind": "order"}), json!(null), "skipped BEN (busy); ANA was the first free in order"),
            (
                json!({"kind": "weight_correction", "in_order": "ben"}),
                json!({"card": "d/book", "rule": 0, "queue": "dach", "owner": null}),
                "rule 1 of d/book chose queue dach; skipped BEN (busy); weight correction: ANA was behind their weighted share, ahead of BEN",
            ),
            (
                json!({"kind": "account_owner"}),
                json!({"card": "d/book", "rule": null, "queue": "sales", "owner": "ana"}),
                "no rule of d/book held: default queue sales; skipped BEN (busy); ANA owns the lead and was free (owner first)",
            ),
            (
                json!({"kind": "order"}),
                json!({"card": "d/book", "rule": null, "queue": "sales", "owner": "cy"}),
                "no rule of d/book held: default queue sales; skipped BEN (busy); the lead's owner CY was not free; ANA was next in line",
            ),
        ];
        for (reason, routed, want) in cases {
            assert_eq!(decision(&row(reason, routed), &name), want);
        }
        let joined =
            json!({"chosen": "kim", "reason": {"joined": "calendar connected", "position": 3}});
        assert_eq!(
            decision(&joined, &name),
            "joined at position 3 (calendar connected)"
        );
    }
}
