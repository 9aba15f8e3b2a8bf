//! The cache of Marketo lead (and company) fields by tracking cookie or email.

use crate::edge::db::{self, n, on, s};
use crate::error::ApiError;
use serde::Deserialize;
use worker::D1Database;

/// A cached lookup.
#[derive(Deserialize)]
pub struct Cached {
    pub lead_id: Option<i64>,
    pub fields: String,
    pub fetched_at: i64,
}

/// The cached lookup of a key (`key_type` is `cookie` or `email`).
pub async fn get(
    database: &D1Database,
    key_type: &str,
    key: &str,
) -> Result<Option<Cached>, ApiError> {
    db::first(
        database,
        "SELECT lead_id, fields, fetched_at FROM marketo_cache WHERE key_type = ? AND key = ?",
        &[s(key_type), s(key)],
    )
    .await
}

/// Stores a lookup under its key and, when it was looked up by cookie and the lead has an email,
/// under that email too (one batch).
pub async fn put(
    database: &D1Database,
    key_type: &str,
    key: &str,
    also_email: Option<&str>,
    lead_id: Option<i64>,
    fields: &str,
    now: i64,
) -> Result<(), ApiError> {
    const UPSERT: &str = "INSERT INTO marketo_cache (key_type, key, lead_id, fields, fetched_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT(key_type, key) DO UPDATE SET lead_id = excluded.lead_id, fields = excluded.fields, fetched_at = excluded.fetched_at";
    let mut st = vec![db::stmt(
        database,
        UPSERT,
        &[s(key_type), s(key), on(lead_id), s(fields), n(now)],
    )?];
    if let Some(email) = also_email {
        st.push(db::stmt(
            database,
            UPSERT,
            &[s("email"), s(email), on(lead_id), s(fields), n(now)],
        )?);
    }
    db::batch(database, st).await
}
