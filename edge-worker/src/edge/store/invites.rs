//! Agent invitations (`agent_invites`), the password an accepted invitation sets (`accounts`)
//! and the site's default queue (`sites.default_queue`).

use super::super::db::{self, n, os, s};
use crate::error::ApiError;
use serde::Deserialize;
use worker::{D1Database, D1PreparedStatement};

/// An invitation to store (for a batch with its mail).
pub struct InviteWrite<'a> {
    pub token_digest: &'a str,
    pub account_id: &'a str,
    pub site: &'a str,
    pub agent_id: &'a str,
    pub now: i64,
    pub expires_at: i64,
}

/// Stores an invitation (for a batch).
pub fn insert(database: &D1Database, i: &InviteWrite<'_>) -> Result<D1PreparedStatement, ApiError> {
    db::stmt(
        database,
        "INSERT INTO agent_invites (token_digest, account_id, site, agent_id, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
        &[s(i.token_digest), s(i.account_id), s(i.site), s(i.agent_id), n(i.now), n(i.expires_at)],
    )
}

/// An invitation as stored, with its account's email.
#[derive(Deserialize)]
pub struct InviteRow {
    pub account_id: String,
    pub email: String,
    pub expires_at: i64,
    pub used_at: Option<i64>,
}

/// The invitation with this token digest, if any.
pub async fn by_digest(database: &D1Database, digest: &str) -> Result<Option<InviteRow>, ApiError> {
    db::first(
        database,
        "SELECT i.account_id, a.email, i.expires_at, i.used_at FROM agent_invites i JOIN accounts a ON a.id = i.account_id WHERE i.token_digest = ?",
        &[s(digest)],
    )
    .await
}

/// Uses the invitation once: marks it used if it is unused and not expired at `now`; answers
/// whether this call did. Only then is the password set (same batch would lose the check).
pub async fn take(database: &D1Database, digest: &str, now: i64) -> Result<bool, ApiError> {
    let changed = db::exec(
        database,
        "UPDATE agent_invites SET used_at = ? WHERE token_digest = ? AND used_at IS NULL AND expires_at > ?",
        &[n(now), s(digest), n(now)],
    )
    .await?;
    Ok(changed == 1)
}

/// Sets an account's password and signs its sessions out.
pub async fn set_password(
    database: &D1Database,
    account_id: &str,
    hash: &str,
    now: i64,
) -> Result<(), ApiError> {
    db::batch(
        database,
        vec![
            db::stmt(
                database,
                "UPDATE accounts SET password_hash = ?, updated_at = ? WHERE id = ?",
                &[s(hash), n(now), s(account_id)],
            )?,
            db::stmt(
                database,
                "DELETE FROM console_sessions WHERE account_id = ?",
                &[s(account_id)],
            )?,
        ],
    )
    .await
}

#[derive(Deserialize)]
struct QueueRow {
    default_queue: Option<String>,
}

/// The site's default queue, if one is set.
pub async fn default_queue(database: &D1Database, site: &str) -> Result<Option<String>, ApiError> {
    Ok(db::first::<QueueRow>(
        database,
        "SELECT default_queue FROM sites WHERE id = ?",
        &[s(site)],
    )
    .await?
    .and_then(|r| r.default_queue))
}

/// Sets (or clears) the site's default queue.
pub async fn set_default_queue(
    database: &D1Database,
    site: &str,
    queue: Option<&str>,
) -> Result<(), ApiError> {
    db::exec(
        database,
        "UPDATE sites SET default_queue = ? WHERE id = ?",
        &[os(queue), s(site)],
    )
    .await?;
    Ok(())
}
