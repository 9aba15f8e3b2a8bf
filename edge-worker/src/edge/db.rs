//! D1 access: statement helpers, the settings table and the clock. The bottom of the edge: it
//! imports nothing from it.

use crate::error::ApiError;
use serde::de::DeserializeOwned;
use serde::Deserialize;
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

/// Removes a settings value.
pub async fn delete_setting(db: &D1Database, key: &str) -> Result<(), ApiError> {
    exec(db, "DELETE FROM settings WHERE key = ?", &[s(key)]).await?;
    Ok(())
}

/// Writes a settings value.
pub async fn set_setting(db: &D1Database, key: &str, value: &str) -> Result<(), ApiError> {
    exec(db, "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", &[s(key), s(value)]).await?;
    Ok(())
}
