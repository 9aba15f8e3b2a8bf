//! dynchat's chat module for the browser: runs the engine's state machine and drives the shadow-root view.
//!
//! Split: `view` is the only code that touches the DOM; the host (JavaScript, `js/chat.js`) is
//! the only code that touches storage and the network; this controller touches neither. No
//! wasm-bindgen: `abi` exports plain functions and `ffi` imports what the hand-written glue
//! (`js/glue.js`) offers. Calls to the host are queued while the controller's state is
//! borrowed and made after, so host code may call back into the widget at any time.

mod abi;
pub mod browser_text;
pub mod ffi;
pub mod markdown;
pub use dynchat_engine::style;
mod view;

use dynchat_engine::i18n;
use dynchat_engine::machine::Wait;
use dynchat_engine::TextMap;
use dynchat_engine::{Booking, Input, Session, Status};
use std::cell::RefCell;
use std::rc::{Rc, Weak};
use style::Config;
use view::{Composer, Ui, View};

// Layers, top down: this file (`Chat`) -> conversation / panel -> shell -> state; `view`, `style`
// and `markdown` are below all of them.
mod conversation;
mod panel;
mod request;
mod shell;
mod state;
mod wire;

// The targeting module's size-class allocator instead of dlmalloc (about 7 KB of wasm less); the
// chat module allocates little more than the targeting module over a conversation.
#[cfg(target_arch = "wasm32")]
#[path = "../../targeting-wasm/src/alloc.rs"]
mod alloc;
#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOC: alloc::Classes = alloc::Classes::new();

pub use ffi::Obj;
use shell::{act, now, Inner, Shell};
use state::{Flow, Queue, Saved, SlotUi};

/// One chat conversation mounted on the page.
pub struct Chat {
    shell: Rc<Shell>,
}

fn dispatcher(weak: Weak<Shell>) -> view::Dispatch {
    Rc::new(move |ui: Ui| {
        if let Some(s) = weak.upgrade() {
            act(&s, move |i| i.on_ui(ui));
        }
    })
}

/// The language the widget speaks: the site's `config.language`, the page's `<html lang>` and
/// the browser's languages (`navigator.languages`, comma-separated) through the engine's one rule
/// (`dynchat_engine::i18n::negotiate`). The host fetches that language's catalogue for [`Chat::new`].
pub fn language(config_json: &str, page: &str, browser: &str) -> String {
    let browser: Vec<&str> = dynchat_engine::cut::pieces(browser, b',').collect();
    Config::from_json(config_json)
        .lang(page, &browser)
        .to_string()
}

impl Chat {
    /// Mounts the widget. `flow_json` is the published version's compiled flow in its wire form
    /// (`flow` of the bundle / `/flows/{hash}`: the browser never compiles), `hash` that version's hash,
    /// `saved` a state from `Host.save` (resumed when it belongs to this version), `known_lead` `{field: value}`,
    /// `lang` the conversation's language ([`language`]; a resumed conversation keeps its own) and
    /// `catalogue` that language's message catalogue as fetched (English is built in; a
    /// catalogue that does not read leaves the interface in English).
    /// `css_head` is the stylesheet's head as the worker resolved it for this config (the
    /// bundle's `launcher.css`, `dynchat_engine::style::launcher_css`).
    /// `host` is the JavaScript host object (`js/chat.js`: storage, network, page events); an
    /// error is the message the glue throws.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        host: Obj,
        config_json: &str,
        flow_json: &str,
        hash: &str,
        saved: Option<String>,
        session_id: &str,
        known_lead: &str,
        lang: &str,
        catalogue: Option<String>,
        css_head: &str,
    ) -> Result<Chat, String> {
        dynchat_engine::compile::set_pattern_matcher(browser_text::pattern_matches);
        dynchat_engine::targeting::set_lowercase(browser_text::lowercase);
        // The refusal's code only (`dynchat_engine::compile::WireError`: its text stays out of the wasm).
        let flow =
            Flow::from_wire(flow_json).map_err(|e| ["unusable flow: ", e.code()].concat())?;
        if flow.hash != hash {
            return Err("flow does not match its version hash".into());
        }
        let cfg = Config::from_json(config_json);
        let known: Vec<(String, String)> = wire::fields(known_lead).into_iter().collect();
        let restored = saved
            .and_then(|s| Saved::from_json(&s))
            .filter(|s| s.v == 1 && s.dialogue == flow.id)
            .and_then(|s| {
                Session::from_json(&s.session, &flow)
                    .ok()
                    .map(|session| (s, session))
            });
        let lang = match &restored {
            Some((_, session)) => session.lang.clone(),
            None => i18n::lang_tag(lang),
        };
        if let Some(c) = catalogue.and_then(|t| i18n::Catalog::from_text(&lang, &t)) {
            i18n::install(c);
        }
        let css = style::css(css_head);
        let welcome = dynchat_engine::launcher::welcome(&cfg, &lang);
        // The shell first, empty: the view's dispatcher holds it weakly.
        let shell = Rc::new(Shell {
            host,
            inner: RefCell::new(None),
        });
        let weak = Rc::downgrade(&shell);
        let view = View::new(&cfg, &css, &welcome, &lang, dispatcher(weak.clone()))?;
        let (session, transcript, fields, overwrite, leads, open) = match restored {
            Some((s, session)) => (
                session,
                s.transcript,
                s.fields,
                s.overwrite,
                s.leads,
                s.open,
            ),
            None => (
                Session::new(&flow, session_id, &known, now()).in_lang(&lang),
                Vec::new(),
                TextMap::new(),
                Vec::new(),
                0,
                false,
            ),
        };
        *shell.inner.borrow_mut() = Some(Inner {
            me: weak,
            flow,
            hash: hash.to_string(),
            cfg,
            view,
            session,
            transcript,
            fields,
            overwrite,
            leads,
            open,
            queue: Queue::default(),
            typing: false,
            prompt: None,
            slots: SlotUi::Loading,
            resuming: false,
            calls: Vec::new(),
        });
        act(&shell, |i| {
            for e in &i.transcript {
                i.view.add(e);
            }
            let open = i.open;
            let auto = i.cfg.auto_open;
            match i.session.status {
                Status::Active => {
                    // A reload mid-conversation: re-ask the current card without repeating its text.
                    i.resuming = true;
                    i.input(Input::Start, None);
                    i.resuming = false;
                    if open {
                        i.open(false);
                    } else {
                        i.view.poke(false);
                    }
                }
                Status::New if auto => i.open(false),
                Status::New => i.view.poke(true),
                _ => {
                    i.view.composer(Composer::Ended);
                    i.view.launcher(i.cfg.launcher_always || open);
                    if open {
                        i.open = true;
                        i.view.panel(true, false);
                    }
                }
            }
        });
        Ok(Chat { shell })
    }

    /// Opens the panel (starts the conversation the first time).
    pub fn open(&self) {
        act(&self.shell, |i| {
            i.view.launcher(true);
            i.open(true)
        });
    }

    /// Hides the panel; the conversation stays where it is.
    pub fn close(&self) {
        act(&self.shell, |i| i.minimise(false));
    }

    /// Ends the conversation (the visitor closed it).
    pub fn end(&self) {
        act(&self.shell, Inner::end);
    }

    /// Delivers slots: `{"tz","slots":[{"start_ms","end_ms","day","time","label"}]}` or `{"error":".."}`.
    pub fn slots(&self, json: &str) {
        let json = json.to_string();
        act(&self.shell, move |i| i.on_slots(&json));
    }

    /// Delivers a booking result in the engine's `Booking` JSON form (a booking may carry the
    /// meeting's `video` link).
    pub fn booking(&self, json: &str) {
        let result = wire::booking(json).unwrap_or(Booking::Failed {
            reason: Booking::SERVER.into(),
        });
        let video = wire::video(json);
        act(&self.shell, move |i| {
            if i.session.wait == Wait::Booking {
                i.booked(result, video);
            }
        });
    }

    /// Delivers the answer to the preferred times (`Host.request`): stored or not.
    pub fn requested(&self, ok: bool) {
        act(&self.shell, move |i| i.on_requested(ok));
    }

    /// Adds known lead fields (`{field: value}`) for tokens, branches and skip-if-known.
    pub fn identify(&self, fields_json: &str) {
        let fields = wire::fields(fields_json);
        act(&self.shell, move |i| {
            for (k, v) in fields {
                if !v.trim().is_empty() {
                    i.session.lead.insert(k.trim().to_ascii_lowercase(), v);
                }
            }
            i.save();
        });
    }

    /// `new`, `active`, `completed` or `dropped`.
    pub fn status(&self) -> String {
        self.shell
            .inner
            .try_borrow()
            .ok()
            .and_then(|g| g.as_ref().map(|i| i.session.status.name().to_string()))
            .unwrap_or_default()
    }

    /// Removes the widget from the page.
    pub fn destroy(&self) {
        if let Ok(mut g) = self.shell.inner.try_borrow_mut() {
            if let Some(i) = g.take() {
                i.view.remove();
            }
        }
    }
}
