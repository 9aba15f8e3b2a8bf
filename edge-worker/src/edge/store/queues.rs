//! Queues: the rotation of each queue (its versioned state, and the order and last agent kept
//! as mirrors for listings).

use super::super::db::{self, n, os, s};
use crate::error::ApiError;
use serde::Deserialize;
use worker::{D1Database, D1PreparedStatement};

/// A queue as stored (`agents` is a JSON array of ids in rotation order).
#[derive(Deserialize)]
pub struct QueueRow {
    pub id: String,
    pub name: String,
    pub agents: String,
    pub last_agent: Option<String>,
    /// The rotation state (versioned JSON); `None` for queues stored before it existed.
    pub rotation: Option<String>,
}

/// One queue.
pub async fn get(
    database: &D1Database,
    site: &str,
    id: &str,
) -> Result<Option<QueueRow>, ApiError> {
    db::first(
        database,
        "SELECT id, name, agents, last_agent, rotation FROM queues WHERE site = ? AND id = ?",
        &[s(site), s(id)],
    )
    .await
}

/// Every queue of a site, ordered by id.
pub async fn of_site(database: &D1Database, site: &str) -> Result<Vec<QueueRow>, ApiError> {
    db::rows(
        database,
        "SELECT id, name, agents, last_agent, rotation FROM queues WHERE site = ? ORDER BY id",
        &[s(site)],
    )
    .await
}

/// A queue's new order, name and pointer.
pub struct QueueWrite<'a> {
    pub site: &'a str,
    pub id: &'a str,
    pub name: &'a str,
    /// JSON array of agent ids.
    pub agents: &'a str,
    pub last_agent: Option<&'a str>,
    /// The rotation state (versioned JSON).
    pub rotation: &'a str,
    pub now: i64,
}

/// Creates or replaces a queue.
pub async fn upsert(database: &D1Database, q: &QueueWrite<'_>) -> Result<(), ApiError> {
    db::exec(
        database,
        "INSERT INTO queues (site, id, name, agents, last_agent, rotation, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(site, id) DO UPDATE SET name = excluded.name, agents = excluded.agents, last_agent = excluded.last_agent, rotation = excluded.rotation, updated_at = excluded.updated_at",
        &[s(q.site), s(q.id), s(q.name), s(q.agents), os(q.last_agent), s(q.rotation), n(q.now)],
    )
    .await?;
    Ok(())
}

/// Stores a queue's rotation after a booking or a cancellation (for a batch): the state and
/// its mirror of the last agent.
pub fn set_rotation(
    database: &D1Database,
    site: &str,
    id: &str,
    last: Option<&str>,
    rotation: &str,
) -> Result<D1PreparedStatement, ApiError> {
    db::stmt(
        database,
        "UPDATE queues SET last_agent = ?, rotation = ? WHERE site = ? AND id = ?",
        &[os(last), s(rotation), s(site), s(id)],
    )
}
