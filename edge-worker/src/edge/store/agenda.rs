//! Read-only views of booked meetings for the console.

use crate::edge::db::{self, s};
use crate::error::ApiError;
use serde_json::Value;
use worker::D1Database;

/// One agent's meetings, newest first (at most 500).
pub async fn agent_meetings(database: &D1Database, agent: &str) -> Result<Vec<Value>, ApiError> {
    db::rows(
        database,
        "SELECT id, site, agent, lead_email, lead_name, dialogue, start_ms, end_ms, tz, status FROM meetings WHERE agent = ? ORDER BY start_ms DESC LIMIT 500",
        &[s(agent)],
    )
    .await
}
