//! The visitor's language: which one the widget speaks (site setting, page, browser), which
//! languages read right to left, and the message catalogues for the engine's own texts
//! (re-prompts) and the widget's interface.
//!
//! The catalogues are data, one flat JSON object per language in `engine/core/i18n/{lang}.json`
//! (keys like `reprompt.choice`, `{name}` placeholders). English is the reference: every other
//! catalogue has exactly its keys and placeholders (tested). The native engine (CLI, worker,
//! tests) embeds all of them ([`builtin`]); the browser's chat module embeds only English and
//! fetches the one other catalogue it needs, so a language costs only the visitor who uses it.

use crate::json;
use std::cell::RefCell;

/// The languages dynchat ships catalogues for, English first (the fallback).
pub const LANGS: &[&str] = &["en", "de", "fr", "nl", "es", "ja", "ar"];

/// The reference catalogue (English), always embedded: `i18n/en.json` (the one place its texts
/// are written) without the whitespace between its tokens, made at compile time ([`compact`]),
/// so that the browser's chat module carries no indentation or line breaks.
pub const EN: &str = {
    const PRETTY: &[u8] = include_bytes!("../i18n/en.json");
    const BYTES: [u8; compact(PRETTY, &mut [])] = {
        let mut out = [0; compact(PRETTY, &mut [])];
        compact(PRETTY, &mut out);
        out
    };
    match std::str::from_utf8(&BYTES) {
        Ok(s) => s,
        Err(_) => panic!("i18n/en.json is not UTF-8"),
    }
};

/// Copies the JSON `text` into `out` without whitespace outside its strings, as far as `out`
/// reaches, and returns the length of the whole result (so `compact(t, &mut [])` is its length).
const fn compact(text: &[u8], out: &mut [u8]) -> usize {
    let (mut i, mut n, mut in_str, mut escaped) = (0, 0, false, false);
    while i < text.len() {
        let b = text[i];
        i += 1;
        if !in_str && matches!(b, b' ' | b'\n' | b'\r' | b'\t') {
            continue;
        }
        if in_str && escaped {
            escaped = false;
        } else if in_str && b == b'\\' {
            escaped = true;
        } else if b == b'"' {
            in_str = !in_str;
        }
        if n < out.len() {
            out[n] = b;
        }
        n += 1;
    }
    n
}

/// Languages written right to left (primary subtags): the widget mirrors its layout for them.
const RTL: &[&str] = &["ar", "he", "fa", "ur", "yi", "ps", "sd", "ug", "dv", "ckb"];

/// The embedded catalogue text of a shipped language (`None` for others). Without the
/// `catalogues` feature (the browser's chat module) only English is embedded; the host installs
/// the visitor's catalogue with [`install`].
pub fn builtin(lang: &str) -> Option<&'static str> {
    #[cfg(not(feature = "catalogues"))]
    return (lang == "en").then_some(EN);
    #[cfg(feature = "catalogues")]
    Some(match lang {
        "en" => EN,
        "de" => include_str!("../i18n/de.json"),
        "fr" => include_str!("../i18n/fr.json"),
        "nl" => include_str!("../i18n/nl.json"),
        "es" => include_str!("../i18n/es.json"),
        "ja" => include_str!("../i18n/ja.json"),
        "ar" => include_str!("../i18n/ar.json"),
        _ => return None,
    })
}

/// A tag's primary subtag (`de-AT`, `pt_BR`, ` fr ` -> `de`, `pt`, `fr`), as written: the trimmed
/// text up to its first `-` or `_` (a byte loop: no multi-character searcher in the browser's wasm).
fn primary(tag: &str) -> &str {
    let t = tag.trim();
    let end = t.bytes().position(|b| b == b'-' || b == b'_');
    end.and_then(|e| t.get(..e)).unwrap_or(t)
}

/// The shipped language a BCP 47 tag (`de-AT`, `pt_BR`, ` FR `) asks for, if any: its primary
/// subtag, lower-cased.
pub fn supported(tag: &str) -> Option<&'static str> {
    let primary = primary(tag);
    LANGS
        .iter()
        .copied()
        .find(|l| primary.eq_ignore_ascii_case(l))
}

/// The primary subtag of a language tag, lower-cased; English for anything else.
pub fn lang_tag(tag: &str) -> String {
    let p = primary(tag);
    if (2..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphabetic()) {
        p.to_ascii_lowercase()
    } else {
        "en".to_string()
    }
}

/// Whether `lang` (a tag or primary subtag) is written right to left.
pub fn is_rtl(lang: &str) -> bool {
    let primary = primary(lang);
    RTL.iter().any(|l| primary.eq_ignore_ascii_case(l))
}

/// The language the widget speaks.
///
/// - `site`: the site's language setting (`None` = English);
/// - `follow_page`: whether the site lets the page decide; then the page's `<html lang>` wins,
///   then the browser's languages in order (`navigator.languages`), then the site's setting;
/// - a tag dynchat has no catalogue for is skipped; English when nothing fits.
pub fn negotiate(
    site: Option<&str>,
    follow_page: bool,
    page: Option<&str>,
    browser: &[&str],
) -> &'static str {
    let site = site.and_then(supported);
    if follow_page {
        if let Some(l) = page.and_then(supported) {
            return l;
        }
        if let Some(l) = browser.iter().find_map(|t| supported(t)) {
            return l;
        }
    }
    site.unwrap_or("en")
}

/// One language's messages, read from its JSON catalogue, falling back to English per key.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    lang: String,
    entries: Vec<(String, String)>,
}

impl Catalog {
    /// Reads a catalogue: a flat JSON object of string values. Anything else is an error naming
    /// what is wrong (a catalogue served to the browser may be damaged in transit).
    pub fn parse(lang: &str, text: &str) -> Result<Catalog, String> {
        let j = json::parse(text).ok_or_else(|| format!("{lang}: not JSON"))?;
        let obj = j.obj().ok_or_else(|| format!("{lang}: not an object"))?;
        let mut entries = Vec::with_capacity(obj.len());
        for (k, v) in obj {
            let s = v
                .str()
                .ok_or_else(|| format!("{lang}: {k}: not a string"))?;
            entries.push((k.clone(), s.to_string()));
        }
        Ok(Catalog {
            lang: lang.to_string(),
            entries,
        })
    }

    /// [`Catalog::parse`] without the reason: what the browser's chat module reads a fetched
    /// catalogue with (no error texts, so no formatting code in its wasm). `None` for anything
    /// but a flat JSON object of strings.
    pub fn from_text(lang: &str, text: &str) -> Option<Catalog> {
        let j = json::parse(text)?;
        let mut entries = Vec::new();
        for (k, v) in j.obj()? {
            entries.push((k.clone(), v.str()?.to_string()));
        }
        Some(Catalog {
            lang: lang.to_string(),
            entries,
        })
    }

    /// The embedded catalogue of a shipped language (English for any other tag).
    pub fn builtin(tag: &str) -> Catalog {
        let lang = supported(tag).unwrap_or("en");
        let text = builtin(lang).unwrap_or(EN);
        Catalog::parse(lang, text).unwrap_or_default()
    }

    /// The catalogue's language.
    pub fn lang(&self) -> &str {
        &self.lang
    }

    /// The message for `key` in this catalogue itself (no fallback).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The message for `key` in this language, else in English, else the key itself.
    pub fn text(&self, key: &str) -> String {
        if let Some((_, v)) = self.entries.iter().find(|(k, _)| k == key) {
            return v.clone();
        }
        english(key).unwrap_or_else(|| key.to_string())
    }

    /// The message for `key` with its `{name}` placeholders filled from `args`.
    pub fn fill(&self, key: &str, args: &[(&str, &str)]) -> String {
        fill(&self.text(key), args)
    }
}

fn english(key: &str) -> Option<String> {
    scan_en(key).map(str::to_string)
}

// `scan_en` reads [`EN`] by its quotes: every `"` in it delimits a string.
const _: () = {
    let b = EN.as_bytes();
    let mut i = 0;
    while i < b.len() {
        assert!(
            b[i] != b'\\',
            "i18n/en.json: escapes are not read by scan_en"
        );
        i += 1;
    }
};

/// The English message `key`, found in the compact text [`EN`] directly (no JSON tree per
/// lookup): EN has no escapes (checked at compile time), so its pieces between quotes are, in
/// turn, `{`, a key, `:`, its value, `,`, a key, ... (a piece equal to `key` followed by `:` is
/// that key; a value is followed by `,` or `}`).
fn scan_en(key: &str) -> Option<&'static str> {
    let mut parts = crate::cut::pieces(EN, b'"');
    while let Some(p) = parts.next() {
        if p == key && parts.next()? == ":" {
            return parts.next();
        }
    }
    None
}

/// One key of a catalogue's text, read without building a [`Catalog`] (no error texts, so the
/// browser's chat module carries no formatting for it).
#[cfg(feature = "catalogues")]
fn lookup(text: &str, key: &str) -> Option<String> {
    json::parse(text)?.get(key)?.str().map(str::to_string)
}

thread_local! {
    /// Catalogues the host installed ([`install`]), consulted before the embedded ones: per
    /// thread (the browser has one), and no lock: std's `RwLock` and `Mutex` check their state
    /// with `assert_eq!` on wasm32, whose formatting the browser's chat module would carry.
    /// Reached through `try_with` / `try_borrow` only, which cannot panic.
    static INSTALLED: RefCell<Vec<Catalog>> = const { RefCell::new(Vec::new()) };
}

/// Installs a catalogue for its language (replacing one installed before for the same language),
/// for this thread.
/// The browser's chat module, built without the `catalogues` feature, installs the one
/// catalogue it fetched for the visitor; English is always embedded as the fallback.
pub fn install(c: Catalog) {
    let _ = INSTALLED.try_with(|cell| {
        if let Ok(mut v) = cell.try_borrow_mut() {
            match v.iter_mut().find(|x| x.lang == c.lang) {
                Some(x) => *x = c,
                None => v.push(c),
            }
        }
    });
}

/// The engine's message `key` in language `lang` (a tag or primary subtag): from an installed
/// catalogue, else an embedded one, else English, else the key itself.
pub fn message(lang: &str, key: &str) -> String {
    let primary = primary(lang);
    let installed = INSTALLED.try_with(|cell| {
        let v = cell.try_borrow().ok()?;
        let found = v.iter().find(|c| c.lang.eq_ignore_ascii_case(primary));
        found.and_then(|c| c.get(key)).map(str::to_string)
    });
    if let Ok(Some(t)) = installed {
        return t;
    }
    #[cfg(feature = "catalogues")]
    if let Some(t) = supported(primary)
        .and_then(builtin)
        .and_then(|text| lookup(text, key))
    {
        return t;
    }
    english(key).unwrap_or_else(|| key.to_string())
}

/// [`message`] with its `{name}` placeholders filled from `args`.
pub fn message_with(lang: &str, key: &str, args: &[(&str, &str)]) -> String {
    fill(&message(lang, key), args)
}

/// Replaces each `{name}` in `template` by its value in `args`; unknown names stay as written.
pub fn fill(template: &str, args: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some((before, after)) = crate::cut::cut(rest, b'{') {
        out.push_str(before);
        let Some((name, tail)) = crate::cut::cut(after, b'}') else {
            out.push('{');
            rest = after;
            break;
        };
        match args.iter().find(|(n, _)| *n == name) {
            Some((_, v)) => out.push_str(v),
            None => {
                out.push('{');
                out.push_str(name);
                out.push('}');
            }
        }
        rest = tail;
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "catalogues")]
    fn placeholders(s: &str) -> Vec<String> {
        let mut out: Vec<String> = s
            .split('{')
            .skip(1)
            .filter_map(|p| p.split_once('}').map(|(n, _)| n.to_string()))
            .collect();
        out.sort();
        out
    }

    #[cfg(feature = "catalogues")]
    #[test]
    fn every_catalogue_has_englishs_keys_and_placeholders() {
        let en = Catalog::parse("en", EN).expect("en");
        assert!(en.entries.len() >= 40);
        for lang in LANGS {
            let text = builtin(lang).expect("shipped");
            let c = Catalog::parse(lang, text).expect("parses");
            let mut keys: Vec<&str> = c.entries.iter().map(|(k, _)| k.as_str()).collect();
            let mut want: Vec<&str> = en.entries.iter().map(|(k, _)| k.as_str()).collect();
            keys.sort();
            want.sort();
            assert_eq!(keys, want, "{lang}: keys differ from en");
            for (k, v) in &en.entries {
                let t = c.text(k);
                assert!(!t.trim().is_empty(), "{lang}: {k} empty");
                assert_eq!(
                    placeholders(&t),
                    placeholders(v),
                    "{lang}: {k} placeholders"
                );
            }
        }
    }

    #[test]
    fn english_scan_reads_every_key_as_the_json_reader_does() {
        let en = Catalog::parse("en", EN).expect("en");
        for (k, v) in &en.entries {
            assert_eq!(scan_en(k), Some(v.as_str()), "{k}");
        }
        let first = &en.entries[0].1;
        assert_eq!(scan_en(first), None, "a value is no key");
        assert_eq!(scan_en(":"), None);
        assert_eq!(scan_en("no.such.key"), None);
    }

    /// site setting, follow the page, page lang, browser languages, expected.
    type Case<'a> = (
        Option<&'a str>,
        bool,
        Option<&'a str>,
        &'a [&'a str],
        &'a str,
    );

    #[test]
    fn negotiation_table() {
        let cases: &[Case] = &[
            (None, false, Some("de"), &["fr"], "en"),
            (Some("de"), false, Some("fr"), &["nl"], "de"),
            (Some("de"), true, Some("fr-CA"), &["nl"], "fr"),
            (Some("de"), true, None, &["pt-BR", "nl-NL"], "nl"),
            (Some("de"), true, Some("pt"), &["sv"], "de"),
            (None, true, Some("AR"), &[], "ar"),
            (None, true, Some(" ja_JP "), &[], "ja"),
            (Some("xx"), false, None, &[], "en"),
            (None, true, Some(""), &["", "es-419"], "es"),
        ];
        for (site, follow, page, browser, want) in cases {
            assert_eq!(
                negotiate(*site, *follow, *page, browser),
                *want,
                "{site:?} {follow} {page:?} {browser:?}"
            );
        }
    }

    #[cfg(feature = "catalogues")]
    #[test]
    fn rtl_and_fallbacks() {
        assert!(is_rtl("ar") && is_rtl("he-IL") && is_rtl("FA"));
        assert!(!is_rtl("de") && !is_rtl("en-US") && !is_rtl(""));
        let de = Catalog::builtin("de-CH");
        assert_eq!(de.lang(), "de");
        assert_eq!(de.text("ui.send"), "Senden");
        assert_eq!(Catalog::builtin("pt").text("ui.send"), "Send");
        // A damaged catalogue is refused with a reason; a partial one falls back per key.
        assert!(Catalog::parse("de", "[1]").is_err());
        assert!(Catalog::from_text("de", "[1]").is_none());
        assert!(Catalog::from_text("de", r#"{"ui.send": 3}"#).is_none());
        assert!(Catalog::from_text("de", r#"{"ui.send": "Senden""#).is_none());
        let fetched = Catalog::from_text("de", builtin("de").unwrap_or("")).expect("de reads");
        assert_eq!(fetched.get("ui.send"), Some("Senden"));
        assert!(Catalog::parse("de", r#"{"ui.send": 3}"#).is_err());
        let partial = Catalog::parse("de", r#"{"ui.send": "Senden"}"#).expect("ok");
        assert_eq!(partial.text("ui.end"), "End conversation");
        assert_eq!(partial.text("no.such.key"), "no.such.key");
        assert_eq!(
            Catalog::builtin("de").fill("reprompt.too_long", &[("max", "1000")]),
            "Diese Antwort ist zu lang: höchstens 1000 Zeichen, bitte kürzen Sie sie."
        );
    }

    #[test]
    fn installed_catalogue_first_english_behind_it() {
        // "xq" is no shipped language: only the installed catalogue knows it.
        let c = Catalog::parse("xq", r#"{"reprompt.choice": "XQ pick"}"#).expect("ok");
        assert_eq!(
            message("xq", "reprompt.choice"),
            "Please pick one of the options."
        );
        install(c);
        assert_eq!(message("xq-YY", "reprompt.choice"), "XQ pick");
        // A key the installed catalogue lacks comes from English.
        assert_eq!(
            message_with("xq", "reprompt.too_long", &[("max", "9")]),
            "That answer is too long: at most 9 characters, please shorten it."
        );
        assert_eq!(message("xq", "no.such.key"), "no.such.key");
    }

    #[cfg(feature = "catalogues")]
    #[test]
    fn embedded_catalogues_by_tag() {
        assert_eq!(
            message("de-AT", "reprompt.choice"),
            "Bitte wählen Sie eine der Optionen."
        );
        assert_eq!(
            message("pt", "reprompt.choice"),
            "Please pick one of the options."
        );
    }

    #[test]
    fn the_embedded_english_is_en_json_without_whitespace_between_tokens() {
        let pretty = include_str!("../i18n/en.json");
        assert!(!EN.contains('\n') && EN.len() < pretty.len());
        assert_eq!(json::parse(EN), json::parse(pretty));
        let mut out = [0; 40];
        let n = compact(b"{ \"a b\" : [1, \"c\\\" d\" ]\n}", &mut out);
        assert_eq!(&out[..n], br#"{"a b":[1,"c\" d"]}"#);
    }

    #[test]
    fn fill_placeholders() {
        assert_eq!(
            fill("Chat with {bot}", &[("bot", "Nora")]),
            "Chat with Nora"
        );
        assert_eq!(fill("{a}{b}{a}", &[("a", "1"), ("b", "2")]), "121");
        assert_eq!(fill("{unknown} {", &[]), "{unknown} {");
        assert_eq!(fill("no braces", &[("x", "y")]), "no braces");
        // Values are inserted as they are, never read as templates themselves.
        assert_eq!(fill("{a}", &[("a", "{a}")]), "{a}");
    }
}
