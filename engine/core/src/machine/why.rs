//! Why an input changed nothing ([`Why`], in [`super::Effect::Ignored`]) and why a stored session
//! does not fit its flow ([`Mismatch`]): codes, with their one text here (`Display`).
//!
//! Codes, not text, so that code which drops them unread (the browser's chat module: it shows
//! the visitor nothing for an ignored input) links none of the text; the worker, the console,
//! the npm engine and the simulator format them (`to_string`, `{}`) into the same words.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// Why a stored or stepped session does not fit the flow it claims to run (`Session::check`,
/// `Session::from_json`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mismatch {
    /// The stored text does not read as a session.
    Unreadable,
    /// A session format version this engine does not read.
    Version(u32),
    /// Made for another version of the flow.
    OtherFlow,
    /// The current card is not in the flow.
    AtOutOfRange,
    /// Waits at a card for an input that card cannot take.
    WrongWait,
    /// Waits for a booking without one requested, or the other way round.
    Booking,
    /// Active without a current card.
    NoCard,
    /// Not active, yet at a card.
    InactiveAtCard,
    /// Not active, yet waiting for input.
    InactiveWaiting,
    /// An answer or a goal names a card that is not in the flow.
    UnknownCard,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Mismatch::Unreadable => "stored session unreadable",
            Mismatch::Version(v) => return write!(f, "session version {v} is not supported"),
            Mismatch::OtherFlow => "session belongs to another flow version",
            Mismatch::AtOutOfRange => "current card out of range",
            Mismatch::WrongWait => "active session waits at a card that cannot take that input",
            Mismatch::Booking => "booking state inconsistent",
            Mismatch::NoCard => "active session without a current card",
            Mismatch::InactiveAtCard => "inactive session with a current card",
            Mismatch::InactiveWaiting => "inactive session waiting for input",
            Mismatch::UnknownCard => "answer or goal for a card that does not exist",
        })
    }
}

impl From<Mismatch> for String {
    fn from(m: Mismatch) -> String {
        m.to_string()
    }
}

/// Why an input changed nothing. Serialised (and compared) as its text; text read back is
/// [`Why::Text`].
#[derive(Debug, Clone)]
pub enum Why {
    /// The session does not fit the flow.
    Session(Mismatch),
    /// Active, but no card is asked.
    NothingAsked,
    /// The conversation is over (or not started) for this input: its status's name
    /// (`Status::name`).
    Is(&'static str),
    /// A button index the card does not have.
    NoButton(usize),
    /// A booking result without a booking requested.
    NoBooking,
    /// An input (by its name) the current card does not take.
    NoFit {
        /// The input's name (`text`, `button`...).
        input: &'static str,
        /// The card's id.
        card: String,
    },
    /// Any other text (e.g. read back from JSON).
    Text(String),
}

impl Why {
    /// Whether the text contains `part`.
    pub fn contains(&self, part: &str) -> bool {
        self.to_string().contains(part)
    }
}

impl fmt::Display for Why {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Why::Session(m) => write!(f, "session does not match this flow: {m}"),
            Why::NothingAsked => f.write_str("nothing is being asked"),
            Why::Is(st) => write!(f, "conversation is {st}"),
            Why::NoButton(i) => write!(f, "no button {i}"),
            Why::NoBooking => f.write_str("no booking was requested"),
            Why::NoFit { input, card } => write!(f, "input {input} does not fit card `{card}`"),
            Why::Text(t) => f.write_str(t),
        }
    }
}

impl PartialEq for Why {
    fn eq(&self, other: &Why) -> bool {
        self.to_string() == other.to_string()
    }
}

impl Eq for Why {}

impl From<&str> for Why {
    fn from(t: &str) -> Why {
        Why::Text(t.to_string())
    }
}

impl Serialize for Why {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Why {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Why, D::Error> {
        String::deserialize(d).map(Why::Text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_read_as_the_texts_they_replaced() {
        let no_fit = Why::NoFit {
            input: "text",
            card: "q1".into(),
        };
        assert_eq!(no_fit.to_string(), "input text does not fit card `q1`");
        assert_eq!(
            Why::Session(Mismatch::Version(7)).to_string(),
            "session does not match this flow: session version 7 is not supported"
        );
        assert_eq!(Why::Is("dropped").to_string(), "conversation is dropped");
        assert_eq!(Why::NoButton(3).to_string(), "no button 3");
        // Serialised as its text, and read back equal.
        let json = serde_json::to_string(&no_fit).expect("serialises");
        assert_eq!(json, r#""input text does not fit card `q1`""#);
        let back: Why = serde_json::from_str(&json).expect("reads");
        assert_eq!(back, no_fit);
    }
}
