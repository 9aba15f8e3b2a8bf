//! Validation of a capture card's answer by kind (email, phone, ...) and its default error text.

use crate::fields::{valid_email, valid_phone};
use crate::model::CaptureKind;

pub(super) fn default_error(kind: CaptureKind) -> &'static str {
    match kind {
        CaptureKind::Email => {
            "That doesn't look like an email address. Please check it, e.g. name@company.com."
        }
        CaptureKind::Phone => {
            "That doesn't look like a phone number. Please use digits, e.g. +1 415 555 0100."
        }
        CaptureKind::Name => "Please tell me your name.",
        CaptureKind::Company => "Please tell me your company's name.",
        CaptureKind::Text => "Please type an answer.",
    }
}

pub(super) fn valid_for(kind: CaptureKind, v: &str) -> bool {
    match kind {
        CaptureKind::Email => valid_email(v),
        CaptureKind::Phone => valid_phone(v),
        CaptureKind::Name => v.chars().count() <= 200 && v.chars().any(char::is_alphabetic),
        CaptureKind::Company => v.chars().count() <= 255,
        CaptureKind::Text => true,
    }
}
