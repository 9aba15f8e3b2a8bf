//! The tiny view helper: an element builder over web-sys. The view modules are the only code
//! that builds DOM; event handling is delegated (one listener per event type on `#app`).

use wasm_bindgen::JsCast;
use web_sys::{Document, Element};

/// The page's document. The console only runs in a browser, where it always exists.
pub fn document() -> Document {
    web_sys::window()
        .and_then(|w| w.document())
        .unwrap_or_else(|| Document::new().unwrap_or_else(|_| unreachable_doc()))
}

fn unreachable_doc() -> Document {
    // `Document::new` only fails outside a browser; the console is never loaded there.
    wasm_bindgen::throw_str("no document")
}

/// An element under construction.
pub struct El(pub Element);

/// A new HTML element.
pub fn el(tag: &str) -> El {
    El(document()
        .create_element(tag)
        .unwrap_or_else(|_| wasm_bindgen::throw_str("create_element")))
}

impl El {
    /// Sets an attribute.
    pub fn attr(self, k: &str, v: &str) -> Self {
        let _ = self.0.set_attribute(k, v);
        self
    }
    /// Sets an attribute when `v` is `Some`.
    pub fn attr_opt(self, k: &str, v: Option<&str>) -> Self {
        match v {
            Some(v) => self.attr(k, v),
            None => self,
        }
    }
    /// Sets a boolean attribute when `on`.
    pub fn flag(self, k: &str, on: bool) -> Self {
        if on {
            self.attr(k, "")
        } else {
            self
        }
    }
    /// One inline style property, set through the CSSOM: the console's Content-Security-Policy
    /// (`style-src 'self'`) refuses `style` attributes but not script-set properties.
    pub fn css(self, property: &str, value: &str) -> Self {
        if let Some(h) = self.0.dyn_ref::<web_sys::HtmlElement>() {
            let _ = h.style().set_property(property, value);
        }
        self
    }
    /// `class`.
    pub fn cls(self, c: &str) -> Self {
        self.attr("class", c)
    }
    /// `id`.
    pub fn id(self, c: &str) -> Self {
        self.attr("id", c)
    }
    /// `data-act`: what a click (or submit) on it does.
    pub fn act(self, a: &str) -> Self {
        self.attr("data-act", a)
    }
    /// Appends text.
    pub fn text(self, t: &str) -> Self {
        let _ = self.0.append_child(&document().create_text_node(t));
        self
    }
    /// Appends a child.
    pub fn child(self, c: El) -> Self {
        let _ = self.0.append_child(&c.0);
        self
    }
    /// Appends children.
    pub fn children(self, cs: impl IntoIterator<Item = El>) -> Self {
        for c in cs {
            let _ = self.0.append_child(&c.0);
        }
        self
    }
    /// Replaces the content with trusted markup built by the console itself (SVG charts);
    /// every text inside it went through [`esc`].
    pub fn html(self, markup: &str) -> Self {
        self.0.set_inner_html(markup);
        self
    }
    /// Sets the `value` of an input, textarea or select (a property, not the attribute).
    pub fn value(self, v: &str) -> Self {
        if let Some(i) = self.0.dyn_ref::<web_sys::HtmlInputElement>() {
            i.set_value(v);
        } else if let Some(t) = self.0.dyn_ref::<web_sys::HtmlTextAreaElement>() {
            t.set_value(v);
        } else if let Some(s) = self.0.dyn_ref::<web_sys::HtmlSelectElement>() {
            s.set_value(v);
        }
        self
    }
}

/// Escapes text for markup: the engine's one HTML escape (`& < > " '`).
pub use dynchat_engine::html::escape as esc;

/// A labelled text input bound to `data-bind` (forms) or `data-path` (the dialogue editor).
pub fn input(label: &str, id: &str, value: &str, kind: &str) -> El {
    el("label").attr("for", id).text(label).child(
        el("input")
            .id(id)
            .attr("type", kind)
            .attr("name", id)
            .value(value),
    )
}

/// A small `type=button` button running action `act`, with its visible label and accessible name.
pub fn small_button(act: &str, label: &str, aria: &str) -> El {
    el("button")
        .attr("type", "button")
        .cls("small")
        .act(act)
        .attr("aria-label", aria)
        .text(label)
}

/// A `<select>` with (value, label) options.
pub fn select(id: &str, current: &str, options: &[(&str, &str)]) -> El {
    let s = el("select").id(id).attr("name", id);
    let s = options.iter().fold(s, |s, (v, l)| {
        s.child(
            el("option")
                .attr("value", v)
                .flag("selected", *v == current)
                .text(l),
        )
    });
    s.value(current)
}

/// The value of a form control by id, or "".
pub fn value_of(id: &str) -> String {
    let Some(e) = document().get_element_by_id(id) else {
        return String::new();
    };
    if let Some(i) = e.dyn_ref::<web_sys::HtmlInputElement>() {
        if i.type_() == "checkbox" {
            return if i.checked() {
                "true".into()
            } else {
                "false".into()
            };
        }
        return i.value();
    }
    if let Some(t) = e.dyn_ref::<web_sys::HtmlTextAreaElement>() {
        return t.value();
    }
    if let Some(s) = e.dyn_ref::<web_sys::HtmlSelectElement>() {
        return s.value();
    }
    String::new()
}

/// A checkbox with its label after it.
pub fn checkbox(label: &str, id: &str, on: bool) -> El {
    let i = el("input").id(id).attr("type", "checkbox").attr("name", id);
    if let Some(x) = i.0.dyn_ref::<web_sys::HtmlInputElement>() {
        x.set_checked(on);
    }
    el("label")
        .cls("check")
        .attr("for", id)
        .child(i)
        .text(label)
}

/// Moves keyboard focus to an element by id (after a re-render).
pub fn focus(id: &str) {
    if let Some(e) = document()
        .get_element_by_id(id)
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
    {
        let _ = e.focus();
    }
}

/// A page's heading (`h1#page-title`, focusable for route changes) and its one-line subtitle.
pub fn title(t: &str, sub: &str) -> El {
    el("div")
        .child(el("h1").id("page-title").attr("tabindex", "-1").text(t))
        .child(el("p").cls("sub").text(sub))
}
