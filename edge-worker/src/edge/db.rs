//! D1 access: statement helpers, the site record (with a short in-isolate cache) and the clock.

use crate::error::ApiError;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use worker::wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement, Env};

/// The `DB` binding.
pub fn database(env: &Env) -> Result<D1Database, ApiError> {
    env.d1("DB")
        .map_err(|e| ApiError::Config(format!("D1 binding DB: {e}")))
}

/// A text argument.
pub fn s(v: &str) -> JsValue {
    JsValue::from_str(v)
}

/// An integer argument (D1 numbers are f64; our integers stay below 2^53).
pub fn n(v: i64) -> JsValue {
    JsValue::from_f64(v as f64)
}

/// An optional text argument.
pub fn os(v: Option<&str>) -> JsValue {
    v.map(s).unwrap_or(JsValue::NULL)
}

/// An optional integer argument.
pub fn on(v: Option<i64>) -> JsValue {
    v.map(n).unwrap_or(JsValue::NULL)
}

/// Prepares and binds a statement.
pub fn stmt(db: &D1Database, sql: &str, args: &[JsValue]) -> Result<D1PreparedStatement, ApiError> {
    db.prepare(sql).bind(args).map_err(ApiError::from)
}

/// Runs a query and deserializes every row.
pub async fn rows<T: DeserializeOwned>(
    db: &D1Database,
    sql: &str,
    args: &[JsValue],
) -> Result<Vec<T>, ApiError> {
    let r = stmt(db, sql, args)?.all().await?;
    r.results::<T>().map_err(ApiError::from)
}

/// Runs a query and returns the first row.
pub async fn first<T: DeserializeOwned>(
    db: &D1Database,
    sql: &str,
    args: &[JsValue],
) -> Result<Option<T>, ApiError> {
    Ok(rows::<T>(db, sql, args).await?.into_iter().next())
}

/// Runs a write; returns the number of rows changed.
pub async fn exec(db: &D1Database, sql: &str, args: &[JsValue]) -> Result<usize, ApiError> {
    let r = stmt(db, sql, args)?.run().await?;
    Ok(r.meta().ok().flatten().and_then(|m| m.changes).unwrap_or(0))
}

/// Runs statements as one D1 batch (a transaction).
pub async fn batch(db: &D1Database, statements: Vec<D1PreparedStatement>) -> Result<(), ApiError> {
    if statements.is_empty() {
        return Ok(());
    }
    db.batch(statements).await?;
    Ok(())
}

/// A site as the public API needs it.
#[derive(Debug, Clone)]
pub struct Site {
    pub id: String,
    pub allowed_origins: Vec<String>,
    pub config: String,
    pub trait_fields: Vec<String>,
    pub program_id: Option<i64>,
    pub rate_site_per_minute: Option<i64>,
    pub rate_ip_per_minute: Option<i64>,
    pub etag: String,
    pub dialogue_ids: Vec<String>,
}

#[derive(Deserialize)]
struct SiteRow {
    id: String,
    allowed_origins: String,
    config: String,
    trait_fields: String,
    program_id: Option<i64>,
    rate_site_per_minute: Option<i64>,
    rate_ip_per_minute: Option<i64>,
    bundle_etag: String,
}

#[derive(Deserialize)]
struct IdRow {
    dialogue: String,
}

const SITE_CACHE_MS: i64 = 2_000;

thread_local! {
    static SITES: RefCell<HashMap<String, (i64, Rc<Site>)>> = RefCell::new(HashMap::new());
}

/// Drops a cached site (after an admin change in this isolate).
pub fn forget_site(id: &str) {
    SITES.with(|m| m.borrow_mut().remove(id));
}

/// Loads a site, or 404. Cached for two seconds per isolate.
pub async fn site(db: &D1Database, id: &str) -> Result<Rc<Site>, ApiError> {
    if !crate::validate::valid_id(id) {
        return Err(ApiError::NotFound("site".into()));
    }
    let now = real_now();
    if let Some(hit) = SITES.with(|m| {
        m.borrow()
            .get(id)
            .filter(|(t, _)| now - *t < SITE_CACHE_MS)
            .map(|(_, s)| s.clone())
    }) {
        return Ok(hit);
    }
    let row: SiteRow = first(
        db,
        "SELECT id, allowed_origins, config, trait_fields, program_id, rate_site_per_minute, rate_ip_per_minute, bundle_etag FROM sites WHERE id = ?",
        &[s(id)],
    )
    .await?
    .ok_or_else(|| ApiError::NotFound("site".into()))?;
    let ids: Vec<IdRow> = rows(
        db,
        "SELECT DISTINCT dialogue FROM dialogue_versions WHERE site = ?",
        &[s(id)],
    )
    .await?;
    let site = Rc::new(Site {
        id: row.id,
        allowed_origins: serde_json::from_str(&row.allowed_origins).unwrap_or_default(),
        config: row.config,
        trait_fields: serde_json::from_str(&row.trait_fields).unwrap_or_default(),
        program_id: row.program_id,
        rate_site_per_minute: row.rate_site_per_minute,
        rate_ip_per_minute: row.rate_ip_per_minute,
        etag: row.bundle_etag,
        dialogue_ids: ids.into_iter().map(|r| r.dialogue).collect(),
    });
    SITES.with(|m| m.borrow_mut().insert(id.to_string(), (now, site.clone())));
    Ok(site)
}

/// The platform clock (ms).
pub fn real_now() -> i64 {
    worker::Date::now().as_millis() as i64
}

#[derive(Deserialize)]
struct ValueRow {
    value: String,
}

/// The worker's clock for events, rollups and retention: real time, unless
/// `ALLOW_CLOCK_OVERRIDE=1` and a test set `settings.clock_override`.
pub async fn now(env: &Env, db: &D1Database) -> Result<i64, ApiError> {
    if super::config::string(env, "ALLOW_CLOCK_OVERRIDE", "0") == "1" {
        if let Some(r) = first::<ValueRow>(
            db,
            "SELECT value FROM settings WHERE key = 'clock_override'",
            &[],
        )
        .await?
        {
            if let Ok(t) = r.value.parse::<i64>() {
                return Ok(t);
            }
        }
    }
    Ok(real_now())
}

/// Reads a settings value.
pub async fn setting(db: &D1Database, key: &str) -> Result<Option<String>, ApiError> {
    Ok(
        first::<ValueRow>(db, "SELECT value FROM settings WHERE key = ?", &[s(key)])
            .await?
            .map(|r| r.value),
    )
}

/// Writes a settings value.
pub async fn set_setting(db: &D1Database, key: &str, value: &str) -> Result<(), ApiError> {
    exec(db, "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", &[s(key), s(value)]).await?;
    Ok(())
}
