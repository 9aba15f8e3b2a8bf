//! The editor page: the card list, the selected card's form, the preview and the versions.

use super::cards::*;
use super::conditions::audience;
use super::diagnostics::*;
use super::form::*;
use crate::dom::{el, El};
use serde_json::Value;

/// The preview frame's address: the chosen demo page, in draft mode with the loader's flag.
pub(super) fn preview_src(page: &str, published: bool, bust: Option<u64>) -> String {
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
pub fn view(s: &crate::store::State) -> El {
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
            .children(card_fields(&p, c, d, &s.editor_queues))
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
        .children(fields().iter().map(|f| el("option").attr("value", f)));
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
