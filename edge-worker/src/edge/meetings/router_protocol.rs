//! What the worker and a route's `QueueRouter` Durable Object say to each other: one request
//! enum, one answer enum and one error enum, all serde, so neither side reads ad-hoc JSON.

use crate::error::ApiError;
use crate::meetings::BookInput;
use crate::route_rules::Routed;
use dynchat_scheduling::{AgentId, Fairness, Outcome, Skipped};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A booking for the route's router to run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BookJob {
    pub site: String,
    pub key: String,
    pub body_hash: String,
    /// `input.route` is the resolved route (never `rules:`).
    pub input: BookInput,
    /// How routing rules chose the queue; `None` for a route named directly.
    #[serde(default)]
    pub routed: Option<Routed>,
    /// The worker's public base URL for the visitor's links (`PUBLIC_URL`, else the origin
    /// the booking reached).
    #[serde(default)]
    pub links_base: String,
}

/// A visitor's move of their meeting (through its link) to `start`, with the same agent; run
/// by the route's router like bookings, so no two meetings of the agent overlap.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MoveJob {
    pub site: String,
    pub meeting: String,
    /// The sequence the link was issued at: a used or replaced link finds another.
    pub sequence: i64,
    pub start: chrono::DateTime<chrono::Utc>,
    pub links_base: String,
}

/// An admin's reassignment of a queue meeting to another agent of the queue, at the same
/// time; run by the queue's router like bookings, so the new agent is never double-booked.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReassignJob {
    pub site: String,
    pub meeting: String,
    /// The new agent's id.
    pub agent: String,
    /// Who asked (`token`, or the console account's email), for the assignment log.
    pub by: String,
    pub links_base: String,
}

/// A queue's new order (and name), serialised with the queue's bookings.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OrderJob {
    pub site: String,
    pub queue: String,
    pub agents: Vec<String>,
    /// The new name; the stored one (or the id) when absent.
    pub name: Option<String>,
    /// Each agent's weight (agents not named: 1); the stored weights when absent.
    #[serde(default)]
    pub weights: Option<BTreeMap<String, u32>>,
    /// Which meetings count; the stored options when absent.
    #[serde(default)]
    pub fairness: Option<Fairness>,
}

/// A meeting of the queue was cancelled or marked a no-show: the queue's fairness options
/// decide whether it is taken back from the agent's count (serialised with bookings).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UncountJob {
    pub site: String,
    pub queue: String,
    pub agent: String,
    pub outcome: Outcome,
}

/// What the worker asks a router.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "request", rename_all = "snake_case")]
pub enum RouterRequest {
    /// Book a slot (serialised per route).
    Book(BookJob),
    /// Replace a queue's order (serialised per route).
    Order(OrderJob),
    /// Take a cancelled or no-show meeting back from the rotation when it does not count.
    Uncount(UncountJob),
    /// Move a meeting to another start (the visitor's reschedule link; serialised per route).
    Move(MoveJob),
    /// Give a meeting to another agent of its queue (an admin's; serialised per route).
    Reassign(ReassignJob),
    /// Deliver the mail outbox now (the router's alarm; not serialised with bookings).
    Mail,
}

/// A booked meeting as the visitor sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Booked {
    pub meeting: String,
    /// The agent's name.
    pub agent: String,
    pub start: String,
    pub end: String,
    /// The meeting's video link (Google Meet, Teams, or the agent's fixed link).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub video: Option<String>,
}

/// A queue as the admin API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueView {
    pub id: String,
    pub name: String,
    pub agents: Vec<AgentId>,
    pub last_agent: Option<AgentId>,
    pub next_in_line: Option<AgentId>,
    /// Each agent's weight (1 unless set).
    pub weights: BTreeMap<AgentId, u32>,
    pub fairness: Fairness,
}

/// What a router answers when the request went through.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "answer", rename_all = "snake_case")]
pub enum RouterAnswer {
    /// The meeting is booked: just now (`created`, 201) or by an earlier request with the
    /// same key (200). `mail`: messages were queued, the router delivers them next.
    Booked {
        meeting: Booked,
        created: bool,
        mail: bool,
    },
    /// The queue after a reorder.
    Queue { queue: QueueView },
    /// The outbox delivery is scheduled.
    MailScheduled,
    /// A cancelled or no-show meeting was seen; `taken_back` when it no longer counts.
    Uncounted { taken_back: bool },
    /// The meeting was moved; `mail`: the update was queued.
    Moved { meeting: Booked, mail: bool },
    /// The meeting was given to another agent; `mail`: the update was queued.
    Reassigned { meeting: Booked, mail: bool },
}

/// An agent's calendar problem noted while booking (for the logs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentNote {
    pub agent: String,
    pub note: String,
}

/// Why a router request did not go through.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "error", rename_all = "snake_case")]
pub enum RouterError {
    /// Nobody in the rotation can take the slot any more.
    SlotTaken {
        skipped: Vec<Skipped>,
        notes: Vec<AgentNote>,
    },
    /// A conflict (the idempotency key was used with a different body; a used link).
    Conflict { message: String },
    /// The agent is not free at the new time.
    Busy,
    /// Anything else; the message is for the logs.
    Failed { message: String },
}

impl From<ApiError> for RouterError {
    fn from(e: ApiError) -> Self {
        match e {
            ApiError::Conflict(_) => RouterError::Conflict {
                message: e.to_string(),
            },
            other => RouterError::Failed {
                message: other.to_string(),
            },
        }
    }
}

/// A router's whole reply.
pub type RouterReply = Result<RouterAnswer, RouterError>;
