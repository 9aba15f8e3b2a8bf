//! Incremental sync: lead changes since the stored paging token update the trait cache.

use super::client::{urlencode, Marketo};
use super::lookups::{paging_token, rule_fields};
use super::protocol::SyncAnswer;
use crate::edge::db::real_now as now;
use crate::edge::store::marketo as store;
use crate::error::ApiError;
use crate::marketo::protocol::CallError;
use serde_json::Value;
use worker::{D1Database, Method};

/// Reads up to ten pages of lead changes of the fields any site uses and writes them into the
/// cached traits; the paging token is saved after each page.
pub async fn sync(m: &Marketo, database: &D1Database) -> Result<SyncAnswer, ApiError> {
    let up = |e: CallError| ApiError::Upstream(e.text().to_string());
    let mut token = match store::sync_token(database).await? {
        Some(t) => t,
        None => paging_token(m, now() - 3_600_000)
            .await
            .map_err(up)?
            .ok_or_else(|| ApiError::Upstream("no nextPageToken".into()))?,
    };
    let fields = rule_fields(m, database, &["email"]).await?;
    let mut changed = 0;
    for _page in 0..10 {
        let path = format!(
            "/rest/v1/activities/leadchanges.json?nextPageToken={}&fields={}",
            urlencode(&token),
            urlencode(&fields.join(","))
        );
        let v = m.call(Method::Get, &path, None, None).await.map_err(up)?;
        let mut st = Vec::new();
        for change in v
            .get("result")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let Some(lead) = change.get("leadId").and_then(Value::as_i64) else {
                continue;
            };
            for f in change
                .get("fields")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let (Some(name), Some(new)) =
                    (f.get("name").and_then(Value::as_str), f.get("newValue"))
                else {
                    continue;
                };
                if !crate::validate::valid_field_name(name) {
                    continue;
                }
                st.push(store::cache_set_field(
                    database,
                    lead,
                    name,
                    &json_text(new),
                )?);
                changed += 1;
            }
        }
        crate::edge::db::batch(database, st).await?;
        if let Some(t) = v.get("nextPageToken").and_then(Value::as_str) {
            token = t.to_string();
        }
        store::set_sync_token(database, &token).await?;
        if v.get("moreResult").and_then(Value::as_bool) != Some(true) {
            break;
        }
    }
    Ok(SyncAnswer {
        changed_fields: changed,
    })
}

fn json_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}
