//! Round-robin assignment over an editable order of agents, recording why each agent was skipped.
//!
//! The rotation assigns a start time, not a slot: agents may have different meeting lengths, so
//! each agent asked answers whether they are free for their own length from that start
//! ([`crate::slot_at`]), and the meeting lasts the chosen agent's length.
//!
//! [`assign`] only decides; it does not move the pointer. The caller (the queue's Durable
//! Object) creates the event and sends the invitation, and only then calls
//! [`Rotation::advance`] (or [`crate::fair::RotationState::commit`]), so a failed booking does
//! not consume anyone's turn.
//!
//! The same stepwise [`Assigning`] runs the plain order ([`Assigning::new`]) and the weighted,
//! fair order of [`crate::fair`] ([`Assigning::fair`]); each decision carries its [`Reason`].

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
    /// Why `chosen` got the meeting rather than whoever plain order would have chosen.
    #[serde(default)]
    pub reason: Reason,
    /// The lead's owner, asked before the rotation (account routing); a skip of theirs costs
    /// them no turn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_owner: Option<AgentId>,
}

/// Why the chosen agent got the meeting, for the assignment log.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Reason {
    /// The first free agent in the queue's order after whoever took the last meeting.
    #[default]
    Order,
    /// The agents' weights put the chosen ahead of `in_order`, the agent plain order would
    /// have asked next.
    WeightCorrection { in_order: AgentId },
    /// Fairness put the chosen ahead of `in_order`: their cancelled or no-show meetings were
    /// not counted, or they joined (or came back to) the queue at the fair point.
    FairnessCorrection { in_order: AgentId },
    /// The lead's owner, free for the slot (account routing).
    AccountOwner,
    /// Nobody asked was free.
    NobodyFree,
}

impl Rotation {
    pub fn new(order: Vec<AgentId>) -> Self {
        Rotation { order, last: None }
    }

    /// Index in `order` of the agent whose turn it is.
    pub(crate) fn next_index(&self) -> usize {
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
    /// Who is asked, in order (the account owner first, when there is one).
    asking: Vec<&'r AgentId>,
    /// The plain order from whoever is next in line, to tell which decision was a correction.
    plain: Vec<&'r AgentId>,
    /// The correction's name when the chosen is not plain order's choice.
    correction: Correction<'r>,
    asked: usize,
    assignment: Assignment,
}

/// What made the asking order differ from the plain order.
#[derive(Debug, Clone)]
pub(crate) struct Correction<'r> {
    /// The queue's weights are not all equal.
    pub weighted: bool,
    /// Agents whose position is a fairness correction (uncounted meetings, a fair-point join).
    pub credited: Vec<&'r AgentId>,
}

impl<'r> Assigning<'r> {
    /// Starts with whoever is next in line, for a meeting starting at `start`.
    pub fn new(rotation: &'r Rotation, start: DateTime<Utc>) -> Self {
        let plain = plain_order(rotation);
        let asking = plain.clone();
        Self::with_order(asking, plain, Correction::none(), start)
    }

    /// Asks in `asking` order; `plain` is the queue's order from whoever is next in line.
    pub(crate) fn with_order(
        asking: Vec<&'r AgentId>,
        plain: Vec<&'r AgentId>,
        correction: Correction<'r>,
        start: DateTime<Utc>,
    ) -> Self {
        Assigning {
            assignment: Assignment {
                start,
                next_in_line: asking.first().map(|a| (*a).clone()),
                chosen: None,
                skipped: Vec::new(),
                reason: Reason::NobodyFree,
                account_owner: None,
            },
            asking,
            plain,
            correction,
            asked: 0,
        }
    }

    /// Asks `owner` (the lead's owner, account routing) before the rotation, if they are one
    /// of the agents asked; call before the first answer. A busy owner is recorded as skipped
    /// and the rotation goes on without asking them again.
    pub fn owner_first(mut self, owner: &AgentId) -> Self {
        if self.asked > 0 {
            return self;
        }
        let Some(i) = self.asking.iter().position(|a| *a == owner) else {
            return self;
        };
        let agent = self.asking.remove(i);
        self.asking.insert(0, agent);
        self.assignment.account_owner = Some(agent.clone());
        self
    }

    /// The agent to ask now; `None` once someone is chosen or everyone was asked once.
    pub fn candidate(&self) -> Option<&'r AgentId> {
        if self.assignment.chosen.is_some() {
            return None;
        }
        self.asking.get(self.asked).copied()
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
                self.assignment.reason = self.reason_for(agent);
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

    /// Why `chosen` got it: plain order's choice is the first agent of the plain order that was
    /// not found unavailable (and is not the account owner, who was asked apart).
    fn reason_for(&self, chosen: &AgentId) -> Reason {
        if self.assignment.account_owner.as_ref() == Some(chosen) {
            return Reason::AccountOwner;
        }
        let owner = self.assignment.account_owner.as_ref();
        let in_order = self.plain.iter().find(|a| {
            Some(**a) != owner && !self.assignment.skipped.iter().any(|s| s.agent == ***a)
        });
        match in_order {
            None => Reason::Order,
            Some(a) if *a == chosen => Reason::Order,
            Some(a) => {
                let in_order = (*a).clone();
                if self.correction.weighted && !self.correction.credited.contains(&chosen) {
                    Reason::WeightCorrection { in_order }
                } else {
                    Reason::FairnessCorrection { in_order }
                }
            }
        }
    }

    /// The decision and its explanation.
    pub fn finish(self) -> Assignment {
        self.assignment
    }
}

impl Correction<'_> {
    fn none() -> Self {
        Correction {
            weighted: false,
            credited: Vec::new(),
        }
    }
}

/// The queue's order from whoever is next in line, each agent once.
pub(crate) fn plain_order(rotation: &Rotation) -> Vec<&AgentId> {
    let n = rotation.order.len();
    if n == 0 {
        return Vec::new();
    }
    let first = rotation.next_index();
    (0..n)
        .filter_map(|k| rotation.order.get((first + k) % n))
        .collect()
}
