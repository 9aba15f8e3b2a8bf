//! A queue's own invitation texts (`queue_templates`): read, saved, removed.

use super::super::db::{self, n, s};
use crate::error::ApiError;
use serde::Deserialize;
use worker::D1Database;

/// A queue's subject and body.
#[derive(Deserialize)]
pub struct QueueTemplateRow {
    pub subject: String,
    pub body: String,
}

/// The queue's texts, if it has its own.
pub async fn get(
    database: &D1Database,
    site: &str,
    queue: &str,
) -> Result<Option<QueueTemplateRow>, ApiError> {
    db::first(
        database,
        "SELECT subject, body FROM queue_templates WHERE site = ? AND queue = ?",
        &[s(site), s(queue)],
    )
    .await
}

/// Saves the queue's texts.
pub async fn put(
    database: &D1Database,
    site: &str,
    queue: &str,
    t: &QueueTemplateRow,
    now: i64,
) -> Result<(), ApiError> {
    db::exec(
        database,
        "INSERT INTO queue_templates (site, queue, subject, body, updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT(site, queue) DO UPDATE SET subject = excluded.subject, body = excluded.body, updated_at = excluded.updated_at",
        &[s(site), s(queue), s(&t.subject), s(&t.body), n(now)],
    )
    .await?;
    Ok(())
}

/// Removes the queue's texts (the site's apply again).
pub async fn delete(database: &D1Database, site: &str, queue: &str) -> Result<(), ApiError> {
    db::exec(
        database,
        "DELETE FROM queue_templates WHERE site = ? AND queue = ?",
        &[s(site), s(queue)],
    )
    .await?;
    Ok(())
}
