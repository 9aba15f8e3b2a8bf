//! What the visitor's input does at the card being asked: buttons, free text, captures, slots, skips.

use super::capture::*;
use super::io::*;
use super::run::*;
use super::session::*;
use super::why::Why;
use crate::compile::{CCard, CardIx};
use crate::fields::{answer_too_long, too_long_in};
use crate::i18n::message;
use crate::model::CaptureKind;

pub(super) fn on_input(r: &mut Run<'_>, s: &mut Session, i: CardIx, input: Input) {
    let flow = r.flow;
    let Some(card) = flow.cards.get(usize::from(i)) else {
        return;
    };
    match (card, input, s.wait) {
        (
            CCard::Question {
                buttons,
                field,
                next,
                ..
            },
            Input::Button { index },
            Wait::Answer,
        ) => match buttons.get(index) {
            Some(b) => {
                take(r, s, i, field.as_ref(), b.value.clone(), true);
                r.run_from(s, b.next.or(*next));
            }
            None => r.out.push(Effect::Ignored {
                reason: Why::NoButton(index),
            }),
        },
        (
            CCard::Question {
                free_text: Some((_, ft_next)),
                field,
                next,
                ..
            },
            Input::Text { text },
            Wait::Answer,
        ) => {
            let v = text.trim();
            if v.is_empty() {
                let m = message(&s.lang, "reprompt.text_or_choice");
                r.reprompt(s, i, m);
                return;
            }
            if answer_too_long(v) {
                r.reprompt(s, i, too_long_in(&s.lang));
                return;
            }
            take(r, s, i, field.as_ref(), v.to_string(), true);
            r.run_from(s, ft_next.or(*next));
        }
        (CCard::Question { buttons, .. }, Input::Text { text }, Wait::Answer) => {
            // Typed text on a buttons-only question: accept a label typed exactly (as authored
            // or as shown in the session's language), else re-prompt.
            let shown = r.tr(s, i).map(|t| t.buttons.as_slice()).unwrap_or_default();
            let typed = text.trim();
            match buttons.iter().enumerate().position(|(j, b)| {
                b.label.eq_ignore_ascii_case(typed)
                    || shown.get(j).is_some_and(|l| l.eq_ignore_ascii_case(typed))
            }) {
                Some(index) => on_input(r, s, i, Input::Button { index }),
                None => {
                    let m = message(&s.lang, "reprompt.choice");
                    r.reprompt(s, i, m)
                }
            }
        }
        (
            CCard::Capture {
                kind,
                field,
                overwrite,
                pattern,
                error,
                next,
                ..
            },
            Input::Text { text },
            Wait::Answer,
        ) => {
            let v = text.trim();
            if answer_too_long(v) {
                r.reprompt(s, i, too_long_in(&s.lang));
                return;
            }
            let ok = !v.is_empty()
                && valid_for(*kind, v)
                && pattern.as_ref().is_none_or(|re| re.is_match(v));
            if !ok {
                let translated = r.tr(s, i).and_then(|t| t.error.as_ref());
                let m = match translated.or(error.as_ref()) {
                    Some(t) => render(t, s, flow),
                    None => default_error(*kind, &s.lang),
                };
                r.reprompt(s, i, m);
                return;
            }
            // A valid email is ASCII (`rules::valid_email`), so ASCII lower-casing is all of it.
            let value = if *kind == CaptureKind::Email {
                v.to_ascii_lowercase()
            } else {
                v.to_string()
            };
            take(r, s, i, Some(field), value, *overwrite);
            match kind {
                CaptureKind::Email => r.emit(BrowserEvent::Email),
                CaptureKind::Phone => r.emit(BrowserEvent::Phone),
                _ => {}
            }
            r.run_from(s, *next);
        }
        (CCard::Meeting { route, .. }, Input::SlotChosen { start_ms, end_ms }, Wait::Slot) => {
            if end_ms <= start_ms || end_ms.saturating_sub(start_ms) > 24 * 3_600_000 {
                let m = message(&s.lang, "reprompt.slot_invalid");
                r.reprompt(s, i, m);
                return;
            }
            if !s.engaged {
                s.engaged = true;
                r.emit(BrowserEvent::Engaged);
            }
            s.booking = Some((start_ms, end_ms));
            s.wait = Wait::Booking;
            let key = book_key(s, i, start_ms);
            r.out.push(Effect::Book {
                card: r.id(i),
                route: route.clone(),
                start_ms,
                end_ms,
                key,
            });
        }
        (
            CCard::Meeting {
                route,
                confirmation,
                next,
                on_skip,
                ..
            },
            Input::BookingResult { result },
            w,
        ) => match (result, w) {
            (
                Booking::Booked {
                    meeting_id,
                    agent,
                    time,
                },
                Wait::Booking,
            ) => {
                s.meeting = Some(Meeting {
                    id: meeting_id,
                    agent,
                    time,
                });
                s.booking = None;
                let value = s.meeting.as_ref().map(|m| m.id.clone()).unwrap_or_default();
                r.answered(s, i, value);
                r.emit(BrowserEvent::MeetingBooked);
                let translated = r.tr(s, i).and_then(|t| t.confirmation.as_ref());
                if let Some(c) = translated.or(confirmation.as_ref()) {
                    r.show(s, i, c, 0);
                }
                r.run_from(s, *next);
            }
            (b @ (Booking::SlotTaken | Booking::Failed { .. }), _) => {
                // One path for both: they differ in the re-prompt only.
                let key = match &b {
                    Booking::Failed { reason } => Booking::failure_key(reason),
                    _ => "reprompt.slot_taken",
                };
                s.booking = None;
                s.wait = Wait::Slot;
                let m = message(&s.lang, key);
                r.reprompt(s, i, m);
                r.out.push(Effect::RequestSlots {
                    card: r.id(i),
                    route: route.clone(),
                });
            }
            (Booking::NoSlots | Booking::Declined, _) => {
                s.booking = None;
                r.answered(s, i, "skipped".into());
                r.run_from(s, *on_skip);
            }
            (Booking::Booked { .. }, _) => r.out.push(Effect::Ignored {
                reason: Why::NoBooking,
            }),
        },
        (_, input, _) => r.out.push(Effect::Ignored {
            reason: Why::NoFit {
                input: input_name(&input),
                card: r.id(i),
            },
        }),
    }
}

/// Records `value` as the answer to card `i` and, with a `field`, as that lead field too (and
/// says so in a `Capture` effect, after the answer's).
fn take(
    r: &mut Run<'_>,
    s: &mut Session,
    i: CardIx,
    field: Option<&String>,
    value: String,
    overwrite: bool,
) {
    r.answered(s, i, value.clone());
    if let Some(f) = field {
        s.lead.insert(f.to_ascii_lowercase(), value.clone());
        r.out.push(Effect::Capture {
            field: f.clone(),
            value,
            overwrite,
        });
    }
}

pub(super) fn input_name(i: &Input) -> &'static str {
    match i {
        Input::Start => "start",
        Input::Button { .. } => "button",
        Input::Text { .. } => "text",
        Input::SlotChosen { .. } => "slot_chosen",
        Input::BookingResult { .. } => "booking_result",
        Input::Timeout => "timeout",
        Input::Close => "close",
    }
}
