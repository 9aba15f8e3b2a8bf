//! Calendar connections (sealed credentials and their state) and the one-use OAuth states of a
//! connection in progress.

use super::super::db::{self, n, s};
use crate::error::ApiError;
use serde::Deserialize;
use worker::D1Database;

/// Flags a connection as disconnected, with the reason shown to the admin.
pub async fn mark_disconnected(
    database: &D1Database,
    site: &str,
    agent: &str,
    reason: &str,
    now: i64,
) -> Result<(), ApiError> {
    db::exec(database, "UPDATE calendar_connections SET state = 'disconnected', reason = ?, updated_at = ? WHERE site = ? AND agent = ?", &[s(reason), n(now), s(site), s(agent)]).await?;
    Ok(())
}

/// Replaces the sealed secret of a connection that is still connected (a rotated token).
pub async fn replace_secret(
    database: &D1Database,
    site: &str,
    agent: &str,
    sealed: &str,
    now: i64,
) -> Result<(), ApiError> {
    db::exec(database, "UPDATE calendar_connections SET secret = ?, updated_at = ? WHERE site = ? AND agent = ? AND state = 'connected'", &[s(sealed), n(now), s(site), s(agent)]).await?;
    Ok(())
}

/// A new or replaced connection.
pub struct ConnectionWrite<'a> {
    pub site: &'a str,
    pub agent: &'a str,
    pub provider: &'a str,
    pub account: &'a str,
    pub sealed: &'a str,
    pub now: i64,
}

/// Stores a connection as connected (clearing any disconnect reason).
pub async fn connect(database: &D1Database, c: &ConnectionWrite<'_>) -> Result<(), ApiError> {
    db::exec(
        database,
        "INSERT INTO calendar_connections (site, agent, provider, account, secret, state, reason, updated_at) VALUES (?, ?, ?, ?, ?, 'connected', NULL, ?) \
         ON CONFLICT(site, agent) DO UPDATE SET provider = excluded.provider, account = excluded.account, secret = excluded.secret, state = 'connected', reason = NULL, updated_at = excluded.updated_at",
        &[s(c.site), s(c.agent), s(c.provider), s(c.account), s(c.sealed), n(c.now)],
    )
    .await?;
    Ok(())
}

/// Removes an agent's connection.
pub async fn remove(database: &D1Database, site: &str, agent: &str) -> Result<(), ApiError> {
    db::exec(
        database,
        "DELETE FROM calendar_connections WHERE site = ? AND agent = ?",
        &[s(site), s(agent)],
    )
    .await?;
    Ok(())
}

/// An OAuth connection in progress.
#[derive(Deserialize)]
pub struct OAuthStateRow {
    pub site: String,
    pub agent: String,
    pub provider: String,
    pub redirect_uri: String,
    pub created_at: i64,
}

/// Stores a new OAuth state, dropping the ones older than `expired_before` in the same batch.
pub async fn start_oauth(
    database: &D1Database,
    state: &str,
    row: &OAuthStateRow,
    expired_before: i64,
) -> Result<(), ApiError> {
    let st = vec![
        db::stmt(database, "DELETE FROM oauth_states WHERE created_at < ?", &[n(expired_before)])?,
        db::stmt(database, "INSERT INTO oauth_states (state, site, agent, provider, redirect_uri, created_at) VALUES (?, ?, ?, ?, ?, ?)", &[s(state), s(&row.site), s(&row.agent), s(&row.provider), s(&row.redirect_uri), n(row.created_at)])?,
    ];
    db::batch(database, st).await
}

/// Reads an OAuth state.
pub async fn oauth_state(
    database: &D1Database,
    state: &str,
) -> Result<Option<OAuthStateRow>, ApiError> {
    db::first(
        database,
        "SELECT site, agent, provider, redirect_uri, created_at FROM oauth_states WHERE state = ?",
        &[s(state)],
    )
    .await
}

/// Uses up an OAuth state.
pub async fn forget_oauth_state(database: &D1Database, state: &str) -> Result<(), ApiError> {
    db::exec(
        database,
        "DELETE FROM oauth_states WHERE state = ?",
        &[s(state)],
    )
    .await?;
    Ok(())
}
