//! The Marketo outbox tables as the gate drains them: `leads` (lead records, program
//! membership and cookie association), `activities` and `dead_letters`.

use crate::edge::db::{self, n, on, s};
use crate::error::ApiError;
use serde::Deserialize;
use worker::{D1Database, D1PreparedStatement};

type Stmt = Result<D1PreparedStatement, ApiError>;

/// A queued lead claimed for a `leads.json` call.
#[derive(Deserialize)]
pub struct LeadClaim {
    pub id: String,
    pub record: String,
    pub attempts: i64,
}

/// A delivered lead whose program membership is due.
#[derive(Deserialize)]
pub struct MemberClaim {
    pub id: String,
    pub site: String,
    pub dialogue: String,
    pub marketo_id: i64,
    pub attempts: i64,
}

/// A queued activity of a lead Marketo knows.
#[derive(Deserialize)]
pub struct ActivityClaim {
    pub id: i64,
    pub type_api: String,
    pub primary_value: String,
    pub attributes: String,
    pub at: i64,
    pub attempts: i64,
    pub marketo_id: i64,
}

/// A delivered lead whose tracking cookie is still to be associated.
#[derive(Deserialize)]
pub struct AssocClaim {
    pub id: String,
    pub site: String,
    pub marketo_id: Option<i64>,
    pub mkto_trk: Option<String>,
    pub assoc_attempts: i64,
}

#[derive(Deserialize)]
struct MinRow {
    t: Option<i64>,
}

// ---- leads -----------------------------------------------------------------------------

/// Leases up to `limit` due queued leads until `stamp`, oldest first.
pub async fn claim_leads(
    database: &D1Database,
    stamp: i64,
    now: i64,
    limit: i64,
) -> Result<Vec<LeadClaim>, ApiError> {
    db::rows(
        database,
        "UPDATE leads SET next_attempt_at = ?1 WHERE id IN (SELECT id FROM leads WHERE status = 'queued' AND next_attempt_at <= ?2 ORDER BY next_attempt_at, created_at LIMIT ?3) RETURNING id, record, attempts",
        &[n(stamp), n(now), n(limit)],
    )
    .await
}

/// Marketo took the lead (`marketo_id` when it said which lead it is).
pub fn lead_delivered(database: &D1Database, id: &str, marketo_id: Option<i64>, at: i64) -> Stmt {
    db::stmt(
        database,
        "UPDATE leads SET status = 'delivered', marketo_id = ?1, delivered_at = ?2, next_attempt_at = 0, attempts = attempts + 1, last_error = NULL, member_status = CASE WHEN ?1 IS NULL THEN 'none' ELSE member_status END, assoc_status = CASE WHEN ?1 IS NOT NULL AND mkto_trk IS NOT NULL THEN 'pending' ELSE 'none' END, assoc_next_at = 0 WHERE id = ?3",
        &[on(marketo_id), n(at), s(id)],
    )
}

/// Marketo refused the lead for good: dead, with a dead letter.
pub fn lead_dead(
    database: &D1Database,
    id: &str,
    code: &str,
    reason: &str,
    at: i64,
) -> Result<Vec<D1PreparedStatement>, ApiError> {
    Ok(vec![
        db::stmt(
            database,
            "UPDATE leads SET status = 'dead', attempts = attempts + 1, last_error = ? WHERE id = ?",
            &[s(&format!("{code} {reason}")), s(id)],
        )?,
        db::stmt(
            database,
            "INSERT INTO dead_letters (kind, ref, site, code, reason, created_at) SELECT 'lead', id, site, ?, ?, ? FROM leads WHERE id = ?",
            &[s(code), s(reason), n(at), s(id)],
        )?,
    ])
}

/// Puts one claimed lead back in the outbox, due at `at`.
pub fn lead_retry(database: &D1Database, id: &str, attempts: i64, at: i64, error: &str) -> Stmt {
    db::stmt(
        database,
        "UPDATE leads SET attempts = ?, next_attempt_at = ?, last_error = ? WHERE id = ?",
        &[n(attempts), n(at), s(error), s(id)],
    )
}

/// Puts every lead of a failed call back in the outbox with one statement.
pub fn leads_retry(database: &D1Database, ids: &[&str], at: i64, error: &str) -> Stmt {
    db::stmt(
        database,
        "UPDATE leads SET attempts = attempts + 1, next_attempt_at = ?, last_error = ? WHERE id IN (SELECT value FROM json_each(?))",
        &[n(at), s(error), s(&serde_json::json!(ids).to_string())],
    )
}

// ---- program membership ----------------------------------------------------------------

/// Leases up to `limit` delivered leads whose membership is due.
pub async fn claim_members(
    database: &D1Database,
    stamp: i64,
    now: i64,
    limit: i64,
) -> Result<Vec<MemberClaim>, ApiError> {
    db::rows(
        database,
        "UPDATE leads SET next_attempt_at = ?1 WHERE id IN (SELECT id FROM leads WHERE status = 'delivered' AND member_status = 'pending' AND marketo_id IS NOT NULL AND next_attempt_at <= ?2 LIMIT ?3) RETURNING id, site, dialogue, marketo_id, attempts",
        &[n(stamp), n(now), n(limit)],
    )
    .await
}

/// No program to add the lead to.
pub fn member_none(database: &D1Database, id: &str) -> Stmt {
    db::stmt(
        database,
        "UPDATE leads SET member_status = 'none' WHERE id = ?",
        &[s(id)],
    )
}

pub fn member_done(database: &D1Database, id: &str) -> Stmt {
    db::stmt(
        database,
        "UPDATE leads SET member_status = 'done', next_attempt_at = 0 WHERE id = ?",
        &[s(id)],
    )
}

/// Marketo refused the membership for good: failed, with a dead letter.
pub fn member_dead(
    database: &D1Database,
    id: &str,
    site: &str,
    code: &str,
    reason: &str,
    at: i64,
) -> Result<Vec<D1PreparedStatement>, ApiError> {
    Ok(vec![
        db::stmt(
            database,
            "UPDATE leads SET member_status = 'failed', last_error = ? WHERE id = ?",
            &[s(&format!("membership {code} {reason}")), s(id)],
        )?,
        db::stmt(
            database,
            "INSERT INTO dead_letters (kind, ref, site, code, reason, created_at) VALUES ('membership', ?, ?, ?, ?, ?)",
            &[s(id), s(site), s(code), s(reason), n(at)],
        )?,
    ])
}

/// The answer did not cover the membership: due again at `at`.
pub fn member_again(database: &D1Database, id: &str, at: i64) -> Stmt {
    db::stmt(
        database,
        "UPDATE leads SET attempts = attempts + 1, next_attempt_at = ? WHERE id = ?",
        &[n(at), s(id)],
    )
}

/// The membership call failed: due again at `at`, with the error.
pub fn member_retry(database: &D1Database, id: &str, at: i64, error: &str) -> Stmt {
    db::stmt(
        database,
        "UPDATE leads SET attempts = attempts + 1, next_attempt_at = ?, last_error = ? WHERE id = ?",
        &[n(at), s(&format!("membership {error}")), s(id)],
    )
}

// ---- activities ------------------------------------------------------------------------

/// Whether any activity of a lead Marketo knows is due.
pub async fn activity_due(database: &D1Database, now: i64) -> Result<bool, ApiError> {
    let row: Option<MinRow> = db::first(
        database,
        "SELECT a.id AS t FROM activities a JOIN leads l ON l.id = a.lead_id WHERE a.status = 'queued' AND a.next_attempt_at <= ? AND l.marketo_id IS NOT NULL LIMIT 1",
        &[n(now)],
    )
    .await?;
    Ok(row.is_some())
}

/// Leases up to `limit` due activities until `stamp` and reads them back with their lead's
/// Marketo id.
pub async fn claim_activities(
    database: &D1Database,
    stamp: i64,
    now: i64,
    limit: i64,
) -> Result<Vec<ActivityClaim>, ApiError> {
    db::exec(
        database,
        "UPDATE activities SET next_attempt_at = ?1 WHERE id IN (SELECT a.id FROM activities a JOIN leads l ON l.id = a.lead_id WHERE a.status = 'queued' AND a.next_attempt_at <= ?2 AND l.marketo_id IS NOT NULL ORDER BY a.id LIMIT ?3)",
        &[n(stamp), n(now), n(limit)],
    )
    .await?;
    db::rows(
        database,
        "SELECT a.id, a.type_api, a.primary_value, a.attributes, a.at, a.attempts, l.marketo_id FROM activities a JOIN leads l ON l.id = a.lead_id WHERE a.status = 'queued' AND a.next_attempt_at = ? AND l.marketo_id IS NOT NULL",
        &[n(stamp)],
    )
    .await
}

pub fn activity_delivered(database: &D1Database, id: i64) -> Stmt {
    db::stmt(
        database,
        "UPDATE activities SET status = 'delivered', attempts = attempts + 1, last_error = NULL WHERE id = ?",
        &[n(id)],
    )
}

/// Marketo refused the activity for good: dead, with a dead letter.
pub fn activity_dead(
    database: &D1Database,
    id: i64,
    code: &str,
    reason: &str,
    at: i64,
) -> Result<Vec<D1PreparedStatement>, ApiError> {
    Ok(vec![
        db::stmt(
            database,
            "UPDATE activities SET status = 'dead', last_error = ? WHERE id = ?",
            &[s(&format!("{code} {reason}")), n(id)],
        )?,
        db::stmt(
            database,
            "INSERT INTO dead_letters (kind, ref, site, code, reason, created_at) SELECT 'activity', CAST(id AS TEXT), site, ?, ?, ? FROM activities WHERE id = ?",
            &[s(code), s(reason), n(at), n(id)],
        )?,
    ])
}

/// The answer did not cover the activity: due again at `at`.
pub fn activity_again(database: &D1Database, id: i64, at: i64) -> Stmt {
    db::stmt(
        database,
        "UPDATE activities SET attempts = attempts + 1, next_attempt_at = ? WHERE id = ?",
        &[n(at), n(id)],
    )
}

/// The activity call failed: due again at `at`, with the error.
pub fn activity_retry(database: &D1Database, id: i64, at: i64, error: &str) -> Stmt {
    db::stmt(
        database,
        "UPDATE activities SET attempts = attempts + 1, next_attempt_at = ?, last_error = ? WHERE id = ?",
        &[n(at), s(error), n(id)],
    )
}

// ---- cookie association ----------------------------------------------------------------

/// Leases one lead whose cookie association is due.
pub async fn claim_association(
    database: &D1Database,
    stamp: i64,
    now: i64,
) -> Result<Vec<AssocClaim>, ApiError> {
    db::rows(
        database,
        "UPDATE leads SET assoc_next_at = ?1 WHERE id IN (SELECT id FROM leads WHERE assoc_status = 'pending' AND assoc_next_at <= ?2 LIMIT 1) RETURNING id, site, marketo_id, mkto_trk, assoc_attempts",
        &[n(stamp), n(now)],
    )
    .await
}

/// Nothing to associate (no Marketo id or no cookie).
pub fn association_none(database: &D1Database, id: &str) -> Stmt {
    db::stmt(
        database,
        "UPDATE leads SET assoc_status = 'none' WHERE id = ?",
        &[s(id)],
    )
}

pub fn association_done(database: &D1Database, id: &str, attempts: i64) -> Stmt {
    db::stmt(
        database,
        "UPDATE leads SET assoc_status = 'done', assoc_attempts = ? WHERE id = ?",
        &[n(attempts), s(id)],
    )
}

/// Marketo refused the association for good: failed, with a dead letter.
#[allow(clippy::too_many_arguments)]
pub fn association_dead(
    database: &D1Database,
    id: &str,
    site: &str,
    attempts: i64,
    text: &str,
    code: &str,
    reason: &str,
    at: i64,
) -> Result<Vec<D1PreparedStatement>, ApiError> {
    Ok(vec![
        db::stmt(
            database,
            "UPDATE leads SET assoc_status = 'failed', assoc_attempts = ?, last_error = ? WHERE id = ?",
            &[n(attempts), s(&format!("associate {text}")), s(id)],
        )?,
        db::stmt(
            database,
            "INSERT INTO dead_letters (kind, ref, site, code, reason, created_at) VALUES ('association', ?, ?, ?, ?, ?)",
            &[s(id), s(site), s(code), s(reason), n(at)],
        )?,
    ])
}

pub fn association_retry(database: &D1Database, id: &str, attempts: i64, at: i64) -> Stmt {
    db::stmt(
        database,
        "UPDATE leads SET assoc_attempts = ?, assoc_next_at = ? WHERE id = ?",
        &[n(attempts), n(at), s(id)],
    )
}

// ---- scheduling ------------------------------------------------------------------------

/// The earliest time any outbox work (lead, membership, activity, association) is due.
pub async fn next_due(database: &D1Database) -> Result<Option<i64>, ApiError> {
    let row: Option<MinRow> = db::first(
        database,
        "SELECT MIN(t) AS t FROM (SELECT MIN(next_attempt_at) AS t FROM leads WHERE status = 'queued' \
         UNION ALL SELECT MIN(next_attempt_at) FROM leads WHERE status = 'delivered' AND member_status = 'pending' \
         UNION ALL SELECT MIN(a.next_attempt_at) FROM activities a JOIN leads l ON l.id = a.lead_id WHERE a.status = 'queued' AND l.marketo_id IS NOT NULL \
         UNION ALL SELECT MIN(assoc_next_at) FROM leads WHERE assoc_status = 'pending')",
        &[],
    )
    .await?;
    Ok(row.and_then(|r| r.t))
}
