//! The gate's Marketo tables: `marketo_connection` (the console's saved connection),
//! `activity_types`, `marketo_cache` (traits), the Marketo columns of `sites` and
//! `dialogue_marketo`, and the gate's `settings` keys.

use crate::edge::db::{self, n, s};
use crate::error::ApiError;
use serde::Deserialize;
use worker::{D1Database, D1PreparedStatement};

/// `settings` key: the connected instance (`base_url client_id`).
const INSTANCE: &str = "marketo_instance";
/// `settings` key: the lead-change sync's paging token.
const SYNC_TOKEN: &str = "marketo_sync_token";

/// The connection saved in the console (the secret still encrypted).
#[derive(Deserialize)]
pub struct ConnectionRow {
    pub endpoint: String,
    pub client_id: String,
    pub secret: String,
}

/// A custom activity type's id in the connected instance.
#[derive(Deserialize)]
pub struct TypeRow {
    pub api_name: String,
    pub type_id: i64,
}

/// A site's program for lead membership.
#[derive(Deserialize)]
pub struct ProgramRow {
    pub id: String,
    pub program_id: i64,
    pub program_status: Option<String>,
}

/// A program picked for one dialogue in the console (`statuses` is JSON).
#[derive(Deserialize)]
pub struct DialogueProgramRow {
    pub site: String,
    pub dialogue: String,
    pub program_id: i64,
    pub statuses: String,
}

#[derive(Deserialize)]
struct TraitRow {
    trait_fields: String,
}

/// The console's saved connection, when it has a secret.
pub async fn saved_connection(database: &D1Database) -> Result<Option<ConnectionRow>, ApiError> {
    db::first(
        database,
        "SELECT endpoint, client_id, secret FROM marketo_connection WHERE id = 1 AND secret IS NOT NULL",
        &[],
    )
    .await
}

/// Records `identity` as the connected instance; when another one was connected before,
/// forgets what belonged to it (activity type ids, trait cache, sync position).
pub async fn switch_instance(database: &D1Database, identity: &str) -> Result<(), ApiError> {
    let before = db::setting(database, INSTANCE).await?;
    if before.as_deref() == Some(identity) {
        return Ok(());
    }
    if before.is_some() {
        worker::console_log!("marketo instance changed: forgetting the old one's ids");
        db::batch(
            database,
            vec![
                db::stmt(database, "DELETE FROM activity_types", &[])?,
                db::stmt(database, "DELETE FROM marketo_cache", &[])?,
                db::stmt(database, "DELETE FROM marketo_initial_sync", &[])?,
                db::stmt(
                    database,
                    "DELETE FROM settings WHERE key = 'marketo_sync_token'",
                    &[],
                )?,
            ],
        )
        .await?;
    }
    db::set_setting(database, INSTANCE, identity).await
}

/// The approved custom activity types.
pub async fn activity_types(database: &D1Database) -> Result<Vec<TypeRow>, ApiError> {
    db::rows(
        database,
        "SELECT api_name, type_id FROM activity_types WHERE approved = 1",
        &[],
    )
    .await
}

/// Records an approved activity type's id.
pub async fn save_activity_type(
    database: &D1Database,
    api_name: &str,
    type_id: i64,
) -> Result<(), ApiError> {
    db::exec(database, "INSERT INTO activity_types (api_name, type_id, approved) VALUES (?, ?, 1) ON CONFLICT(api_name) DO UPDATE SET type_id = excluded.type_id, approved = 1", &[s(api_name), n(type_id)]).await?;
    Ok(())
}

/// The sites' programs.
pub async fn site_programs(database: &D1Database) -> Result<Vec<ProgramRow>, ApiError> {
    db::rows(
        database,
        "SELECT id, program_id, program_status FROM sites WHERE program_id IS NOT NULL",
        &[],
    )
    .await
}

/// The programs picked per dialogue.
pub async fn dialogue_programs(database: &D1Database) -> Result<Vec<DialogueProgramRow>, ApiError> {
    db::rows(
        database,
        "SELECT site, dialogue, program_id, statuses FROM dialogue_marketo WHERE program_id IS NOT NULL",
        &[],
    )
    .await
}

/// Every site's trait field list (`["lead.x", "company.y"]`; a broken list counts as empty).
pub async fn trait_fields(database: &D1Database) -> Result<Vec<Vec<String>>, ApiError> {
    let rows: Vec<TraitRow> = db::rows(database, "SELECT trait_fields FROM sites", &[]).await?;
    Ok(rows
        .iter()
        .map(|r| serde_json::from_str::<Vec<String>>(&r.trait_fields).unwrap_or_default())
        .collect())
}

/// Sets one field of a cached lead's traits.
pub fn cache_set_field(
    database: &D1Database,
    lead_id: i64,
    name: &str,
    value: &str,
) -> Result<D1PreparedStatement, ApiError> {
    db::stmt(
        database,
        "UPDATE marketo_cache SET fields = json_set(fields, '$.' || ?, ?) WHERE lead_id = ?",
        &[s(name), s(value), n(lead_id)],
    )
}

/// Drops the cached traits of a tracking cookie (it now belongs to a known lead).
pub fn cache_forget_cookie(
    database: &D1Database,
    cookie: &str,
) -> Result<D1PreparedStatement, ApiError> {
    db::stmt(
        database,
        "DELETE FROM marketo_cache WHERE key_type = 'cookie' AND key = ?",
        &[s(cookie)],
    )
}

/// The lead-change sync's paging token.
pub async fn sync_token(database: &D1Database) -> Result<Option<String>, ApiError> {
    db::setting(database, SYNC_TOKEN).await
}

pub async fn set_sync_token(database: &D1Database, token: &str) -> Result<(), ApiError> {
    db::set_setting(database, SYNC_TOKEN, token).await
}
