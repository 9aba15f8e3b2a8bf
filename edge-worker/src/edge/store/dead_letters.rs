//! Dead letters (what Marketo refused for good) and putting them back into the outbox.

use crate::edge::db::{self, n, s};
use crate::error::ApiError;
use serde::{Deserialize, Serialize};
use worker::D1Database;

/// A dead letter.
#[derive(Deserialize, Serialize)]
pub struct DeadRow {
    pub id: i64,
    pub kind: String,
    #[serde(rename = "ref")]
    pub reference: String,
    pub site: String,
    pub code: String,
    pub reason: String,
    pub created_at: i64,
    pub retried_at: Option<i64>,
}

/// The site's newest 500 dead letters.
pub async fn list(database: &D1Database, site: &str) -> Result<Vec<DeadRow>, ApiError> {
    db::rows(database, "SELECT id, kind, ref, site, code, reason, created_at, retried_at FROM dead_letters WHERE site = ? ORDER BY id DESC LIMIT 500", &[s(site)]).await
}

/// One dead letter of the site (`None` for another site's).
pub async fn get(database: &D1Database, site: &str, id: i64) -> Result<Option<DeadRow>, ApiError> {
    db::first(database, "SELECT id, kind, ref, site, code, reason, created_at, retried_at FROM dead_letters WHERE site = ? AND id = ?", &[s(site), n(id)]).await
}

/// Puts a dead letter's record back into the outbox (one batch), optionally with a corrected
/// lead record (JSON text). Every statement is bound to the dead letter's site as well, so a row
/// of another site is never touched even if a reference were shared.
pub async fn retry(
    database: &D1Database,
    dl: &DeadRow,
    new_record: Option<&str>,
    now: i64,
) -> Result<(), ApiError> {
    let (r, site) = (dl.reference.as_str(), dl.site.as_str());
    let mut st = Vec::new();
    match dl.kind.as_str() {
        "lead" => {
            if let Some(rec) = new_record {
                st.push(db::stmt(database, "UPDATE leads SET record = ? WHERE id = ? AND site = ?", &[s(rec), s(r), s(site)])?);
            }
            st.push(db::stmt(database, "UPDATE leads SET status = 'queued', attempts = 0, next_attempt_at = 0, last_error = NULL WHERE id = ? AND site = ? AND status = 'dead'", &[s(r), s(site)])?);
        }
        "membership" => st.push(db::stmt(database, "UPDATE leads SET member_status = 'pending', next_attempt_at = 0 WHERE id = ? AND site = ?", &[s(r), s(site)])?),
        "association" => st.push(db::stmt(database, "UPDATE leads SET assoc_status = 'pending', assoc_next_at = 0, assoc_attempts = 0 WHERE id = ? AND site = ? AND assoc_status = 'failed'", &[s(r), s(site)])?),
        _ => st.push(db::stmt(database, "UPDATE activities SET status = 'queued', attempts = 0, next_attempt_at = 0 WHERE CAST(id AS TEXT) = ? AND site = ? AND status = 'dead'", &[s(r), s(site)])?),
    }
    st.push(db::stmt(
        database,
        "UPDATE dead_letters SET retried_at = ? WHERE id = ? AND site = ?",
        &[n(now), n(dl.id), s(site)],
    )?);
    db::batch(database, st).await
}

#[derive(Deserialize)]
struct DueRow {
    due: Option<i64>,
    leased: Option<i64>,
}

/// Queued leads: (due now, waiting on a lease or backoff).
pub async fn queued_counts(database: &D1Database, now: i64) -> Result<(i64, i64), ApiError> {
    let r: Option<DueRow> = db::first(
        database,
        "SELECT SUM(CASE WHEN next_attempt_at <= ?1 THEN 1 ELSE 0 END) AS due, SUM(CASE WHEN next_attempt_at > ?1 THEN 1 ELSE 0 END) AS leased FROM leads WHERE status = 'queued'",
        &[n(now)],
    )
    .await?;
    Ok(r.map(|r| (r.due.unwrap_or(0), r.leased.unwrap_or(0)))
        .unwrap_or((0, 0)))
}
