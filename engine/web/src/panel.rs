//! The panel and the meeting slots: opening and minimising, the view's UI events, the slot picker.

use crate::shell::*;
use crate::state::*;
use crate::view::{Composer, Ui};
use dynchat_engine::model::CaptureKind;
use dynchat_engine::{Booking, Input, Prompt, Status};

impl Inner {
    pub(super) fn refresh_slots(&mut self) {
        if !matches!(self.prompt, Some(Prompt::Slots)) {
            return;
        }
        let request = self.can_request();
        let c = match &self.slots {
            SlotUi::Loading => Composer::SlotsLoading,
            SlotUi::Booking => Composer::Booking,
            SlotUi::Requesting(_) => Composer::Requesting,
            SlotUi::NoneFit => Composer::Request { none: false },
            SlotUi::Error(m) => Composer::SlotsError(m),
            SlotUi::Ready { slots, .. } if slots.is_empty() && request => {
                Composer::Request { none: true }
            }
            SlotUi::Ready { slots, .. } if slots.is_empty() => Composer::SlotsNone,
            SlotUi::Ready {
                tz,
                days,
                slots,
                day,
            } => Composer::Slots {
                tz,
                days: days.iter().map(String::as_str).collect(),
                day: *day,
                times: slots
                    .iter()
                    .filter(|s| days.get(*day) == Some(&s.day))
                    .map(|s| s.time.as_str())
                    .collect(),
                none_fit: request,
            },
        };
        self.view.composer(c);
    }

    pub(super) fn open(&mut self, focus: bool) {
        self.open = true;
        self.view.poke(false);
        self.view.panel(true, focus);
        if self.session.status == Status::New {
            self.input(Input::Start, None);
        } else {
            self.pump();
            self.save();
        }
        self.calls.push(Call::Ui("open"));
    }

    pub(super) fn minimise(&mut self, focus: bool) {
        if !self.open {
            return;
        }
        self.open = false;
        self.view.panel(false, focus);
        self.save();
        self.calls.push(Call::Ui("minimised"));
    }

    pub(super) fn on_ui(&mut self, ui: Ui) {
        match ui {
            Ui::Open => {
                if self.open {
                    self.minimise(true)
                } else {
                    self.open(true)
                }
            }
            Ui::Minimise => self.minimise(true),
            Ui::DismissPoke => {
                self.view.poke(false);
                self.calls.push(Call::Ui("poke-dismissed"));
            }
            Ui::End => self.end(),
            Ui::Button(i) => {
                let label = match &self.prompt {
                    Some(Prompt::Choices { buttons, .. }) => {
                        buttons.get(i).map(|b| b.label.clone())
                    }
                    _ => None,
                };
                if label.is_some() {
                    self.input(Input::Button { index: i }, label);
                }
            }
            Ui::Submit(text) => {
                let echo = text.trim().to_string();
                if echo.is_empty()
                    && !matches!(
                        self.prompt,
                        Some(
                            Prompt::Field { .. }
                                | Prompt::Choices {
                                    free_text: Some(_),
                                    ..
                                }
                        )
                    )
                {
                    return;
                }
                if matches!(
                    self.prompt,
                    Some(Prompt::Field {
                        field: CaptureKind::Email,
                        ..
                    })
                ) && self.cfg.blocks_email(&echo)
                {
                    // The site refuses this domain (so would POST /leads): ask again, keep the card.
                    self.queue
                        .push_back(Op::Reprompt(self.view.t("capture.work_email")));
                    self.pump();
                    return;
                }
                self.input(Input::Text { text }, Some(echo));
            }
            Ui::Day(d) => {
                if let SlotUi::Ready { day, .. } = &mut self.slots {
                    *day = d;
                }
                self.refresh_slots();
                self.view.focus_composer(false);
            }
            Ui::Slot(i) => {
                let chosen = match &self.slots {
                    SlotUi::Ready {
                        days, slots, day, ..
                    } => slots
                        .iter()
                        .filter(|s| days.get(*day) == Some(&s.day))
                        .nth(i)
                        .map(|s| {
                            let label = if s.label.is_empty() {
                                [s.day.as_str(), " ", &s.time].concat()
                            } else {
                                s.label.clone()
                            };
                            (s.start_ms, s.end_ms, label)
                        }),
                    _ => None,
                };
                if let Some((start_ms, end_ms, label)) = chosen {
                    self.input(Input::SlotChosen { start_ms, end_ms }, Some(label));
                }
            }
            Ui::SkipMeeting => {
                let result = if matches!(&self.slots, SlotUi::Ready { slots, .. } if slots.is_empty())
                {
                    Booking::NoSlots
                } else {
                    Booking::Declined
                };
                self.input(
                    Input::BookingResult { result },
                    Some(self.view.t("slots.skip")),
                );
            }
            Ui::RetrySlots => {
                let at = self.session.at.map(usize::from);
                let card = at.and_then(|i| self.flow.cards.get(i));
                let id = at.and_then(|i| self.flow.card_ids.get(i));
                if let (Some(dynchat_engine::compile::CCard::Meeting { route, .. }), Some(id)) =
                    (card, id)
                {
                    let call = self.slots_call(route, id);
                    self.slots = SlotUi::Loading;
                    self.calls.push(call);
                    self.refresh_slots();
                }
            }
            Ui::NoneFit => {
                if matches!(self.slots, SlotUi::Ready { .. }) {
                    self.slots = SlotUi::NoneFit;
                    self.refresh_slots();
                    self.view.focus_composer(false);
                }
            }
            Ui::SendRequest(text) => self.send_request(text),
            Ui::Document(card) => self.ev("document_opened", Some(&card), None),
        }
    }

    pub(super) fn end(&mut self) {
        self.input(Input::Close, None);
        self.queue.clear();
        self.typing = false;
        self.open = false;
        self.view.panel(false, false);
        self.view.poke(false);
        self.view.launcher(self.cfg.launcher_always);
        self.save();
        self.calls.push(Call::Ui("ended"));
    }

    pub(super) fn on_slots(&mut self, json: &str) {
        let reply = crate::wire::slots_reply(json).unwrap_or(SlotsReply {
            tz: String::new(),
            slots: Vec::new(),
            error: Some(String::new()),
        });
        self.slots = match reply.error {
            // The host's reason stays out of the panel: the visitor reads it in their language.
            Some(_) => SlotUi::Error(self.view.t("slots.error")),
            None => {
                let mut days: Vec<String> = Vec::new();
                for s in &reply.slots {
                    if !days.contains(&s.day) {
                        days.push(s.day.clone());
                    }
                }
                SlotUi::Ready {
                    tz: reply.tz,
                    days,
                    slots: reply.slots,
                    day: 0,
                }
            }
        };
        self.refresh_slots();
    }
}
