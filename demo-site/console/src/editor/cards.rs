//! The form of each card type; templates for new cards and new dialogues.

use super::conditions::audience;
use super::form::*;
use super::route::{route_fields, Queues};
use crate::dom::{el, El};
use dynchat_engine::model::FORMAT_VERSION;
use serde_json::{json, Value};

/// The fields of the card at `p`; `queues` are the site's queues for a meeting card's route.
pub(super) fn card_fields(p: &str, card: &Value, draft: &Value, queues: Queues) -> Vec<El> {
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
        "meeting" => vec![
            area("Prompt", &f("text"), draft),
            route_fields(&f("route"), draft, queues),
            opt_in("Confirmation text", &f("confirmation"), draft),
            next_in("After booking", &f("next"), draft),
            next_in("When skipped or no slot", &f("on_skip"), draft),
        ],
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
