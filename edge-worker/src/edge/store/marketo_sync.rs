//! `marketo_initial_sync` (the one-time Bulk Lead Extract sync's position and progress) and the
//! rows it writes into `marketo_cache`.

use crate::edge::db::{self, n, on, os, s};
use crate::error::ApiError;
use serde::{Deserialize, Serialize};
use worker::{D1Database, D1PreparedStatement};

/// The sync's one row.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SyncRow {
    pub phase: String,
    pub since_ms: i64,
    pub until_ms: i64,
    pub window_start_ms: i64,
    pub windows_total: i64,
    pub windows_done: i64,
    pub fields: String,
    pub export_id: Option<String>,
    pub file_size: Option<i64>,
    pub file_offset: i64,
    pub header: Option<String>,
    pub window_rows: i64,
    pub rows_done: i64,
    pub rows_skipped: i64,
    pub bytes_done: i64,
    pub jobs_created: i64,
    pub calls: i64,
    pub errors: i64,
    pub last_error: Option<String>,
    pub next_at: i64,
    pub started_at: i64,
    pub updated_at: i64,
    pub finished_at: Option<i64>,
    /// Exported leads cached with their company record (migration 0015).
    #[serde(default)]
    pub companies_done: i64,
    /// Of those, from the current window's file (taken back if the window is read again).
    #[serde(default)]
    pub window_companies: i64,
}

const COLUMNS: &str = "phase, since_ms, until_ms, window_start_ms, windows_total, windows_done, fields, export_id, file_size, file_offset, header, window_rows, rows_done, rows_skipped, bytes_done, jobs_created, calls, errors, last_error, next_at, started_at, updated_at, finished_at, companies_done, window_companies";

/// The sync's row, if one was ever started.
pub async fn get(database: &D1Database) -> Result<Option<SyncRow>, ApiError> {
    db::first(
        database,
        &format!("SELECT {COLUMNS} FROM marketo_initial_sync WHERE id = 1"),
        &[],
    )
    .await
}

/// Writes the whole row (insert or replace) as one statement, to batch with the page's rows.
pub fn put(database: &D1Database, r: &SyncRow) -> Result<D1PreparedStatement, ApiError> {
    db::stmt(
        database,
        &format!("INSERT OR REPLACE INTO marketo_initial_sync (id, {COLUMNS}) VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
        &[
            s(&r.phase),
            n(r.since_ms),
            n(r.until_ms),
            n(r.window_start_ms),
            n(r.windows_total),
            n(r.windows_done),
            s(&r.fields),
            os(r.export_id.as_deref()),
            on(r.file_size),
            n(r.file_offset),
            os(r.header.as_deref()),
            n(r.window_rows),
            n(r.rows_done),
            n(r.rows_skipped),
            n(r.bytes_done),
            n(r.jobs_created),
            n(r.calls),
            n(r.errors),
            os(r.last_error.as_deref()),
            n(r.next_at),
            n(r.started_at),
            n(r.updated_at),
            on(r.finished_at),
            n(r.companies_done),
            n(r.window_companies),
        ],
    )
}

/// Saves the row alone.
pub async fn save(database: &D1Database, r: &SyncRow) -> Result<(), ApiError> {
    db::batch(database, vec![put(database, r)?]).await
}

/// One exported lead for the trait cache: (normalised email, lead id, fields JSON).
pub type CachedLead = (String, Option<i64>, String);

/// Rows per statement: 4 bound values each, D1 takes at most 100 per statement.
const ROWS_PER_STATEMENT: usize = 25;

/// Caches exported leads under their emails, 25 rows per statement (the emails must be
/// distinct: an upsert may not touch a row twice). A visitor looked up live keeps that answer
/// (it is at least as fresh); an email cached as unknown (no lead then) takes the export's
/// record.
pub fn cache_leads(
    database: &D1Database,
    leads: &[CachedLead],
    now: i64,
) -> Result<Vec<D1PreparedStatement>, ApiError> {
    leads
        .chunks(ROWS_PER_STATEMENT)
        .map(|chunk| {
            let values = vec!["('email', ?, ?, ?, ?)"; chunk.len()].join(", ");
            let args: Vec<_> = chunk
                .iter()
                .flat_map(|(email, id, fields)| [s(email), on(*id), s(fields), n(now)])
                .collect();
            db::stmt(
                database,
                &format!("INSERT INTO marketo_cache (key_type, key, lead_id, fields, fetched_at) VALUES {values} ON CONFLICT(key_type, key) DO UPDATE SET lead_id = excluded.lead_id, fields = excluded.fields, fetched_at = excluded.fetched_at WHERE marketo_cache.lead_id IS NULL"),
                &args,
            )
        })
        .collect()
}

#[derive(Deserialize)]
struct Count {
    n: i64,
}

/// Known leads cached by email (what the sync filled, plus live lookups).
pub async fn cached_leads(database: &D1Database) -> Result<i64, ApiError> {
    let c: Option<Count> = db::first(
        database,
        "SELECT COUNT(*) AS n FROM marketo_cache WHERE key_type = 'email' AND lead_id IS NOT NULL",
        &[],
    )
    .await?;
    Ok(c.map_or(0, |c| c.n))
}
