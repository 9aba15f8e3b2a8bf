//! A meeting card's route in the editor: the kind (a queue's round robin, one agent, or routing
//! rules) and, for rules, the ordered rules (condition rows from `conditions`, then a queue),
//! the default queue and the owner field, all bound to the draft by path like every other field.
//! What a route may hold is checked by the engine's compile (`dynchat_engine::routing`) and, for
//! the queues, by the worker at publish; the editor only offers the site's queues.

use super::conditions::audience;
use super::form::*;
use crate::dom::{el, El};
use crate::paths;
use serde_json::{json, Value};

/// The site's queues as (id, name), in the worker's order.
pub(super) type Queues<'a> = &'a [(String, String)];

/// The lead field naming the lead's owner when the rules do not name one
/// (`dynchat_scheduling::routing::DEFAULT_OWNER_FIELD`; the console does not link the scheduler).
const DEFAULT_OWNER_FIELD: &str = "leadOwnerEmail";

const KINDS: [(&str, &str); 3] = [
    ("queue", "Round robin over a queue"),
    ("agent", "One named agent"),
    ("rules", "Routing rules choose the queue"),
];

/// The queues of `GET /admin/sites/{site}/queues` (nothing when the answer has none).
pub(super) fn queue_choices(body: &Value) -> Vec<(String, String)> {
    body["queues"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|q| {
            let id = q["id"].as_str()?.to_string();
            let name = q["name"].as_str().filter(|n| !n.is_empty()).unwrap_or(&id);
            Some((id.clone(), name.to_string()))
        })
        .collect()
}

/// Which kind of route `route` is.
pub(super) fn kind_of(route: &Value) -> &'static str {
    if route.get("rules").is_some() {
        "rules"
    } else if route.get("agent").is_some() {
        "agent"
    } else {
        "queue"
    }
}

/// The route after the author picks `kind` in place of `old`: the queue is carried over
/// (a queue route's queue becomes the rules' default and back; the rules themselves are
/// dropped only when the author leaves rules), else the site's first queue.
pub(super) fn switched(old: &Value, kind: &str, queues: Queues) -> Value {
    if kind_of(old) == kind {
        return old.clone();
    }
    let first = queues.first().map(|q| q.0.as_str()).unwrap_or("");
    let queue = old["queue"]
        .as_str()
        .or(old["default"].as_str())
        .filter(|q| !q.is_empty())
        .unwrap_or(first);
    match kind {
        "rules" => json!({"rules": [], "default": queue}),
        "agent" => json!({"agent": ""}),
        _ => json!({ "queue": queue }),
    }
}

/// A new routing rule: one condition on a lead field (routing reads `lead.`, `company.` and
/// `answer.` fields only) and the site's first queue.
pub(super) fn new_rule(queues: Queues) -> Value {
    let first = queues.first().map(|q| q.0.as_str()).unwrap_or("");
    json!({"when": {"all": [{"field": "lead.country", "op": "is_not_empty"}]}, "queue": first})
}

/// The condition a routing rule's "+ Condition" adds (a lead field, not a page field).
pub(super) fn new_condition() -> Value {
    json!({"field": "lead.country", "op": "is", "value": ""})
}

/// Whether an audience list at `path` belongs to a meeting card's routing rule.
pub(super) fn in_route(path: &str) -> bool {
    path.contains(".route.rules[")
}

/// The route of the meeting card whose route is at `path`: the kind select, then the kind's
/// fields.
pub(super) fn route_fields(path: &str, draft: &Value, queues: Queues) -> El {
    let route = paths::get(draft, path).cloned().unwrap_or(Value::Null);
    let kind = kind_of(&route);
    let rid = field_id(path);
    let mut out = el("div")
        .cls("field route")
        .attr("data-err-anchor", path)
        .child(
            el("label")
                .attr("for", &format!("{rid}-kind"))
                .text("Route to"),
        )
        .child(
            crate::dom::select(&format!("{rid}-kind"), kind, &KINDS)
                .attr("data-path", path)
                .attr("data-kind", "route-kind")
                .attr("aria-describedby", &format!("{rid}-err")),
        )
        .child(
            el("span")
                .cls("err")
                .id(&format!("{rid}-err"))
                .attr("data-err-for", path),
        );
    match kind {
        "rules" => {
            out = out.child(rules(path, &route, draft, queues));
        }
        "agent" => {
            out = out.child(target_in("Agent id", &rid, &format!("{path}.agent"), draft));
        }
        _ if queues.is_empty() => {
            out = out.child(target_in("Queue id", &rid, &format!("{path}.queue"), draft));
        }
        _ => {
            out = out.child(queue_in("Queue", &format!("{path}.queue"), draft, queues));
        }
    }
    out
}

/// A queue or agent id typed in (the control's id stays `rid`, as before rules could be edited).
fn target_in(label: &str, rid: &str, path: &str, draft: &Value) -> El {
    el("div")
        .cls("field")
        .child(el("label").attr("for", rid).text(label))
        .child(
            el("input")
                .id(rid)
                .attr("type", "text")
                .attr("data-path", path)
                .attr("data-kind", "str")
                .attr("aria-describedby", &format!("{rid}-target-err"))
                .value(&paths::text(draft, path)),
        )
        .child(
            el("span")
                .cls("err")
                .id(&format!("{rid}-target-err"))
                .attr("data-err-for", path),
        )
}

/// A queue: a select over the site's queues (a value that is not one of them stays, marked, so
/// the worker's refusal at publish can name it), or a text input when the site has none.
fn queue_in(label: &str, path: &str, draft: &Value, queues: Queues) -> El {
    if queues.is_empty() {
        return text_in(label, path, draft);
    }
    let current = paths::text(draft, path);
    let mut options: Vec<(String, String)> = Vec::with_capacity(queues.len() + 1);
    if !queues.iter().any(|q| q.0 == current) {
        let shown = if current.is_empty() {
            "Choose a queue".to_string()
        } else {
            format!("{current} (not a queue of this site)")
        };
        options.push((current.clone(), shown));
    }
    for (id, name) in queues {
        let shown = if name == id {
            id.clone()
        } else {
            format!("{name} ({id})")
        };
        options.push((id.clone(), shown));
    }
    let refs: Vec<(&str, &str)> = options
        .iter()
        .map(|(v, l)| (v.as_str(), l.as_str()))
        .collect();
    select_in(label, path, "str", draft, &refs)
}

/// The rules in order (each its conditions, its queue, and buttons to move or remove it), the
/// button that adds one, the default queue and the owner field.
fn rules(path: &str, route: &Value, draft: &Value, queues: Queues) -> El {
    let list = route["rules"].as_array().map(Vec::len).unwrap_or(0);
    let mut out = el("div").cls("route-rules");
    for i in 0..list {
        let rp = format!("{path}.rules[{i}]");
        let rid = field_id(&rp);
        let n = i + 1;
        let mut buttons = el("div").cls("row");
        if i > 0 {
            buttons = buttons.child(
                small_btn("Move up", &format!("up:{rp}"), &format!("Move rule {n} up"))
                    .id(&format!("{rid}-up")),
            );
        }
        if i + 1 < list {
            buttons = buttons.child(
                small_btn(
                    "Move down",
                    &format!("down:{rp}"),
                    &format!("Move rule {n} down"),
                )
                .id(&format!("{rid}-down")),
            );
        }
        buttons = buttons.child(small_btn(
            "Remove rule",
            &format!("del:{rp}"),
            &format!("Remove rule {n}"),
        ));
        out = out.child(
            el("fieldset")
                .cls("route-rule")
                .id(&rid)
                .attr("data-err-anchor", &rp)
                .child(el("legend").text(&format!("Rule {n}")))
                .child(audience(&format!("{rp}.when"), draft, 1))
                .child(queue_in(
                    &format!("Rule {n}: then book with queue"),
                    &format!("{rp}.queue"),
                    draft,
                    queues,
                ))
                .child(buttons),
        );
    }
    let owner = format!("{path}.owner_field");
    let owner_in = opt_in("Lead owner field (account routing)", &owner, draft);
    if let Ok(Some(i)) = owner_in.0.query_selector("input") {
        let _ = i.set_attribute("placeholder", DEFAULT_OWNER_FIELD);
    }
    out.child(small_btn(
        "+ Routing rule",
        &format!("add-route-rule:{path}"),
        "Add a routing rule",
    ))
    .child(queue_in(
        "Otherwise (no rule holds): queue",
        &format!("{path}.default"),
        draft,
        queues,
    ))
    .child(owner_in)
    .child(el("p").cls("hint").text(&format!(
        "Rules read lead., company. and answer. fields; the first that holds chooses the queue. \
         A known lead whose owner (this Marketo lead field, {DEFAULT_OWNER_FIELD} when empty) \
         is an agent of that queue is asked first."
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn queues() -> Vec<(String, String)> {
        vec![
            ("sales".into(), "Sales".into()),
            ("dach".into(), "dach".into()),
        ]
    }

    #[test]
    fn switching_the_kind_keeps_the_queue_and_the_rules_only_while_rules() {
        let q = queues();
        let rules = json!({"rules": [{"when": {"all": []}, "queue": "dach"}], "default": "dach"});
        assert_eq!(switched(&rules, "rules", &q), rules);
        assert_eq!(switched(&rules, "queue", &q), json!({"queue": "dach"}));
        assert_eq!(
            switched(&json!({"queue": "sales"}), "rules", &q),
            json!({"rules": [], "default": "sales"})
        );
        assert_eq!(
            switched(&json!({"agent": "kim"}), "queue", &q),
            json!({"queue": "sales"})
        );
        assert_eq!(
            switched(&json!({"queue": "sales"}), "agent", &q),
            json!({"agent": ""})
        );
        assert_eq!(
            switched(&json!({"agent": "kim"}), "rules", &[]),
            json!({"rules": [], "default": ""})
        );
    }

    #[test]
    fn queue_choices_read_the_list_answer() {
        let body = json!({"queues": [{"id": "sales", "name": "Sales"}, {"id": "dach", "name": ""}, {"name": "no id"}]});
        assert_eq!(queue_choices(&body), queues());
        assert!(queue_choices(&json!({"error": {"message": "forbidden"}})).is_empty());
    }

    #[test]
    fn a_new_rule_reads_a_lead_field_and_takes_the_first_queue() {
        let r = new_rule(&queues());
        assert_eq!(r["queue"], "sales");
        assert!(r["when"]["all"][0]["field"]
            .as_str()
            .is_some_and(|f| f.starts_with("lead.")));
        assert!(in_route("$.cards[1].route.rules[0].when.all"));
        assert!(!in_route("$.cards[1].rules[0].when.all"));
    }
}
