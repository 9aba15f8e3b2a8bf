//! The no-slot fallback's requests (table `meeting_requests`): stored once per Idempotency-Key,
//! listed for the admin.

use super::super::db::{self, n, s};
use crate::error::ApiError;
use serde::{Deserialize, Serialize};
use worker::{D1Database, D1PreparedStatement};

/// A stored request as the admin sees it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RequestRow {
    pub id: String,
    #[serde(skip_serializing)]
    pub body_hash: String,
    pub route: String,
    pub email: String,
    pub name: String,
    pub preferred: String,
    pub days: String,
    pub tz: String,
    pub reason: String,
    pub session: String,
    pub dialogue: String,
    /// The answers a `rules:` route was resolved with, as JSON text (card id -> text; migration 0017).
    pub answers: String,
    pub notified: i64,
    pub created_at: i64,
}

const SELECT: &str = "SELECT id, body_hash, route, email, name, preferred, days, tz, reason, session, dialogue, answers, notified, created_at FROM meeting_requests";

/// What to store.
pub struct RequestWrite<'a> {
    pub site: &'a str,
    pub id: &'a str,
    pub key: &'a str,
    pub body_hash: &'a str,
    pub route: &'a str,
    pub email: &'a str,
    pub name: &'a str,
    pub preferred: &'a str,
    pub days: &'a str,
    pub tz: &'a str,
    pub reason: &'a str,
    pub session: &'a str,
    pub dialogue: &'a str,
    pub answers: &'a str,
    pub notified: i64,
    pub at: i64,
}

/// Stores a request (for a batch with its mails); a second one with the same key is ignored.
pub fn insert(
    database: &D1Database,
    r: &RequestWrite<'_>,
) -> Result<D1PreparedStatement, ApiError> {
    db::stmt(
        database,
        "INSERT OR IGNORE INTO meeting_requests (site, id, idem_key, body_hash, route, email, name, preferred, days, tz, reason, session, dialogue, answers, notified, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        &[
            s(r.site),
            s(r.id),
            s(r.key),
            s(r.body_hash),
            s(r.route),
            s(r.email),
            s(r.name),
            s(r.preferred),
            s(r.days),
            s(r.tz),
            s(r.reason),
            s(r.session),
            s(r.dialogue),
            s(r.answers),
            n(r.notified),
            n(r.at),
        ],
    )
}

/// The request stored with an Idempotency-Key.
pub async fn by_key(
    database: &D1Database,
    site: &str,
    key: &str,
) -> Result<Option<RequestRow>, ApiError> {
    db::first(
        database,
        &format!("{SELECT} WHERE site = ? AND idem_key = ?"),
        &[s(site), s(key)],
    )
    .await
}

/// The newest requests of a site (at most 500).
pub async fn list(database: &D1Database, site: &str) -> Result<Vec<RequestRow>, ApiError> {
    db::rows(
        database,
        &format!("{SELECT} WHERE site = ? ORDER BY created_at DESC, id LIMIT 500"),
        &[s(site)],
    )
    .await
}

#[derive(Deserialize)]
struct NotifyRow {
    email: String,
}

/// The queue's notification address for requests, if set (table `queue_request_notify`).
pub async fn notify_address(
    database: &D1Database,
    site: &str,
    queue: &str,
) -> Result<Option<String>, ApiError> {
    let row: Option<NotifyRow> = db::first(
        database,
        "SELECT email FROM queue_request_notify WHERE site = ? AND queue = ?",
        &[s(site), s(queue)],
    )
    .await?;
    Ok(row.map(|r| r.email))
}

/// Sets (or with `None` removes) the queue's notification address.
pub async fn set_notify_address(
    database: &D1Database,
    (site, queue): (&str, &str),
    email: Option<&str>,
    at: i64,
) -> Result<(), ApiError> {
    match email {
        Some(e) => db::exec(
            database,
            "INSERT INTO queue_request_notify (site, queue, email, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT(site, queue) DO UPDATE SET email = excluded.email, updated_at = excluded.updated_at",
            &[s(site), s(queue), s(e), n(at)],
        )
        .await?,
        None => db::exec(
            database,
            "DELETE FROM queue_request_notify WHERE site = ? AND queue = ?",
            &[s(site), s(queue)],
        )
        .await?,
    };
    Ok(())
}
