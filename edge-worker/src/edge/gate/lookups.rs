//! Trait lookups: a lead by cookie or email (`leads.json`), with its company (account) record
//! (`companies.json`) and the last time of each activity the site's rules read
//! (`activities.json`), asking only for fields the connected instance knows.

use super::client::{urlencode, Marketo};
use super::protocol::{DescribeAnswer, LookupAnswer, LookupQuery};
use crate::days;
use crate::edge::db::real_now as now;
use crate::edge::store::marketo as store;
use crate::error::ApiError;
use crate::marketo::protocol::CallError;
use crate::marketo::{bulk, fields, mapping};
use dynchat_engine::targeting::{ACTIVITY_TYPES, MAX_ACTIVITY_DAYS};
use serde_json::{Map, Value};
use worker::{D1Database, Method};

/// Field names Marketo knows (describe2), so lookups never ask for an unknown field (1006).
pub async fn known_fields(m: &Marketo) -> Result<Vec<String>, ApiError> {
    if let Some(f) = m.known_fields.borrow().as_ref() {
        return Ok(f.clone());
    }
    let v = m
        .call(Method::Get, "/rest/v1/leads/describe2.json", None, None)
        .await
        .map_err(|e| ApiError::Upstream(e.text().to_string()))?;
    let names: Vec<String> = v
        .pointer("/result/0/fields")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|f| f.get("name").and_then(Value::as_str).map(str::to_string))
        .collect();
    *m.known_fields.borrow_mut() = Some(names.clone());
    Ok(names)
}

/// The describe's names for a publish check; no call at all without a configured connection
/// (asking for a token without credentials would hold the gate for a minute).
pub async fn describe(m: &Marketo) -> Result<DescribeAnswer, ApiError> {
    if !m.connected() {
        return Ok(DescribeAnswer::default());
    }
    Ok(DescribeAnswer {
        connected: true,
        fields: known_fields(m).await?,
    })
}

/// The lead fields the sites' rules read (activities left out), as the instance names them,
/// with `extra` (e.g. `email`) added: what a sync asks Marketo for.
pub async fn rule_fields(
    m: &Marketo,
    database: &D1Database,
    extra: &[&str],
) -> Result<Vec<String>, ApiError> {
    let known = known_fields(m).await?;
    let sites = store::trait_fields(database).await?;
    let wanted: Vec<String> = sites
        .iter()
        .flatten()
        .filter_map(|f| f.split_once('.'))
        .filter(|(ns, _)| *ns != "activity")
        .map(|(_, n)| n.to_string())
        .chain(extra.iter().map(|e| e.to_string()))
        .collect();
    Ok(fields::marketo_names(&wanted, &known))
}

/// `activities/pagingtoken.json` from `since_ms`: the token to page activities or lead changes
/// from (none when Marketo sends none).
pub async fn paging_token(m: &Marketo, since_ms: i64) -> Result<Option<String>, CallError> {
    let since = days::iso(since_ms);
    let v = m
        .call(
            Method::Get,
            &format!(
                "/rest/v1/activities/pagingtoken.json?sinceDatetime={}",
                urlencode(&since)
            ),
            None,
            None,
        )
        .await?;
    Ok(v.get("nextPageToken")
        .and_then(Value::as_str)
        .map(str::to_string))
}

/// `leads.json?filterType=cookies|email`: the lead's id (none when unknown), its fields and
/// its company's.
pub async fn lookup(m: &Marketo, q: &LookupQuery) -> Result<LookupAnswer, ApiError> {
    if q.value.is_empty() {
        return Err(ApiError::field(
            "filterType",
            "cookies or email with a value",
        ));
    }
    let known = known_fields(m).await?;
    // `FirstName` in a rule reads Marketo's `firstName` (one rule: `marketo::fields`).
    let mut fields = fields::marketo_names(&q.fields, &known);
    // The account record is found by the lead's company name.
    if !q.company_fields.is_empty() && known.iter().any(|k| k == "company") {
        fields.push("company".into());
    }
    fields.sort();
    fields.dedup();
    if fields.is_empty() {
        fields.push("email".into());
    }
    m.stats.borrow_mut().lookups += 1;
    let path = format!(
        "/rest/v1/leads.json?filterType={}&filterValues={}&fields={}",
        q.by.filter_type(),
        urlencode(&q.value),
        urlencode(&fields.join(","))
    );
    let v = m
        .call(Method::Get, &path, None, None)
        .await
        .map_err(|e| ApiError::Upstream(e.text().to_string()))?;
    let Some(lead) = v
        .get("result")
        .and_then(Value::as_array)
        .and_then(|a| a.first())
    else {
        return Ok(LookupAnswer::default());
    };
    let mut f = lead.as_object().cloned().unwrap_or_default();
    let id = f.remove("id").and_then(|i| i.as_i64());
    let company = company_of(m, q, &f).await;
    let activity = match id {
        Some(id) if !q.activity.is_empty() => match last_activities(m, id, &q.activity).await {
            Ok(a) => Some(a),
            Err(e) => {
                worker::console_error!("activities lookup: {e}");
                None
            }
        },
        _ => None,
    };
    Ok(LookupAnswer {
        id,
        fields: f,
        company,
        activity,
    })
}

/// Marketo's activity types (`activities/types.json`): (name, id), read once per instance.
async fn activity_types(m: &Marketo) -> Result<Vec<(String, i64)>, ApiError> {
    if let Some(t) = m.activity_types.borrow().as_ref() {
        return Ok(t.clone());
    }
    let v = m
        .call(Method::Get, "/rest/v1/activities/types.json", None, None)
        .await
        .map_err(|e| ApiError::Upstream(e.text().to_string()))?;
    let types: Vec<(String, i64)> = v
        .get("result")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|t| Some((t.get("name")?.as_str()?.to_string(), t.get("id")?.as_i64()?)))
        .collect();
    *m.activity_types.borrow_mut() = Some(types.clone());
    Ok(types)
}

/// The last time (ms) of each `activity.<type>` in `wanted` the lead had within the longest
/// window a rule may ask (`MAX_ACTIVITY_DAYS`), from `activities.json` filtered by type and
/// lead (at most five pages). A type the lead never had is absent.
async fn last_activities(
    m: &Marketo,
    lead_id: i64,
    wanted: &[String],
) -> Result<Map<String, Value>, ApiError> {
    let up = |e: crate::marketo::protocol::CallError| ApiError::Upstream(e.text().to_string());
    let types = activity_types(m).await?;
    // (rule name, Marketo type id)
    let ids: Vec<(&str, i64)> = ACTIVITY_TYPES
        .iter()
        .filter(|(n, _)| wanted.iter().any(|w| w == n))
        .filter_map(|(n, marketo)| {
            types
                .iter()
                .find(|(t, _)| t == marketo)
                .map(|(_, id)| (*n, *id))
        })
        .collect();
    let mut out = Map::new();
    if ids.is_empty() {
        return Ok(out);
    }
    let mut token = paging_token(m, now() - i64::from(MAX_ACTIVITY_DAYS) * 86_400_000)
        .await
        .map_err(up)?
        .unwrap_or_default();
    let type_list: Vec<String> = ids.iter().map(|(_, id)| id.to_string()).collect();
    for _page in 0..5 {
        let path = format!(
            "/rest/v1/activities.json?nextPageToken={}&activityTypeIds={}&leadIds={lead_id}",
            urlencode(&token),
            urlencode(&type_list.join(","))
        );
        let v = m.call(Method::Get, &path, None, None).await.map_err(up)?;
        for a in v
            .get("result")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let type_id = a.get("activityTypeId").and_then(Value::as_i64);
            let at = a
                .get("activityDate")
                .and_then(Value::as_str)
                .and_then(bulk::parse_time);
            let name = ids.iter().find(|(_, id)| Some(*id) == type_id);
            if let (Some((name, _)), Some(at)) = (name, at) {
                let later = out
                    .get(*name)
                    .and_then(Value::as_i64)
                    .is_none_or(|prev| at > prev);
                if later {
                    out.insert((*name).to_string(), Value::from(at));
                }
            }
        }
        match v.get("nextPageToken").and_then(Value::as_str) {
            Some(t) => token = t.to_string(),
            None => break,
        }
        if v.get("moreResult").and_then(Value::as_bool) != Some(true) {
            break;
        }
    }
    Ok(out)
}

/// The company (account) record fields the `company.*` rule fields name, as
/// [`mapping::COMPANY_FIELDS`] spells them, with `company` (the key a record is found by).
/// Empty when no rule reads a company record field.
pub fn company_record_fields(rule_fields: &[String]) -> Vec<&'static str> {
    let mut wanted: Vec<&'static str> = rule_fields
        .iter()
        .filter_map(|f| fields::resolve(f, &mapping::COMPANY_FIELDS).name())
        .collect();
    wanted.sort_unstable();
    wanted.dedup();
    if !wanted.is_empty() && !wanted.contains(&"company") {
        wanted.push("company");
    }
    wanted
}

/// A company record as cached (Marketo's `seq` and `id` dropped).
fn company_record(c: &Map<String, Value>) -> Map<String, Value> {
    let mut c = c.clone();
    c.remove("seq");
    c.remove("id");
    c
}

/// The key a company name is matched by: trimmed, ASCII case ignored.
pub fn company_key(name: &str) -> String {
    name.trim().to_ascii_lowercase()
}

/// Company names per `companies.json` call: Marketo's batch limit.
const COMPANY_BATCH: usize = 300;
/// URI bytes per call, under Marketo's 8 KB (414 above).
const COMPANY_URI_BYTES: usize = 7_000;

/// The company records of `names` (`filterType=company`), at most 300 names and 7 KB of URI per
/// call, keyed by [`company_key`]; only an exact (case-insensitive) name match counts. Names with
/// a comma cannot be sent (Marketo splits `filterValues` at commas) and are left out. `calls`
/// counts the calls made.
pub async fn companies_by_name(
    m: &Marketo,
    names: &[String],
    wanted: &[&str],
    calls: &mut i64,
) -> Result<std::collections::HashMap<String, Map<String, Value>>, CallError> {
    let mut out = std::collections::HashMap::new();
    let fields = urlencode(&wanted.join(","));
    let base = format!("/rest/v1/companies.json?filterType=company&fields={fields}&filterValues=");
    let mut batches: Vec<Vec<&str>> = Vec::new();
    let mut len = base.len();
    for n in names.iter().map(|n| n.trim()) {
        if n.is_empty() || n.contains(',') {
            continue;
        }
        let add = urlencode(n).len() + 3;
        match batches.last_mut() {
            Some(b) if b.len() < COMPANY_BATCH && len + add <= COMPANY_URI_BYTES => {
                b.push(n);
                len += add;
            }
            _ => {
                batches.push(vec![n]);
                len = base.len() + add;
            }
        }
    }
    for b in batches {
        *calls += 1;
        m.stats.borrow_mut().company_lookups += 1;
        let path = format!("{base}{}", urlencode(&b.join(",")));
        let v = m.call(Method::Get, &path, None, None).await?;
        for c in v
            .get("result")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_object)
        {
            let key = c.get("company").and_then(Value::as_str).map(company_key);
            if let Some(k) = key.filter(|k| b.iter().any(|n| company_key(n) == *k)) {
                out.entry(k).or_insert_with(|| company_record(c));
            }
        }
    }
    Ok(out)
}

/// The company (account) record of a known lead, by its company name, with the company
/// fields the site's rules use (`companies.json`). Empty when none is asked for or found;
/// a failed company call leaves the lead's own fields to answer.
async fn company_of(m: &Marketo, q: &LookupQuery, lead: &Map<String, Value>) -> Map<String, Value> {
    let wanted = company_record_fields(&q.company_fields);
    let name = lead.get("company").and_then(Value::as_str).unwrap_or("");
    if wanted.is_empty() || name.trim().is_empty() {
        return Map::new();
    }
    let path = format!(
        "/rest/v1/companies.json?filterType=company&filterValues={}&fields={}",
        urlencode(name),
        urlencode(&wanted.join(","))
    );
    m.stats.borrow_mut().company_lookups += 1;
    match m.call(Method::Get, &path, None, None).await {
        // filterValues is a comma-separated list: a name with a comma may bring back other
        // accounts, so only an exact (case-insensitive) name match counts.
        Ok(v) => v
            .get("result")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_object)
            .find(|c| {
                c.get("company")
                    .and_then(Value::as_str)
                    .is_some_and(|n| company_key(n) == company_key(name))
            })
            .map(company_record)
            .unwrap_or_default(),
        Err(e) => {
            worker::console_error!("company lookup: {}", e.text());
            Map::new()
        }
    }
}
