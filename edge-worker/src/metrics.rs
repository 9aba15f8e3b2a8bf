//! Daily rollups per dialogue: which counter an event or a lead increments.

use crate::validate::EventKind;

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

/// Engagement and conversion rates (per cent) of a rollup row.
pub fn rates(triggered: i64, engaged: i64, captured: i64) -> (f64, f64) {
    let pct = |a: i64, b: i64| {
        if b > 0 {
            (a as f64) * 100.0 / (b as f64)
        } else {
            0.0
        }
    };
    (pct(engaged, triggered), pct(captured, engaged))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_and_rates() {
        assert_eq!(counter_for(EventKind::Goal), Some(Counter::Goals));
        assert_eq!(counter_for(EventKind::Closed), None);
        assert_eq!(rates(10, 5, 1), (50.0, 20.0));
        assert_eq!(rates(0, 0, 0), (0.0, 0.0));
    }
}
