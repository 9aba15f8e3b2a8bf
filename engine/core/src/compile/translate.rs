//! Compiling a dialogue's `languages` and `translations`: every text of every card in every
//! language after the first, reported with its JSON path when missing, parsed like the card's own.

use super::flow::*;
use super::resolve::Ctx;
use crate::diag::Diagnostic;
use crate::i18n::lang_tag;
use crate::model::{Card, CardText, Dialogue};

/// Which texts a card has, so its translation must have them too.
#[derive(Default)]
struct Shape {
    text: bool,
    buttons: Vec<String>,
    placeholder: bool,
    error: bool,
    confirmation: bool,
    label: bool,
}

fn shape(c: &Card) -> Shape {
    let mut s = Shape::default();
    match c {
        Card::Message(m) => s.text = !m.text.is_empty(),
        Card::Question(q) => {
            s.text = !q.text.is_empty();
            s.buttons = q.buttons.iter().map(|b| b.label.clone()).collect();
            s.placeholder = q
                .free_text
                .as_ref()
                .is_some_and(|f| f.placeholder.is_some());
        }
        Card::Capture(k) => {
            s.text = !k.text.is_empty();
            s.placeholder = k.placeholder.is_some();
            s.error = k.error.is_some();
        }
        Card::Meeting(m) => {
            s.text = !m.text.is_empty();
            s.confirmation = m.confirmation.is_some();
        }
        Card::Document(d) => {
            s.text = !d.text.is_empty();
            s.label = true;
        }
        Card::End(e) => s.text = e.text.is_some(),
        Card::Goal(_) | Card::Branch(_) => {}
    }
    s
}

impl Shape {
    fn is_empty(&self) -> bool {
        !(self.text
            || self.placeholder
            || self.error
            || self.confirmation
            || self.label
            || !self.buttons.is_empty())
    }
}

/// Checks `languages` and compiles `translations` (one [`CLang`] per language after the first,
/// its texts by card index).
pub(super) fn compile_translations(d: &Dialogue, cx: &mut Ctx<'_>) -> Vec<CLang> {
    for (i, l) in d.languages.iter().enumerate() {
        if lang_tag(l) != *l {
            cx.diags.push(Diagnostic::error(
                format!("$.languages[{i}]"),
                "bad_language",
                format!(
                    "`{l}` is not a language's primary subtag (2-8 lower-case letters, e.g. `de`)"
                ),
            ));
        } else if d.languages[..i].contains(l) {
            cx.diags.push(Diagnostic::error(
                format!("$.languages[{i}]"),
                "duplicate_language",
                format!("`{l}` is listed more than once"),
            ));
        }
    }
    for (lang, cards) in &d.translations {
        let p = format!("$.translations.{lang}");
        if d.languages.first() == Some(lang) {
            cx.diags.push(Diagnostic::error(
                p,
                "unknown_language",
                format!(
                    "`{lang}` is the dialogue's first language: its texts are the cards themselves"
                ),
            ));
        } else if !d.languages.contains(lang) {
            cx.diags.push(Diagnostic::error(
                p,
                "unknown_language",
                format!("`{lang}` is not in `languages`"),
            ));
        } else {
            for id in cards.keys().filter(|id| !cx.ids.contains_key(id.as_str())) {
                cx.diags.push(Diagnostic::error(
                    format!("{p}.{id}"),
                    "unknown_card",
                    format!("no card has id `{id}`"),
                ));
            }
        }
    }
    let mut out = Vec::new();
    for (li, lang) in d.languages.iter().enumerate().skip(1) {
        if d.languages[..li].contains(lang) {
            continue;
        }
        let none = Default::default();
        let map = d.translations.get(lang).unwrap_or(&none);
        let cards = d
            .cards
            .iter()
            .map(|c| {
                let p = format!("$.translations.{lang}.{}", c.id());
                let shape = shape(c);
                match map.get(c.id()) {
                    None if shape.is_empty() => CText::default(),
                    None => {
                        cx.diags.push(Diagnostic::error(
                            p,
                            "missing_translation",
                            format!("card `{}` has no `{lang}` translation", c.id()),
                        ));
                        CText::default()
                    }
                    Some(t) => card_text(cx, &shape, t, &p, lang),
                }
            })
            .collect();
        out.push(CLang {
            lang: lang.clone(),
            cards,
        });
    }
    out
}

fn card_text(cx: &mut Ctx<'_>, shape: &Shape, t: &CardText, p: &str, lang: &str) -> CText {
    let mut check = |has: bool, got: bool, field: &str| {
        if has && !got {
            cx.diags.push(Diagnostic::error(
                format!("{p}.{field}"),
                "missing_translation",
                format!("`{field}` has no `{lang}` translation"),
            ));
        } else if got && !has {
            cx.diags.push(Diagnostic::error(
                format!("{p}.{field}"),
                "unexpected_translation",
                format!("the card has no `{field}` to translate"),
            ));
        }
    };
    check(shape.text, t.text.is_some(), "text");
    check(shape.placeholder, t.placeholder.is_some(), "placeholder");
    check(shape.error, t.error.is_some(), "error");
    check(shape.confirmation, t.confirmation.is_some(), "confirmation");
    check(shape.label, t.label.is_some(), "label");
    for (j, label) in shape.buttons.iter().enumerate() {
        match t.buttons.get(j) {
            Some(b) if !b.trim().is_empty() => {}
            _ => cx.diags.push(Diagnostic::error(
                format!("{p}.buttons[{j}]"),
                "missing_translation",
                format!("button `{label}` has no `{lang}` label"),
            )),
        }
    }
    if t.buttons.len() > shape.buttons.len() {
        cx.diags.push(Diagnostic::error(
            format!("{p}.buttons[{}]", shape.buttons.len()),
            "unexpected_translation",
            format!("the card has {} buttons", shape.buttons.len()),
        ));
    }
    let mut tpl = |v: &Option<String>, field: &str| {
        v.as_ref().map(|s| cx.template(s, format!("{p}.{field}")))
    };
    CText {
        text: tpl(&t.text, "text"),
        error: tpl(&t.error, "error"),
        confirmation: tpl(&t.confirmation, "confirmation"),
        buttons: t.buttons.clone(),
        placeholder: t.placeholder.clone(),
        label: t.label.clone(),
    }
}
