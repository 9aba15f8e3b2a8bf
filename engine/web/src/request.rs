//! The no-slot fallback (the visitor's preferred times sent to the queue, then the meeting card's
//! skip path) and the booking confirmation's video link.

use crate::shell::*;
use crate::state::*;
use crate::view::Entry;
use dynchat_engine::compile::CCard;
use dynchat_engine::json::Out;
use dynchat_engine::{Booking, Input};

impl Inner {
    /// A lead value the conversation knows: captured in it (`fields`) or known before (`lead`).
    fn known(&self, key: &str) -> Option<&str> {
        let captured = self
            .fields
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key));
        captured
            .map(|(_, v)| v)
            .or_else(|| self.session.lead.get(&key.to_ascii_lowercase()))
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    }

    /// Can the preferred-times form be offered? The worker needs the visitor's email.
    pub(super) fn can_request(&self) -> bool {
        self.known("email").is_some()
    }

    /// Sends the preferred times (`Ui::SendRequest`), echoed as the visitor's line. The key is the
    /// session's and the meeting card's, so a repeated send is stored once.
    pub(super) fn send_request(&mut self, text: String) {
        let reason = if matches!(self.slots, SlotUi::NoneFit) {
            "none_fit"
        } else if matches!(&self.slots, SlotUi::Ready { slots, .. } if slots.is_empty()) {
            "no_slots"
        } else {
            return;
        };
        let at = self.session.at.map(usize::from);
        let card = at.and_then(|i| self.flow.cards.get(i));
        let id = at.and_then(|i| self.flow.card_ids.get(i));
        let (Some(CCard::Meeting { route, .. }), Some(id), Some(email)) =
            (card, id, self.known("email"))
        else {
            return;
        };
        let name = self.known("name").or_else(|| self.known("firstName"));
        let mut out = Out::new();
        out.str("route", &route_str(route, &self.flow.id, id))
            .str("email", email)
            .str("preferred", text.trim())
            .str("reason", reason)
            .str("session", &self.session.id)
            .str("dialogue", &self.flow.id);
        if let Some(n) = name.filter(|n| {
            dynchat_engine::fields::char_count(n) <= 200
                && !dynchat_engine::cut::has(n.as_bytes(), b'\n')
        }) {
            out.str("name", n);
        }
        // A rules route is resolved by the worker from the same facts as `/book`.
        self.rule_facts(route, &mut out);
        let key = ["req-", &self.session.id, "-", id].concat();
        let me = Entry {
            who: "me".into(),
            card: String::new(),
            text: text.trim().to_string(),
            image: None,
            link: None,
        };
        self.line(me, None);
        self.slots = SlotUi::Requesting(reason);
        self.calls.push(Call::Request(key, out.finish()));
        self.pump();
        self.refresh_slots();
    }

    /// The host's answer to the request: a confirmation (or a clear failure), then the dialogue
    /// goes on exactly as when the visitor skips the meeting.
    pub(super) fn on_requested(&mut self, ok: bool) {
        let SlotUi::Requesting(reason) = self.slots else {
            return;
        };
        let note = Entry {
            who: "note".into(),
            card: String::new(),
            text: self
                .view
                .t(if ok { "request.sent" } else { "request.failed" }),
            image: None,
            link: None,
        };
        self.line(note, Some(0));
        let result = if reason == "none_fit" {
            Booking::Declined
        } else {
            Booking::NoSlots
        };
        self.input(Input::BookingResult { result }, None);
    }

    /// A booking result from the host; with a booking, the meeting's video link (an `https` link
    /// only) as a line right after the confirmation, rendered by the markdown subset as a real
    /// link (`rel="noopener noreferrer"`, never HTML).
    pub(super) fn booked(&mut self, result: Booking, video: Option<String>) {
        let at = self.session.at.map(usize::from);
        let card = at.and_then(|i| self.flow.card_ids.get(i)).cloned();
        let booked = matches!(result, Booking::Booked { .. });
        let from = self.transcript.len();
        // Hold the queue until the link is in place behind the confirmation.
        let typing = std::mem::replace(&mut self.typing, true);
        self.input(Input::BookingResult { result }, None);
        self.typing = typing;
        let link = video.filter(|_| booked).map(|v| percent_specials(&v));
        if let (Some(url), Some(card)) = (link.filter(|u| crate::markdown::safe_link(u)), card) {
            // On the confirmation's own line (the engine escaped its text: the link stays the
            // only markup added), or a line of its own when the card confirms nothing.
            let label = dynchat_engine::tokens::escape_markdown(&self.view.t("meeting.video"));
            let link = ["[", &label, "](", &url, ")"].concat();
            let confirmed = |x: &Entry| x.who == "bot" && x.card == card;
            let shown = self.transcript[from..].iter_mut().find(|x| confirmed(x));
            match shown {
                Some(e) => {
                    e.text = [&e.text, " ", &link].concat();
                    let text = e.text.clone();
                    for op in self.queue.iter_mut() {
                        if let Op::Bot(x, _) = op {
                            if confirmed(x) {
                                x.text = text;
                                break;
                            }
                        }
                    }
                }
                None => {
                    let e = Entry {
                        who: "bot".into(),
                        card,
                        text: link,
                        image: None,
                        link: None,
                    };
                    self.line(e, Some(0));
                }
            }
            self.save();
        }
        self.pump();
    }
}

/// The markdown subset takes no escaped character in a link target: percent-encode its specials.
fn percent_specials(url: &str) -> String {
    let mut out = String::with_capacity(url.len());
    for c in url.chars() {
        match c {
            '(' => out.push_str("%28"),
            ')' => out.push_str("%29"),
            '[' => out.push_str("%5B"),
            ']' => out.push_str("%5D"),
            '*' => out.push_str("%2A"),
            c => out.push(c),
        }
    }
    out
}
