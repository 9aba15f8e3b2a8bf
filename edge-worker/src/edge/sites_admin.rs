//! The sites of the console: `GET /admin/sites` (the caller's sites only), `POST /admin/sites`
//! (create: id, name, allowed embed origins, and any other site setting) and
//! `GET /admin/sites/{site}/install` (the installation check).

use super::admin::{save, Write};
use super::reply::{json_body, Reply};
use super::store::{accounts, install, sites};
use crate::auth::Principal;
use crate::error::ApiError;
use crate::{site_settings, validate};
use serde_json::{json, Value};
use worker::{D1Database, Env, Request};

const MAX_BODY: usize = 512 * 1024;

/// `GET /admin/sites`: `{"sites": [{"id", "name"}]}`, only the ones the caller may see.
pub async fn list(database: &D1Database, p: &Principal) -> Result<Reply, ApiError> {
    let mine = p.sites();
    let rows: Vec<sites::ListRow> = sites::list(database)
        .await?
        .into_iter()
        .filter(|r| mine.contains(&r.id))
        .collect();
    Ok(Reply::json(200, json!({"sites": rows})))
}

/// `POST /admin/sites {"id", "name", "allowed_origins", ...}`: 201, or 409 when the id is
/// taken. An account of some sites gets the new site added to its own.
pub async fn create(
    req: &mut Request,
    env: &Env,
    database: &D1Database,
    p: &Principal,
) -> Result<Reply, ApiError> {
    let mut v = json_body(req, MAX_BODY).await?;
    let id = match v.as_object_mut().and_then(|o| o.remove("id")) {
        Some(Value::String(id)) if validate::valid_id(&id) => id,
        _ => {
            return Err(ApiError::field(
                "id",
                "is required: 1-64 letters, digits, '-' or '_'",
            ))
        }
    };
    let input = site_settings::parse(&id, &v)?;
    let now = super::db::now(env, database).await?;
    let created = save(database, &id, &input, now, Write::Create).await?;
    if !created {
        return Err(ApiError::Conflict(format!("site {id} exists already")));
    }
    if let Principal::Account { id: account, .. } = p {
        if p.require_all_sites().is_err() {
            accounts::add_site(database, account, &id).await?;
        }
    }
    let etag = super::admin::refresh_site(database, &id).await?;
    Ok(Reply::json(
        201,
        json!({"id": id, "name": input.name, "allowed_origins": input.allowed_origins, "etag": etag}),
    ))
}

/// `GET /admin/sites/{site}/install`: the site's allowed origins against the page origins that
/// requested its bundle (`crate::install::report`).
pub async fn install_status(database: &D1Database, site: &str) -> Result<Reply, ApiError> {
    let row = sites::admin(database, site)
        .await?
        .ok_or_else(|| ApiError::NotFound("site".into()))?;
    let allowed: Vec<String> = serde_json::from_str(&row.allowed_origins).unwrap_or_default();
    let seen = install::seen(database, site).await?;
    let report = crate::install::report(&allowed, &seen);
    Ok(Reply::json(
        200,
        json!({"site": site, "installed": report.installed, "origins": report.origins}),
    ))
}
