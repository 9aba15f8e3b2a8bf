//! Validation of a capture card's answer by kind (email, phone, ...) and its default error text.

use crate::fields::{char_count, valid_email, valid_phone};
use crate::i18n::message;
use crate::letters::has_letter;
use crate::model::CaptureKind;

/// The re-prompt for an invalid answer when the card sets no `error`, in the session's language.
pub(super) fn default_error(kind: CaptureKind, lang: &str) -> String {
    let key = match kind {
        CaptureKind::Email => "capture.email",
        CaptureKind::Phone => "capture.phone",
        CaptureKind::Name => "capture.name",
        CaptureKind::Company => "capture.company",
        CaptureKind::Text => "capture.text",
    };
    message(lang, key)
}

pub(super) fn valid_for(kind: CaptureKind, v: &str) -> bool {
    match kind {
        CaptureKind::Email => valid_email(v),
        CaptureKind::Phone => valid_phone(v),
        CaptureKind::Name => char_count(v) <= 200 && has_letter(v),
        CaptureKind::Company => char_count(v) <= 255,
        CaptureKind::Text => true,
    }
}
