//! Round-robin assignment over an editable order of agents, recording why each agent was skipped.
//!
//! The rotation assigns a start time, not a slot: agents may have different meeting lengths, so
//! each agent asked answers whether they are free for their own length from that start
//! ([`crate::slot_at`]), and the meeting lasts the chosen agent's length.
//!
//! [`assign`] only decides; it does not move the pointer. The caller (the queue's Durable
//! Object) creates the event and sends the invitation, and only then calls
//! [`Rotation::advance`], so a failed booking does not consume anyone's turn.

use crate::ids::AgentId;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The queue's order of agents and who took the last meeting.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rotation {
    pub order: Vec<AgentId>,
    /// The agent who took the last meeting; the next one after them in `order` is next in line.
    pub last: Option<AgentId>,
}

/// What is known about one agent at the start being booked, for their own meeting length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Availability {
    Free,
    /// The calendar shows the slot busy.
    Busy,
    /// The calendar could not be read (error, timeout, unreadable answer).
    Unknown,
    /// The agent's calendar connection was revoked or expired.
    Disconnected,
}

/// Why an agent in line did not get the meeting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    Busy,
    CalendarUnknown,
    CalendarDisconnected,
}

/// One skipped agent and the reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skipped {
    pub agent: AgentId,
    pub reason: SkipReason,
}

/// The decision and its explanation, kept with the meeting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignment {
    /// The start being booked; the meeting lasts the chosen agent's meeting length.
    pub start: DateTime<Utc>,
    /// Whose turn it was (the first agent asked).
    pub next_in_line: Option<AgentId>,
    /// Who gets the meeting; `None` when nobody in the order is free.
    pub chosen: Option<AgentId>,
    /// Everyone asked before `chosen`, in order, with the reason they were passed over.
    pub skipped: Vec<Skipped>,
}

impl Rotation {
    pub fn new(order: Vec<AgentId>) -> Self {
        Rotation { order, last: None }
    }

    /// Index in `order` of the agent whose turn it is.
    fn next_index(&self) -> usize {
        match &self.last {
            Some(last) => self
                .order
                .iter()
                .position(|a| a == last)
                .map_or(0, |i| (i + 1) % self.order.len()),
            None => 0,
        }
    }

    /// Whose turn it is, if the order is not empty.
    pub fn next_in_line(&self) -> Option<&AgentId> {
        self.order.get(self.next_index())
    }

    /// Records that `chosen` took a meeting; call after the booking succeeded.
    pub fn advance(&mut self, chosen: &AgentId) {
        if self.order.contains(chosen) {
            self.last = Some(chosen.clone());
        }
    }

    /// Inserts an agent at `index` (clamped to the end). Whose turn it is does not change,
    /// unless the newcomer is placed right after `last`, where it is next.
    pub fn insert(&mut self, index: usize, agent: AgentId) {
        if self.order.contains(&agent) {
            return;
        }
        let at = index.min(self.order.len());
        self.order.insert(at, agent);
    }

    /// Removes an agent. If they took the last meeting, the rotation continues from their old
    /// position: the agent who came after them is next in line.
    pub fn remove(&mut self, agent: &AgentId) {
        let Some(i) = self.order.iter().position(|a| a == agent) else {
            return;
        };
        self.order.remove(i);
        if self.last.as_ref() == Some(agent) {
            self.last = if self.order.is_empty() {
                None
            } else {
                // The predecessor of the removed position (wrapping), so that the agent who
                // followed the removed one is next.
                let pred = (i + self.order.len() - 1) % self.order.len();
                self.order.get(pred).cloned()
            };
        }
    }

    /// Replaces the whole order (the admin reordered the queue). Whoever would have been next
    /// among the agents still present stays next.
    pub fn set_order(&mut self, new_order: Vec<AgentId>) {
        let next = if self.order.is_empty() {
            None
        } else {
            let start = self.next_index();
            (0..self.order.len())
                .map(|k| &self.order[(start + k) % self.order.len()])
                .find(|a| new_order.contains(a))
                .cloned()
        };
        let mut deduped: Vec<AgentId> = Vec::with_capacity(new_order.len());
        for a in new_order {
            if !deduped.contains(&a) {
                deduped.push(a);
            }
        }
        self.order = deduped;
        self.last = next.and_then(|n| {
            let i = self.order.iter().position(|a| *a == n)?;
            let pred = (i + self.order.len() - 1) % self.order.len();
            self.order.get(pred).cloned()
        });
    }
}

/// Picks the first free agent starting with whoever is next in line, wrapping once around the
/// order; every agent asked before them is recorded with the reason they were skipped.
pub fn assign(
    rotation: &Rotation,
    start: DateTime<Utc>,
    free: &dyn Fn(&AgentId) -> Availability,
) -> Assignment {
    let mut asking = Assigning::new(rotation, start);
    while let Some(agent) = asking.candidate() {
        asking.answer(free(agent));
    }
    asking.finish()
}

/// [`assign`] one answer at a time, for a caller that learns each agent's availability with
/// I/O (reading the calendar, holding the slot, creating the event): ask [`Assigning::candidate`],
/// tell [`Assigning::answer`] what was found, until there is no candidate left; then
/// [`Assigning::finish`]. An answer may come from a re-check (the slot was taken between the
/// calendar read and the hold: `Busy`; the event could not be created: `Unknown` or
/// `Disconnected`), so the order, the start and the skip reasons are decided here only.
#[derive(Debug, Clone)]
pub struct Assigning<'r> {
    rotation: &'r Rotation,
    /// Index in the order of the first agent asked.
    start: usize,
    asked: usize,
    assignment: Assignment,
}

impl<'r> Assigning<'r> {
    /// Starts with whoever is next in line, for a meeting starting at `start`.
    pub fn new(rotation: &'r Rotation, start: DateTime<Utc>) -> Self {
        let first = if rotation.order.is_empty() {
            0
        } else {
            rotation.next_index()
        };
        Assigning {
            rotation,
            start: first,
            asked: 0,
            assignment: Assignment {
                start,
                next_in_line: rotation.order.get(first).cloned(),
                chosen: None,
                skipped: Vec::new(),
            },
        }
    }

    /// The agent to ask now; `None` once someone is chosen or everyone was asked once.
    pub fn candidate(&self) -> Option<&'r AgentId> {
        let n = self.rotation.order.len();
        if self.assignment.chosen.is_some() || self.asked >= n {
            return None;
        }
        self.rotation.order.get((self.start + self.asked) % n)
    }

    /// What was found about the current candidate: `Free` chooses them, anything else skips
    /// them with its reason. Without a candidate this does nothing.
    pub fn answer(&mut self, availability: Availability) {
        let Some(agent) = self.candidate() else {
            return;
        };
        self.asked += 1;
        let reason = match availability {
            Availability::Free => {
                self.assignment.chosen = Some(agent.clone());
                return;
            }
            Availability::Busy => SkipReason::Busy,
            Availability::Unknown => SkipReason::CalendarUnknown,
            Availability::Disconnected => SkipReason::CalendarDisconnected,
        };
        self.assignment.skipped.push(Skipped {
            agent: agent.clone(),
            reason,
        });
    }

    /// The decision and its explanation.
    pub fn finish(self) -> Assignment {
        self.assignment
    }
}
