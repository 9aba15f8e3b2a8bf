//! Raw widget events, the daily rollups they feed, and the chat activities of known leads.

use crate::edge::db::{self, n, os, s};
use crate::error::ApiError;
use crate::metrics::Counter;
use serde::Deserialize;
use worker::{D1Database, D1PreparedStatement};

/// One raw event row.
pub struct NewEvent<'a> {
    pub site: &'a str,
    pub visitor: &'a str,
    pub session: &'a str,
    pub kind: &'a str,
    pub dialogue: &'a str,
    pub hash: Option<&'a str>,
    pub card: Option<&'a str>,
    pub value: Option<&'a str>,
    pub variant: Option<&'a str>,
    pub at: i64,
    pub day: i64,
    pub received_at: i64,
}

/// The insert of one raw event (for a batch).
pub fn insert(database: &D1Database, e: &NewEvent<'_>) -> Result<D1PreparedStatement, ApiError> {
    db::stmt(
        database,
        "INSERT INTO events (site, visitor, session, type, dialogue, hash, card, value, variant, at, day, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        &[s(e.site), s(e.visitor), s(e.session), s(e.kind), s(e.dialogue), os(e.hash), os(e.card), os(e.value), os(e.variant), n(e.at), n(e.day), n(e.received_at)],
    )
}

/// Adds `by` to one counter of a dialogue's day (for a batch).
pub fn count(
    database: &D1Database,
    site: &str,
    dialogue: &str,
    day: i64,
    counter: Counter,
    by: i64,
) -> Result<D1PreparedStatement, ApiError> {
    let col = counter.column();
    let sql = format!("INSERT INTO metrics_daily (site, dialogue, day, {col}) VALUES (?, ?, ?, ?) ON CONFLICT(site, dialogue, day) DO UPDATE SET {col} = {col} + excluded.{col}");
    db::stmt(database, &sql, &[s(site), s(dialogue), n(day), n(by)])
}

/// A chat activity of a lead waiting for delivery (for a batch; duplicates are ignored).
pub fn activity(
    database: &D1Database,
    site: &str,
    lead_id: &str,
    type_api: &str,
    primary: &str,
    attributes: &str,
    at: i64,
) -> Result<D1PreparedStatement, ApiError> {
    db::stmt(
        database,
        "INSERT OR IGNORE INTO activities (site, lead_id, type_api, primary_value, attributes, at) VALUES (?, ?, ?, ?, ?, ?)",
        &[s(site), s(lead_id), s(type_api), s(primary), s(attributes), n(at)],
    )
}

/// The visitor's newest lead.
#[derive(Deserialize)]
pub struct LeadRef {
    pub id: String,
    pub transcript: String,
}

/// The newest lead a visitor left on a site.
pub async fn latest_lead(
    database: &D1Database,
    site: &str,
    visitor: &str,
) -> Result<Option<LeadRef>, ApiError> {
    db::first(database, "SELECT id, transcript FROM leads WHERE site = ? AND visitor = ? ORDER BY created_at DESC LIMIT 1", &[s(site), s(visitor)]).await
}
