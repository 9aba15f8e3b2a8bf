//! Read-only views of booked meetings for the console.

use crate::edge::db::{self, s};
use crate::error::ApiError;
use serde_json::Value;
use worker::D1Database;

/// One agent's meetings on one site (agent ids are per site), newest first (at most 500).
pub async fn agent_meetings(
    database: &D1Database,
    site: &str,
    agent: &str,
) -> Result<Vec<Value>, ApiError> {
    db::rows(
        database,
        "SELECT id, site, agent, lead_email, lead_name, dialogue, start_ms, end_ms, tz, status FROM meetings WHERE site = ? AND agent = ? ORDER BY start_ms DESC LIMIT 500",
        &[s(site), s(agent)],
    )
    .await
}
