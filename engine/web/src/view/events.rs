//! The view's events: one listener per event type on the shadow root; an element's `data-a` code says which `Ui` action it stands for.

use crate::ffi::Obj;
use dynchat_engine::i18n;
use std::rc::Rc;

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

/// What the shadow root's listeners (one per event type: clicks, keys and submits of every
/// control bubble there) report to: the controller and the conversation's language.
pub(super) struct Listener {
    dispatch: Dispatch,
    lang: String,
}

/// A listener for the shadow root's events, by the number the glue passes back to [`dc_event`]
/// (it lives as long as the page).
pub(super) fn listener(dispatch: Dispatch, lang: &str) -> u32 {
    let l = Listener {
        dispatch,
        lang: lang.to_string(),
    };
    Box::into_raw(Box::new(l)) as usize as u32
}

/// An event on a shadow root: `kind` 0 click, 1 keydown, 2 submit; `ev` the event's handle. The
/// element's [`ACTION`] code says what was done.
///
/// # Safety
/// `listener` from [`listener`].
#[no_mangle]
pub unsafe extern "C" fn dc_event(listener: u32, kind: u32, ev: u32) {
    // SAFETY: `listener` leaked a `Listener` that is never freed; the module runs on one thread.
    let l = unsafe { &*(listener as usize as *const Listener) };
    let Some(ev) = Obj::from_raw(ev) else {
        return;
    };
    if let Some(ui) = on_event(kind, &ev, &l.lang) {
        (l.dispatch)(ui);
    }
}

/// What event `e` (0 click, 1 keydown, 2 submit) means for the controller, if anything.
fn on_event(kind: u32, e: &Obj, lang: &str) -> Option<Ui> {
    let target = e.target()?;
    let closest = |sel: &str| target.closest(sel);
    match kind {
        0 => match closest("[data-a]") {
            Some(el) => action(&el.attr(ACTION)?),
            // Document links: report the opening, let the browser follow the link.
            None => Some(Ui::Document(closest("a[data-card]")?.attr("data-card")?)),
        },
        1 => {
            let esc = e.key()? == "Escape";
            (esc && closest(".panel,.poke").is_some()).then(|| {
                e.stop();
                Ui::Minimise
            })
        }
        _ => {
            e.prevent();
            let field = target.find("input,textarea")?;
            let text = field.value();
            if target.attr(ACTION).as_deref() == Some("f") {
                return Some(Ui::Submit(text));
            }
            if !text.trim().is_empty() {
                return Some(Ui::SendRequest(text));
            }
            if let Some(err) = target.find(".err") {
                err.set_text(&i18n::message(lang, "request.empty"));
            }
            field.set_attr("aria-invalid", "true");
            field.focus();
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
