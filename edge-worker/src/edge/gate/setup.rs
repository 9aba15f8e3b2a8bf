//! Setup of the custom activity types in Marketo (create, complete the attributes, approve)
//! and the type ids the activity outbox needs.

use super::client::Marketo;
use super::protocol::{SetupAnswer, TypeReport};
use crate::edge::store::marketo as store;
use crate::error::ApiError;
use crate::marketo::mapping::ACTIVITY_TYPES;
use crate::marketo::protocol::CallError;
use serde_json::{json, Value};
use worker::{D1Database, Method};

fn up(e: CallError) -> ApiError {
    ApiError::Upstream(e.text().to_string())
}

/// Creates, completes and approves the custom activity types; records their ids in D1.
pub async fn setup(m: &Marketo, database: &D1Database) -> Result<SetupAnswer, ApiError> {
    let list = m
        .call(
            Method::Get,
            "/rest/v1/activities/external/types.json",
            None,
            None,
        )
        .await
        .map_err(up)?;
    let existing: Vec<Value> = list
        .get("result")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut report = Vec::new();
    for t in &ACTIVITY_TYPES {
        let found = existing
            .iter()
            .find(|x| x.get("apiName").and_then(Value::as_str) == Some(t.api_name))
            .cloned();
        let mut current = match found {
            Some(x) => x,
            None => {
                let r = m
                    .call(
                        Method::Post,
                        "/rest/v1/activities/external/type.json",
                        Some(&t.create_body()),
                        None,
                    )
                    .await
                    .map_err(up)?;
                r.get("result")
                    .and_then(|a| a.get(0))
                    .cloned()
                    .ok_or_else(|| ApiError::Upstream("type.json: empty result".into()))?
            }
        };
        let have: Vec<String> = current
            .get("attributes")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .chain(
                current
                    .get("pendingAttributes")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten(),
            )
            .filter_map(|a| a.get("apiName").and_then(Value::as_str).map(str::to_string))
            .collect();
        let missing = t
            .attributes
            .iter()
            .any(|(name, _)| !have.iter().any(|h| h == name));
        if missing {
            let body = json!({"attributes": t.attributes_body()["attributes"].as_array().map(|a| a.iter().filter(|x| !have.iter().any(|h| Some(h.as_str()) == x["apiName"].as_str())).cloned().collect::<Vec<_>>()).unwrap_or_default()});
            let r = m
                .call(
                    Method::Post,
                    &format!(
                        "/rest/v1/activities/external/type/{}/attributes/create.json",
                        t.api_name
                    ),
                    Some(&body),
                    None,
                )
                .await
                .map_err(up)?;
            if let Some(x) = r.get("result").and_then(|a| a.get(0)) {
                current = x.clone();
            }
        }
        if missing || current.get("status").and_then(Value::as_str) != Some("approved") {
            let r = m
                .call(
                    Method::Post,
                    &format!(
                        "/rest/v1/activities/external/type/{}/approve.json",
                        t.api_name
                    ),
                    None,
                    None,
                )
                .await
                .map_err(up)?;
            if let Some(x) = r.get("result").and_then(|a| a.get(0)) {
                current = x.clone();
            }
        }
        let id = current
            .get("id")
            .and_then(Value::as_i64)
            .ok_or_else(|| ApiError::Upstream(format!("{}: no id", t.api_name)))?;
        store::save_activity_type(database, t.api_name, id).await?;
        m.type_ids.borrow_mut().insert(t.api_name.to_string(), id);
        report.push(TypeReport {
            api_name: t.api_name.to_string(),
            id,
            status: current.get("status").cloned().unwrap_or(Value::Null),
        });
    }
    Ok(SetupAnswer { types: report })
}

/// Loads the activity type ids, running the setup first when some are missing.
pub async fn load_type_ids(m: &Marketo, database: &D1Database) -> Result<(), ApiError> {
    if m.type_ids.borrow().len() == ACTIVITY_TYPES.len() {
        return Ok(());
    }
    let mut rows = store::activity_types(database).await?;
    if rows.len() < ACTIVITY_TYPES.len() {
        setup(m, database).await?;
        rows = store::activity_types(database).await?;
    }
    *m.type_ids.borrow_mut() = rows.into_iter().map(|r| (r.api_name, r.type_id)).collect();
    Ok(())
}
