//! Metrics: which daily counter an event or a lead increments, and the funnel over
//! conversations from which every rate is computed.
//!
//! A conversation is one visitor session with one dialogue. A rate divides conversations by
//! conversations, never counters of different sources by each other (leads by "triggered"
//! events could give 125000%): a lead or a goal counts for the conversation it came from, at most
//! once, and a lead whose session never triggered the dialogue (as far as the events tell) is
//! counted apart, in `leads_without_conversation`. So no rate can exceed 100%.

use crate::validate::EventKind;
use serde::Serialize;

/// The rollup columns (`metrics_daily`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counter {
    Triggered,
    Engaged,
    Completed,
    Captured,
    Meetings,
    Goals,
}

impl Counter {
    /// The column name (a fixed identifier, never user input).
    pub fn column(self) -> &'static str {
        match self {
            Counter::Triggered => "triggered",
            Counter::Engaged => "engaged",
            Counter::Completed => "completed",
            Counter::Captured => "captured",
            Counter::Meetings => "meetings",
            Counter::Goals => "goals",
        }
    }
}

/// The counter an event increments, if any.
pub fn counter_for(kind: EventKind) -> Option<Counter> {
    match kind {
        EventKind::Triggered => Some(Counter::Triggered),
        EventKind::Engaged => Some(Counter::Engaged),
        EventKind::Completed => Some(Counter::Completed),
        EventKind::Goal => Some(Counter::Goals),
        EventKind::Answer | EventKind::Dropped | EventKind::DocumentOpened | EventKind::Closed => {
            None
        }
    }
}

/// What the store knows about a group of `count` alike conversations (same dialogue, day and
/// flags), or, with `triggered` false, about sessions that did not trigger the dialogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Facts {
    /// The session triggered the dialogue.
    pub triggered: bool,
    /// The visitor engaged with it.
    pub engaged: bool,
    /// The session reached a goal of the dialogue.
    pub goal: bool,
    /// How many sessions these facts describe.
    pub count: i64,
    /// Leads these sessions left through the dialogue (any number per session).
    pub leads: i64,
}

/// A funnel over conversations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Funnel {
    /// Conversations: sessions that triggered the dialogue.
    pub conversations: i64,
    /// Conversations in which the visitor engaged.
    pub engaged_conversations: i64,
    /// Conversations that left at least one lead or reached a goal.
    pub converted_conversations: i64,
    /// Leads of those conversations (a conversation may leave several).
    pub leads: i64,
    /// Leads whose session never triggered the dialogue (or whose events are gone).
    pub leads_without_conversation: i64,
}

impl Funnel {
    /// Adds a group of facts.
    pub fn add(&mut self, f: Facts) {
        let count = f.count.max(0);
        let leads = f.leads.max(0);
        if !f.triggered {
            self.leads_without_conversation += leads;
            return;
        }
        self.conversations += count;
        self.leads += leads;
        if f.engaged {
            self.engaged_conversations += count;
        }
        if f.goal || leads > 0 {
            self.converted_conversations += count;
        }
    }

    /// Adds another funnel (e.g. days into a total).
    pub fn merge(&mut self, o: &Funnel) {
        self.conversations += o.conversations;
        self.engaged_conversations += o.engaged_conversations;
        self.converted_conversations += o.converted_conversations;
        self.leads += o.leads;
        self.leads_without_conversation += o.leads_without_conversation;
    }

    /// Engaged conversations per conversation, per cent (0 without conversations).
    pub fn engagement_rate(&self) -> f64 {
        percent(self.engaged_conversations, self.conversations)
    }

    /// Converted conversations (a lead or a goal) per conversation, per cent.
    pub fn conversion_rate(&self) -> f64 {
        percent(self.converted_conversations, self.conversations)
    }
}

/// `part` of `whole` in per cent, rounded to 0.1, never above 100 (a part is a subset).
fn percent(part: i64, whole: i64) -> f64 {
    if whole <= 0 {
        return 0.0;
    }
    let p = part.clamp(0, whole) as f64 * 100.0 / whole as f64;
    (p * 10.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conv(engaged: bool, goal: bool, count: i64, leads: i64) -> Facts {
        Facts {
            triggered: true,
            engaged,
            goal,
            count,
            leads,
        }
    }

    #[test]
    fn counters() {
        assert_eq!(counter_for(EventKind::Goal), Some(Counter::Goals));
        assert_eq!(counter_for(EventKind::Closed), None);
    }

    #[test]
    fn rates_are_over_conversations() {
        let mut f = Funnel::default();
        f.add(conv(false, false, 6, 0));
        f.add(conv(true, false, 3, 0));
        f.add(conv(true, false, 1, 1));
        assert_eq!(f.conversations, 10);
        assert_eq!((f.engagement_rate(), f.conversion_rate()), (40.0, 10.0));
        assert_eq!(Funnel::default().conversion_rate(), 0.0);
    }

    #[test]
    fn more_leads_than_triggers_is_still_at_most_100_percent() {
        // One conversation that left five leads (re-sent forms), plus 1249 leads posted by
        // sessions that never triggered the dialogue: once 125000% (1250 leads / 1 trigger).
        let mut f = Funnel::default();
        f.add(conv(true, false, 1, 5));
        f.add(Facts {
            leads: 1249,
            count: 1249,
            ..Facts::default()
        });
        assert_eq!(f.conversations, 1);
        assert_eq!(f.converted_conversations, 1);
        assert_eq!(f.leads, 5);
        assert_eq!(f.conversion_rate(), 100.0);
        assert_eq!(f.leads_without_conversation, 1249);
    }

    #[test]
    fn a_lead_without_a_conversation_is_counted_apart() {
        let mut f = Funnel::default();
        f.add(Facts {
            leads: 1,
            count: 1,
            ..Facts::default()
        });
        assert_eq!(
            f,
            Funnel {
                leads_without_conversation: 1,
                ..Funnel::default()
            }
        );
        assert_eq!((f.engagement_rate(), f.conversion_rate()), (0.0, 0.0));
        // A goal alone converts its conversation; an engaged-only session without a trigger
        // counts nowhere.
        f.add(conv(false, true, 2, 0));
        f.add(Facts {
            engaged: true,
            count: 4,
            ..Facts::default()
        });
        assert_eq!((f.conversations, f.converted_conversations), (2, 2));
        assert_eq!(f.engagement_rate(), 0.0);
        let mut total = Funnel::default();
        total.merge(&f);
        total.merge(&f);
        assert_eq!(
            (total.conversations, total.leads_without_conversation),
            (4, 2)
        );
        assert_eq!(total.conversion_rate(), 100.0);
    }

    #[test]
    fn a_rate_never_exceeds_100_even_on_inconsistent_counts() {
        let f = Funnel {
            conversations: 1,
            engaged_conversations: 7,
            converted_conversations: 1250,
            ..Funnel::default()
        };
        assert_eq!((f.engagement_rate(), f.conversion_rate()), (100.0, 100.0));
        assert_eq!(percent(1, 3), 33.3);
    }
}
