//! The view: the only code that touches the DOM. Builds the shadow-root widget and reports clicks and keys as `Ui` actions.

use crate::markdown::{parse, Seg};
use crate::style::Config;
use dynchat_engine::i18n::{self, fill};
use dynchat_engine::json::int_string;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
mod request;

use web_sys::{
    Document, Element, Event, HtmlElement, HtmlInputElement, KeyboardEvent, ShadowRoot,
    ShadowRootInit, ShadowRootMode,
};

/// The input's `maxlength` (UTF-16 units) only stops a runaway paste: it lets through more than
/// the engine's limit even in astral characters (two units each), so an answer that is too long
/// reaches the engine and gets its re-prompt instead of being cut silently.
const INPUT_MAXLENGTH: &str = "2002";
const _: () = assert!(2 * dynchat_engine::fields::MAX_ANSWER_CHARS + 2 == 2002);

/// Something the visitor did in the widget.
#[derive(Debug, Clone)]
pub enum Ui {
    /// Open the panel.
    Open,
    /// Hide the panel, keep the conversation.
    Minimise,
    /// End the conversation.
    End,
    /// Hide the welcome bubble.
    DismissPoke,
    /// A choice button.
    Button(usize),
    /// Typed text submitted.
    Submit(String),
    /// A day tab in the slot picker.
    Day(usize),
    /// A time in the slot picker.
    Slot(usize),
    /// Continue without a meeting.
    SkipMeeting,
    /// Ask for slots again after an error.
    RetrySlots,
    /// None of the offered times fit: show the preferred-times form.
    NoneFit,
    /// The preferred-times form was sent (its text).
    SendRequest(String),
    /// A tracked document link was opened (card id).
    Document(String),
}

/// Dispatches a `Ui` action to the controller.
pub type Dispatch = Rc<dyn Fn(Ui)>;

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
    doc: Document,
    host: Element,
    root: ShadowRoot,
    launcher: HtmlElement,
    poke: HtmlElement,
    panel: HtmlElement,
    log: HtmlElement,
    typing: HtmlElement,
    composer: HtmlElement,
    input_seq: u32,
    /// The conversation's language: every interface text comes from its catalogue.
    lang: String,
    bot: String,
}

/// The attribute naming what a click on an element (or a form's submit) does: one letter, then
/// an index for `b` (choice), `d` (day) and `s` (time); see [`action`].
const ACTION: &str = "data-a";

/// The `Ui` action an element's [`ACTION`] code names.
fn action(code: &str) -> Option<Ui> {
    let (&c, rest) = code.as_bytes().split_first()?;
    let n = rest.iter().fold(0usize, |n, &b| {
        n.wrapping_mul(10)
            .wrapping_add(usize::from(b.wrapping_sub(b'0')))
    });
    Some(match c {
        b'o' => Ui::Open,
        b'm' => Ui::Minimise,
        b'e' => Ui::End,
        b'p' => Ui::DismissPoke,
        b'b' => Ui::Button(n),
        b'd' => Ui::Day(n),
        b's' => Ui::Slot(n),
        b'k' => Ui::SkipMeeting,
        b'r' => Ui::RetrySlots,
        b'n' => Ui::NoneFit,
        _ => return None,
    })
}

/// One listener per event type on the shadow root (clicks, keys and submits of every control
/// bubble there), all the same closure: the element's [`ACTION`] code says what was done.
fn listen(root: &ShadowRoot, dispatch: Dispatch, lang: &str) {
    for kind in 0u8..3 {
        let (d, lang) = (dispatch.clone(), lang.to_string());
        let cb = Closure::<dyn FnMut(Event)>::new(move |e: Event| {
            if let Some(ui) = on_event(kind, &e, &lang) {
                d(ui);
            }
        });
        let ev = ["click", "keydown", "submit"][usize::from(kind)];
        let _ = root.add_event_listener_with_callback(ev, cb.as_ref().unchecked_ref());
        cb.forget();
    }
}

/// What event `e` (0 click, 1 keydown, 2 submit) means for the controller, if anything.
fn on_event(kind: u8, e: &Event, lang: &str) -> Option<Ui> {
    let target: Element = e.target()?.dyn_into().ok()?;
    let closest = |sel: &str| target.closest(sel).ok().flatten();
    match kind {
        0 => match closest("[data-a]") {
            Some(el) => action(&el.get_attribute(ACTION)?),
            // Document links: report the opening, let the browser follow the link.
            None => Some(Ui::Document(
                closest("a[data-card]")?.get_attribute("data-card")?,
            )),
        },
        1 => {
            let esc = e.dyn_ref::<KeyboardEvent>()?.key() == "Escape";
            (esc && closest(".panel,.poke").is_some()).then(|| {
                e.stop_propagation();
                Ui::Minimise
            })
        }
        _ => {
            e.prevent_default();
            let field = target
                .query_selector("input,textarea")
                .ok()
                .flatten()?
                .unchecked_into::<HtmlInputElement>();
            let text = field.value();
            if target.get_attribute(ACTION).as_deref() == Some("f") {
                return Some(Ui::Submit(text));
            }
            if !text.trim().is_empty() {
                return Some(Ui::SendRequest(text));
            }
            if let Some(err) = target.query_selector(".err").ok().flatten() {
                err.set_text_content(Some(&i18n::message(lang, "request.empty")));
            }
            let _ = field.set_attribute("aria-invalid", "true");
            let _ = field.focus();
            None
        }
    }
}

fn js_err(e: JsValue) -> String {
    e.as_string().unwrap_or_else(|| "DOM error".into())
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
        let t = |key: &str| i18n::message(lang, key);
        let win = web_sys::window().ok_or("no window")?;
        let doc = win.document().ok_or("no document")?;
        let body = doc.body().ok_or("no body")?;
        let host = doc.create_element("div").map_err(js_err)?;
        host.set_id("dynchat-widget");
        let _ = host.set_attribute("data-theme", cfg.theme());
        let _ = host.set_attribute("data-side", cfg.side());
        // Right-to-left languages mirror the layout (the stylesheet uses logical properties).
        let dir = if i18n::is_rtl(lang) { "rtl" } else { "ltr" };
        let _ = host.set_attribute("lang", lang);
        let _ = host.set_attribute("dir", dir);
        let root = host
            .attach_shadow(&ShadowRootInit::new(ShadowRootMode::Open))
            .map_err(js_err)?;
        let sheet = web_sys::CssStyleSheet::new().map_err(js_err)?;
        sheet.replace_sync(css).map_err(js_err)?;
        js_sys::Reflect::set(
            &root,
            &"adoptedStyleSheets".into(),
            &js_sys::Array::of1(&sheet),
        )
        .map_err(js_err)?;

        let mk = |tag: &str, class: &str| -> Result<HtmlElement, String> {
            let e = doc.create_element(tag).map_err(js_err)?;
            if !class.is_empty() {
                e.set_class_name(class);
            }
            e.dyn_into::<HtmlElement>()
                .map_err(|_| "not an HTML element".to_string())
        };
        let bot = cfg.bot_name.as_str();
        let chat_with = fill(&t("ui.chat_with"), &[("bot", bot)]);

        let poke = mk("div", "poke")?;
        poke.set_hidden(true);
        let poke_open = mk("button", "poke-open")?;
        poke_open.set_text_content(Some(welcome));
        let _ = poke_open.set_attribute("type", "button");
        let poke_x = mk("button", "x")?;
        poke_x.set_text_content(Some("×"));
        let _ = poke_x.set_attribute("type", "button");
        let _ = poke_x.set_attribute("aria-label", &t("ui.dismiss"));
        poke.append_child(&poke_open).map_err(js_err)?;
        poke.append_child(&poke_x).map_err(js_err)?;

        let launcher = mk("button", "launcher")?;
        let _ = launcher.set_attribute("type", "button");
        let _ = launcher.set_attribute("aria-label", &chat_with);
        let _ = launcher.set_attribute("aria-expanded", "false");
        let _ = launcher.set_attribute("aria-controls", "dc-panel");
        let svg = doc
            .create_element_ns(Some("http://www.w3.org/2000/svg"), "svg")
            .map_err(js_err)?;
        let _ = svg.set_attribute("viewBox", "0 0 24 24");
        let _ = svg.set_attribute("aria-hidden", "true");
        let path = doc
            .create_element_ns(Some("http://www.w3.org/2000/svg"), "path")
            .map_err(js_err)?;
        let _ = path.set_attribute("d", "M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2zm3 6.5a1.5 1.5 0 1 0 0 .01zm5 0a1.5 1.5 0 1 0 0 .01zm5 0a1.5 1.5 0 1 0 0 .01z");
        svg.append_child(&path).map_err(js_err)?;
        launcher.append_child(&svg).map_err(js_err)?;

        let panel = mk("section", "panel")?;
        panel.set_id("dc-panel");
        panel.set_hidden(true);
        let _ = panel.set_attribute("role", "dialog");
        let _ = panel.set_attribute("aria-label", &chat_with);
        let _ = panel.set_attribute("lang", lang);
        let _ = panel.set_attribute("dir", dir);
        let header = mk("header", "")?;
        match &cfg.avatar_url {
            Some(url) => {
                let img = mk("img", "")?;
                let _ = img.set_attribute("src", url);
                let _ = img.set_attribute("alt", "");
                header.append_child(&img).map_err(js_err)?;
            }
            None => {
                let a = mk("span", "avatar")?;
                let _ = a.set_attribute("aria-hidden", "true");
                // The browser upper-cases the initial (no Unicode case tables in the wasm).
                let initial: String = bot.chars().take(1).collect();
                let initial = String::from(js_sys::JsString::from(initial).to_upper_case());
                a.set_text_content(Some(&initial));
                header.append_child(&a).map_err(js_err)?;
            }
        }
        let who = mk("div", "who")?;
        let h2 = mk("h2", "")?;
        h2.set_text_content(Some(bot));
        let sub = mk("p", "")?;
        sub.set_text_content(Some(&t("ui.replies_instantly")));
        who.append_child(&h2).map_err(js_err)?;
        who.append_child(&sub).map_err(js_err)?;
        header.append_child(&who).map_err(js_err)?;
        let min = mk("button", "min")?;
        min.set_text_content(Some("–"));
        let _ = min.set_attribute("type", "button");
        let _ = min.set_attribute("aria-label", &t("ui.minimise"));
        let end = mk("button", "end")?;
        end.set_text_content(Some("×"));
        let _ = end.set_attribute("type", "button");
        let _ = end.set_attribute("aria-label", &t("ui.end"));
        header.append_child(&min).map_err(js_err)?;
        header.append_child(&end).map_err(js_err)?;

        let log = mk("div", "log")?;
        let _ = log.set_attribute("role", "log");
        let _ = log.set_attribute("aria-live", "polite");
        let _ = log.set_attribute("aria-label", &t("ui.conversation"));
        let _ = log.set_attribute("tabindex", "0");
        let typing = mk("div", "typing")?;
        let _ = typing.set_attribute("aria-hidden", "true");
        for _ in 0..3 {
            typing.append_child(&mk("i", "")?.into()).map_err(js_err)?;
        }
        typing.set_hidden(true);
        let composer = mk("div", "composer")?;
        let footer = mk("footer", "")?;
        if let Some(url) = &cfg.privacy_url {
            let a = mk("a", "")?;
            let _ = a.set_attribute("href", url);
            let _ = a.set_attribute("target", "_blank");
            let _ = a.set_attribute("rel", "noopener noreferrer");
            a.set_text_content(Some(&t("ui.privacy")));
            footer.append_child(&a).map_err(js_err)?;
        }
        let by = mk("span", "")?;
        by.set_text_content(Some(&t("ui.powered_by")));
        footer.append_child(&by).map_err(js_err)?;

        panel.append_child(&header).map_err(js_err)?;
        panel.append_child(&log).map_err(js_err)?;
        panel.append_child(&composer).map_err(js_err)?;
        panel.append_child(&footer).map_err(js_err)?;
        root.append_child(&panel).map_err(js_err)?;
        root.append_child(&poke).map_err(js_err)?;
        root.append_child(&launcher).map_err(js_err)?;
        body.append_child(&host).map_err(js_err)?;

        let _ = launcher.set_attribute(ACTION, "o");
        let _ = poke_open.set_attribute(ACTION, "o");
        let _ = poke_x.set_attribute(ACTION, "p");
        let _ = min.set_attribute(ACTION, "m");
        let _ = end.set_attribute(ACTION, "e");
        listen(&root, dispatch, lang);
        log.append_child(&typing).map_err(js_err)?;
        Ok(View {
            doc,
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

    /// Shows or hides the launcher.
    pub fn launcher(&self, visible: bool) {
        self.launcher.set_hidden(!visible);
    }

    /// Shows or hides the welcome bubble.
    pub fn poke(&self, visible: bool) {
        self.poke.set_hidden(!visible);
    }

    /// Opens or hides the panel and moves focus sensibly.
    pub fn panel(&self, open: bool, move_focus: bool) {
        self.panel.set_hidden(!open);
        if open {
            let _ = self.host.set_attribute("data-open", "");
        } else {
            let _ = self.host.remove_attribute("data-open");
        }
        let _ = self
            .launcher
            .set_attribute("aria-expanded", if open { "true" } else { "false" });
        let key = if open { "ui.hide_chat" } else { "ui.open_chat" };
        let label = fill(&self.t(key), &[("bot", &self.bot)]);
        let _ = self.launcher.set_attribute("aria-label", &label);
        if move_focus {
            if open {
                self.focus_composer(true);
                self.scroll_end();
            } else {
                let _ = self.launcher.focus();
            }
        }
    }

    /// The interface text `key` in the conversation's language (English where it has none).
    pub fn t(&self, key: &str) -> String {
        i18n::message(&self.lang, key)
    }

    /// Is focus inside the widget (or nowhere in particular)?
    pub fn focus_is_ours(&self) -> bool {
        match self.doc.active_element() {
            None => true,
            Some(a) => {
                a == self.host
                    || self
                        .doc
                        .body()
                        .is_some_and(|b| b.unchecked_ref::<Element>() == &a)
            }
        }
    }

    /// Focuses the composer's first control, or the log when there is none.
    pub fn focus_composer(&self, fallback_to_log: bool) {
        let first = self
            .composer
            .query_selector("input,textarea,button")
            .ok()
            .flatten()
            .and_then(|e| e.dyn_into::<HtmlElement>().ok());
        match first {
            Some(e) => {
                let _ = e.focus();
            }
            None if fallback_to_log => {
                let _ = self.log.focus();
            }
            None => {}
        }
    }

    /// Shows or hides the typing indicator.
    pub fn typing(&self, on: bool) {
        self.typing.set_hidden(!on);
        if on {
            let _ = self.log.append_child(&self.typing);
            self.scroll_end();
        }
    }

    fn scroll_end(&self) {
        self.log.set_scroll_top(self.log.scroll_height());
    }

    /// Appends a transcript line; bot text gets the markdown subset, everything else is text.
    pub fn add(&self, e: &Entry) {
        let Ok(div) = self.doc.create_element("div") else {
            return;
        };
        div.set_class_name(
            &[
                "msg ",
                if e.who == "bot" || e.who == "me" {
                    e.who.as_str()
                } else {
                    "note"
                },
            ]
            .concat(),
        );
        if e.who == "me" {
            let sr = self.doc.create_element("span").ok();
            if let Some(sr) = sr {
                sr.set_class_name("sr");
                sr.set_text_content(Some(&self.t("ui.you")));
                let _ = div.append_child(&sr);
            }
        }
        if e.who == "bot" {
            for seg in parse(&e.text) {
                let node: Option<web_sys::Node> = match seg {
                    Seg::Text(t) => Some(self.doc.create_text_node(&t).into()),
                    Seg::Bold(t) => self.doc.create_element("strong").ok().map(|b| {
                        b.set_text_content(Some(&t));
                        b.into()
                    }),
                    Seg::Link { label, url } => self.doc.create_element("a").ok().map(|a| {
                        let _ = a.set_attribute("href", &url);
                        let _ = a.set_attribute("target", "_blank");
                        let _ = a.set_attribute("rel", "noopener noreferrer");
                        a.set_text_content(Some(&label));
                        a.into()
                    }),
                };
                if let Some(n) = node {
                    let _ = div.append_child(&n);
                }
            }
        } else {
            let _ = div.append_child(&self.doc.create_text_node(&e.text));
        }
        if let Some(src) = e.image.as_deref().filter(|u| crate::markdown::safe_link(u)) {
            if let Ok(img) = self.doc.create_element("img") {
                let _ = img.set_attribute("src", src);
                let _ = img.set_attribute("alt", "");
                let _ = div.append_child(&img);
            }
        }
        if let Some((url, label)) = e
            .link
            .as_ref()
            .filter(|(u, _)| crate::markdown::safe_link(u))
        {
            if let Ok(a) = self.doc.create_element("a") {
                a.set_class_name("doc");
                let _ = a.set_attribute("href", url);
                let _ = a.set_attribute("target", "_blank");
                let _ = a.set_attribute("rel", "noopener noreferrer");
                let _ = a.set_attribute("data-card", &e.card);
                a.set_text_content(Some(&["📄 ", label].concat()));
                let _ = div.append_child(&a);
            }
        }
        let _ = self.log.insert_before(&div, Some(&self.typing));
        self.scroll_end();
    }

    /// A button whose click reports the action `code` (see [`action`]), `n` its index if any.
    fn button(&self, class: &str, label: &str, code: &str, n: Option<usize>) -> Option<Element> {
        let b = self.el("button", class, label)?;
        let _ = b.set_attribute("type", "button");
        let code = match n {
            Some(i) => [code, &int_string(i as i64)].concat(),
            None => code.to_string(),
        };
        let _ = b.set_attribute(ACTION, &code);
        Some(b)
    }

    fn el(&self, tag: &str, class: &str, text: &str) -> Option<Element> {
        let e = self.doc.create_element(tag).ok()?;
        e.set_class_name(class);
        if !text.is_empty() {
            e.set_text_content(Some(text));
        }
        Some(e)
    }

    fn form(&mut self, kind: &str, placeholder: &str, label: &str) -> Option<Element> {
        self.input_seq += 1;
        let err_id = ["dc-err-", &int_string(i64::from(self.input_seq))].concat();
        let wrap = self.el("div", "", "")?;
        let form = self.el("form", "", "")?;
        let _ = form.set_attribute("novalidate", "");
        let input = self
            .doc
            .create_element("input")
            .ok()?
            .dyn_into::<HtmlInputElement>()
            .ok()?;
        let (ty, auto, mode) = match kind {
            "email" => ("email", "email", "email"),
            "phone" => ("tel", "tel", "tel"),
            "name" => ("text", "name", "text"),
            "company" => ("text", "organization", "text"),
            _ => ("text", "off", "text"),
        };
        input.set_type(ty);
        let _ = input.set_attribute("autocomplete", auto);
        let _ = input.set_attribute("inputmode", mode);
        let _ = input.set_attribute("aria-label", label);
        let _ = input.set_attribute("aria-describedby", &err_id);
        let _ = input.set_attribute("maxlength", INPUT_MAXLENGTH);
        if !placeholder.is_empty() {
            input.set_placeholder(placeholder);
        }
        let send = self.el("button", "send", &self.t("ui.send"))?;
        let _ = send.set_attribute("type", "submit");
        let err = self.el("p", "err", "")?;
        err.set_id(&err_id);
        let _ = err.set_attribute("role", "alert");
        let _ = form.append_child(&input);
        let _ = form.append_child(&send);
        let _ = wrap.append_child(&form);
        let _ = wrap.append_child(&err);
        let _ = form.set_attribute(ACTION, "f");
        Some(wrap)
    }

    fn state(&self, text: &str, spinner: bool) -> Option<Element> {
        let p = self.el("p", "state", "")?;
        if spinner {
            let s = self.el("span", "spin", "")?;
            let _ = s.set_attribute("aria-hidden", "true");
            let _ = p.append_child(&s);
        }
        let _ = p.append_child(&self.doc.create_text_node(text));
        let _ = p.set_attribute("role", "status");
        Some(p)
    }

    /// Replaces the composer's content.
    pub fn composer(&mut self, c: Composer<'_>) {
        let had_focus = self.root.active_element().is_some();
        self.composer.set_text_content(None);
        let mut parts: Vec<Element> = Vec::new();
        match c {
            Composer::Empty => {}
            Composer::Ended => parts.extend(self.state(&self.t("ui.ended"), false)),
            Composer::Choices { buttons, free_text } => {
                if !buttons.is_empty() {
                    if let Some(row) = self.el("div", "choices", "") {
                        let _ = row.set_attribute("role", "group");
                        let _ = row.set_attribute("aria-label", &self.t("ui.choose_answer"));
                        for (i, label) in buttons.iter().enumerate() {
                            if let Some(b) = self.button("choice", label, "b", Some(i)) {
                                let _ = row.append_child(&b);
                            }
                        }
                        parts.push(row);
                    }
                }
                if let Some(p) = free_text {
                    let hint = self.t("ui.type_answer");
                    let label = self.t("ui.your_answer");
                    parts.extend(self.form("text", if p.is_empty() { &hint } else { p }, &label));
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
                parts.extend(self.form(kind, placeholder, &label));
            }
            Composer::SlotsLoading => parts.extend(self.state(&self.t("slots.loading"), true)),
            Composer::Booking => parts.extend(self.state(&self.t("slots.booking"), true)),
            Composer::Requesting => parts.extend(self.state(&self.t("request.sending"), true)),
            Composer::Request { none } => {
                if none {
                    parts.extend(self.state(&self.t("slots.none"), false));
                }
                parts.extend(self.request_form());
            }
            Composer::SlotsError(msg) => {
                parts.extend(self.state(msg, false));
                parts.extend(self.button("choice", &self.t("slots.try_again"), "r", None));
                parts.extend(self.button("link", &self.t("slots.skip"), "k", None));
            }
            Composer::SlotsNone => {
                parts.extend(self.state(&self.t("slots.none"), false));
                parts.extend(self.button("choice", &self.t("slots.continue"), "k", None));
            }
            Composer::Slots {
                tz,
                days,
                day,
                times,
                none_fit,
            } => {
                if let Some(wrap) = self.el("div", "slots", "") {
                    let _ = wrap.set_attribute("role", "group");
                    let _ = wrap.set_attribute("aria-label", &self.t("slots.pick_time"));
                    let _ = wrap.append_child(
                        &self
                            .el("h3", "", &self.t("slots.pick_day"))
                            .unwrap_or_else(|| wrap.clone()),
                    );
                    if let Some(row) = self.el("div", "days", "") {
                        for (i, d) in days.iter().enumerate() {
                            if let Some(b) = self.button("day", d, "d", Some(i)) {
                                let _ = b.set_attribute(
                                    "aria-pressed",
                                    if i == day { "true" } else { "false" },
                                );
                                let _ = row.append_child(&b);
                            }
                        }
                        let _ = wrap.append_child(&row);
                    }
                    if let Some(h) = self.el(
                        "h3",
                        "",
                        &fill(
                            &self.t("slots.times_on"),
                            &[("day", days.get(day).copied().unwrap_or(""))],
                        ),
                    ) {
                        let _ = wrap.append_child(&h);
                    }
                    if let Some(row) = self.el("div", "times", "") {
                        for (i, t) in times.iter().enumerate() {
                            if let Some(b) = self.button("time", t, "s", Some(i)) {
                                let _ = row.append_child(&b);
                            }
                        }
                        let _ = wrap.append_child(&row);
                    }
                    if let Some(z) =
                        self.el("p", "zone", &fill(&self.t("slots.zone"), &[("zone", tz)]))
                    {
                        let _ = wrap.append_child(&z);
                    }
                    parts.push(wrap);
                }
                if none_fit {
                    parts.extend(self.button("link", &self.t("request.none_fit"), "n", None));
                }
                parts.extend(self.button("link", &self.t("slots.skip"), "k", None));
            }
        }
        for p in parts {
            let _ = self.composer.append_child(&p);
        }
        self.scroll_end();
        if (had_focus || self.focus_is_ours()) && !self.panel.hidden() {
            self.focus_composer(false);
        }
    }

    /// Shows a validation message under the current input (or as a note when there is none).
    pub fn error(&self, msg: &str) -> bool {
        let err = self.composer.query_selector(".err").ok().flatten();
        let input = self.composer.query_selector("input").ok().flatten();
        match (err, input) {
            (Some(err), Some(input)) => {
                err.set_text_content(Some(msg));
                let _ = input.set_attribute("aria-invalid", "true");
                if let Ok(i) = input.dyn_into::<HtmlElement>() {
                    let _ = i.focus();
                }
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
