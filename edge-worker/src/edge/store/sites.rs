//! Sites: the public API's cached view, the admin's full record, trait fields and bundle ETag.

use crate::edge::db::{self, n, on, os, s};
use crate::error::ApiError;
use serde::{Deserialize, Serialize};
use worker::D1Database;

/// The site row the public API needs.
#[derive(Deserialize)]
pub struct PublicRow {
    pub id: String,
    pub allowed_origins: String,
    pub config: String,
    pub trait_fields: String,
    pub program_id: Option<i64>,
    pub rate_site_per_minute: Option<i64>,
    pub rate_ip_per_minute: Option<i64>,
    pub bundle_etag: String,
}

#[derive(Deserialize)]
struct IdRow {
    dialogue: String,
}

/// The public view of a site and the ids of its dialogues, in one D1 batch.
pub async fn public(
    database: &D1Database,
    id: &str,
) -> Result<Option<(PublicRow, Vec<String>)>, ApiError> {
    let res = database
        .batch(vec![
            db::stmt(database, "SELECT id, allowed_origins, config, trait_fields, program_id, rate_site_per_minute, rate_ip_per_minute, bundle_etag FROM sites WHERE id = ?", &[s(id)])?,
            db::stmt(database, "SELECT DISTINCT dialogue FROM dialogue_versions WHERE site = ?", &[s(id)])?,
        ])
        .await?;
    let [site, ids] = res.as_slice() else {
        return Err(ApiError::Storage("short D1 batch answer".into()));
    };
    let Some(row) = site.results::<PublicRow>()?.into_iter().next() else {
        return Ok(None);
    };
    let ids = ids
        .results::<IdRow>()?
        .into_iter()
        .map(|r| r.dialogue)
        .collect();
    Ok(Some((row, ids)))
}

/// A site as the admin API shows it.
#[derive(Deserialize)]
pub struct AdminRow {
    pub id: String,
    pub name: String,
    pub allowed_origins: String,
    pub config: String,
    pub lead_fields: String,
    pub trait_fields: String,
    pub program_id: Option<i64>,
    pub program_status: Option<String>,
    pub bundle_etag: String,
}

/// The admin's view of a site.
pub async fn admin(database: &D1Database, id: &str) -> Result<Option<AdminRow>, ApiError> {
    db::first(database, "SELECT id, name, allowed_origins, config, lead_fields, trait_fields, program_id, program_status, bundle_etag FROM sites WHERE id = ?", &[s(id)]).await
}

/// A site to create or replace (JSON columns as text).
pub struct Upsert<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub allowed_origins: &'a str,
    pub config: &'a str,
    pub lead_fields: &'a str,
    pub program_id: Option<i64>,
    pub program_status: Option<&'a str>,
    pub rate_site_per_minute: Option<i64>,
    pub rate_ip_per_minute: Option<i64>,
    pub now: i64,
}

/// Creates or replaces a site's settings.
pub async fn upsert(database: &D1Database, x: &Upsert<'_>) -> Result<(), ApiError> {
    db::exec(
        database,
        "INSERT INTO sites (id, name, allowed_origins, config, lead_fields, program_id, program_status, rate_site_per_minute, rate_ip_per_minute, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
         ON CONFLICT(id) DO UPDATE SET name = excluded.name, allowed_origins = excluded.allowed_origins, config = excluded.config, lead_fields = excluded.lead_fields, program_id = excluded.program_id, program_status = excluded.program_status, rate_site_per_minute = excluded.rate_site_per_minute, rate_ip_per_minute = excluded.rate_ip_per_minute, updated_at = excluded.updated_at",
        &[s(x.id), s(x.name), s(x.allowed_origins), s(x.config), s(x.lead_fields), on(x.program_id), os(x.program_status), on(x.rate_site_per_minute), on(x.rate_ip_per_minute), n(x.now), n(x.now)],
    )
    .await?;
    Ok(())
}

#[derive(Deserialize)]
struct LeadFieldsRow {
    lead_fields: String,
}

/// The site's Marketo lead fields (JSON text), or `None` for an unknown site.
pub async fn lead_fields(database: &D1Database, id: &str) -> Result<Option<String>, ApiError> {
    let r: Option<LeadFieldsRow> = db::first(
        database,
        "SELECT lead_fields FROM sites WHERE id = ?",
        &[s(id)],
    )
    .await?;
    Ok(r.map(|r| r.lead_fields))
}

#[derive(Deserialize)]
struct ConfigRow {
    config: String,
}

/// The site's widget config (JSON text), or `None` for an unknown site.
pub async fn config(database: &D1Database, id: &str) -> Result<Option<String>, ApiError> {
    let r: Option<ConfigRow> =
        db::first(database, "SELECT config FROM sites WHERE id = ?", &[s(id)]).await?;
    Ok(r.map(|r| r.config))
}

/// Stores recomputed trait fields and bundle ETag.
pub async fn set_bundle_identity(
    database: &D1Database,
    id: &str,
    trait_fields: &str,
    etag: &str,
) -> Result<(), ApiError> {
    db::exec(
        database,
        "UPDATE sites SET trait_fields = ?, bundle_etag = ? WHERE id = ?",
        &[s(trait_fields), s(etag), s(id)],
    )
    .await?;
    Ok(())
}

/// A site in the console's list.
#[derive(Deserialize, Serialize)]
pub struct ListRow {
    pub id: String,
    pub name: String,
}

/// Every site, by id.
pub async fn list(database: &D1Database) -> Result<Vec<ListRow>, ApiError> {
    db::rows(database, "SELECT id, name FROM sites ORDER BY id", &[]).await
}

/// Whether a site exists.
pub async fn exists(database: &D1Database, id: &str) -> Result<bool, ApiError> {
    let r: Option<ListRow> = db::first(
        database,
        "SELECT id, name FROM sites WHERE id = ?",
        &[s(id)],
    )
    .await?;
    Ok(r.is_some())
}

/// Creates a site unless its id is taken; `false` when it was.
pub async fn insert(database: &D1Database, x: &Upsert<'_>) -> Result<bool, ApiError> {
    let changed = db::exec(
        database,
        "INSERT INTO sites (id, name, allowed_origins, config, lead_fields, program_id, program_status, rate_site_per_minute, rate_ip_per_minute, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO NOTHING",
        &[s(x.id), s(x.name), s(x.allowed_origins), s(x.config), s(x.lead_fields), on(x.program_id), os(x.program_status), on(x.rate_site_per_minute), on(x.rate_ip_per_minute), n(x.now), n(x.now)],
    )
    .await?;
    Ok(changed > 0)
}
