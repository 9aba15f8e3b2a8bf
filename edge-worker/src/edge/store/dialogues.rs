//! Dialogue versions (immutable, by content hash) and what is published per site.

use crate::edge::db::{self, n, s};
use crate::error::ApiError;
use serde::{Deserialize, Serialize};
use worker::D1Database;

/// A published dialogue with its version's JSON.
#[derive(Deserialize)]
pub struct Published {
    pub dialogue: String,
    pub hash: String,
    pub priority: i64,
    pub json: String,
}

/// The site's published dialogues, highest priority first (ties by id).
pub async fn published(database: &D1Database, site: &str) -> Result<Vec<Published>, ApiError> {
    db::rows(
        database,
        "SELECT p.dialogue, p.hash, p.priority, v.json FROM published p JOIN dialogue_versions v ON v.site = p.site AND v.hash = p.hash WHERE p.site = ? ORDER BY p.priority DESC, p.dialogue",
        &[s(site)],
    )
    .await
}

/// A stored version.
#[derive(Deserialize)]
pub struct Version {
    pub dialogue: String,
    pub json: String,
}

/// One version of the site by hash (any dialogue).
pub async fn version(
    database: &D1Database,
    site: &str,
    hash: &str,
) -> Result<Option<Version>, ApiError> {
    db::first(
        database,
        "SELECT dialogue, json FROM dialogue_versions WHERE site = ? AND hash = ?",
        &[s(site), s(hash)],
    )
    .await
}

/// One version of one dialogue by hash.
pub async fn version_of(
    database: &D1Database,
    site: &str,
    dialogue: &str,
    hash: &str,
) -> Result<Option<String>, ApiError> {
    Ok(version(database, site, hash)
        .await?
        .filter(|v| v.dialogue == dialogue)
        .map(|v| v.json))
}

/// A version to store: its dialogue, hash, canonical JSON and experiment variant ids
/// (comma-separated, `""` without an experiment).
pub struct NewVersion<'a> {
    pub dialogue: &'a str,
    pub hash: &'a str,
    pub json: &'a str,
    pub variants: &'a str,
}

/// Stores a version (idempotent) and, when `priority` is given, publishes it; one batch.
pub async fn store_version(
    database: &D1Database,
    site: &str,
    v: &NewVersion<'_>,
    publish_with_priority: Option<i64>,
    now: i64,
) -> Result<(), ApiError> {
    let (dialogue, hash) = (v.dialogue, v.hash);
    let mut st = vec![db::stmt(database, "INSERT OR IGNORE INTO dialogue_versions (site, hash, dialogue, json, variants, created_at) VALUES (?, ?, ?, ?, ?, ?)", &[s(site), s(hash), s(dialogue), s(v.json), s(v.variants), n(now)])?];
    if let Some(priority) = publish_with_priority {
        st.push(publish_stmt(database, site, dialogue, hash, priority, now)?);
    }
    db::batch(database, st).await
}

fn publish_stmt(
    database: &D1Database,
    site: &str,
    dialogue: &str,
    hash: &str,
    priority: i64,
    now: i64,
) -> Result<worker::D1PreparedStatement, ApiError> {
    db::stmt(
        database,
        "INSERT INTO published (site, dialogue, hash, priority, published_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT(site, dialogue) DO UPDATE SET hash = excluded.hash, priority = excluded.priority, published_at = excluded.published_at",
        &[s(site), s(dialogue), s(hash), n(priority), n(now)],
    )
}

/// Publishes a stored version.
pub async fn publish(
    database: &D1Database,
    site: &str,
    dialogue: &str,
    hash: &str,
    priority: i64,
    now: i64,
) -> Result<(), ApiError> {
    publish_stmt(database, site, dialogue, hash, priority, now)?
        .run()
        .await?;
    Ok(())
}

/// Takes a dialogue offline.
pub async fn unpublish(database: &D1Database, site: &str, dialogue: &str) -> Result<(), ApiError> {
    db::exec(
        database,
        "DELETE FROM published WHERE site = ? AND dialogue = ?",
        &[s(site), s(dialogue)],
    )
    .await?;
    Ok(())
}

/// A version in the history list.
#[derive(Deserialize, Serialize)]
pub struct Listed {
    pub dialogue: String,
    pub hash: String,
    pub created_at: i64,
    pub live: i64,
}

/// Every version of the site's dialogues, oldest first per dialogue.
pub async fn list(database: &D1Database, site: &str) -> Result<Vec<Listed>, ApiError> {
    db::rows(
        database,
        "SELECT v.dialogue, v.hash, v.created_at, CASE WHEN p.hash IS NULL THEN 0 ELSE 1 END AS live FROM dialogue_versions v LEFT JOIN published p ON p.site = v.site AND p.dialogue = v.dialogue AND p.hash = v.hash WHERE v.site = ? ORDER BY v.dialogue, v.created_at",
        &[s(site)],
    )
    .await
}
