//! The initial Marketo sync for the admin API and the console's Marketo page: start it
//! (`POST`, body `{"since"?, "restart"?}`) and read its progress (`GET`), both answered with the
//! progress, the field mapping and any error.

use super::gate::{self, InitialSyncOp};
use super::reply::{json_body, Reply};
use crate::error::ApiError;
use crate::marketo::bulk;
use serde_json::json;
use worker::{Env, Request};

/// `GET .../marketo/initial-sync`.
pub async fn status(env: &Env) -> Result<Reply, ApiError> {
    let a = gate::initial_sync(env, InitialSyncOp::Status).await?;
    Ok(Reply::json(200, json!(a)))
}

/// `POST .../marketo/initial-sync`: 202 with the progress when started, 409 while one runs.
pub async fn start(req: &mut Request, env: &Env) -> Result<Reply, ApiError> {
    let body = json_body(req, 4096).await?;
    let now = super::db::real_now();
    let (since_ms, restart) = bulk::parse_start(&body, now)?;
    let a = gate::initial_sync(
        env,
        InitialSyncOp::Start {
            since_ms,
            until_ms: now - now.rem_euclid(1000),
            restart,
        },
    )
    .await?;
    if let Some(c) = &a.conflict {
        return Err(ApiError::Conflict(c.clone()));
    }
    Ok(Reply::json(202, json!(a)))
}
