//! The Configuration page: the widget's look, privacy and blocklist, with a live preview of the panel.

use crate::api;
use crate::dom::{checkbox, el, input, select, title, value_of, El};
use crate::store::{notice, with, State, SITE};
use dynchat_engine::i18n::LANGS;
use serde_json::{json, Value};

/// Loads the site record.
pub async fn load_config() {
    let a = api::call("GET", &format!("/admin/sites/{SITE}"), None).await;
    if a.ok() {
        with(|s| s.site = a.body);
    } else {
        notice(false, a.error());
    }
}

pub(super) fn cfg_str(c: &Value, k: &str, d: &str) -> String {
    c[k].as_str().unwrap_or(d).to_string()
}

pub(super) fn config(s: &State) -> El {
    let c = &s.site["config"];
    let origins = s.site["allowed_origins"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default();
    let block = c["email_blocklist"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default();
    let look = el("section")
        .cls("box")
        .attr("aria-labelledby", "look-h")
        .child(el("h2").id("look-h").text("Look and feel"))
        .child(
            el("div")
                .cls("fields")
                .child(
                    input(
                        "Bot name",
                        "c-bot_name",
                        &cfg_str(c, "bot_name", "Assistant"),
                        "text",
                    )
                    .attr("data-live", "cfg-preview"),
                )
                .child(input(
                    "Avatar URL",
                    "c-avatar_url",
                    &cfg_str(c, "avatar_url", ""),
                    "url",
                ))
                .child(input(
                    "Font (or inherit)",
                    "c-font",
                    &cfg_str(c, "font", "inherit"),
                    "text",
                ))
                .child(input(
                    "Primary colour",
                    "c-primary_color",
                    &cfg_str(c, "primary_color", "#1d4ed8"),
                    "color",
                ))
                .child(
                    el("label")
                        .attr("for", "c-position")
                        .text("Launcher position")
                        .child(select(
                            "c-position",
                            &cfg_str(c, "position", "right"),
                            &[("right", "Bottom right"), ("left", "Bottom left")],
                        )),
                )
                .child(
                    el("label")
                        .attr("for", "c-dark_mode")
                        .text("Dark mode")
                        .child(select(
                            "c-dark_mode",
                            &cfg_str(c, "dark_mode", "auto"),
                            &[
                                ("auto", "Follow the visitor's system"),
                                ("light", "Always light"),
                                ("dark", "Always dark"),
                            ],
                        )),
                )
                .child(language(c))
                .child(input(
                    "Welcome message",
                    "c-welcome",
                    &cfg_str(c, "welcome", ""),
                    "text",
                ))
                .child(input(
                    "Privacy policy URL",
                    "c-privacy_url",
                    &cfg_str(c, "privacy_url", ""),
                    "url",
                )),
        )
        .child(
            el("div")
                .cls("row")
                .child(checkbox(
                    "Sound on new messages",
                    "c-sound",
                    c["sound"] == true,
                ))
                .child(checkbox(
                    "Keep the launcher after a conversation",
                    "c-launcher_always",
                    c["launcher_always"] == true,
                ))
                .child(checkbox(
                    "Open the panel when a dialogue triggers",
                    "c-auto_open",
                    c["auto_open"] == true,
                )),
        );
    let preview = el("section")
        .cls("box")
        .attr("aria-labelledby", "mock-h")
        .child(el("h2").id("mock-h").text("Preview"))
        .child(el("div").id("cfg-mock").child(mock(c)))
        .child(
            el("button")
                .attr("type", "button")
                .cls("small")
                .act("cfg-preview")
                .text("Refresh preview"),
        );
    let privacy = el("section")
        .cls("box")
        .attr("aria-labelledby", "priv-h")
        .child(el("h2").id("priv-h").text("Embedding, privacy and leads"))
        .child(el("label").attr("for", "c-origins").text("Allowed embed origins (one per line)").child(el("textarea").id("c-origins").value(&origins)))
        .child(el("p").cls("hint").text("Only pages on these origins can send events and leads, e.g. https://www.northwind.example"))
        .child(el("label").attr("for", "c-blocklist").text("Blocked email domains (one per line)").child(el("textarea").id("c-blocklist").value(&block)))
        .child(el("label").attr("for", "c-consent").text("Consent mode").child(select("c-consent", if c["consent_required"] == true { "required" } else { "none" }, &[("none", "No consent needed (store visitor state)"), ("required", "Wait for consent: store nothing until dynchat.consent(true)")])));
    let origin = web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .unwrap_or_default();
    let tag =
        format!("<script src=\"{origin}/widget/loader.js\" data-site=\"{SITE}\" async></script>");
    let snippet = el("section")
        .cls("box")
        .attr("aria-labelledby", "tag-h")
        .child(el("h2").id("tag-h").text("Script tag"))
        .child(
            el("p")
                .cls("hint")
                .text("Paste it before </body> on every page of the site."),
        )
        .child(el("pre").cls("snippet").id("script-tag").text(&tag))
        .child(
            el("button")
                .attr("type", "button")
                .act("copy-tag")
                .text("Copy script tag"),
        );
    el("div")
        .child(
            el("div")
                .cls("row spread")
                .child(title(
                    "Configuration",
                    "How the widget looks and where it may run.",
                ))
                .child(
                    el("button")
                        .attr("type", "button")
                        .cls("primary")
                        .act("save-config")
                        .text("Save configuration"),
                ),
        )
        .child(
            el("div")
                .cls("grid2")
                .child(el("div").child(look).child(privacy))
                .child(el("div").child(preview).child(snippet)),
        )
}

pub(super) fn valid_colour(c: &str) -> bool {
    (c.len() == 7 || c.len() == 4)
        && c.starts_with('#')
        && c[1..].chars().all(|x| x.is_ascii_hexdigit())
}

/// The preview's brand colour and the text colour on it: the widget's rule
/// (`dynchat_engine::rules::text_on_brand`), so the preview shows what visitors will see.
pub(super) fn mock_colours(c: &Value) -> (String, &'static str) {
    let colour = c["primary_color"]
        .as_str()
        .filter(|x| valid_colour(x))
        .unwrap_or("#1d4ed8")
        .to_string();
    let text_on = dynchat_engine::rules::text_on_brand(&colour).unwrap_or("#ffffff");
    (colour, text_on)
}

pub(super) fn mock(c: &Value) -> El {
    let (colour, text_on) = mock_colours(c);
    let name = c["bot_name"].as_str().unwrap_or("Assistant").to_string();
    let dark = c["dark_mode"] == "dark";
    el("div")
        .cls(if dark { "mock dark" } else { "mock" })
        .attr("role", "img")
        .attr(
            "aria-label",
            &format!("Chat panel preview: {name}, colour {colour}"),
        )
        .child(
            el("div")
                .cls("head")
                .css("background", &colour)
                .css("color", text_on)
                .child(
                    el("span")
                        .cls("avatar")
                        .css("color", &colour)
                        .text(&name.chars().next().unwrap_or('A').to_string()),
                )
                .text(&name),
        )
        .child(
            el("div")
                .cls("body")
                .child(
                    el("div").cls("bubble").text(
                        c["welcome"]
                            .as_str()
                            .filter(|w| !w.is_empty())
                            .unwrap_or("Hi! Can I help you find the right plan?"),
                    ),
                )
                .child(
                    el("div")
                        .cls("btns")
                        .child(
                            el("span")
                                .css("background", &colour)
                                .css("color", text_on)
                                .text("Compare plans"),
                        )
                        .child(
                            el("span")
                                .css("border", &format!("1px solid {colour}"))
                                .text("Talk to sales"),
                        ),
                ),
        )
}

/// A shipped language's own name (the select's labels); the list is the engine's `LANGS`.
fn language_name(code: &str) -> &str {
    match code {
        "en" => "English",
        "de" => "Deutsch",
        "fr" => "Français",
        "nl" => "Nederlands",
        "es" => "Español",
        "ja" => "日本語",
        "ar" => "العربية",
        other => other,
    }
}

/// The widget's language (`config.language`): a shipped one, or "auto" (the page decides).
fn language(c: &Value) -> El {
    let mut options: Vec<(&str, &str)> = vec![("auto", "Follow the page (auto)")];
    options.extend(LANGS.iter().map(|l| (*l, language_name(l))));
    el("div")
        .child(
            el("label")
                .attr("for", "c-language")
                .text("Language of the chat")
                .child(
                    select("c-language", &cfg_str(c, "language", "en"), &options)
                        .attr("aria-describedby", "c-language-hint"),
                ),
        )
        .child(el("span").cls("hint").id("c-language-hint").text(
            "Follow the page (auto): the page's <html lang>, else the visitor's browser, else English.",
        ))
}

pub(super) fn config_from_form(site: &Value) -> Value {
    let mut c = site["config"].as_object().cloned().unwrap_or_default();
    for k in [
        "bot_name",
        "avatar_url",
        "font",
        "primary_color",
        "welcome",
        "privacy_url",
        "position",
        "dark_mode",
    ] {
        let v = value_of(&format!("c-{k}"));
        if v.trim().is_empty() {
            c.remove(k);
        } else {
            c.insert(k.into(), json!(v.trim()));
        }
    }
    // English is the default: a site without a language keeps none until another is chosen.
    let lang = value_of("c-language");
    if !(lang.is_empty() || lang == "en" && !c.contains_key("language")) {
        c.insert("language".into(), json!(lang));
    }
    for k in ["sound", "launcher_always", "auto_open"] {
        c.insert(k.into(), json!(value_of(&format!("c-{k}")) == "true"));
    }
    c.insert(
        "consent_required".into(),
        json!(value_of("c-consent") == "required"),
    );
    let block: Vec<String> = value_of("c-blocklist")
        .lines()
        .map(|l| l.trim().trim_start_matches('@').to_ascii_lowercase())
        .filter(|l| !l.is_empty())
        .collect();
    c.insert("email_blocklist".into(), json!(block));
    Value::Object(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preview_picks_the_widgets_readable_text() {
        // The widget's answers (engine/web style.rs `brand`, engine/core/tests/rules.rs).
        for (colour, want) in [
            ("#3b82f6", "#111827"),
            ("#ef4444", "#111827"),
            ("#f97316", "#111827"),
            ("#1d4ed8", "#ffffff"),
            ("#ffffff", "#111827"),
            ("#000000", "#ffffff"),
        ] {
            let (c, on) = mock_colours(&serde_json::json!({ "primary_color": colour }));
            assert_eq!((c.as_str(), on), (colour, want), "{colour}");
        }
        assert_eq!(
            mock_colours(&serde_json::json!({ "primary_color": "red" })),
            ("#1d4ed8".to_string(), "#ffffff")
        );
        assert!(valid_colour("#abc") && !valid_colour("red"));
    }
}
