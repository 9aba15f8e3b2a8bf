//! Look and feel: the bundle's `config` read defensively, and the widget's stylesheet generated from it.

use crate::json::{self, J};
use crate::rules::{blocked_by, blocklist_entry, text_on_brand};

/// Bundle `config` keys the widget reads (docs/widget.md); unknown keys are ignored, bad values fall back.
#[derive(Debug, Clone)]
pub struct Config {
    /// Name in the header and the launcher's label.
    pub bot_name: String,
    /// Avatar image (http/https URL).
    pub avatar_url: Option<String>,
    /// `inherit` (the site's font) or a font-family list.
    pub font: Option<String>,
    /// Brand colour (`#rgb` / `#rrggbb`).
    pub primary_color: Option<String>,
    /// `right` (default) or `left`.
    pub position: String,
    /// Play a soft chime on new bot messages.
    pub sound: bool,
    /// `auto` (follow the visitor's system), `light` or `dark`.
    pub dark_mode: String,
    /// Privacy policy link in the footer.
    pub privacy_url: Option<String>,
    /// Welcome ("poke") bubble next to the launcher.
    pub welcome: Option<String>,
    /// Keep the launcher after the conversation ended.
    pub launcher_always: bool,
    /// Open the panel as soon as the dialogue triggers.
    pub auto_open: bool,
    /// Email domains refused at an email capture (`email_blocklist`; subdomains too), lower-case.
    pub email_blocklist: Vec<String>,
    /// The site's language setting: a shipped language (`de`), or `auto` (the page's
    /// `<html lang>`, then the browser's languages); none means English.
    pub language: Option<String>,
}

impl Default for Config {
    /// The defaults live in [`Config::from_json`]: what an empty config reads as.
    fn default() -> Self {
        Config::from_json("")
    }
}

/// The keys [`Config::from_json`] reads, in the order of its tables: text (the first three are not
/// nullable), text or `null`, then flags. `email_blocklist` is read on its own.
const KEYS: [&str; 12] = [
    "bot_name",
    "position",
    "dark_mode",
    "avatar_url",
    "font",
    "primary_color",
    "privacy_url",
    "welcome",
    "language",
    "sound",
    "launcher_always",
    "auto_open",
];

impl Config {
    /// Reads config JSON; anything unreadable gives the defaults. As with a typed read, one known
    /// key with a value of the wrong type resets all of them (unknown keys are ignored; a repeated
    /// key: the first one counts). One pass over the members against [`KEYS`], no typed tree.
    pub fn from_json(text: &str) -> Config {
        let mut texts: [Option<String>; 9] = Default::default();
        let mut flags = [false; 3];
        let (mut seen, mut bad) = (0u32, false);
        let mut email_blocklist = Vec::new();
        for (k, x) in json::parse(text).as_ref().and_then(J::obj).unwrap_or(&[]) {
            // Bit 12 is `email_blocklist`, read on its own so that a malformed list cannot reset
            // the rest of the config.
            let i = KEYS.iter().position(|n| n == k).unwrap_or(12);
            if (i == 12 && k != "email_blocklist") || seen >> i & 1 == 1 {
                continue;
            }
            seen |= 1 << i;
            match x {
                _ if i == 12 => {
                    let list = x.arr().unwrap_or(&[]).iter().filter_map(J::str);
                    email_blocklist = list.filter_map(blocklist_entry).collect()
                }
                J::Str(s) if i < 9 => texts[i] = Some(s.clone()),
                J::Bool(b) if i >= 9 => flags[i - 9] = *b,
                J::Null if (3..9).contains(&i) => {}
                _ => bad = true,
            }
        }
        if bad {
            (texts, flags) = Default::default();
        }
        let [bot_name, position, dark_mode, avatar_url, font, primary_color, privacy_url, welcome, language] =
            texts;
        let [sound, launcher_always, auto_open] = flags;
        let bot_name = crate::fields::char_prefix(
            bot_name.as_deref().unwrap_or("").trim(),
            crate::rules::MAX_BOT_NAME_CHARS,
        )
        .to_string();
        Config {
            bot_name: if bot_name.is_empty() {
                "Assistant".into()
            } else {
                bot_name
            },
            avatar_url: avatar_url.filter(|u| web_url(u)),
            font,
            primary_color,
            position: position.unwrap_or_else(|| "right".into()),
            sound,
            dark_mode: dark_mode.unwrap_or_else(|| "auto".into()),
            privacy_url: privacy_url.filter(|u| web_url(u)),
            welcome,
            launcher_always,
            auto_open,
            email_blocklist,
            language,
        }
    }

    /// The language the widget speaks on this page: `crate::i18n::negotiate` with the
    /// site's setting (`auto` lets the page's `lang` and then the browser's languages decide).
    pub fn lang(&self, page: &str, browser: &[&str]) -> &'static str {
        let setting = self.language.as_deref().map(str::trim);
        let auto = setting.is_some_and(|l| l.eq_ignore_ascii_case("auto"));
        crate::i18n::negotiate(setting, auto, Some(page), browser)
    }

    /// Whether the site refuses this email's domain (the worker refuses the lead with 422 too):
    /// `crate::rules::blocked_by`, the rule the worker applies.
    pub fn blocks_email(&self, email: &str) -> bool {
        blocked_by(email, self.email_blocklist.iter().map(String::as_str)).is_some()
    }

    /// `light`, `dark` or `auto`.
    pub fn theme(&self) -> &'static str {
        match self.dark_mode.as_str() {
            "dark" | "on" | "true" => "dark",
            "light" | "off" | "false" => "light",
            _ => "auto",
        }
    }

    /// `left` or `right`.
    pub fn side(&self) -> &'static str {
        // Bytes compared, not `str::contains(&str)` (its two-way searcher and a string-slicing panic).
        if self.position.as_bytes().windows(4).any(|w| w == b"left") {
            "left"
        } else {
            "right"
        }
    }
}

/// An absolute http(s) URL without characters that could leave an attribute.
pub fn web_url(u: &str) -> bool {
    let lower = u.get(..8).unwrap_or(u).to_ascii_lowercase();
    (lower.starts_with("https://") || lower.starts_with("http://"))
        && u.len() <= 2048
        && !u.chars().any(|c| {
            c.is_whitespace() || c.is_control() || matches!(c, '"' | '\'' | '<' | '>' | '`' | '\\')
        })
}

/// The brand colour, and the text colour with the better contrast on it
/// (`crate::rules::text_on_brand`, which the console's preview uses too).
pub fn brand(c: &Config) -> (String, &'static str) {
    let fallback = "#1d4ed8";
    c.primary_color
        .as_deref()
        .and_then(|p| Some((p.trim().to_string(), text_on_brand(p)?)))
        .unwrap_or_else(|| {
            (
                fallback.to_string(),
                text_on_brand(fallback).unwrap_or("#ffffff"),
            )
        })
}

fn font(c: &Config) -> String {
    let system = "system-ui,-apple-system,\"Segoe UI\",Roboto,Helvetica,Arial,sans-serif";
    match c.font.as_deref().map(str::trim) {
        Some("inherit") => "inherit".into(),
        Some(f)
            if !f.is_empty()
                && f.len() < 200
                && f.chars().all(|ch| {
                    ch.is_ascii_alphanumeric() || matches!(ch, ' ' | ',' | '-' | '_' | '"' | '\'')
                }) =>
        {
            [f, ",", system].concat()
        }
        _ => system.into(),
    }
}

/// The whole stylesheet: its head ([`launcher_css`], which the worker resolves and ships in
/// the bundle: the chat module gets it from there), then the panel's rules.
pub fn css(head: &str) -> String {
    [head, PANEL].concat()
}

/// The head of the stylesheet, all the launcher and the welcome bubble need (the loader shows
/// them with it before the chat module loads: [`launcher`]): generated variables first, then the
/// fixed rules. The custom properties have one- or two-letter names (`--p` brand, `--o` text on
/// it, `--f` font, `--b`/`--g` background/foreground, `--m` muted, `--s` surface, `--l` lines,
/// `--e` errors, `--sh` shadow), all set on `:host`, and the rules are one line: bytes of the
/// chat module.
pub fn launcher_css(c: &Config) -> String {
    let (primary, on_primary) = brand(c);
    [
        ":host{all:initial;--p:",
        &primary,
        ";--o:",
        on_primary,
        ";--f:",
        &font(c),
        ";",
        BASE,
    ]
    .concat()
}

const BASE: &str = "\
--b:#fff;--g:#111827;--m:#4b5563;--s:#eef0f3;--l:#d1d5db;--e:#b91c1c;--sh:0 12px 40px rgba(15,23,42,.22);\
 position:fixed;z-index:2147483000;bottom:0;inset-inline-end:0;font-family:var(--f);font-size:15px;line-height:1.45;color:var(--g);color-scheme:light}\
:host([data-side=left]){inset-inline:0 auto}\
:host([data-theme=dark]){--b:#111827;--g:#f3f4f6;--m:#b6bcc6;--s:#1f2937;--l:#4b5563;--e:#fca5a5;--sh:0 12px 40px #0009;color-scheme:dark}\
@media(prefers-color-scheme:dark){:host([data-theme=auto]){--b:#111827;--g:#f3f4f6;--m:#b6bcc6;--s:#1f2937;--l:#4b5563;--e:#fca5a5;--sh:0 12px 40px #0009;color-scheme:dark}}\
*,::before,::after{box-sizing:border-box}\
[hidden]{display:none!important}\
button,input,textarea{font:inherit;color:inherit}\
button{cursor:pointer}\
:focus-visible{outline:3px solid var(--g);outline-offset:2px}\
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}\
.launcher{position:fixed;bottom:20px;inset-inline-end:20px;width:60px;height:60px;border-radius:50%;border:0;background:var(--p);color:var(--o);box-shadow:var(--sh);display:grid;place-items:center;transition:transform .15s}\
:host([data-side=left]) .launcher{inset-inline:20px auto}\
.launcher:hover{transform:scale(1.06)}\
.launcher:focus-visible{outline-offset:4px}\
.launcher svg{width:28px;height:28px;fill:currentColor}\
.poke{position:fixed;bottom:92px;inset-inline-end:20px;max-width:280px;background:var(--b);color:var(--g);border-radius:16px;border-end-end-radius:4px;box-shadow:var(--sh);padding:14px 16px;padding-inline-end:38px;animation:rise .25s}\
:host([data-side=left]) .poke{inset-inline:20px auto;border-radius:16px;border-end-start-radius:4px}\
.poke-open{all:unset;cursor:pointer;display:block;white-space:pre-wrap}\
.poke-open:focus-visible{outline:3px solid var(--g);outline-offset:4px;border-radius:6px}\
.poke .x{position:absolute;top:6px;inset-inline-end:6px;width:28px;height:28px;border:0;border-radius:50%;background:transparent;color:var(--m);font-size:18px;line-height:1}\
.poke .x:hover{background:var(--s)}\
@keyframes rise{from{opacity:0;transform:translateY(6px)}}\
@media(max-width:480px){.poke{inset-inline:auto 16px}}\
@media(prefers-reduced-motion:reduce){*,::before,::after{animation:none!important;transition:none!important;scroll-behavior:auto!important}}";

/// The panel's rules (after [`BASE`] in the stylesheet).
const PANEL: &str = "\
.panel{position:fixed;bottom:92px;inset-inline-end:20px;width:380px;height:min(620px,100vh - 112px);display:flex;flex-direction:column;background:var(--b);color:var(--g);border-radius:18px;box-shadow:var(--sh);overflow:hidden;animation:rise .2s}\
:host([data-side=left]) .panel{inset-inline:20px auto}\
header{display:flex;align-items:center;gap:12px;padding:14px 16px;padding-inline-end:12px;background:var(--p);color:var(--o)}\
header img,.avatar{width:38px;height:38px;border-radius:50%;flex:none;object-fit:cover;background:var(--o);color:var(--p);display:grid;place-items:center;font-weight:700}\
header .who{flex:1;min-width:0}\
header h2{margin:0;font-size:16px;font-weight:650;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}\
header p{margin:0;font-size:13px;opacity:.95}\
header button{width:36px;height:36px;border:0;border-radius:10px;background:transparent;color:var(--o);font-size:20px;line-height:1;display:grid;place-items:center}\
header button:hover{background:rgba(127,127,127,.25)}\
header button:focus-visible{outline-color:var(--o);outline-offset:-3px}\
.log{flex:1;overflow-y:auto;padding:16px;display:flex;flex-direction:column;gap:8px;scroll-behavior:smooth}\
.msg{max-width:85%;padding:10px 14px;border-radius:16px;white-space:pre-wrap;overflow-wrap:anywhere;animation:rise .18s}\
.bot{align-self:flex-start;background:var(--s);color:var(--g);border-end-start-radius:4px}\
.me{align-self:flex-end;background:var(--p);color:var(--o);border-end-end-radius:4px}\
.note{align-self:center;color:var(--m);font-size:13px;text-align:center}\
.msg a{color:inherit;text-decoration:underline;text-underline-offset:2px;font-weight:600}\
.msg img{display:block;max-width:100%;border-radius:10px;margin-top:8px}\
.doc{display:inline-flex;margin-top:8px;padding:8px 12px;border-radius:10px;border:1px solid var(--l);background:var(--b);text-decoration:none!important}\
.typing{align-self:flex-start;background:var(--s);border-radius:16px;border-end-start-radius:4px;padding:14px 16px;display:flex;gap:5px}\
.typing i{width:7px;height:7px;border-radius:50%;background:var(--m);animation:blink 1.2s infinite both}\
.typing i:nth-child(2){animation-delay:.2s}.typing i:nth-child(3){animation-delay:.4s}\
.composer{border-top:1px solid var(--l);padding:12px;display:flex;flex-direction:column;gap:10px;max-height:55%;overflow-y:auto}\
.composer:empty,.err:empty{display:none}\
.choices{display:flex;flex-wrap:wrap;gap:8px}\
.choice{padding:8px 14px;border-radius:999px;border:1.5px solid var(--p);background:var(--b);color:var(--g);font-weight:550}\
:host([data-theme=dark]) .choice{border-color:var(--l)}\
.choice:hover,.choice[aria-pressed=true]{background:var(--p);color:var(--o)}\
form{display:flex;gap:8px;margin:0}\
input,textarea{padding:10px 12px;border-radius:12px;border:1.5px solid var(--l);background:var(--b)}\
input{flex:1;min-width:0}\
textarea{resize:vertical}\
input:focus-visible,textarea:focus-visible{outline:3px solid var(--p);outline-offset:0;border-color:var(--p)}\
input[aria-invalid=true],textarea[aria-invalid=true]{border-color:var(--e)}\
.request{flex-direction:column;gap:6px}\
.request label{font-weight:550}\
.send{padding:0 16px;border-radius:12px;border:0;background:var(--p);color:var(--o);font-weight:650}\
.err{margin:0;color:var(--e);font-size:13.5px}\
.slots h3{margin:0;font-size:14px;font-weight:650}\
.zone{margin:0;color:var(--m);font-size:13px}\
.days,.times{display:flex;gap:6px}\
.times{flex-wrap:wrap}\
.days{overflow-x:auto;padding:2px}\
.day,.time{padding:7px 12px;border-radius:10px;border:1.5px solid var(--l);background:var(--b);color:var(--g);white-space:nowrap}\
.day[aria-pressed=true]{background:var(--p);color:var(--o);border-color:var(--p)}\
.time:hover{border-color:var(--p)}\
.link{align-self:flex-start;border:0;background:none;color:var(--g);text-decoration:underline;padding:4px 0}\
.state{display:flex;align-items:center;gap:10px;color:var(--m);margin:0}\
.spin{width:18px;height:18px;border-radius:50%;border:2.5px solid var(--l);border-top-color:var(--p);animation:spin .8s linear infinite}\
footer{display:flex;justify-content:center;gap:10px;padding:8px;font-size:12px;color:var(--m);border-top:1px solid var(--l)}\
footer a{color:var(--m)}\
@keyframes blink{0%,80%,100%{opacity:.3}40%{opacity:1}}\
@keyframes spin{to{transform:rotate(1turn)}}\
@media(max-width:480px){.panel{inset:0;width:100%;height:100%;border-radius:0}:host([data-open]) .launcher{display:none}}";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_on_brand_colour_has_contrast() {
        for (p, want) in [
            ("#ffdd00", "#111827"),
            ("#1d4ed8", "#ffffff"),
            ("#000", "#ffffff"),
            ("#fff", "#111827"),
            // The shared table (engine/core/tests/rules.rs); the console's preview gives the same.
            ("#3b82f6", "#111827"),
            ("#ef4444", "#111827"),
            ("#f97316", "#111827"),
            ("#ffffff", "#111827"),
            ("#000000", "#ffffff"),
        ] {
            let c = Config {
                primary_color: Some(p.into()),
                ..Config::default()
            };
            assert_eq!(brand(&c).1, want, "{p}");
            assert_eq!(text_on_brand(p), Some(want), "{p}");
        }
    }

    #[test]
    fn hostile_config_values_fall_back() {
        let c = Config::from_json(
            r#"{"primary_color":"red;}</style><script>","font":"x;}*{color:red","avatar_url":"javascript:alert(1)","bot_name":"  "}"#,
        );
        let css = css(&launcher_css(&c));
        assert!(css.contains("--p:#1d4ed8"));
        assert!(!css.contains("color:red"));
        assert!(c.avatar_url.is_none());
        assert_eq!(c.bot_name, "Assistant");
    }

    #[test]
    fn the_stylesheet_is_one_line_and_sets_every_property_it_reads() {
        let css = css(&launcher_css(&Config::default()));
        assert!(!css.contains('\n'));
        for (i, _) in css.match_indices("var(--") {
            let name = &css[i + 4..];
            let name = &name[..name.find(')').unwrap_or(name.len())];
            assert!(
                css.contains(&[name, ":"].concat()),
                "{name} is read, never set"
            );
        }
    }

    #[test]
    fn email_blocklist_blocks_domains_and_subdomains_only() {
        let c = Config::from_json(
            r#"{"bot_name":"Nora","email_blocklist":["Mailinator.com"," @example.org ","", 7]}"#,
        );
        assert_eq!(c.bot_name, "Nora");
        for e in ["a@mailinator.com", "a@EU.Mailinator.COM", "a@example.org."] {
            assert!(c.blocks_email(e), "{e}");
        }
        for e in [
            "a@notmailinator.com",
            "a@mailinator.com.evil.test",
            "mailinator.com",
            "a@acme.test",
        ] {
            assert!(!c.blocks_email(e), "{e}");
        }
        let bad = Config::from_json(r#"{"bot_name":"Nora","email_blocklist":"mailinator.com"}"#);
        assert_eq!(bad.bot_name, "Nora");
        assert!(!bad.blocks_email("a@mailinator.com"));
    }

    #[test]
    fn a_value_of_the_wrong_type_resets_the_config_as_a_typed_read_does() {
        let c = Config::from_json(r#"{"bot_name":"Nora","sound":"yes","unknown":1}"#);
        assert_eq!(c.bot_name, "Assistant");
        assert!(!c.sound);
        let c = Config::from_json(
            r#"{"bot_name":"Nora","sound":true,"avatar_url":null,"position":"left","dark_mode":"dark","auto_open":true}"#,
        );
        assert_eq!(
            (c.bot_name.as_str(), c.sound, c.side(), c.theme()),
            ("Nora", true, "left", "dark")
        );
        assert!(c.auto_open && !c.launcher_always && c.avatar_url.is_none());
        assert_eq!(Config::from_json("not json").bot_name, "Assistant");
    }

    #[test]
    fn the_site_setting_decides_whether_the_page_and_browser_choose_the_language() {
        // (config, page <html lang>, navigator.languages, expected)
        for (cfg, page, browser, want) in [
            (r#"{}"#, "de", &["fr"][..], "en"),
            (r#"{"language":"de"}"#, "fr", &["nl"][..], "de"),
            (r#"{"language":"en"}"#, "de", &["de-DE"][..], "en"),
            (r#"{"language":"auto"}"#, "ar-EG", &["de"][..], "ar"),
            (
                r#"{"language":" AUTO "}"#,
                "",
                &["pt-BR", "ja-JP"][..],
                "ja",
            ),
            (r#"{"language":"auto"}"#, "pt", &["sv"][..], "en"),
            (r#"{"language":"xx"}"#, "de", &["de"][..], "en"),
            (r#"{"language":7}"#, "de", &["de"][..], "en"),
        ] {
            assert_eq!(
                Config::from_json(cfg).lang(page, browser),
                want,
                "{cfg} {page} {browser:?}"
            );
        }
    }
}
