//! Agents (with their calendar connection joined) and the site check their admin API needs.

use super::super::db::{self, n, os, s};
use crate::error::ApiError;
use serde::Deserialize;
use worker::D1Database;

/// An agent and their calendar connection, as stored.
#[derive(Deserialize)]
pub struct AgentRow {
    pub id: String,
    pub name: String,
    pub email: String,
    pub settings: String,
    /// Where the agent meets visitors (the invitation's LOCATION when set).
    pub location: Option<String>,
    pub provider: Option<String>,
    pub account: Option<String>,
    pub secret: Option<String>,
    pub state: Option<String>,
    pub reason: Option<String>,
}

const AGENT_SELECT: &str = "SELECT a.id, a.name, a.email, a.settings, a.location, c.provider, c.account, c.secret, c.state, c.reason FROM agents a LEFT JOIN calendar_connections c ON c.site = a.site AND c.agent = a.id";

#[derive(Deserialize)]
struct IdRow {
    id: String,
}

/// Every agent of a site with their connection, ordered by id.
pub async fn of_site(database: &D1Database, site: &str) -> Result<Vec<AgentRow>, ApiError> {
    db::rows(
        database,
        &format!("{AGENT_SELECT} WHERE a.site = ? ORDER BY a.id"),
        &[s(site)],
    )
    .await
}

/// Whether the site has this agent.
pub async fn exists(database: &D1Database, site: &str, id: &str) -> Result<bool, ApiError> {
    let r: Option<IdRow> = db::first(
        database,
        "SELECT id FROM agents WHERE site = ? AND id = ?",
        &[s(site), s(id)],
    )
    .await?;
    Ok(r.is_some())
}

/// The ids of every agent of a site.
pub async fn ids(database: &D1Database, site: &str) -> Result<Vec<String>, ApiError> {
    let rows: Vec<IdRow> =
        db::rows(database, "SELECT id FROM agents WHERE site = ?", &[s(site)]).await?;
    Ok(rows.into_iter().map(|r| r.id).collect())
}

/// An agent's stored fields (`settings` as JSON).
pub struct AgentWrite<'a> {
    pub site: &'a str,
    pub id: &'a str,
    pub name: &'a str,
    pub email: &'a str,
    pub settings: &'a str,
    pub location: Option<&'a str>,
    pub now: i64,
}

/// Creates or updates an agent.
pub async fn upsert(database: &D1Database, a: &AgentWrite<'_>) -> Result<(), ApiError> {
    db::exec(
        database,
        "INSERT INTO agents (site, id, name, email, settings, location, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(site, id) DO UPDATE SET name = excluded.name, email = excluded.email, settings = excluded.settings, location = excluded.location, updated_at = excluded.updated_at",
        &[s(a.site), s(a.id), s(a.name), s(a.email), s(a.settings), os(a.location), n(a.now), n(a.now)],
    )
    .await?;
    Ok(())
}

/// Deletes an agent and their calendar connection in one batch.
pub async fn delete(database: &D1Database, site: &str, id: &str) -> Result<(), ApiError> {
    let st = vec![
        db::stmt(
            database,
            "DELETE FROM calendar_connections WHERE site = ? AND agent = ?",
            &[s(site), s(id)],
        )?,
        db::stmt(
            database,
            "DELETE FROM agents WHERE site = ? AND id = ?",
            &[s(site), s(id)],
        )?,
    ];
    db::batch(database, st).await
}

/// Whether the site exists (read fresh, not through the site cache).
pub async fn site_exists(database: &D1Database, site: &str) -> Result<bool, ApiError> {
    let r: Option<IdRow> =
        db::first(database, "SELECT id FROM sites WHERE id = ?", &[s(site)]).await?;
    Ok(r.is_some())
}
