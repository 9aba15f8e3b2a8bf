//! The form of each card type and of audience rules; templates for new cards and new dialogues.

use super::form::*;
use crate::dom::{el, El};
use crate::paths;
use dynchat_engine::model::{Operator, FORMAT_VERSION};
use serde_json::{json, Value};

/// A meeting card's rules route, read-only: the Routing page's lines (rule -> queue, the
/// default, the owner note) and a pointer to the JSON box, where rules are edited. No kind
/// select and no queue input, so the form cannot turn the rules into something else.
fn rules_route(path: &str, route: &Value) -> El {
    let rid = field_id(path);
    let mut lines = el("ul").cls("route-rules").id(&format!("{rid}-rules"));
    for line in crate::routing_text::route_lines(route) {
        lines = lines.child(el("li").text(&line));
    }
    el("div")
        .cls("field")
        .attr("data-err-anchor", path)
        .child(el("span").cls("label").text("Route to: routing rules"))
        .child(lines)
        .child(el("p").cls("hint").id(&format!("{rid}-hint")).text(
            "Rules are edited in the dialogue JSON: Import / export JSON, then Apply JSON to the editor.",
        ))
        .child(
            el("span")
                .cls("err")
                .id(&format!("{rid}-err"))
                .attr("data-err-for", path),
        )
}

/// An all-of / any-of group editor at `path` (an `Audience` object).
pub(super) fn audience(path: &str, draft: &Value, depth: usize) -> El {
    let mut out = el("div").cls("group").attr("data-err-anchor", path);
    for (key, title) in [
        ("all", "All of these must hold"),
        ("any", "At least one of these must hold"),
    ] {
        let list_path = format!("{path}.{key}");
        let rules = paths::get(draft, &list_path)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        out = out.child(el("h3").text(title));
        for (i, r) in rules.iter().enumerate() {
            let rp = format!("{list_path}[{i}]");
            if r.get("field").is_some() || r.get("op").is_some() {
                out = out.child(condition(&rp, draft));
            } else {
                out = out.child(
                    el("div")
                        .child(audience(&rp, draft, depth + 1))
                        .child(small_btn(
                            "Remove group",
                            &format!("del:{rp}"),
                            "Remove this group",
                        )),
                );
            }
        }
        let mut row = el("div").cls("row").child(small_btn(
            "+ Condition",
            &format!("add-cond:{list_path}"),
            &format!("Add a condition: {title}"),
        ));
        if depth < 2 {
            row = row.child(small_btn(
                "+ Group",
                &format!("add-group:{list_path}"),
                &format!("Add a nested group: {title}"),
            ));
        }
        out = out.child(row);
    }
    out
}

pub(super) fn condition(path: &str, draft: &Value) -> El {
    let fid = field_id(&format!("{path}.field"));
    let field = el("div")
        .child(el("label").attr("for", &fid).text("Field"))
        .child(
            el("input")
                .id(&fid)
                .attr("type", "text")
                .attr("list", "field-names")
                .attr("data-path", &format!("{path}.field"))
                .attr("data-kind", "str")
                .value(&paths::text(draft, &format!("{path}.field")))
                .attr("aria-describedby", &format!("{fid}-err")),
        )
        .child(
            el("span")
                .cls("err")
                .id(&format!("{fid}-err"))
                .attr("data-err-for", &format!("{path}.field")),
        );
    let op = select_in(
        "Operator",
        &format!("{path}.op"),
        "str",
        draft,
        &operators(),
    );
    let vpath = format!("{path}.value");
    let vid = field_id(&vpath);
    let shown = match paths::get(draft, &vpath) {
        Some(Value::Array(a)) => a
            .iter()
            .map(|x| {
                x.as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| x.to_string())
            })
            .collect::<Vec<_>>()
            .join(", "),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(x) => x.to_string(),
    };
    let within_hint = if paths::text(draft, &format!("{path}.op")) == Operator::WithinDays.name() {
        within_days_hint()
    } else {
        String::new()
    };
    let value = el("div")
        .child(el("label").attr("for", &vid).text("Value"))
        .child(
            el("input")
                .id(&vid)
                .attr("type", "text")
                .attr("data-path", &vpath)
                .attr("data-kind", "value")
                .attr("placeholder", &within_hint)
                .value(&shown)
                .attr("aria-describedby", &format!("{vid}-err")),
        )
        .child(
            el("span")
                .cls("err")
                .id(&format!("{vid}-err"))
                .attr("data-err-for", &vpath),
        );
    el("div")
        .cls("cond")
        .attr("data-err-anchor", path)
        .child(field)
        .child(op)
        .child(value)
        .child(small_btn(
            "Remove",
            &format!("del:{path}"),
            "Remove this condition",
        ))
}

pub(super) fn card_fields(p: &str, card: &Value, draft: &Value) -> Vec<El> {
    let t = card["type"].as_str().unwrap_or("");
    let f = |name: &str| format!("{p}.{name}");
    match t {
        "message" => vec![
            area("Text", &f("text"), draft),
            opt_in("Image URL", &f("image"), draft),
            next_in("Next card", &f("next"), draft),
            num_in("Typing delay (ms)", &f("delay_ms"), draft),
        ],
        "question" => {
            let mut v = vec![
                area("Question", &f("text"), draft),
                opt_in("Store answer in lead field", &f("field"), draft),
                next_in("Next card (default)", &f("next"), draft),
            ];
            let buttons = card["buttons"].as_array().cloned().unwrap_or_default();
            let mut list = el("div").child(el("h3").text("Buttons"));
            for i in 0..buttons.len() {
                let bp = format!("{p}.buttons[{i}]");
                list = list.child(
                    el("div")
                        .cls("fields")
                        .attr("data-err-anchor", &bp)
                        .child(text_in(
                            &format!("Button {} label", i + 1),
                            &format!("{bp}.label"),
                            draft,
                        ))
                        .child(opt_in("Value stored", &format!("{bp}.value"), draft))
                        .child(next_in("Goes to", &format!("{bp}.next"), draft))
                        .child(el("div").cls("field").child(small_btn(
                            "Remove button",
                            &format!("del:{bp}"),
                            &format!("Remove button {}", i + 1),
                        ))),
                );
            }
            list = list.child(small_btn(
                "+ Button",
                &format!("add-button:{p}"),
                "Add a button",
            ));
            v.push(list);
            let free = card.get("free_text").is_some();
            v.push(el("div").cls("row").child(small_btn(
                if free {
                    "Remove free-text answer"
                } else {
                    "+ Allow a typed answer"
                },
                &format!("toggle-free:{p}"),
                "Toggle the free-text answer",
            )));
            if free {
                v.push(opt_in(
                    "Free-text placeholder",
                    &f("free_text.placeholder"),
                    draft,
                ));
                v.push(next_in("After a typed answer", &f("free_text.next"), draft));
            }
            v
        }
        "capture" => vec![
            area("Prompt", &f("text"), draft),
            select_in(
                "Asks for",
                &f("kind"),
                "str",
                draft,
                &[
                    ("name", "Name"),
                    ("email", "Email"),
                    ("phone", "Phone"),
                    ("company", "Company"),
                    ("text", "Free text"),
                ],
            ),
            text_in("Lead field", &f("field"), draft),
            check_in("Skip if already known", &f("skip_if_known"), draft),
            check_in("Overwrite a known value", &f("overwrite"), draft),
            opt_in("Pattern (regular expression)", &f("pattern"), draft),
            opt_in("Re-prompt for invalid answers", &f("error"), draft),
            opt_in("Placeholder", &f("placeholder"), draft),
            next_in("Next card", &f("next"), draft),
        ],
        "meeting" if card["route"].get("rules").is_some() => vec![
            area("Prompt", &f("text"), draft),
            rules_route(&f("route"), &card["route"]),
            opt_in("Confirmation text", &f("confirmation"), draft),
            next_in("After booking", &f("next"), draft),
            next_in("When skipped or no slot", &f("on_skip"), draft),
        ],
        "meeting" => {
            let kind = if card["route"].get("agent").is_some() {
                "agent"
            } else {
                "queue"
            };
            let target = card["route"][kind].as_str().unwrap_or("").to_string();
            let rid = field_id(&f("route"));
            vec![
                area("Prompt", &f("text"), draft),
                el("div")
                    .cls("field")
                    .attr("data-err-anchor", &f("route"))
                    .child(
                        el("label")
                            .attr("for", &format!("{rid}-kind"))
                            .text("Route to"),
                    )
                    .child(
                        crate::dom::select(
                            &format!("{rid}-kind"),
                            kind,
                            &[
                                ("queue", "Round robin over a queue"),
                                ("agent", "One named agent"),
                            ],
                        )
                        .attr("data-path", &f("route"))
                        .attr("data-kind", "route-kind"),
                    )
                    .child(el("label").attr("for", &rid).text(if kind == "queue" {
                        "Queue id"
                    } else {
                        "Agent id"
                    }))
                    .child(
                        el("input")
                            .id(&rid)
                            .attr("type", "text")
                            .attr("data-path", &f(&format!("route.{kind}")))
                            .attr("data-kind", "str")
                            .value(&target),
                    )
                    .child(
                        el("span")
                            .cls("err")
                            .id(&format!("{rid}-err"))
                            .attr("data-err-for", &f("route")),
                    ),
                opt_in("Confirmation text", &f("confirmation"), draft),
                next_in("After booking", &f("next"), draft),
                next_in("When skipped or no slot", &f("on_skip"), draft),
            ]
        }
        "goal" => vec![
            text_in("Goal name", &f("name"), draft),
            num_in("Score", &f("score"), draft),
            next_in("Next card", &f("next"), draft),
        ],
        "branch" => {
            let rules = card["rules"].as_array().cloned().unwrap_or_default();
            let mut v = Vec::new();
            for i in 0..rules.len() {
                let rp = format!("{p}.rules[{i}]");
                v.push(
                    el("fieldset")
                        .attr("data-err-anchor", &rp)
                        .child(el("legend").text(&format!("Rule {}", i + 1)))
                        .child(audience(&format!("{rp}.when"), draft, 1))
                        .child(next_in("Then go to", &format!("{rp}.next"), draft))
                        .child(small_btn(
                            "Remove rule",
                            &format!("del:{rp}"),
                            &format!("Remove rule {}", i + 1),
                        )),
                );
            }
            v.push(small_btn(
                "+ Rule",
                &format!("add-rule:{p}"),
                "Add a branch rule",
            ));
            v.push(next_in("Otherwise go to", &f("otherwise"), draft));
            v
        }
        "document" => vec![
            area("Text", &f("text"), draft),
            text_in("Document URL", &f("url"), draft),
            text_in("Link label", &f("label"), draft),
            next_in("Next card", &f("next"), draft),
        ],
        _ => vec![opt_in("Closing text", &f("text"), draft)],
    }
}

pub(super) fn card_template(t: &str, id: &str) -> Value {
    match t {
        "message" => json!({"id": id, "type": "message", "text": "Hello!"}),
        "question" => {
            json!({"id": id, "type": "question", "text": "What brings you here?", "buttons": [{"label": "Pricing", "value": "pricing"}]})
        }
        "capture" => {
            json!({"id": id, "type": "capture", "kind": "email", "field": "email", "text": "What's your work email?"})
        }
        "meeting" => {
            json!({"id": id, "type": "meeting", "text": "Pick a time:", "route": {"queue": "sales"}})
        }
        "goal" => json!({"id": id, "type": "goal", "name": "Goal", "score": 10}),
        "branch" => json!({"id": id, "type": "branch", "rules": [], "otherwise": ""}),
        "document" => {
            json!({"id": id, "type": "document", "text": "Here is the document:", "url": "https://", "label": "Open"})
        }
        _ => json!({"id": id, "type": "end", "text": "Thanks!"}),
    }
}

pub(super) fn new_dialogue() -> Value {
    json!({
        "version": FORMAT_VERSION, "id": "new-dialogue", "name": "New dialogue", "priority": 0,
        "audience": {"all": [{"field": "page.url", "op": "matches", "value": "*/pricing*"}]},
        "cards": [
            {"id": "hello", "type": "message", "text": "Hi there! Can I help you pick a plan?", "next": "bye"},
            {"id": "bye", "type": "end", "text": "Thanks for stopping by."}
        ]
    })
}
