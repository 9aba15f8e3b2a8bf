//! What a booking writes for Marketo: the visitor's lead row (found, or created from the
//! booking's lead fields), the "scheduled meeting" activity and the daily meetings rollup.

use super::super::db::{self, n, s};
use crate::error::ApiError;
use serde::Deserialize;
use worker::{D1Database, D1PreparedStatement};

#[derive(Deserialize)]
struct LeadIdRow {
    id: String,
}

/// The newest lead of this session (when there is one) or this email.
pub async fn visitor_lead(
    database: &D1Database,
    site: &str,
    session: &str,
    email: &str,
) -> Result<Option<String>, ApiError> {
    let r: Option<LeadIdRow> = db::first(
        database,
        "SELECT id FROM leads WHERE site = ? AND ((session = ? AND session <> '') OR email = ?) ORDER BY created_at DESC LIMIT 1",
        &[s(site), s(session), s(email)],
    )
    .await?;
    Ok(r.map(|l| l.id))
}

/// A lead created by a booking, queued for Marketo.
pub struct LeadWrite<'a> {
    pub id: &'a str,
    pub site: &'a str,
    pub idem_key: &'a str,
    pub session: &'a str,
    pub dialogue: &'a str,
    pub email: &'a str,
    /// The Marketo record as JSON.
    pub record: &'a str,
    pub member_status: &'a str,
    pub at: i64,
}

/// Queues a new lead (nothing if it exists; for a batch).
pub fn new_lead(database: &D1Database, l: &LeadWrite<'_>) -> Result<D1PreparedStatement, ApiError> {
    db::stmt(
        database,
        "INSERT INTO leads (id, site, idem_key, body_hash, visitor, session, dialogue, hash, email, record, transcript, mkto_trk, status, member_status, created_at, next_attempt_at) \
         VALUES (?, ?, ?, 'meeting', ?, ?, ?, NULL, ?, ?, '', NULL, 'queued', ?, ?, 0) ON CONFLICT DO NOTHING",
        &[s(l.id), s(l.site), s(l.idem_key), s(l.session), s(l.session), s(l.dialogue), s(l.email), s(l.record), s(l.member_status), n(l.at)],
    )
}

/// A custom activity for a lead (for a batch).
pub struct ActivityWrite<'a> {
    pub site: &'a str,
    pub lead_id: &'a str,
    pub type_api: &'a str,
    pub primary: &'a str,
    /// JSON array of `[name, value]` pairs.
    pub attributes: &'a str,
    pub at: i64,
}

/// Queues the activity (ignored if already queued; for a batch).
pub fn activity(
    database: &D1Database,
    a: &ActivityWrite<'_>,
) -> Result<D1PreparedStatement, ApiError> {
    db::stmt(
        database,
        "INSERT OR IGNORE INTO activities (site, lead_id, type_api, primary_value, attributes, at) VALUES (?, ?, ?, ?, ?, ?)",
        &[s(a.site), s(a.lead_id), s(a.type_api), s(a.primary), s(a.attributes), n(a.at)],
    )
}

/// Counts one meeting for a dialogue on a day (for a batch).
pub fn count_meeting(
    database: &D1Database,
    site: &str,
    dialogue: &str,
    day: i64,
) -> Result<D1PreparedStatement, ApiError> {
    db::stmt(
        database,
        "INSERT INTO metrics_daily (site, dialogue, day, meetings) VALUES (?, ?, ?, 1) ON CONFLICT(site, dialogue, day) DO UPDATE SET meetings = meetings + 1",
        &[s(site), s(dialogue), n(day)],
    )
}

/// The meeting's `dynchat_meeting` activity again after a change (a move, a reassignment, a
/// cancellation: `status`), with its start, dialogue, site and experiment variant, `primary` the
/// agent's name; `None` when the visitor has no lead row. One place for every change, so each
/// carries the same attributes (for a batch).
pub async fn meeting_again(
    database: &D1Database,
    m: &super::meetings::MeetingRow,
    (site, agent, start): (&str, &str, &str),
    status: Option<&str>,
    at: i64,
) -> Result<Option<D1PreparedStatement>, ApiError> {
    let Some(lead_id) = visitor_lead(database, site, &m.session, &m.lead_email).await? else {
        return Ok(None);
    };
    let mut attrs = vec![
        ["start", start],
        ["dialogue", m.dialogue.as_str()],
        ["site", site],
    ];
    if let Some(v) = &m.variant {
        attrs.push(["variant", v.as_str()]);
    }
    if let Some(st) = status {
        attrs.push(["status", st]);
    }
    let attrs = serde_json::to_string(&attrs)?;
    activity(
        database,
        &ActivityWrite {
            site,
            lead_id: &lead_id,
            type_api: "dynchat_meeting",
            primary: agent,
            attributes: &attrs,
            at,
        },
    )
    .map(Some)
}
