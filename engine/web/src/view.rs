//! The view: the only code that touches the DOM. Builds the shadow-root widget and reports clicks and keys as `Ui` actions.

use crate::ffi::{active_in_document, Obj};
use crate::markdown::{parse, Seg};
use dynchat_engine::i18n::{self, fill};
use dynchat_engine::json::int_string;
use dynchat_engine::launcher;
use dynchat_engine::style::Config;
mod build;
mod events;
mod request;

use build::build;
pub use events::{Dispatch, Ui};

/// The input's `maxlength` (UTF-16 units) only stops a runaway paste: it lets through more than
/// the engine's limit even in astral characters (two units each), so an answer that is too long
/// reaches the engine and gets its re-prompt instead of being cut silently.
const INPUT_MAXLENGTH: &str = "2002";
const _: () = assert!(2 * dynchat_engine::fields::MAX_ANSWER_CHARS + 2 == 2002);

/// One line of the transcript as shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// `bot`, `me` or `note`.
    pub who: String,
    /// Card that produced it (bot lines).
    pub card: String,
    /// Text (markdown subset for bot lines, plain otherwise).
    pub text: String,
    /// Image URL.
    pub image: Option<String>,
    /// Tracked document (url, label).
    pub link: Option<(String, String)>,
}

/// What the composer shows.
pub enum Composer<'a> {
    /// Nothing to answer.
    Empty,
    /// Buttons and maybe a text box.
    Choices {
        buttons: Vec<&'a str>,
        free_text: Option<&'a str>,
    },
    /// A validated field.
    Field { kind: &'a str, placeholder: &'a str },
    /// Slot picker states.
    SlotsLoading,
    /// Slots failed to load.
    SlotsError(&'a str),
    /// No slot available.
    SlotsNone,
    /// Days and the times of the chosen day.
    Slots {
        tz: &'a str,
        days: Vec<&'a str>,
        day: usize,
        times: Vec<&'a str>,
        /// Offer "None of these times work" (the preferred-times form).
        none_fit: bool,
    },
    /// The preferred-times form; `none`: after "No times are available right now.".
    Request { none: bool },
    /// The preferred times are being sent.
    Requesting,
    /// Booking in progress.
    Booking,
    /// The conversation ended.
    Ended,
}

/// The widget's DOM.
pub struct View {
    body: Obj,
    host: Obj,
    root: Obj,
    launcher: Obj,
    poke: Obj,
    panel: Obj,
    log: Obj,
    typing: Obj,
    composer: Obj,
    input_seq: u32,
    /// The conversation's language: every interface text comes from its catalogue.
    lang: String,
    bot: String,
}

/// The panel, the welcome bubble and the launcher (see [`build`]); arguments: 0 welcome, 1 "Chat
/// with ..", 2 lang, 3 dir, 4 avatar URL, 5 the name's initial (empty with an avatar), 6 bot
/// name, 7 privacy URL, 8 and 9 not empty (the bubble hidden, the launcher controls the panel).
/// Kept: panel, log, typing, composer, poke, launcher. The bubble and the launcher are
/// `dynchat_engine::launcher_spec!`, which the loader shows before this module loads.
const SKELETON: &str = concat!(
    "<section|.panel|@id=dc-panel|@hidden=|@role=dialog|@aria-label=$1|@lang=$2|@dir=$3|!|",
    "<header|?$4|<img|@src=$4|@alt=|>|?$5|<span|.avatar|@aria-hidden=true|\"$5|>|",
    "<div|.who|<h2|\"$6|>|<p|\"%ui.replies_instantly|>|>|",
    "<button|.min|\"–|@type=button|@aria-label=%ui.minimise|@data-a=m|>|",
    "<button|.end|\"×|@type=button|@aria-label=%ui.end|@data-a=e|>|>|",
    "<div|.log|@role=log|@aria-live=polite|@aria-label=%ui.conversation|@tabindex=0|!|",
    "<div|.typing|@aria-hidden=true|@hidden=|!|<i|>|<i|>|<i|>|>|>|",
    "<div|.composer|!|>|",
    "<footer|?$7|<a|@href=$7|@target=_blank|@rel=noopener noreferrer|\"%ui.privacy|>|",
    "<span|\"%ui.powered_by|>|>|>|",
    dynchat_engine::launcher_spec!()
);

/// A button reporting action `$2` (see [`events::ACTION`]): 0 class, 1 label. Kept: the button.
const BUTTON: &str = "<button|.$0|@type=button|\"$1|@data-a=$2|!";

/// A status line (`role=status`), 0 its text, with a spinner when 1 is not empty.
const STATE: &str = "<p|.state|@role=status|?$1|<span|.spin|@aria-hidden=true|>|+$0";

/// A text or field input: 0 type, 1 autocomplete, 2 inputmode, 3 label, 4 the error line's id,
/// 5 maxlength, 6 placeholder.
const FORM: &str = concat!(
    "<div|<form|@novalidate=|@data-a=f|<input|@type=$0|@autocomplete=$1|@inputmode=$2|",
    "@aria-label=$3|@aria-describedby=$4|@maxlength=$5|?$6|@placeholder=$6|>|",
    "<button|.send|\"%ui.send|@type=submit|>|>|<p|.err|@id=$4|@role=alert"
);

/// The slot picker: 0 the chosen day's heading, 1 the zone line. Kept: the days' and the
/// times' rows.
const SLOTS: &str = concat!(
    "<div|.slots|@role=group|@aria-label=%slots.pick_time|<h3|\"%slots.pick_day|>|",
    "<div|.days|!|>|<h3|\"$0|>|<div|.times|!|>|<p|.zone|\"$1"
);

/// A transcript line: 0 class, 1 not empty for the "You" prefix for screen readers, 2 its plain
/// text (none when empty).
const LINE: &str = "<div|.$0|!|?$1|<span|.sr|\"%ui.you|>|?$2|+$2";

/// A link opened in a new tab: 0 URL, 1 label, 2 class and 3 card of a tracked document.
const LINK: &str =
    "<a|?$2|.$2|@href=$0|@target=_blank|@rel=noopener noreferrer|?$3|@data-card=$3|\"$1";

/// Shows or hides an element (`hidden`).
fn show(el: &Obj, visible: bool) {
    if visible {
        el.remove_attr("hidden");
    } else {
        el.set_attr("hidden", "");
    }
}

impl View {
    /// Builds the launcher, welcome bubble and (hidden) panel under a new host element on `<body>`.
    pub fn new(
        cfg: &Config,
        css: &str,
        welcome: &str,
        lang: &str,
        dispatch: Dispatch,
    ) -> Result<View, String> {
        let body = Obj::body().ok_or("no body")?;
        let host = Obj::create(false, "div");
        // Right-to-left languages mirror the layout (the stylesheet uses logical properties).
        let dir = if i18n::is_rtl(lang) { "rtl" } else { "ltr" };
        for (k, v) in [
            ("id", "dynchat-widget"),
            ("data-theme", cfg.theme()),
            ("data-side", cfg.side()),
            ("lang", lang),
            ("dir", dir),
        ] {
            host.set_attr(k, v);
        }
        // The shadow root, its stylesheet and its listeners in one call.
        let root = host
            .shadow(css, events::listener(dispatch, lang))
            .ok_or("DOM error")?;

        let bot = cfg.bot_name.as_str();
        let chat_with = launcher::label(cfg, lang);
        let avatar = cfg.avatar_url.as_deref().unwrap_or("");
        // The browser upper-cases the initial (no Unicode case tables in the wasm).
        let initial = match avatar {
            "" => crate::ffi::case(dynchat_engine::fields::char_prefix(bot, 1), true),
            _ => String::new(),
        };
        let privacy = cfg.privacy_url.as_deref().unwrap_or("");
        let args = [
            welcome, &chat_with, lang, dir, avatar, &initial, bot, privacy, "1", "1",
        ];
        let kept = build(lang, Some(&root), SKELETON, &args);
        let [panel, log, typing, composer, poke, launcher] =
            <[Obj; 6]>::try_from(kept).map_err(|_| "DOM error".to_string())?;
        body.append(&host);
        Ok(View {
            body,
            host,
            root,
            launcher,
            poke,
            panel,
            log,
            typing,
            composer,
            input_seq: 0,
            lang: lang.to_string(),
            bot: bot.to_string(),
        })
    }

    /// Builds `spec` with `args` (see [`build`]) under `base`, detached when `None`.
    fn build(&self, base: Option<&Obj>, spec: &str, args: &[&str]) -> Vec<Obj> {
        build(&self.lang, base, spec, args)
    }

    /// Shows or hides the launcher.
    pub fn launcher(&self, visible: bool) {
        show(&self.launcher, visible);
    }

    /// Shows or hides the welcome bubble.
    pub fn poke(&self, visible: bool) {
        show(&self.poke, visible);
    }

    /// Opens or hides the panel and moves focus sensibly.
    pub fn panel(&self, open: bool, move_focus: bool) {
        show(&self.panel, open);
        if open {
            self.host.set_attr("data-open", "");
        } else {
            self.host.remove_attr("data-open");
        }
        let expanded = if open { "true" } else { "false" };
        self.launcher.set_attr("aria-expanded", expanded);
        let key = if open { "ui.hide_chat" } else { "ui.open_chat" };
        let label = fill(&self.t(key), &[("bot", &self.bot)]);
        self.launcher.set_attr("aria-label", &label);
        if move_focus {
            if open {
                self.focus_composer(true);
                self.scroll_end();
            } else {
                self.launcher.focus();
            }
        }
    }

    /// The interface text `key` in the conversation's language (English where it has none).
    pub fn t(&self, key: &str) -> String {
        i18n::message(&self.lang, key)
    }

    /// Is focus inside the widget (or nowhere in particular)?
    pub fn focus_is_ours(&self) -> bool {
        match active_in_document() {
            None => true,
            Some(a) => a.same(&self.host) || a.same(&self.body),
        }
    }

    /// Focuses the composer's first control, or the log when there is none.
    pub fn focus_composer(&self, fallback_to_log: bool) {
        match self.composer.find("input,textarea,button") {
            Some(e) => e.focus(),
            None if fallback_to_log => self.log.focus(),
            None => {}
        }
    }

    /// Shows or hides the typing indicator.
    pub fn typing(&self, on: bool) {
        show(&self.typing, on);
        if on {
            self.log.append(&self.typing);
            self.scroll_end();
        }
    }

    fn scroll_end(&self) {
        self.log.scroll_end();
    }

    /// Appends a transcript line; bot text gets the markdown subset, everything else is text.
    pub fn add(&self, e: &Entry) {
        let who = match e.who.as_str() {
            w @ ("bot" | "me") => w,
            _ => "note",
        };
        let me = if who == "me" { "1" } else { "" };
        let plain = if who == "bot" { "" } else { e.text.as_str() };
        let class = ["msg ", who].concat();
        let Some(div) = self.build(None, LINE, &[&class, me, plain]).pop() else {
            return;
        };
        let base = Some(&div);
        if who == "bot" {
            for seg in parse(&e.text) {
                match seg {
                    Seg::Text(t) => {
                        div.append_text(&t);
                    }
                    Seg::Bold(t) => {
                        self.build(base, "<strong|\"$0", &[&t]);
                    }
                    Seg::Link { label, url } => {
                        self.build(base, LINK, &[&url, &label, "", ""]);
                    }
                }
            }
        }
        if let Some(src) = e.image.as_deref().filter(|u| crate::markdown::safe_link(u)) {
            self.build(base, "<img|@src=$0|@alt=", &[src]);
        }
        if let Some((url, label)) = e
            .link
            .as_ref()
            .filter(|(u, _)| crate::markdown::safe_link(u))
        {
            let label = ["📄 ", label].concat();
            self.build(base, LINK, &[url, &label, "doc", &e.card]);
        }
        self.log.insert(&div, &self.typing);
        self.scroll_end();
    }

    /// A button in `row` whose click reports the action `code` with index `n` (see
    /// [`events::ACTION`]): a choice, a day, a time.
    fn button(&self, row: &Obj, class: &str, label: &str, code: &str, n: usize) -> Option<Obj> {
        let code = [code, &int_string(n as i64)].concat();
        self.build(Some(row), BUTTON, &[class, label, &code]).pop()
    }

    fn form(&mut self, kind: &str, placeholder: &str, label: &str) {
        self.input_seq += 1;
        let err_id = ["dc-err-", &int_string(i64::from(self.input_seq))].concat();
        let (ty, auto, mode) = match kind {
            "email" => ("email", "email", "email"),
            "phone" => ("tel", "tel", "tel"),
            "name" => ("text", "name", "text"),
            "company" => ("text", "organization", "text"),
            _ => ("text", "off", "text"),
        };
        let args = [ty, auto, mode, label, &err_id, INPUT_MAXLENGTH, placeholder];
        self.build(Some(&self.composer), FORM, &args);
    }

    fn state(&self, text: &str, spinner: bool) {
        let spin = if spinner { "1" } else { "" };
        self.build(Some(&self.composer), STATE, &[text, spin]);
    }

    /// A status line with the catalogue text `key`, spinning or not.
    fn status(&self, key: &str, spinner: bool) {
        let spin = if spinner {
            "<span|.spin|@aria-hidden=true|>|"
        } else {
            ""
        };
        let spec = ["<p|.state|@role=status|", spin, "+%", key].concat();
        self.build(Some(&self.composer), &spec, &[]);
    }

    /// A button in the composer with the catalogue text `key` reporting the action `code` (see
    /// [`events::ACTION`]).
    fn action(&self, class: &str, key: &str, code: &str) {
        let spec = [
            "<button|.",
            class,
            "|@type=button|\"%",
            key,
            "|@data-a=",
            code,
        ]
        .concat();
        self.build(Some(&self.composer), &spec, &[]);
    }

    /// Replaces the composer's content.
    pub fn composer(&mut self, c: Composer<'_>) {
        let had_focus = self.root.active().is_some();
        self.composer.set_text("");
        match c {
            Composer::Empty => {}
            Composer::Ended => self.status("ui.ended", false),
            Composer::Choices { buttons, free_text } => {
                if !buttons.is_empty() {
                    let spec = "<div|.choices|@role=group|@aria-label=%ui.choose_answer|!";
                    if let Some(row) = self.build(Some(&self.composer), spec, &[]).pop() {
                        for (i, label) in buttons.iter().enumerate() {
                            self.button(&row, "choice", label, "b", i);
                        }
                    }
                }
                if let Some(p) = free_text {
                    let hint = self.t("ui.type_answer");
                    let label = self.t("ui.your_answer");
                    self.form("text", if p.is_empty() { &hint } else { p }, &label);
                }
            }
            Composer::Field { kind, placeholder } => {
                let label = self.t(match kind {
                    "email" => "ui.your_email",
                    "phone" => "ui.your_phone",
                    "name" => "ui.your_name",
                    "company" => "ui.your_company",
                    _ => "ui.your_answer",
                });
                self.form(kind, placeholder, &label);
            }
            Composer::SlotsLoading => self.status("slots.loading", true),
            Composer::Booking => self.status("slots.booking", true),
            Composer::Requesting => self.status("request.sending", true),
            Composer::Request { none } => {
                if none {
                    self.status("slots.none", false);
                }
                self.request_form();
            }
            Composer::SlotsError(msg) => {
                self.state(msg, false);
                self.action("choice", "slots.try_again", "r");
                self.action("link", "slots.skip", "k");
            }
            Composer::SlotsNone => {
                self.status("slots.none", false);
                self.action("choice", "slots.continue", "k");
            }
            Composer::Slots {
                tz,
                days,
                day,
                times,
                none_fit,
            } => {
                let on = fill(
                    &self.t("slots.times_on"),
                    &[("day", days.get(day).copied().unwrap_or(""))],
                );
                let zone = fill(&self.t("slots.zone"), &[("zone", tz)]);
                let rows = self.build(Some(&self.composer), SLOTS, &[&on, &zone]);
                if let [days_row, times_row] = rows.as_slice() {
                    for (i, d) in days.iter().enumerate() {
                        if let Some(b) = self.button(days_row, "day", d, "d", i) {
                            let on = if i == day { "true" } else { "false" };
                            b.set_attr("aria-pressed", on);
                        }
                    }
                    for (i, t) in times.iter().enumerate() {
                        self.button(times_row, "time", t, "s", i);
                    }
                }
                if none_fit {
                    self.action("link", "request.none_fit", "n");
                }
                self.action("link", "slots.skip", "k");
            }
        }
        self.scroll_end();
        if (had_focus || self.focus_is_ours()) && self.panel.attr("hidden").is_none() {
            self.focus_composer(false);
        }
    }

    /// Shows a validation message under the current input (or as a note when there is none).
    pub fn error(&self, msg: &str) -> bool {
        let err = self.composer.find(".err");
        let input = self.composer.find("input");
        match (err, input) {
            (Some(err), Some(input)) => {
                err.set_text(msg);
                input.set_attr("aria-invalid", "true");
                input.focus();
                true
            }
            _ => false,
        }
    }

    /// Removes the widget from the page.
    pub fn remove(&self) {
        self.host.remove();
    }
}
