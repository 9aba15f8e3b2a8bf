//! The launcher and the welcome bubble: their markup (one spec for the chat module's view and the loader's light launcher) and the pieces the worker resolves for the loader.
//!
//! A visitor who never opens the chat does not load the chat module: when a dialogue matches,
//! the loader shows the launcher and the welcome bubble from [`launcher`] (in the bundle, made
//! by the worker from the site's config), and the chat module, fetched on intent, builds the same
//! [`SPEC`] with the same texts and the same stylesheet head ([`crate::style::launcher_css`]),
//! and replaces them (docs/widget.md, "The launcher first").

use crate::html::escape;
use crate::i18n::{self, fill};
use crate::json::Out;
use crate::spec::{value, walk};
use crate::style::{launcher_css, Config};

/// The welcome bubble and the launcher, in the view's spec form ([`crate::spec`]; written as DOM
/// by engine/web `view::build`, as markup by [`html`]). Arguments: 0 the welcome text, 1 the launcher's label ("Chat with .."), 8 not empty
/// for a hidden bubble, 9 not empty for the launcher's `aria-controls` (the panel, which only
/// the chat module has); 2 to 7 are the panel's, which the view's skeleton puts before this one
/// (`concat!` it there with [`launcher_spec!`]). Kept: the bubble, the launcher.
#[macro_export]
macro_rules! launcher_spec {
    () => {
        concat!(
            "<div|.poke|?$8|@hidden=|!|<button|.poke-open|\"$0|@type=button|@data-a=o|>|",
            "<button|.x|\"×|@type=button|@aria-label=%ui.dismiss|@data-a=p|>|>|",
            "<button|.launcher|@type=button|@aria-label=$1|@aria-expanded=false|",
            "?$9|@aria-controls=dc-panel|@data-a=o|!|^svg|@viewBox=0 0 24 24|@aria-hidden=true|^path|",
            "@d=M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2zm3 6.5a1.5 1.5 0 1 0 0 .01zm5 0a1.5 1.5 0 1 0 0 .01zm5 0a1.5 1.5 0 1 0 0 .01z"
        )
    };
}

/// [`launcher_spec!`] as a constant.
pub const SPEC: &str = launcher_spec!();

/// The welcome bubble's text in `lang`: the site's `welcome`, else the catalogue's.
pub fn welcome(c: &Config, lang: &str) -> String {
    match c.welcome.as_deref().filter(|w| !w.trim().is_empty()) {
        Some(w) => w.to_string(),
        None => i18n::message(lang, "ui.welcome"),
    }
}

/// The launcher's label in `lang` ("Chat with {bot}").
pub fn label(c: &Config, lang: &str) -> String {
    fill(
        &i18n::message(lang, "ui.chat_with"),
        &[("bot", &c.bot_name)],
    )
}

/// The bundle's `launcher` for the site's `config` (JSON): `{"css", "data-theme", "data-side"}`
/// (the stylesheet's head, [`launcher_css`], which the chat module completes with its panel's
/// rules, and the host element's attributes, by their names) and, unless the page decides the language (`language:
/// auto`: the page's `lang` and the browser's languages, which the worker does not see) or the
/// chat opens by itself (`auto_open`), `"html"`, `"lang"`, `"dir"`: the bubble and the launcher
/// as markup, as the chat module draws them for a new conversation (the loader shows them
/// until the visitor shows intent; `lang` and `dir` are the host's attributes too).
pub fn launcher(config_json: &str) -> String {
    let c = Config::from_json(config_json);
    let mut o = Out::new();
    o.str("css", &launcher_css(&c))
        .str("data-theme", c.theme())
        .str("data-side", c.side());
    let setting = c.language.as_deref().map(str::trim);
    if !c.auto_open && !setting.is_some_and(|l| l.eq_ignore_ascii_case("auto")) {
        let lang = c.lang("", &[]);
        let dir = if i18n::is_rtl(lang) { "rtl" } else { "ltr" };
        let (welcome, label) = (welcome(&c, lang), label(&c, lang));
        let args = [&*welcome, &label, "", "", "", "", "", "", "", ""];
        o.str("html", &html(lang, SPEC, &args))
            .str("lang", lang)
            .str("dir", dir);
    }
    o.finish()
}

/// An element being written: its tag, its attributes and what it holds.
struct El {
    tag: String,
    attrs: Vec<(String, String)>,
    kids: String,
}

/// `spec` (see [`SPEC`]) as HTML markup, every value escaped and quoted only where it must be,
/// end tags the parser implies left out: the same elements, attributes and text the chat
/// module's view builds from it (SVG elements are in the SVG namespace by the HTML
/// parser's rules for `<svg>`).
pub fn html(lang: &str, spec: &str, args: &[&str]) -> String {
    let mut open: Vec<El> = Vec::new();
    let mut out = String::new();
    walk(spec, args, lang, |op, v| match op {
        b'<' | b'^' => open.push(El {
            tag: v.to_string(),
            attrs: Vec::new(),
            kids: String::new(),
        }),
        b'>' => close(&mut open, &mut out),
        _ => {
            let Some(el) = open.last_mut() else {
                return;
            };
            match op {
                b'.' => set(&mut el.attrs, "class", value(v, args, lang).into_owned()),
                b'@' => {
                    let (name, val) = v.split_once('=').unwrap_or((v, ""));
                    set(&mut el.attrs, name, value(val, args, lang).into_owned());
                }
                b'"' => el.kids = escape(&value(v, args, lang)),
                b'+' => el.kids.push_str(&escape(&value(v, args, lang))),
                _ => {}
            }
        }
    });
    while !open.is_empty() {
        close(&mut open, &mut out);
    }
    // The parser closes what is still open at the end, and a `<button>` closes an open button:
    // so does the end tag of an element around it: those end tags are left out (the same DOM).
    while let Some(s) = ["</path>", "</svg>", "</button>"]
        .iter()
        .find_map(|t| out.strip_suffix(t))
    {
        out.truncate(s.len());
    }
    out.replace("</button><button", "<button")
        .replace("</button></div>", "</div>")
}

/// Writes the innermost open element into its parent (or `out`).
fn close(open: &mut Vec<El>, out: &mut String) {
    let Some(el) = open.pop() else {
        return;
    };
    let mut s = ["<", &el.tag].concat();
    for (k, v) in &el.attrs {
        s.push_str(&[" ", k].concat());
        // Quotes only where the value needs them (HTML's unquoted attribute value syntax).
        if v.contains(|c: char| c.is_ascii_whitespace() || "\"'=<>`&".contains(c)) {
            s.push_str(&["=\"", &escape(v), "\""].concat());
        } else if !v.is_empty() {
            s.push_str(&["=", v].concat());
        }
    }
    s.push_str(&[">", &el.kids, "</", &el.tag, ">"].concat());
    match open.last_mut() {
        Some(parent) => parent.kids.push_str(&s),
        None => out.push_str(&s),
    }
}

/// Sets an attribute (a second value replaces the first, as `setAttribute` does).
fn set(attrs: &mut Vec<(String, String)>, name: &str, v: String) {
    match attrs.iter_mut().find(|(k, _)| k == name) {
        Some(a) => a.1 = v,
        None => attrs.push((name.to_string(), v)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_launcher_as_markup_with_escaped_texts() {
        let j = launcher(
            r##"{"bot_name":"Ava","primary_color":"#1d4ed8","welcome":"<b>Hi</b> & \"you\""}"##,
        );
        let j = crate::json::parse(&j).unwrap_or(crate::json::J::Null);
        let html = j.get("html").and_then(crate::json::J::str).unwrap_or("");
        assert!(html.starts_with(r#"<div class=poke><button class=poke-open type=button data-a=o>&lt;b&gt;Hi&lt;/b&gt; &amp; &quot;you&quot;<button class=x type=button aria-label="Dismiss message" data-a=p>×</div>"#), "{html}");
        assert!(html.ends_with(r#"<button class=launcher type=button aria-label="Chat with Ava" aria-expanded=false data-a=o><svg viewBox="0 0 24 24" aria-hidden=true><path d="M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2zm3 6.5a1.5 1.5 0 1 0 0 .01zm5 0a1.5 1.5 0 1 0 0 .01zm5 0a1.5 1.5 0 1 0 0 .01z">"#), "{html}");
        assert!(
            !html.contains(" hidden=") && !html.contains("aria-controls"),
            "{html}"
        );
        let css = j.get("css").and_then(crate::json::J::str).unwrap_or("");
        assert!(
            css.starts_with(":host{all:initial;--p:#1d4ed8;--o:#ffffff;")
                && css.contains(".launcher{")
        );
        assert_eq!(j.get("lang").and_then(crate::json::J::str), Some("en"));
    }

    #[test]
    fn a_bot_name_cannot_leave_its_attribute() {
        let j = launcher(r#"{"bot_name":"\"><img src=x onerror=alert(1)>'"}"#);
        let j = crate::json::parse(&j).unwrap_or(crate::json::J::Null);
        let html = j.get("html").and_then(crate::json::J::str).unwrap_or("");
        assert!(
            html.contains(
                r#"aria-label="Chat with &quot;&gt;&lt;img src=x onerror=alert(1)&gt;&#39;""#
            ),
            "{html}"
        );
        assert!(!html.contains("<img"), "{html}");
    }

    #[test]
    fn no_markup_when_the_page_decides_the_language_or_the_chat_opens_itself() {
        for c in [r#"{"language":"auto"}"#, r#"{"auto_open":true}"#] {
            let j = launcher(c);
            assert!(j.contains(r#""css":":host{"#) && !j.contains("html"), "{j}");
        }
        let ar = launcher(r#"{"language":"ar"}"#);
        assert!(
            ar.contains(r#""dir":"rtl""#) && ar.contains(r#""lang":"ar""#),
            "{ar}"
        );
    }
}
