//! Audience targeting: compiles rules once, evaluates them against a prepared page/visitor context, picks a dialogue.

use crate::model::Display;
use serde::{Deserialize, Serialize};

// Layers, top down: this file (picking a dialogue) / branch -> wire -> audience / context -> cond
// -> text.
mod audience;
mod branch;
mod cond;
mod context;
mod text;
mod wire;

pub use audience::{
    audience_checks, compile_audience, CompiledAudience, Watch, MAX_AUDIENCE_DEPTH,
};
pub use branch::{branch_facts, branch_facts_by, branch_query, judge};
pub use cond::{Cond, Facts, FieldRef, Test, Val, Wildcard, ACTIVITY_TYPES, MAX_ACTIVITY_DAYS};
pub use context::{Context, Page, PageInput};
use text::insertion_sort_by;
pub use text::{
    find_str, int_text, lower, minute_of_day, num_text, parse_hhmm, parse_num, weekday_index,
};
pub use wire::audience_from_wire;

/// The members of a compiled flow that targeting reads (its audience, frequency rules and
/// priority): a site bundle carries only these of each dialogue (`targeting`), and the browser
/// fetches the whole flow by its content hash when the chat mounts (docs/api.md).
pub const FLOW_TARGETING_KEYS: [&str; 3] = ["audience", "display", "priority"];

/// What one visitor has seen of one dialogue (kept by the host, in storage when consent allows).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Seen {
    /// Times shown.
    pub shown: u32,
    /// Last shown, ms since epoch.
    pub last_shown_ms: Option<i64>,
    /// Completed at least once.
    pub completed: bool,
}

/// One dialogue as a targeting candidate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    /// Dialogue id.
    pub id: String,
    /// Priority (higher first).
    pub priority: i32,
    /// Compiled audience.
    pub audience: CompiledAudience,
    /// Frequency settings.
    pub display: Display,
}

/// All of a site's candidates, sorted once: by priority, highest first; on a tie by dialogue id
/// (byte order, `a` before `b`), so the choice never depends on the order the host lists them in.
#[derive(Debug, Clone, Default)]
pub struct Targeting {
    candidates: Vec<Candidate>,
    watches: Vec<Watch>,
}

/// The outcome of one selection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Selection {
    /// The dialogue to show now, if any.
    pub dialogue: Option<String>,
    /// What to watch so that a better dialogue may match later.
    pub watch: Watch,
}

impl Targeting {
    /// Sorts candidates by priority, highest first; equal priorities by dialogue id, ascending.
    pub fn new(mut candidates: Vec<Candidate>) -> Self {
        insertion_sort_by(&mut candidates, |a, b| {
            a.priority > b.priority || (a.priority == b.priority && a.id < b.id)
        });
        let watches = candidates.iter().map(|c| c.audience.watch()).collect();
        Targeting {
            candidates,
            watches,
        }
    }

    /// Candidates in evaluation order.
    pub fn candidates(&self) -> &[Candidate] {
        &self.candidates
    }

    /// Picks the highest-priority dialogue whose audience matches and whose frequency rules allow
    /// it; of equal priorities, the one whose id sorts first.
    pub fn select(&self, ctx: &Context, seen: &dyn Fn(&str) -> Option<Seen>) -> Selection {
        let mut watch = Watch::default();
        for (c, w) in self.candidates.iter().zip(&self.watches) {
            if let Some(s) = seen(&c.id) {
                if (s.completed && c.display.hide_after_completion)
                    || c.display.max_times.is_some_and(|m| s.shown >= m)
                    || c.display
                        .min_interval_minutes
                        .zip(s.last_shown_ms)
                        .is_some_and(|(min, last)| {
                            ctx.now_ms.saturating_sub(last) < i64::from(min) * 60_000
                        })
                {
                    continue;
                }
            }
            if c.audience.eval(ctx) {
                return Selection {
                    dialogue: Some(c.id.clone()),
                    watch,
                };
            }
            if !w.is_empty() {
                watch.merge(w);
            }
        }
        Selection {
            dialogue: None,
            watch,
        }
    }
}
