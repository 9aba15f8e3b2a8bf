//! Admin experiment handlers: `GET /admin/sites/{site}/dialogues/{id}/experiment` (the
//! per-variant report with each variant's verdict against the control) and `POST
//! .../experiment/end` `{"variant": "b"}` (publishes the chosen variant as a new version).

use super::db;
use super::reply::{json_body, Reply};
use super::store::{dialogues, experiments as store, sites};
use crate::error::ApiError;
use crate::{bundle, experiments, validate};
use serde_json::{json, Value};
use worker::{D1Database, Env, Method, Request};

/// Whether `rest` (after `/admin`) is one of these routes.
pub fn owns(rest: &[&str]) -> bool {
    matches!(
        rest,
        ["sites", _, "dialogues", _, "experiment"]
            | ["sites", _, "dialogues", _, "experiment", "end"]
    )
}

/// Routes the experiment paths of [`owns`].
pub async fn route(
    req: &mut Request,
    env: &Env,
    database: &D1Database,
    method: Method,
    rest: &[&str],
) -> Result<Reply, ApiError> {
    match (method, rest) {
        (Method::Get, ["sites", site, "dialogues", id, "experiment"]) => {
            report(database, site, id).await
        }
        (Method::Post, ["sites", site, "dialogues", id, "experiment", "end"]) => {
            end(req, env, database, site, id).await
        }
        _ => Err(ApiError::NotFound("admin path".into())),
    }
}

/// The live version of a dialogue: (hash, priority, JSON), or 404.
async fn live(
    database: &D1Database,
    site: &str,
    id: &str,
) -> Result<dialogues::Published, ApiError> {
    dialogues::published(database, site)
        .await?
        .into_iter()
        .find(|p| p.dialogue == id)
        .ok_or_else(|| ApiError::NotFound("published dialogue".into()))
}

async fn report(database: &D1Database, site: &str, id: &str) -> Result<Reply, ApiError> {
    if !validate::valid_id(site) || !validate::valid_id(id) {
        return Err(ApiError::NotFound("published dialogue".into()));
    }
    let p = live(database, site, id).await?;
    let flow = dynchat_engine::compile(&p.json)
        .map_err(|_| ApiError::Config("the live version no longer compiles".into()))?;
    let (experiment, arms) = match flow.experiment_arms() {
        Some((x, arms)) => (
            Value::from(x),
            arms.into_iter()
                .map(|a| (a.id, a.weight))
                .collect::<Vec<_>>(),
        ),
        None => (Value::Null, Vec::new()),
    };
    let counts = store::counts(database, site, id).await?;
    let mut out = experiments::report(id, "", &arms, &counts);
    out["experiment"] = experiment;
    out["hash"] = Value::from(p.hash);
    Ok(Reply::json(200, out))
}

async fn end(
    req: &mut Request,
    env: &Env,
    database: &D1Database,
    site: &str,
    id: &str,
) -> Result<Reply, ApiError> {
    let body = json_body(req, 4 * 1024).await?;
    let variant = body
        .get("variant")
        .and_then(Value::as_str)
        .filter(|v| validate::valid_id(v))
        .ok_or_else(|| ApiError::field("variant", "is required: the id of the variant to keep"))?
        .to_string();
    let lead_fields = sites::lead_fields(database, site)
        .await?
        .ok_or_else(|| ApiError::NotFound("site".into()))?;
    let lead_fields: Vec<String> = serde_json::from_str(&lead_fields).unwrap_or_default();
    let p = live(database, site, id).await?;
    let ended = dynchat_engine::compile(&p.json)
        .ok()
        .and_then(|f| f.experiment.map(|x| x.id));
    let json = experiments::conclude(&p.json, &variant)?;
    let next = bundle::publishable(
        &json,
        (!lead_fields.is_empty()).then_some(lead_fields.as_slice()),
    )?;
    let now = db::now(env, database).await?;
    let version = dialogues::NewVersion {
        dialogue: &next.id,
        hash: &next.hash,
        json: &next.json,
        variants: &next.variants,
    };
    dialogues::store_version(database, site, &version, Some(p.priority), now).await?;
    let etag = super::admin::refresh_site(database, site).await?;
    Ok(Reply::json(
        201,
        json!({"id": next.id, "hash": next.hash, "previous": p.hash, "experiment": ended, "variant": variant, "published": true, "etag": etag}),
    ))
}
