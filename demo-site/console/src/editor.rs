//! The dialogue editor: a form for every card type and for audience rules, bound to the draft
//! JSON by path; every change recompiles the draft with `dynchat_engine::compile_with` (inside
//! this wasm) and puts each diagnostic next to the field its JSON path names.

use crate::dom::{el, El};
use crate::{api, paths, render, with, SITE};
use dynchat_engine::{Options, Severity};
use serde_json::{json, Value};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::spawn_local;

const CARD_TYPES: [(&str, &str); 8] = [
    ("message", "Message"),
    ("question", "Question"),
    ("capture", "Info capture"),
    ("meeting", "Meeting booking"),
    ("goal", "Goal"),
    ("branch", "Branch"),
    ("document", "Document"),
    ("end", "End"),
];

const OPERATORS: [(&str, &str); 13] = [
    ("is", "is"),
    ("is_not", "is not"),
    ("contains", "contains"),
    ("not_contains", "does not contain"),
    ("starts_with", "starts with"),
    ("is_empty", "is empty"),
    ("is_not_empty", "is not empty"),
    ("greater_than", "greater than"),
    ("less_than", "less than"),
    ("in_list", "in list"),
    ("matches", "matches (wildcards)"),
    ("not_matches", "does not match"),
    ("between", "between"),
];

const FIELDS: [&str; 22] = [
    "page.url",
    "page.path",
    "page.title",
    "page.referrer",
    "page.utm.campaign",
    "page.utm.source",
    "page.utm.medium",
    "page.time_on_page",
    "page.scroll_depth",
    "page.visits",
    "page.exit_intent",
    "page.device",
    "page.country",
    "page.local_time",
    "page.weekday",
    "lead.email",
    "lead.FirstName",
    "lead.leadStatus",
    "company.industry",
    "company.Name",
    "page.query.ref",
    "page.utm.content",
];

/// Control ids come from paths: `$.cards[2].next` -> `f-cards-2-next`.
pub fn field_id(path: &str) -> String {
    let mut id = String::from("f");
    for c in path.trim_start_matches('$').chars() {
        if c.is_ascii_alphanumeric() || c == '_' {
            id.push(c);
        } else if !id.ends_with('-') {
            id.push('-');
        }
    }
    id.trim_end_matches('-').to_string()
}

fn input_for(label: &str, path: &str, kind: &str, draft: &Value, input_type: &str) -> El {
    let id = field_id(path);
    let err = format!("{id}-err");
    let value = paths::text(draft, path);
    let control = if input_type == "textarea" {
        el("textarea").attr("rows", "2")
    } else {
        el("input").attr("type", input_type)
    };
    let control = control
        .id(&id)
        .attr("data-path", path)
        .attr("data-kind", kind)
        .attr("aria-describedby", &err)
        .value(&value);
    el("div")
        .cls("field")
        .child(el("label").attr("for", &id).text(label))
        .child(control)
        .child(el("span").cls("err").id(&err).attr("data-err-for", path))
}

fn text_in(label: &str, path: &str, draft: &Value) -> El {
    input_for(label, path, "str", draft, "text")
}

fn opt_in(label: &str, path: &str, draft: &Value) -> El {
    input_for(label, path, "opt", draft, "text")
}

fn area(label: &str, path: &str, draft: &Value) -> El {
    input_for(label, path, "str", draft, "textarea")
}

fn num_in(label: &str, path: &str, draft: &Value) -> El {
    input_for(label, path, "num", draft, "number")
}

fn next_in(label: &str, path: &str, draft: &Value) -> El {
    let e = input_for(label, path, "opt", draft, "text");
    if let Ok(Some(i)) = e.0.query_selector("input") {
        let _ = i.set_attribute("list", "card-ids");
    }
    e
}

fn check_in(label: &str, path: &str, draft: &Value) -> El {
    let id = field_id(path);
    // `display.hide_after_completion` defaults to true in the format; the others to false.
    let on = paths::get(draft, path)
        .and_then(Value::as_bool)
        .unwrap_or(path.ends_with("hide_after_completion"));
    let i = el("input")
        .id(&id)
        .attr("type", "checkbox")
        .attr("data-path", path)
        .attr("data-kind", "bool");
    if let Some(x) = i.0.dyn_ref::<web_sys::HtmlInputElement>() {
        x.set_checked(on);
    }
    el("div")
        .cls("field")
        .child(
            el("label")
                .cls("check")
                .attr("for", &id)
                .child(i)
                .text(label),
        )
        .child(
            el("span")
                .cls("err")
                .id(&format!("{id}-err"))
                .attr("data-err-for", path),
        )
}

fn select_in(label: &str, path: &str, kind: &str, draft: &Value, options: &[(&str, &str)]) -> El {
    let id = field_id(path);
    let current = paths::text(draft, path);
    let s = crate::dom::select(&id, &current, options)
        .attr("data-path", path)
        .attr("data-kind", kind)
        .attr("aria-describedby", &format!("{id}-err"));
    el("div")
        .cls("field")
        .child(el("label").attr("for", &id).text(label))
        .child(s)
        .child(
            el("span")
                .cls("err")
                .id(&format!("{id}-err"))
                .attr("data-err-for", path),
        )
}

fn small_btn(label: &str, act: &str, aria: &str) -> El {
    el("button")
        .attr("type", "button")
        .cls("small")
        .act(act)
        .attr("aria-label", aria)
        .text(label)
}

/// An all-of / any-of group editor at `path` (an `Audience` object).
fn audience(path: &str, draft: &Value, depth: usize) -> El {
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

fn condition(path: &str, draft: &Value) -> El {
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
    let op = select_in("Operator", &format!("{path}.op"), "str", draft, &OPERATORS);
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
    let value = el("div")
        .child(el("label").attr("for", &vid).text("Value"))
        .child(
            el("input")
                .id(&vid)
                .attr("type", "text")
                .attr("data-path", &vpath)
                .attr("data-kind", "value")
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

fn card_fields(p: &str, card: &Value, draft: &Value) -> Vec<El> {
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

fn card_template(t: &str, id: &str) -> Value {
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

fn new_dialogue() -> Value {
    json!({
        "version": 1, "id": "new-dialogue", "name": "New dialogue", "priority": 0,
        "audience": {"all": [{"field": "page.url", "op": "matches", "value": "*/pricing*"}]},
        "cards": [
            {"id": "hello", "type": "message", "text": "Hi there! Can I help you pick a plan?", "next": "bye"},
            {"id": "bye", "type": "end", "text": "Thanks for stopping by."}
        ]
    })
}

/// Loads the draft: the live (or newest) version of `id`, or a new dialogue.
pub async fn load(id: Option<String>) {
    let versions = api::call("GET", &format!("/admin/sites/{SITE}/dialogues"), None).await;
    let site = api::call("GET", &format!("/admin/sites/{SITE}"), None).await;
    let list = versions.body["versions"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mut draft = new_dialogue();
    if let Some(id) = &id {
        let mine: Vec<&Value> = list
            .iter()
            .filter(|v| v["dialogue"].as_str() == Some(id))
            .collect();
        let pick = mine
            .iter()
            .find(|v| v["live"] == 1)
            .or(mine.last())
            .and_then(|v| v["hash"].as_str())
            .map(str::to_string);
        if let Some(hash) = pick {
            let a = api::call("GET", &format!("/v1/sites/{SITE}/flows/{hash}"), None).await;
            if a.ok() {
                draft = a.body["dialogue"].clone();
            } else {
                crate::notice(
                    false,
                    format!("Could not load version {hash}: {}", a.error()),
                );
            }
        }
    }
    let dm = match &id {
        Some(i) => {
            api::call(
                "GET",
                &format!("/admin/console/sites/{SITE}/dialogues/{i}/marketo"),
                None,
            )
            .await
            .body
        }
        None => Value::Null,
    };
    with(|s| {
        s.versions = list;
        s.site = site.body;
        s.draft = draft;
        s.draft_id = id;
        s.dialogue_marketo = dm;
    });
    recompile();
}

fn lead_fields() -> Option<Vec<String>> {
    with(|s| {
        s.site["lead_fields"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect::<Vec<_>>()
            })
            .filter(|l| !l.is_empty())
    })
}

/// Compiles the draft in the browser and stores the diagnostics (errors and warnings).
pub fn recompile() {
    let text = with(|s| s.draft.to_string());
    let opts = Options {
        lead_fields: lead_fields(),
    };
    let diags = match dynchat_engine::compile_with(&text, &opts) {
        Ok(flow) => {
            offer_draft(&flow);
            flow.warnings
        }
        Err(d) => d,
    };
    with(|s| s.diags = diags);
}

/// Hands the draft's compiled flow to the preview frame: the frame's loader (same origin, URL
/// flag `dynchat-preview=draft`) reads `window.parent.dynchatPreview` and runs it instead of the
/// published dialogues, without storing or sending anything. Only a draft without errors gets
/// here, so the frame always shows the last draft that compiles.
fn offer_draft(flow: &dynchat_engine::CompiledFlow) {
    let entry = json!({
        "id": flow.id,
        "hash": flow.hash,
        "flow": serde_json::from_str::<Value>(&flow.to_wire()).unwrap_or(Value::Null),
    });
    if let Some(w) = web_sys::window() {
        let _ = js_sys::Reflect::set(&w, &"dynchatPreview".into(), &entry.to_string().into());
    }
}

/// The preview frame's address: the chosen demo page, in draft mode with the loader's flag.
fn preview_src(page: &str, published: bool, bust: Option<u64>) -> String {
    let mut u = page.to_string();
    let mut sep = if u.contains('?') { '&' } else { '?' };
    if !published {
        u.push_str(&format!("{sep}dynchat-preview=draft"));
        sep = '&';
    }
    if let Some(b) = bust {
        u.push_str(&format!("{sep}preview={b}"));
    }
    u
}

/// The editor page.
pub fn view(s: &crate::State) -> El {
    let d = &s.draft;
    let name = d["name"].as_str().unwrap_or("");
    let id = s.draft_id.clone();
    let live = id
        .as_ref()
        .and_then(|i| {
            s.versions
                .iter()
                .find(|v| v["dialogue"].as_str() == Some(i) && v["live"] == 1)
        })
        .and_then(|v| v["hash"].as_str())
        .map(str::to_string);
    let title = match &id {
        Some(_) => format!("Edit: {name}"),
        None => "New dialogue".to_string(),
    };
    let status = match (&id, &live) {
        (None, _) => el("span").cls("pill off").text("Draft"),
        (Some(_), Some(h)) => el("span")
            .cls("pill ok")
            .text(&format!("Live · {}", &h[..h.len().min(8)])),
        (Some(_), None) => el("span").cls("pill warn").text("Not published"),
    };
    let head = el("div")
        .cls("row spread")
        .child(
            el("div")
                .child(
                    el("h1")
                        .id("page-title")
                        .attr("tabindex", "-1")
                        .text(&title),
                )
                .child(el("p").cls("sub").child(status)),
        )
        .child(
            el("div")
                .cls("row")
                .child(
                    el("a")
                        .cls("btn")
                        .attr("href", "#/dialogues")
                        .text("Back to dialogues"),
                )
                .child(
                    el("button")
                        .attr("type", "button")
                        .act("export")
                        .text("Export JSON"),
                )
                .child(
                    el("button")
                        .attr("type", "button")
                        .cls("primary")
                        .id("publish")
                        .act("publish")
                        .text("Publish"),
                ),
        );

    // Left: the form.
    let basics = el("section")
        .cls("box")
        .attr("aria-labelledby", "basics-h")
        .child(el("h2").id("basics-h").text("Basics"))
        .child(
            el("div")
                .cls("fields")
                .child(text_in("Dialogue id", "$.id", d))
                .child(text_in("Name", "$.name", d))
                .child(num_in("Priority (higher wins)", "$.priority", d))
                .child(num_in("Typing delay (ms)", "$.response_delay_ms", d))
                .child(check_in(
                    "Hide after completion",
                    "$.display.hide_after_completion",
                    d,
                ))
                .child(num_in("Show at most (times)", "$.display.max_times", d))
                .child(num_in(
                    "Minutes between showings",
                    "$.display.min_interval_minutes",
                    d,
                )),
        );
    let targeting = el("section")
        .cls("box")
        .attr("aria-labelledby", "aud-h")
        .child(el("h2").id("aud-h").text("Audience targeting"))
        .child(el("p").cls("hint").text(
            "Empty means every visitor on every page. Wildcards: * any run, ? one character.",
        ))
        .child(audience("$.audience", d, 0));
    let mut cards = el("section")
        .cls("box")
        .attr("aria-labelledby", "cards-h")
        .child(el("h2").id("cards-h").text("Cards"));
    let list = d["cards"].as_array().cloned().unwrap_or_default();
    for (i, c) in list.iter().enumerate() {
        let p = format!("$.cards[{i}]");
        let t = c["type"].as_str().unwrap_or("");
        let cid = c["id"].as_str().unwrap_or("");
        let label = CARD_TYPES
            .iter()
            .find(|(k, _)| *k == t)
            .map(|(_, l)| *l)
            .unwrap_or("Unknown");
        let fs = el("fieldset")
            .attr("data-err-anchor", &p)
            .child(
                el("legend")
                    .child(el("span").cls("card-type").text(label))
                    .text(&format!(" {cid}")),
            )
            .child(
                el("div")
                    .cls("fields")
                    .child(text_in("Card id", &format!("{p}.id"), d))
                    .child(select_in(
                        "Type",
                        &format!("{p}.type"),
                        "type",
                        d,
                        &CARD_TYPES,
                    )),
            )
            .children(card_fields(&p, c, d))
            .child(
                el("div")
                    .cls("row")
                    .child(small_btn(
                        "Move up",
                        &format!("up:{p}"),
                        &format!("Move card {cid} up"),
                    ))
                    .child(small_btn(
                        "Move down",
                        &format!("down:{p}"),
                        &format!("Move card {cid} down"),
                    ))
                    .child(
                        el("button")
                            .attr("type", "button")
                            .cls("small danger")
                            .act(&format!("del:{p}"))
                            .attr("aria-label", &format!("Delete card {cid}"))
                            .text("Delete card"),
                    ),
            );
        cards = cards.child(fs);
    }
    cards = cards.child(
        el("div")
            .cls("row")
            .child(
                el("label")
                    .attr("for", "new-card-type")
                    .cls("sr-only")
                    .text("Type of the new card"),
            )
            .child(crate::dom::select("new-card-type", "message", &CARD_TYPES))
            .child(
                el("button")
                    .attr("type", "button")
                    .act("add-card")
                    .text("+ Add card"),
            ),
    );
    let ids = el("datalist").id("card-ids").children(
        list.iter()
            .filter_map(|c| c["id"].as_str())
            .map(|i| el("option").attr("value", i)),
    );
    let fields = el("datalist")
        .id("field-names")
        .children(FIELDS.iter().map(|f| el("option").attr("value", f)));
    let left = el("div")
        .child(basics)
        .child(targeting)
        .child(cards)
        .child(ids)
        .child(fields);

    // Right: problems, versions, preview, JSON, Marketo.
    let problems = el("section")
        .cls("box")
        .attr("aria-labelledby", "diag-h")
        .child(el("h2").id("diag-h").text("Problems"))
        .child(
            el("div")
                .id("diag-panel")
                .attr("aria-live", "polite")
                .child(diag_summary(&s.diags)),
        );
    let mut versions = el("section")
        .cls("box")
        .attr("aria-labelledby", "ver-h")
        .child(el("h2").id("ver-h").text("Version history"));
    let mine: Vec<&Value> = id
        .as_ref()
        .map(|i| {
            s.versions
                .iter()
                .filter(|v| v["dialogue"].as_str() == Some(i))
                .collect()
        })
        .unwrap_or_default();
    if mine.is_empty() {
        versions = versions.child(
            el("p")
                .cls("hint")
                .text("Publishing creates the first version."),
        );
    } else {
        let mut ol = el("ol").attr("reversed", "");
        for (n, v) in mine.iter().enumerate().rev() {
            let h = v["hash"].as_str().unwrap_or("");
            let when = crate::format::date_time(v["created_at"].as_f64().unwrap_or(0.0));
            let mut li = el("li")
                .cls("row")
                .child(el("strong").text(&format!("Version {}", n + 1)))
                .child(el("code").text(&h[..h.len().min(10)]))
                .child(el("span").cls("hint").text(&when));
            if v["live"] == 1 {
                li = li.child(el("span").cls("pill ok").text("Live"));
            } else {
                li = li.child(
                    el("button")
                        .attr("type", "button")
                        .cls("small")
                        .act(&format!("rollback:{h}"))
                        .attr(
                            "aria-label",
                            &format!("Roll back to version {}", &h[..h.len().min(10)]),
                        )
                        .text("Roll back to this"),
                );
            }
            li = li.child(
                el("button")
                    .attr("type", "button")
                    .cls("small")
                    .act(&format!("loadver:{h}"))
                    .attr(
                        "aria-label",
                        &format!("Open version {} in the editor", &h[..h.len().min(10)]),
                    )
                    .text("Open"),
            );
            ol = ol.child(li);
        }
        versions = versions.child(ol);
        if live.is_some() {
            versions = versions.child(
                el("button")
                    .attr("type", "button")
                    .cls("small danger")
                    .act("unpublish")
                    .text("Unpublish (pause)"),
            );
        }
    }
    let pages_opts = [
        ("/site/pricing.html", "Pricing page"),
        ("/site/index.html", "Home page"),
        ("/site/product.html", "Product page"),
        (
            "/site/index.html?utm_campaign=spring-launch",
            "Home, spring campaign link",
        ),
        ("/site/contact.html", "Contact page"),
    ];
    let preview = el("section")
        .cls("box")
        .attr("aria-labelledby", "prev-h")
        .child(el("h2").id("prev-h").text("Live preview"))
        .child(el("p").cls("hint").text(if s.preview_published {
            "The demo site with the real widget, as visitors get it: the published dialogues and their targeting. Reset the visitor to see a first visit."
        } else {
            "The demo site with the real widget running this draft (not published), opened at once whatever its targeting. Nothing is stored or sent to Marketo; meeting slots are real, bookings are not. Reload after editing."
        }))
        .child(el("div").cls("row")
            .child(el("label").attr("for", "preview-mode").cls("sr-only").text("What to preview"))
            .child(crate::dom::select("preview-mode", if s.preview_published { "published" } else { "draft" }, &[("draft", "Draft (unpublished)"), ("published", "Published version")]).attr("data-live", "preview-mode"))
            .child(el("label").attr("for", "preview-page").cls("sr-only").text("Preview page"))
            .child(crate::dom::select("preview-page", &s.preview_page, &pages_opts).attr("data-live", "preview-page"))
            .child(el("button").attr("type", "button").act("preview-reset").text("Reset visitor and reload")))
        .child(if s.preview_on {
            el("iframe").cls("preview").id("preview").attr("title", "Preview of the demo site with the chat widget").attr("src", &preview_src(&s.preview_page, s.preview_published, None))
        } else {
            el("button").attr("type", "button").id("preview-show").act("preview-show").text("Show the preview")
        });
    let json_box = el("section")
        .cls("box")
        .attr("aria-labelledby", "json-h")
        .child(el("h2").id("json-h").text("Import / export JSON"))
        .child(el("label").attr("for", "json-text").text("Dialogue JSON"))
        .child(
            el("textarea")
                .cls("code")
                .id("json-text")
                .attr("spellcheck", "false")
                .value(&serde_json::to_string_pretty(d).unwrap_or_default()),
        )
        .child(
            el("div")
                .cls("row")
                .child(
                    el("button")
                        .attr("type", "button")
                        .act("import-json")
                        .text("Apply JSON to the editor"),
                )
                .child(
                    el("label")
                        .attr("for", "json-file")
                        .text("Import a file")
                        .child(
                            el("input")
                                .id("json-file")
                                .attr("type", "file")
                                .attr("accept", "application/json,.json")
                                .attr("data-live", "import-file"),
                        ),
                ),
        );
    let dm = &s.dialogue_marketo;
    let st = |k: &str| dm["statuses"][k].as_str().unwrap_or("").to_string();
    let marketo = el("section")
        .cls("box")
        .attr("aria-labelledby", "mk-h")
        .child(el("h2").id("mk-h").text("Marketo program"))
        .child(
            el("div")
                .cls("fields")
                .child(crate::dom::input(
                    "Program id",
                    "dm-program",
                    &dm["program_id"]
                        .as_i64()
                        .map(|p| p.to_string())
                        .unwrap_or_default(),
                    "number",
                ))
                .child(crate::dom::input(
                    "Status when engaged",
                    "dm-engaged",
                    &st("engaged"),
                    "text",
                ))
                .child(crate::dom::input(
                    "Status when captured",
                    "dm-captured",
                    &st("captured"),
                    "text",
                ))
                .child(crate::dom::input(
                    "Status when a meeting is booked",
                    "dm-meeting",
                    &st("meeting"),
                    "text",
                )),
        )
        .child(
            el("button")
                .attr("type", "button")
                .act("save-dm")
                .flag("disabled", id.is_none())
                .text("Save program"),
        );
    let right = el("div")
        .child(problems)
        .child(versions)
        .child(preview)
        .child(json_box)
        .child(marketo);
    el("div")
        .child(head)
        .child(el("div").cls("editor-grid").child(left).child(right))
}

fn diag_summary(diags: &[dynchat_engine::Diagnostic]) -> El {
    let errors = diags
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    let warnings = diags.len() - errors;
    if diags.is_empty() {
        return el("p")
            .cls("notice ok")
            .id("diag-status")
            .text("No problems: ready to publish.");
    }
    let head = el("p")
        .cls(if errors > 0 {
            "notice bad"
        } else {
            "notice warn"
        })
        .id("diag-status")
        .text(&format!("{errors} error(s), {warnings} warning(s)"));
    let mut ul = el("ul").cls("diags");
    for d in diags {
        let sev = if d.severity == Severity::Error {
            "Error"
        } else {
            "Warning"
        };
        ul = ul.child(
            el("li")
                .child(
                    el("button")
                        .attr("type", "button")
                        .cls("small")
                        .act(&format!("goto:{}", d.path))
                        .text(&format!("{sev} at {}", d.path)),
                )
                .text(&format!(" {}", d.message)),
        );
    }
    el("div").child(head).child(ul)
}

/// Finds the control (or group) a diagnostic path belongs to, walking up the path.
fn anchor_for(path: &str) -> Option<web_sys::Element> {
    let doc = crate::dom::document();
    let mut p = Some(path.to_string());
    while let Some(cur) = p {
        let sel_in = format!("[data-err-for=\"{}\"]", cur.replace('"', ""));
        if let Ok(Some(e)) = doc.query_selector(&sel_in) {
            return Some(e);
        }
        let sel_grp = format!("[data-err-anchor=\"{}\"]", cur.replace('"', ""));
        if let Ok(Some(e)) = doc.query_selector(&sel_grp) {
            return Some(e);
        }
        p = paths::parent(&cur).map(str::to_string);
    }
    None
}

/// Puts the current diagnostics into the page without re-rendering the form (keeps the caret).
pub fn show_diagnostics() {
    let doc = crate::dom::document();
    let diags = with(|s| s.diags.clone());
    if let Ok(list) = doc.query_selector_all("[data-err-for]") {
        for i in 0..list.length() {
            if let Some(e) = list
                .item(i)
                .and_then(|n| n.dyn_into::<web_sys::Element>().ok())
            {
                e.set_text_content(None);
            }
        }
    }
    if let Ok(list) = doc.query_selector_all("[aria-invalid], .group-err") {
        for i in 0..list.length() {
            if let Some(e) = list
                .item(i)
                .and_then(|n| n.dyn_into::<web_sys::Element>().ok())
            {
                let _ = e.remove_attribute("aria-invalid");
                if e.class_name() == "err group-err" {
                    e.remove();
                }
            }
        }
    }
    for d in &diags {
        let Some(a) = anchor_for(&d.path) else {
            continue;
        };
        let sev = if d.severity == Severity::Error {
            ""
        } else {
            "Warning: "
        };
        if a.has_attribute("data-err-for") {
            let prev = a.text_content().unwrap_or_default();
            a.set_text_content(Some(&format!(
                "{prev}{}{sev}{}",
                if prev.is_empty() { "" } else { " " },
                d.message
            )));
            if d.severity == Severity::Error {
                if let Some(ctrl) = a
                    .parent_element()
                    .and_then(|p| p.query_selector("[data-path]").ok().flatten())
                {
                    let _ = ctrl.set_attribute("aria-invalid", "true");
                }
            }
        } else {
            let note = el("p")
                .cls("err group-err")
                .text(&format!("{sev}{} ({})", d.message, d.path));
            let _ = a.prepend_with_node_1(&note.0);
        }
    }
    if let Some(panel) = doc.get_element_by_id("diag-panel") {
        panel.set_inner_html("");
        let _ = panel.append_child(&diag_summary(&diags).0);
    }
    if let Some(t) = doc
        .get_element_by_id("json-text")
        .and_then(|t| t.dyn_into::<web_sys::HtmlTextAreaElement>().ok())
    {
        if doc.active_element().map(|a| a.id()) != Some("json-text".into()) {
            t.set_value(&with(|s| {
                serde_json::to_string_pretty(&s.draft).unwrap_or_default()
            }));
        }
    }
}

fn parse_value(raw: &str, op: &str) -> Option<Value> {
    let raw = raw.trim();
    if raw.is_empty() {
        return None;
    }
    if op == "in_list" {
        return Some(Value::Array(
            raw.split(',')
                .map(|x| x.trim())
                .filter(|x| !x.is_empty())
                .map(|x| json!(x))
                .collect(),
        ));
    }
    if let Ok(n) = raw.parse::<i64>() {
        return Some(json!(n));
    }
    if let Ok(f) = raw.parse::<f64>() {
        return Some(json!(f));
    }
    match raw {
        "true" => Some(json!(true)),
        "false" => Some(json!(false)),
        _ => Some(json!(raw)),
    }
}

/// An edit in a bound control.
pub fn on_input(t: &web_sys::Element, is_change: bool) {
    let path = t.get_attribute("data-path").unwrap_or_default();
    let kind = t.get_attribute("data-kind").unwrap_or_default();
    let raw = if let Some(i) = t.dyn_ref::<web_sys::HtmlInputElement>() {
        if i.type_() == "checkbox" {
            i.checked().to_string()
        } else {
            i.value()
        }
    } else if let Some(x) = t.dyn_ref::<web_sys::HtmlTextAreaElement>() {
        x.value()
    } else if let Some(x) = t.dyn_ref::<web_sys::HtmlSelectElement>() {
        x.value()
    } else {
        return;
    };
    // Selects change the structure (card type, route kind, operator): apply on change only.
    if t.tag_name() == "SELECT" && !is_change {
        return;
    }
    let structural = matches!(kind.as_str(), "type" | "route-kind");
    with(|s| {
        let d = &mut s.draft;
        match kind.as_str() {
            "str" => paths::set(d, &path, Some(json!(raw))),
            "opt" => paths::set(
                d,
                &path,
                if raw.is_empty() {
                    None
                } else {
                    Some(json!(raw))
                },
            ),
            "num" => paths::set(
                d,
                &path,
                if raw.trim().is_empty() {
                    None
                } else {
                    Some(
                        raw.trim()
                            .parse::<i64>()
                            .map(|n| json!(n))
                            .unwrap_or_else(|_| json!(raw)),
                    )
                },
            ),
            "bool" => paths::set(d, &path, Some(json!(raw == "true"))),
            "value" => {
                let op = paths::text(
                    d,
                    &paths::parent(&path)
                        .map(|p| format!("{p}.op"))
                        .unwrap_or_default(),
                );
                paths::set(d, &path, parse_value(&raw, &op));
            }
            "type" => {
                let card = paths::parent(&path).unwrap_or("$").to_string();
                let id = paths::text(d, &format!("{card}.id"));
                paths::set(d, &card, Some(card_template(&raw, &id)));
            }
            "route-kind" => paths::set(d, &path, Some(json!({ raw: "" }))),
            _ => {}
        }
    });
    recompile();
    if structural {
        render();
    } else {
        show_diagnostics();
    }
}

/// Whether `name` is an editor action.
pub fn handles(name: &str) -> bool {
    matches!(
        name,
        "add-card"
            | "del"
            | "up"
            | "down"
            | "add-cond"
            | "add-group"
            | "add-button"
            | "add-rule"
            | "toggle-free"
            | "publish"
            | "export"
            | "import-json"
            | "import-file"
            | "rollback"
            | "loadver"
            | "unpublish"
            | "goto"
            | "preview-page"
            | "preview-mode"
            | "preview-reset"
            | "preview-show"
            | "save-dm"
    )
}

fn structural(f: impl FnOnce(&mut Value)) {
    with(|s| f(&mut s.draft));
    recompile();
    render();
    show_diagnostics();
}

/// Runs an editor action.
pub fn action(name: &str, arg: &str) {
    let arg = arg.to_string();
    match name {
        "add-card" => {
            let t = crate::dom::value_of("new-card-type");
            let mut new_id = String::new();
            structural(|d| {
                let n = d["cards"].as_array().map(Vec::len).unwrap_or(0);
                let mut i = n + 1;
                while d["cards"]
                    .as_array()
                    .is_some_and(|a| a.iter().any(|c| c["id"] == format!("{t}-{i}")))
                {
                    i += 1;
                }
                new_id = format!("{t}-{i}");
                paths::push(d, "$.cards", card_template(&t, &new_id));
            });
            let n = with(|s| s.draft["cards"].as_array().map(Vec::len).unwrap_or(1)) - 1;
            crate::dom::focus(&field_id(&format!("$.cards[{n}].id")));
        }
        "del" => structural(|d| paths::set(d, &arg, None)),
        "up" | "down" => {
            let mut moved = None;
            structural(|d| moved = paths::shift(d, &arg, if name == "up" { -1 } else { 1 }));
            if let Some(p) = moved {
                crate::dom::focus(&field_id(&format!("{p}.id")));
            }
        }
        "add-cond" => structural(|d| {
            paths::push(
                d,
                &arg,
                json!({"field": "page.url", "op": "contains", "value": ""}),
            )
        }),
        "add-group" => structural(|d| {
            paths::push(
                d,
                &arg,
                json!({"any": [{"field": "page.device", "op": "is", "value": "mobile"}]}),
            )
        }),
        "add-button" => structural(|d| {
            paths::push(d, &format!("{arg}.buttons"), json!({"label": "New option"}))
        }),
        "add-rule" => structural(|d| {
            paths::push(
                d,
                &format!("{arg}.rules"),
                json!({"when": {"all": [{"field": "lead.email", "op": "is_not_empty"}]}, "next": ""}),
            )
        }),
        "toggle-free" => structural(|d| {
            let p = format!("{arg}.free_text");
            let on = paths::get(d, &p).is_some();
            paths::set(
                d,
                &p,
                if on {
                    None
                } else {
                    Some(json!({"placeholder": "Type your answer"}))
                },
            );
        }),
        "goto" => {
            if let Some(a) = anchor_for(&arg) {
                let target = a
                    .parent_element()
                    .and_then(|p| p.query_selector("[data-path]").ok().flatten())
                    .or_else(|| a.query_selector("[data-path]").ok().flatten());
                if let Some(h) = target.and_then(|t| t.dyn_into::<web_sys::HtmlElement>().ok()) {
                    let _ = h.focus();
                }
            }
        }
        "export" => {
            let (id, text) = with(|s| {
                (
                    s.draft["id"].as_str().unwrap_or("dialogue").to_string(),
                    serde_json::to_string_pretty(&s.draft).unwrap_or_default(),
                )
            });
            api::download(&format!("{id}.json"), "application/json", &(text + "\n"));
        }
        "import-json" => import_text(&crate::dom::value_of("json-text")),
        "import-file" => {
            let file = crate::dom::document()
                .get_element_by_id("json-file")
                .and_then(|e| e.dyn_into::<web_sys::HtmlInputElement>().ok())
                .and_then(|i| i.files())
                .and_then(|f| f.get(0));
            if let Some(f) = file {
                spawn_local(async move {
                    let text = wasm_bindgen_futures::JsFuture::from(f.text())
                        .await
                        .ok()
                        .and_then(|t| t.as_string())
                        .unwrap_or_default();
                    import_text(&text);
                });
            }
        }
        "publish" => spawn_local(publish()),
        "rollback" => spawn_local(rollback(arg)),
        "loadver" => spawn_local(async move {
            let a = api::call("GET", &format!("/v1/sites/{SITE}/flows/{arg}"), None).await;
            if a.ok() {
                with(|s| s.draft = a.body["dialogue"].clone());
                recompile();
                crate::notice(
                    true,
                    format!(
                        "Version {} is in the editor. Publish to make it live again.",
                        &arg[..arg.len().min(10)]
                    ),
                );
                show_diagnostics();
            } else {
                crate::notice(false, a.error());
            }
        }),
        "unpublish" => spawn_local(async {
            let Some(id) = with(|s| s.draft_id.clone()) else {
                return;
            };
            let a = api::call(
                "DELETE",
                &format!("/admin/sites/{SITE}/dialogues/{id}"),
                None,
            )
            .await;
            refresh_versions().await;
            crate::notice(
                a.ok(),
                if a.ok() {
                    "Unpublished: new visitors no longer see this dialogue.".to_string()
                } else {
                    a.error()
                },
            );
            show_diagnostics();
        }),
        "preview-show" => {
            with(|s| s.preview_on = true);
            render();
            show_diagnostics();
        }
        "preview-page" => {
            let p = crate::dom::value_of("preview-page");
            with(|s| s.preview_page = p.clone());
            reload_preview(&p);
        }
        "preview-mode" => {
            let published = crate::dom::value_of("preview-mode") == "published";
            with(|s| s.preview_published = published);
            render();
            show_diagnostics();
        }
        "preview-reset" => {
            if let Some(st) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) {
                let n = st.length().unwrap_or(0);
                let keys: Vec<String> = (0..n)
                    .filter_map(|i| st.key(i).ok().flatten())
                    .filter(|k| k.starts_with("dynchat:"))
                    .collect();
                for k in keys {
                    let _ = st.remove_item(&k);
                }
            }
            let p = with(|s| s.preview_page.clone());
            reload_preview(&p);
        }
        "save-dm" => spawn_local(async {
            let Some(id) = with(|s| s.draft_id.clone()) else {
                return;
            };
            let program = crate::dom::value_of("dm-program");
            let body = json!({
                "program_id": program.trim().parse::<i64>().ok(),
                "statuses": {"engaged": crate::dom::value_of("dm-engaged"), "captured": crate::dom::value_of("dm-captured"), "meeting": crate::dom::value_of("dm-meeting")}
            });
            let a = api::call(
                "PUT",
                &format!("/admin/console/sites/{SITE}/dialogues/{id}/marketo"),
                Some(&body),
            )
            .await;
            if a.ok() {
                with(|s| s.dialogue_marketo = a.body.clone());
            }
            crate::notice(
                a.ok(),
                if a.ok() {
                    "Marketo program saved.".to_string()
                } else {
                    a.error()
                },
            );
            show_diagnostics();
        }),
        _ => {}
    }
}

fn reload_preview(p: &str) {
    if let Some(f) = crate::dom::document()
        .get_element_by_id("preview")
        .and_then(|e| e.dyn_into::<web_sys::HtmlIFrameElement>().ok())
    {
        // A unique query makes the frame load again even for the same page.
        let published = with(|s| s.preview_published);
        f.set_src(&preview_src(p, published, Some(js_sys::Date::now() as u64)));
    }
}

fn import_text(text: &str) {
    match serde_json::from_str::<Value>(text) {
        Ok(v) if v.is_object() => {
            with(|s| s.draft = v);
            recompile();
            crate::notice(true, "JSON applied to the editor.");
            show_diagnostics();
        }
        Ok(_) => crate::notice(false, "The JSON must be one dialogue object."),
        Err(e) => crate::notice(false, format!("Not valid JSON: {e}")),
    }
}

async fn refresh_versions() {
    let a = api::call("GET", &format!("/admin/sites/{SITE}/dialogues"), None).await;
    if a.ok() {
        with(|s| s.versions = a.body["versions"].as_array().cloned().unwrap_or_default());
    }
}

async fn publish() {
    recompile();
    let (errors, draft) = with(|s| {
        (
            s.diags
                .iter()
                .filter(|d| d.severity == Severity::Error)
                .count(),
            s.draft.clone(),
        )
    });
    if errors > 0 {
        crate::notice(
            false,
            format!("Fix the {errors} error(s) listed under Problems before publishing."),
        );
        show_diagnostics();
        crate::dom::focus("diag-status");
        return;
    }
    let a = api::call(
        "POST",
        &format!("/admin/sites/{SITE}/dialogues"),
        Some(&draft),
    )
    .await;
    if !a.ok() {
        crate::notice(false, format!("Publish failed: {}", a.error()));
        show_diagnostics();
        return;
    }
    let id = a.body["id"].as_str().unwrap_or("").to_string();
    let hash = a.body["hash"].as_str().unwrap_or("").to_string();
    refresh_versions().await;
    let was_new = with(|s| {
        let new = s.draft_id.as_deref() != Some(&id);
        s.draft_id = Some(id.clone());
        new
    });
    crate::notice(
        true,
        format!(
            "Published {id}: version {} is live for new visitors.",
            &hash[..hash.len().min(10)]
        ),
    );
    show_diagnostics();
    if was_new {
        // Keep the draft: the hash route would reload it from the live version, which is the same.
        with(|s| s.keep_notice = true);
        crate::go(&format!("#/dialogues/{id}"));
    }
}

async fn rollback(hash: String) {
    let Some(id) = with(|s| s.draft_id.clone()) else {
        return;
    };
    let a = api::call(
        "POST",
        &format!("/admin/sites/{SITE}/dialogues/{id}/publish"),
        Some(&json!({"hash": hash})),
    )
    .await;
    if a.ok() {
        let f = api::call("GET", &format!("/v1/sites/{SITE}/flows/{hash}"), None).await;
        if f.ok() {
            with(|s| s.draft = f.body["dialogue"].clone());
            recompile();
        }
    }
    refresh_versions().await;
    crate::notice(
        a.ok(),
        if a.ok() {
            format!("Rolled back: version {} is live for new visitors; conversations in progress finish on their version.", &hash[..hash.len().min(10)])
        } else {
            a.error()
        },
    );
    show_diagnostics();
}

/// Data for the Reports page.
#[derive(Default)]
pub struct Reports {
    pub from: String,
    pub to: String,
    pub range_error: Option<String>,
    pub days: Vec<Value>,
    pub stats: Value,
    pub waiting: Vec<Value>,
    pub dead: Vec<Value>,
    pub gate: Value,
}
