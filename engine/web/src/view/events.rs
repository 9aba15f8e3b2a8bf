//! The view's events: one listener per event type on the shadow root; an element's `data-a` code says which `Ui` action it stands for.

use super::dom;
use dynchat_engine::i18n;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Element, Event, HtmlInputElement, KeyboardEvent, ShadowRoot};

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

/// The attribute naming what a click on an element (or a form's submit) does: one letter, then
/// an index for `b` (choice), `d` (day) and `s` (time); see [`action`].
pub(super) const ACTION: &str = "data-a";

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
pub(super) fn listen(root: &ShadowRoot, dispatch: Dispatch, lang: &str) {
    for kind in 0u8..3 {
        let (d, lang) = (dispatch.clone(), lang.to_string());
        let cb = Closure::<dyn FnMut(Event)>::new(move |e: Event| {
            if let Some(ui) = on_event(kind, &e, &lang) {
                d(ui);
            }
        });
        let ev = ["click", "keydown", "submit"][usize::from(kind)];
        dom::listen(root, ev, cb.as_ref());
        cb.forget();
    }
}

/// What event `e` (0 click, 1 keydown, 2 submit) means for the controller, if anything.
fn on_event(kind: u8, e: &Event, lang: &str) -> Option<Ui> {
    let target: Element = e.target()?.dyn_into().ok()?;
    let closest = |sel: &str| dom::closest(&target, sel);
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
            let field = dom::find(&target, "input,textarea")?.unchecked_into::<HtmlInputElement>();
            let text = field.value();
            if target.get_attribute(ACTION).as_deref() == Some("f") {
                return Some(Ui::Submit(text));
            }
            if !text.trim().is_empty() {
                return Some(Ui::SendRequest(text));
            }
            if let Some(err) = dom::find(&target, ".err") {
                err.set_text_content(Some(&i18n::message(lang, "request.empty")));
            }
            dom::set_attr(&field, "aria-invalid", "true");
            dom::focus(&field);
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn action_codes() {
        let name = |c: &str| format!("{:?}", action(c));
        assert_eq!(name("o"), "Some(Open)");
        assert_eq!(name("b0"), "Some(Button(0))");
        assert_eq!(name("d12"), "Some(Day(12))");
        assert_eq!(name("s7"), "Some(Slot(7))");
        assert_eq!(name("k"), "Some(SkipMeeting)");
        // Forms' codes are submits, not clicks.
        assert_eq!(name("f"), "None");
        assert_eq!(name("q"), "None");
        assert_eq!(name(""), "None");
    }
}
