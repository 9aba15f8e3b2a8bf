//! Weighted, fair round robin: a queue's agents with weights and virtual-time counters, the
//! fairness options, and the versioned stored state with its migration from the plain order.
//!
//! Each agent has a counter (virtual time) that every counted meeting advances by `1 / weight`;
//! the rotation asks agents by the counter they would reach with one more meeting (lowest
//! first; on a tie, the queue's order after whoever took the last meeting). So 2:1 weights
//! give twice as many meetings, and with equal weights the asking order is exactly the plain
//! order of [`Rotation`].
//!
//! Fairness rules, and why:
//! - an agent asked in turn and passed over (busy, time off, calendar unreadable) loses that
//!   turn, as in the plain order: their counter advances as if they had taken it. An agent away
//!   for a week therefore comes back level with the others, not owed a burst of meetings;
//! - an agent who joins the queue (or is added back) starts at the lowest counter among the
//!   agents already there: next in line at most once, never owed everything since the start;
//! - a cancelled or no-show meeting is taken back from the counter when the queue's
//!   [`Fairness`] says it does not count ([`RotationState::uncount`]);
//! - a meeting an admin gives to another agent counts for the new agent and no longer for the
//!   old one ([`RotationState::reassign`]);
//! - the account owner's meetings (asked before the rotation) count, but do not move the
//!   pointer, and a busy owner loses no turn.
//!
//! Counters are integers in units of [`SCALE`] per meeting at weight 1 (exact for weights up
//! to 20), rebased to a minimum of zero after every change so they stay small.

use crate::error::SchedulingError;
use crate::ids::AgentId;
use crate::rotation::{plain_order, Assigning, Assignment, Correction, Reason, Rotation};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The stored format's version written today. Version 1 is the plain order
/// (`{"order": [...], "last": ...}`, no `version` field), read by [`RotationState::from_json`].
pub const ROTATION_STATE_VERSION: u32 = 2;

/// The largest weight an agent may have (and the smallest is 1).
pub const MAX_WEIGHT: u32 = 100;

/// The counter's units for one meeting at weight 1: lcm(1..=20), so `SCALE / weight` is exact
/// for every weight up to 20 and off by less than one unit in 232 million above.
pub const SCALE: i64 = 232_792_560;

/// Which meetings count towards an agent's share. Both count unless the queue says otherwise
/// (today's behaviour, and the reading of a state stored without options).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Fairness {
    /// A cancelled meeting still counts as one of the agent's meetings.
    pub count_cancelled: bool,
    /// A meeting the visitor did not attend still counts.
    pub count_no_show: bool,
}

impl Default for Fairness {
    fn default() -> Self {
        Fairness {
            count_cancelled: true,
            count_no_show: true,
        }
    }
}

/// What became of a meeting after it was booked, for [`RotationState::uncount`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Cancelled,
    NoShow,
}

/// One agent of the queue and their place in the rotation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentTurns {
    pub agent: AgentId,
    /// 1..=[`MAX_WEIGHT`]; 2 against 1 means twice as many meetings.
    pub weight: u32,
    /// Virtual time in [`SCALE`] units; the lowest is asked first.
    pub vtime: i64,
    /// Fairness corrections (uncounted meetings, a fair-point join) not yet used by a meeting;
    /// only for the assignment log's reason.
    #[serde(default)]
    pub credits: u32,
}

impl AgentTurns {
    /// What one meeting (or one lost turn) adds to this agent's counter.
    pub fn charge(&self) -> i64 {
        SCALE / i64::from(self.weight.clamp(1, MAX_WEIGHT))
    }

    /// The counter after one more meeting: the asking order's key.
    fn finish(&self) -> i64 {
        self.vtime.saturating_add(self.charge())
    }
}

/// A queue's rotation as the queue's Durable Object stores it (versioned JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RotationState {
    pub version: u32,
    /// The agents in the queue's order (the tie-break).
    pub agents: Vec<AgentTurns>,
    /// The agent who took the last rotation meeting.
    pub last: Option<AgentId>,
    #[serde(default)]
    pub fairness: Fairness,
}

impl Default for RotationState {
    fn default() -> Self {
        RotationState::from_legacy(Rotation::default())
    }
}

impl RotationState {
    /// The plain order as a fair rotation: everyone at weight 1, all counters equal, so the
    /// agent next in line stays next and the order continues unchanged.
    pub fn from_legacy(rotation: Rotation) -> Self {
        let mut order: Vec<AgentId> = Vec::with_capacity(rotation.order.len());
        for a in rotation.order {
            if !order.contains(&a) {
                order.push(a);
            }
        }
        let last = rotation.last.filter(|l| order.contains(l));
        RotationState {
            version: ROTATION_STATE_VERSION,
            agents: order
                .into_iter()
                .map(|agent| AgentTurns {
                    agent,
                    weight: 1,
                    vtime: 0,
                    credits: 0,
                })
                .collect(),
            last,
            fairness: Fairness::default(),
        }
    }

    /// Reads a stored state of any version: today's (`version` 2) or the plain order
    /// (`{"order": [...], "last": ...}`, version 1, migrated with [`Self::from_legacy`]).
    pub fn from_json(text: &str) -> Result<Self, SchedulingError> {
        let bad = |m: String| SchedulingError::InvalidRotation { message: m };
        let value: Value = serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
        match value.get("version").map(Value::as_u64) {
            None => {
                let legacy: Rotation =
                    serde_json::from_value(value).map_err(|e| bad(e.to_string()))?;
                Ok(Self::from_legacy(legacy))
            }
            Some(Some(2)) => {
                let mut state: RotationState =
                    serde_json::from_value(value).map_err(|e| bad(e.to_string()))?;
                state.repair();
                Ok(state)
            }
            Some(v) => Err(bad(format!("unsupported rotation state version {v:?}"))),
        }
    }

    /// The stored form (always today's version).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| String::from("{}"))
    }

    /// Keeps what a stored state promises: agents once each, weights in range, `last` one of
    /// them, counters rebased.
    fn repair(&mut self) {
        let mut seen: Vec<AgentId> = Vec::with_capacity(self.agents.len());
        self.agents.retain(|a| {
            let fresh = !seen.contains(&a.agent);
            seen.push(a.agent.clone());
            fresh
        });
        for a in &mut self.agents {
            a.weight = a.weight.clamp(1, MAX_WEIGHT);
        }
        if let Some(l) = &self.last {
            if !seen.contains(l) {
                self.last = None;
            }
        }
        self.rebase();
    }

    /// The plain order and pointer (for the admin view and the `queues` row).
    pub fn rotation(&self) -> Rotation {
        Rotation {
            order: self.agents.iter().map(|a| a.agent.clone()).collect(),
            last: self.last.clone(),
        }
    }

    /// One agent's turns.
    pub fn agent(&self, id: &AgentId) -> Option<&AgentTurns> {
        self.agents.iter().find(|a| a.agent == *id)
    }

    /// The queue's weights differ.
    pub fn weighted(&self) -> bool {
        self.agents.windows(2).any(|w| w[0].weight != w[1].weight)
    }

    /// Who is asked, in order: lowest counter after one more meeting first; on a tie, the
    /// queue's order after whoever took the last meeting.
    pub fn asking_order(&self) -> Vec<&AgentId> {
        let n = self.agents.len();
        let first = self.rotation().next_index();
        let mut keyed: Vec<(i64, usize, &AgentId)> = self
            .agents
            .iter()
            .enumerate()
            .map(|(i, a)| (a.finish(), (i + n - first) % n, &a.agent))
            .collect();
        keyed.sort_by_key(|k| (k.0, k.1));
        keyed.into_iter().map(|k| k.2).collect()
    }

    /// Whose turn it is.
    pub fn next_in_line(&self) -> Option<&AgentId> {
        self.asking_order().into_iter().next()
    }

    /// Starts a stepwise decision for a meeting starting at `start` (see [`Assigning`]).
    pub fn assigning(&self, start: DateTime<Utc>) -> Assigning<'_> {
        let plain_rotation = self.rotation();
        let plain: Vec<&AgentId> = plain_order(&plain_rotation)
            .into_iter()
            .filter_map(|p| self.agents.iter().find(|a| a.agent == *p))
            .map(|a| &a.agent)
            .collect();
        let correction = Correction {
            weighted: self.weighted(),
            credited: self
                .agents
                .iter()
                .filter(|a| a.credits > 0)
                .map(|a| &a.agent)
                .collect(),
        };
        Assigning::with_order(self.asking_order(), plain, correction, start)
    }

    /// Records a booked decision: the chosen agent's counter advances by one meeting, and every
    /// agent asked in turn before them loses that turn. Call after the booking succeeded.
    /// A decision without a chosen agent changes nothing.
    pub fn commit(&mut self, decision: &Assignment) {
        let Some(chosen) = &decision.chosen else {
            return;
        };
        let owner = decision.account_owner.as_ref();
        for s in &decision.skipped {
            if Some(&s.agent) != owner {
                self.charge(&s.agent, false);
            }
        }
        let rotation_meeting = decision.reason != Reason::AccountOwner;
        if self.charge(chosen, true) && rotation_meeting {
            self.last = Some(chosen.clone());
        }
        self.rebase();
    }

    /// Advances one agent's counter by a meeting; `meeting` also uses up their credits.
    fn charge(&mut self, id: &AgentId, meeting: bool) -> bool {
        let Some(a) = self.agents.iter_mut().find(|a| a.agent == *id) else {
            return false;
        };
        a.vtime = a.vtime.saturating_add(a.charge());
        if meeting {
            a.credits = 0;
        }
        true
    }

    /// A meeting of `agent` was cancelled or not attended: when the queue's fairness says such
    /// meetings do not count, it is taken back from their counter. True when it was taken back.
    pub fn uncount(&mut self, agent: &AgentId, outcome: Outcome) -> bool {
        let counts = match outcome {
            Outcome::Cancelled => self.fairness.count_cancelled,
            Outcome::NoShow => self.fairness.count_no_show,
        };
        if counts {
            return false;
        }
        let Some(a) = self.agents.iter_mut().find(|a| a.agent == *agent) else {
            return false;
        };
        a.vtime = a.vtime.saturating_sub(a.charge());
        a.credits = a.credits.saturating_add(1);
        self.rebase();
        true
    }

    /// A meeting of `from` was given to `to` (an admin's reassignment): it no longer counts for
    /// `from` and counts for `to`, whatever the fairness options say (the meeting still takes
    /// place); `from`'s next meeting shows as a fairness correction in the log. The pointer
    /// (`last`) stays: the rotation did not choose anyone. An agent no longer in the queue is
    /// left out of the move. True when a counter changed.
    pub fn reassign(&mut self, from: &AgentId, to: &AgentId) -> bool {
        if from == to {
            return false;
        }
        let mut changed = false;
        if let Some(a) = self.agents.iter_mut().find(|a| a.agent == *from) {
            a.vtime = a.vtime.saturating_sub(a.charge());
            a.credits = a.credits.saturating_add(1);
            changed = true;
        }
        if let Some(a) = self.agents.iter_mut().find(|a| a.agent == *to) {
            a.vtime = a.vtime.saturating_add(a.charge());
            a.credits = 0;
            changed = true;
        }
        self.rebase();
        changed
    }

    /// Sets the queue's agents in a new order. Agents still present keep their counters;
    /// newcomers (and agents added back) start at the fair point, the lowest counter among the
    /// agents already there; whoever would have been next in the plain order among the agents
    /// still present stays the tie-break's next.
    pub fn set_agents(&mut self, new_order: Vec<AgentId>) {
        let mut plain = self.rotation();
        plain.set_order(new_order);
        let fair_point = self
            .agents
            .iter()
            .filter(|a| plain.order.contains(&a.agent))
            .map(|a| a.vtime)
            .min()
            .unwrap_or(0);
        let mut old = std::mem::take(&mut self.agents);
        self.agents = plain
            .order
            .into_iter()
            .map(|agent| match old.iter().position(|a| a.agent == agent) {
                Some(i) => old.swap_remove(i),
                None => AgentTurns {
                    agent,
                    weight: 1,
                    vtime: fair_point,
                    credits: 1,
                },
            })
            .collect();
        self.last = plain.last;
        self.rebase();
    }

    /// Sets weights (1..=[`MAX_WEIGHT`]); agents not named keep theirs. A new weight changes
    /// the agent's future meetings only, not the counter they have reached.
    pub fn set_weights(&mut self, weights: &[(AgentId, u32)]) -> Result<(), SchedulingError> {
        for (i, (id, w)) in weights.iter().enumerate() {
            if !(1..=MAX_WEIGHT).contains(w) {
                return Err(SchedulingError::settings(
                    format!("weights[{i}]"),
                    format!("must be a whole number from 1 to {MAX_WEIGHT}"),
                ));
            }
            if self.agent(id).is_none() {
                return Err(SchedulingError::settings(
                    format!("weights[{i}]"),
                    format!("{id} is not an agent of this queue"),
                ));
            }
        }
        for (id, w) in weights {
            if let Some(a) = self.agents.iter_mut().find(|a| a.agent == *id) {
                a.weight = *w;
            }
        }
        Ok(())
    }

    /// Shifts every counter so the lowest is zero (only differences matter).
    fn rebase(&mut self) {
        let Some(min) = self.agents.iter().map(|a| a.vtime).min() else {
            return;
        };
        for a in &mut self.agents {
            a.vtime = a.vtime.saturating_sub(min);
        }
    }
}
