//! What goes into [`super::step`] ([`Input`], [`Booking`]) and what comes out ([`Effect`], [`Prompt`], [`BrowserEvent`]).

use super::why::Why;
use crate::compile::CRoute;
use crate::model::CaptureKind;
use serde::{Deserialize, Serialize};

/// A visitor or host input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Input {
    /// Start, or resume after a reload (re-asks the current card).
    Start,
    /// A button by index.
    Button {
        /// Button index on the current question.
        index: usize,
    },
    /// Typed text.
    Text {
        /// What was typed.
        text: String,
    },
    /// A slot picked from those the host showed.
    SlotChosen {
        /// Start, ms UTC.
        start_ms: i64,
        /// End, ms UTC.
        end_ms: i64,
    },
    /// What the booking or slot lookup came to.
    BookingResult {
        /// Result.
        result: Booking,
    },
    /// The visitor was idle too long.
    Timeout,
    /// The visitor closed the chat.
    Close,
}

/// Booking or slot-lookup outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Booking {
    /// Booked.
    Booked {
        /// Meeting id.
        meeting_id: String,
        /// Agent name.
        agent: String,
        /// Time for the visitor.
        time: String,
    },
    /// Someone else got the slot first.
    SlotTaken,
    /// No slot available at all.
    NoSlots,
    /// The visitor chose not to book.
    Declined,
    /// The booking failed for another reason.
    Failed {
        /// Why, as a code: [`Booking::OFFLINE`], [`Booking::SERVER`]; any other text (older
        /// hosts sent free text) gets the generic message. Never shown to the visitor.
        reason: String,
    },
}

impl Booking {
    /// `Failed` reason code: the request never reached the server (the visitor is offline).
    pub const OFFLINE: &'static str = "offline";
    /// `Failed` reason code: the server answered with an error.
    pub const SERVER: &'static str = "server";

    /// The catalogue key of the re-prompt for a `Failed` reason: a known code's own message,
    /// the generic one for anything else (the visitor never sees text from the network).
    pub fn failure_key(reason: &str) -> &'static str {
        match reason {
            Self::OFFLINE => "reprompt.booking_offline",
            Self::SERVER => "reprompt.booking_server",
            _ => "reprompt.booking_failed",
        }
    }
}

/// A choice shown as a button.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choice {
    /// Label.
    pub label: String,
    /// Value.
    pub value: String,
}

/// What the visitor is asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Prompt {
    /// Buttons, maybe with a text box.
    Choices {
        /// Buttons.
        buttons: Vec<Choice>,
        /// Text box placeholder when typing is allowed.
        free_text: Option<String>,
    },
    /// A validated field.
    Field {
        /// Kind of field.
        field: CaptureKind,
        /// Placeholder.
        placeholder: Option<String>,
    },
    /// A slot picker.
    Slots,
}

/// Events the host dispatches as DOM CustomEvents (`dynchat:<name>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BrowserEvent {
    /// The visitor answered for the first time.
    Engaged,
    /// The dialogue reached its end.
    Completed,
    /// The visitor closed the chat.
    Closed,
    /// An email was captured.
    Email,
    /// A phone number was captured.
    Phone,
    /// A meeting was booked.
    MeetingBooked,
    /// A goal was reached.
    Goal,
}

/// What the host must do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Effect {
    /// Show a bot message after a typing indicator.
    Show {
        /// Card id.
        card: String,
        /// Rendered text (plain text + allowlisted markdown; never HTML). Markdown is the
        /// author's: every token value in it is escaped (`\` before `\ * [ ] ( )`, see
        /// [`crate::tokens::escape_markdown`]), so what a visitor typed or a lead field holds is text.
        text: String,
        /// Typing delay.
        delay_ms: u32,
        /// Image URL.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        image: Option<String>,
        /// Tracked document link (url, label).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        link: Option<(String, String)>,
    },
    /// Ask for input.
    Ask {
        /// Card id.
        card: String,
        /// Prompt.
        prompt: Prompt,
    },
    /// The answer was not accepted; say why and ask again.
    Reprompt {
        /// Card id.
        card: String,
        /// Message.
        message: String,
    },
    /// The visitor answered a card.
    Answer {
        /// Card id.
        card: String,
        /// Value stored.
        value: String,
    },
    /// Store a lead field.
    Capture {
        /// Lead field (as authored).
        field: String,
        /// Value.
        value: String,
        /// Replace a value already known.
        overwrite: bool,
    },
    /// Fetch slots for a route.
    RequestSlots {
        /// Card id.
        card: String,
        /// Route.
        route: CRoute,
    },
    /// Book a slot.
    Book {
        /// Card id.
        card: String,
        /// Route.
        route: CRoute,
        /// Start ms.
        start_ms: i64,
        /// End ms.
        end_ms: i64,
        /// Idempotency key: a retry books the same meeting.
        key: String,
    },
    /// A goal was reached.
    Goal {
        /// Card id.
        card: String,
        /// Name.
        name: String,
        /// Score.
        score: i32,
    },
    /// Dispatch a browser event.
    Emit {
        /// Event.
        event: BrowserEvent,
    },
    /// The conversation completed.
    Complete,
    /// The conversation was dropped at a card.
    Drop {
        /// Card where the visitor left.
        card: Option<String>,
    },
    /// The input did not fit the state and changed nothing.
    Ignored {
        /// Why (a code; its text is its `Display`).
        reason: Why,
    },
}
