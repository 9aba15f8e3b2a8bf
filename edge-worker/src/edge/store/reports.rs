//! Reports: daily rollups, row counts, the lead list, and the retention of raw data.

use crate::edge::db::{self, n, os, s};
use crate::error::ApiError;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use worker::D1Database;

/// One day of one dialogue's counters.
#[derive(Deserialize)]
pub struct MetricRow {
    pub dialogue: String,
    pub day: i64,
    pub triggered: i64,
    pub engaged: i64,
    pub completed: i64,
    pub captured: i64,
    pub meetings: i64,
    pub goals: i64,
}

/// The site's rollups between two day numbers (inclusive).
pub async fn metrics(
    database: &D1Database,
    site: &str,
    from: i64,
    to: i64,
) -> Result<Vec<MetricRow>, ApiError> {
    db::rows(
        database,
        "SELECT dialogue, day, triggered, engaged, completed, captured, meetings, goals FROM metrics_daily WHERE site = ? AND day BETWEEN ? AND ? ORDER BY day, dialogue",
        &[s(site), n(from), n(to)],
    )
    .await
}

/// A group of alike conversations of one dialogue and day (see `metrics::Facts`); rows with
/// `triggered` 0 are leads of sessions that did not trigger their dialogue in the range.
#[derive(Deserialize)]
pub struct FactRow {
    pub dialogue: String,
    pub day: i64,
    pub triggered: i64,
    pub engaged: i64,
    pub goal: i64,
    pub count: i64,
    pub leads: i64,
}

/// The site's conversations between two day numbers (inclusive), grouped by dialogue, day (of
/// the conversation's first event in the range) and what happened in them, with the leads each
/// group left (a lead counts for the conversation of its session and dialogue, whenever it
/// was sent); plus the leads sent in the range by sessions without any event of their dialogue
/// in the range, as rows with `triggered` 0. One statement; `leads_session` serves the lookups.
pub async fn funnel_facts(
    database: &D1Database,
    site: &str,
    from: i64,
    to: i64,
) -> Result<Vec<FactRow>, ApiError> {
    db::rows(
        database,
        "WITH conv AS ( \
           SELECT dialogue, session, MIN(day) AS day, MAX(type = 'triggered') AS triggered, MAX(type = 'engaged') AS engaged, MAX(type = 'goal') AS goal \
           FROM events WHERE site = ?1 AND day BETWEEN ?2 AND ?3 AND type IN ('triggered', 'engaged', 'goal') GROUP BY dialogue, session), \
         facts AS ( \
           SELECT c.dialogue, c.day, c.triggered, c.engaged, c.goal, \
             (SELECT COUNT(*) FROM leads l WHERE l.site = ?1 AND l.session = c.session AND l.dialogue = c.dialogue) AS leads FROM conv c \
           UNION ALL \
           SELECT l.dialogue, l.created_at / 86400000, 0, 0, 0, 1 FROM leads l \
           WHERE l.site = ?1 AND l.created_at >= ?2 * 86400000 AND l.created_at < (?3 + 1) * 86400000 \
             AND NOT EXISTS (SELECT 1 FROM conv c WHERE c.session = l.session AND c.dialogue = l.dialogue)) \
         SELECT dialogue, day, triggered, engaged, goal, COUNT(*) AS count, SUM(leads) AS leads FROM facts \
         GROUP BY dialogue, day, triggered, engaged, goal, leads > 0 ORDER BY day, dialogue",
        &[s(site), n(from), n(to)],
    )
    .await
}

#[derive(Deserialize)]
struct CountRow {
    k: String,
    c: i64,
}

/// Row counts per table and status for one site (one D1 batch).
pub async fn stats(database: &D1Database, site: &str) -> Result<Map<String, Value>, ApiError> {
    // D1 limits compound SELECTs, so one query per table.
    const QUERIES: [&str; 6] = [
        "SELECT 'events' AS k, COUNT(*) AS c FROM events WHERE site = ?",
        "SELECT 'leads_' || status AS k, COUNT(*) AS c FROM leads WHERE site = ? GROUP BY status",
        "SELECT 'membership_' || member_status AS k, COUNT(*) AS c FROM leads WHERE site = ? GROUP BY member_status",
        "SELECT 'activities_' || status AS k, COUNT(*) AS c FROM activities WHERE site = ? GROUP BY status",
        "SELECT 'dead_letters' AS k, COUNT(*) AS c FROM dead_letters WHERE site = ?",
        "SELECT 'metric_rows' AS k, COUNT(*) AS c FROM metrics_daily WHERE site = ?",
    ];
    let st = QUERIES
        .iter()
        .map(|q| db::stmt(database, q, &[s(site)]))
        .collect::<Result<Vec<_>, _>>()?;
    let mut out = Map::new();
    for r in database.batch(st).await? {
        for row in r.results::<CountRow>()? {
            out.insert(row.k, json!(row.c));
        }
    }
    Ok(out)
}

/// A lead as the admin lists it.
#[derive(Deserialize, Serialize)]
pub struct LeadRow {
    pub id: String,
    pub email: String,
    pub status: String,
    pub attempts: i64,
    pub marketo_id: Option<i64>,
    pub member_status: String,
    pub last_error: Option<String>,
    pub record: String,
}

/// The site's leads, oldest first (at most 1,000), optionally of one status.
pub async fn leads(
    database: &D1Database,
    site: &str,
    status: Option<&str>,
) -> Result<Vec<LeadRow>, ApiError> {
    db::rows(
        database,
        "SELECT id, email, status, attempts, marketo_id, member_status, last_error, record FROM leads WHERE site = ? AND (? IS NULL OR status = ?) ORDER BY created_at LIMIT 1000",
        &[s(site), os(status), os(status)],
    )
    .await
}

/// Deletes raw events and rollups before `cutoff_day`; returns (events, rollups) deleted.
pub async fn delete_before(
    database: &D1Database,
    cutoff_day: i64,
) -> Result<(usize, usize), ApiError> {
    let events = db::exec(
        database,
        "DELETE FROM events WHERE day < ?",
        &[n(cutoff_day)],
    )
    .await?;
    let rollups = db::exec(
        database,
        "DELETE FROM metrics_daily WHERE day < ?",
        &[n(cutoff_day)],
    )
    .await?;
    Ok((events, rollups))
}
