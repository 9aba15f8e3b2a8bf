//! The mail outbox: messages queued with their meeting, claimed with a lease by a sender,
//! and their delivery attempts.

use super::super::db::{self, n, os, s};
use crate::error::ApiError;
use serde::{Deserialize, Serialize};
use worker::{D1Database, D1PreparedStatement};

/// A message to queue (ignored if its id is already queued).
pub struct MailWrite<'a> {
    pub id: &'a str,
    pub site: &'a str,
    pub meeting: &'a str,
    pub kind: &'a str,
    pub from: &'a str,
    pub rcpt: &'a str,
    pub subject: &'a str,
    pub message: &'a str,
    pub now: i64,
}

/// Queues a message, due now (for a batch).
pub fn queue(database: &D1Database, m: &MailWrite<'_>) -> Result<D1PreparedStatement, ApiError> {
    db::stmt(
        database,
        "INSERT OR IGNORE INTO mail_outbox (id, site, meeting, kind, mail_from, rcpt, subject, message, status, attempts, next_attempt_at, lease_until, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?, 0, ?)",
        &[
            s(m.id),
            s(m.site),
            s(m.meeting),
            s(m.kind),
            s(m.from),
            s(m.rcpt),
            s(m.subject),
            s(m.message),
            n(m.now),
            n(m.now),
        ],
    )
}

/// A message claimed for sending.
#[derive(Deserialize)]
pub struct OutboxRow {
    pub id: String,
    pub site: String,
    pub meeting: String,
    pub kind: String,
    pub mail_from: String,
    pub rcpt: String,
    pub message: String,
    pub attempts: i64,
}

/// Claims up to 50 due messages not leased by another sender, leasing them until
/// `lease_until`, in one statement.
pub async fn claim_due(
    database: &D1Database,
    now: i64,
    lease_until: i64,
) -> Result<Vec<OutboxRow>, ApiError> {
    db::rows(
        database,
        "UPDATE mail_outbox SET lease_until = ? WHERE id IN (SELECT id FROM mail_outbox WHERE status = 'pending' AND next_attempt_at <= ? AND lease_until <= ? ORDER BY next_attempt_at, id LIMIT 50) AND status = 'pending' AND lease_until <= ? \
         RETURNING id, site, meeting, kind, mail_from, rcpt, message, attempts",
        &[n(lease_until), n(now), n(now), n(now)],
    )
    .await
}

/// The outcome of one sending attempt.
pub struct AttemptWrite<'a> {
    pub id: &'a str,
    /// `sent`, `pending` (retry at `next`) or `failed`.
    pub status: &'a str,
    pub attempts: i64,
    pub next: i64,
    pub error: Option<&'a str>,
    pub done: i64,
}

/// Records an attempt and releases the lease (for a batch).
pub fn record_attempt(
    database: &D1Database,
    a: &AttemptWrite<'_>,
) -> Result<D1PreparedStatement, ApiError> {
    db::stmt(
        database,
        "UPDATE mail_outbox SET status = ?, attempts = ?, next_attempt_at = ?, lease_until = 0, last_error = ?, sent_at = CASE WHEN ? = 'sent' THEN ? ELSE sent_at END WHERE id = ?",
        &[s(a.status), n(a.attempts), n(a.next), os(a.error), s(a.status), n(a.done), s(a.id)],
    )
}

#[derive(Deserialize)]
struct NextRow {
    next: Option<i64>,
}

/// When the next pending message is due (or its lease ends), if any is pending.
pub async fn next_due(database: &D1Database) -> Result<Option<i64>, ApiError> {
    let next: Option<NextRow> = db::first(
        database,
        "SELECT MIN(MAX(next_attempt_at, lease_until)) AS next FROM mail_outbox WHERE status = 'pending'",
        &[],
    )
    .await?;
    Ok(next.and_then(|r| r.next))
}

/// A queued message as the admin sees it (no body).
#[derive(Deserialize, Serialize)]
pub struct OutboxListRow {
    pub id: String,
    pub meeting: String,
    pub kind: String,
    pub rcpt: String,
    pub subject: String,
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub sent_at: Option<i64>,
}

/// A site's queued messages (with this status if given), newest first, at most 1,000.
pub async fn list(
    database: &D1Database,
    site: &str,
    status: Option<&str>,
) -> Result<Vec<OutboxListRow>, ApiError> {
    db::rows(
        database,
        "SELECT id, meeting, kind, rcpt, subject, status, attempts, next_attempt_at, last_error, created_at, sent_at FROM mail_outbox WHERE site = ? AND (? IS NULL OR status = ?) ORDER BY created_at DESC, id LIMIT 1000",
        &[s(site), os(status), os(status)],
    )
    .await
}
