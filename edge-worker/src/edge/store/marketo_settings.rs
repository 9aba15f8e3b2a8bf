//! What the console saves about Marketo: the connection (secret sealed, see `crate::secrets`)
//! with its last test, and each dialogue's program and statuses.

use crate::edge::db::{self, n, on, os, s};
use crate::error::ApiError;
use serde::Deserialize;
use worker::D1Database;

/// The saved connection.
#[derive(Deserialize)]
pub struct ConnectionRow {
    pub endpoint: String,
    pub client_id: String,
    pub secret: Option<String>,
    pub tested_at: Option<i64>,
    pub test_ok: Option<i64>,
    pub test_message: Option<String>,
    pub updated_at: i64,
}

/// The saved connection, if any.
pub async fn connection(database: &D1Database) -> Result<Option<ConnectionRow>, ApiError> {
    db::first(database, "SELECT endpoint, client_id, secret, tested_at, test_ok, test_message, updated_at FROM marketo_connection WHERE id = 1", &[]).await
}

/// Saves the connection; `None` keeps the stored sealed secret.
pub async fn save_connection(
    database: &D1Database,
    endpoint: &str,
    client_id: &str,
    sealed_secret: Option<&str>,
    now: i64,
) -> Result<(), ApiError> {
    db::exec(
        database,
        "INSERT INTO marketo_connection (id, endpoint, client_id, secret, updated_at) VALUES (1, ?, ?, ?, ?) \
         ON CONFLICT(id) DO UPDATE SET endpoint = excluded.endpoint, client_id = excluded.client_id, secret = COALESCE(excluded.secret, marketo_connection.secret), updated_at = excluded.updated_at",
        &[s(endpoint), s(client_id), os(sealed_secret), n(now)],
    )
    .await?;
    Ok(())
}

/// Records the outcome of a connection test.
pub async fn record_test(
    database: &D1Database,
    ok: bool,
    message: &str,
    now: i64,
) -> Result<(), ApiError> {
    db::exec(
        database,
        "UPDATE marketo_connection SET tested_at = ?, test_ok = ?, test_message = ? WHERE id = 1",
        &[n(now), n(i64::from(ok)), s(message)],
    )
    .await?;
    Ok(())
}

/// A dialogue's Marketo program and statuses (JSON text).
#[derive(Deserialize)]
pub struct DialogueRow {
    pub program_id: Option<i64>,
    pub statuses: String,
}

/// The dialogue's saved program.
pub async fn dialogue(
    database: &D1Database,
    site: &str,
    id: &str,
) -> Result<Option<DialogueRow>, ApiError> {
    db::first(
        database,
        "SELECT program_id, statuses FROM dialogue_marketo WHERE site = ? AND dialogue = ?",
        &[s(site), s(id)],
    )
    .await
}

/// Saves the dialogue's program and statuses.
pub async fn save_dialogue(
    database: &D1Database,
    site: &str,
    id: &str,
    program_id: Option<i64>,
    statuses: &str,
    now: i64,
) -> Result<(), ApiError> {
    db::exec(
        database,
        "INSERT INTO dialogue_marketo (site, dialogue, program_id, statuses, updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT(site, dialogue) DO UPDATE SET program_id = excluded.program_id, statuses = excluded.statuses, updated_at = excluded.updated_at",
        &[s(site), s(id), on(program_id), s(statuses), n(now)],
    )
    .await?;
    Ok(())
}
