//! Admin / setup API under `/admin`, protected by the bearer `ADMIN_TOKEN` (the console work
//! replaces this with real sessions): sites, publishing, reports, dead letters, Marketo setup,
//! outbox sweep, retention, and the test clock.

use super::db::{self, n, on, os, s};
use super::gate;
use super::http::{header, json_body, Reply};
use crate::error::ApiError;
use crate::{bundle, days, metrics, validate};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use worker::{D1Database, Env, Method, Request};

const MAX_ADMIN_BODY: usize = 512 * 1024;

fn authorised(req: &Request, env: &Env) -> bool {
    super::console::bearer_ok(req, env)
}

/// Routes `/admin/...`.
pub async fn route(
    req: &mut Request,
    env: &Env,
    method: Method,
    rest: &[&str],
) -> Result<Reply, ApiError> {
    if !authorised(req, env) {
        // Not the setup bearer token: an admin console session (CSRF-checked writes) or 401/403.
        super::console::require_admin(req, env, &method).await?;
    }
    let database = db::database(env)?;
    match (method, rest) {
        (Method::Put, ["sites", site]) => put_site(req, env, &database, site).await,
        (Method::Get, ["sites", site]) => get_site(&database, site).await,
        (Method::Post, ["sites", site, "dialogues"]) => {
            publish_new(req, env, &database, site).await
        }
        (Method::Get, ["sites", site, "dialogues"]) => list_dialogues(&database, site).await,
        (Method::Post, ["sites", site, "dialogues", id, "publish"]) => {
            republish(req, env, &database, site, id).await
        }
        (Method::Delete, ["sites", site, "dialogues", id]) => {
            unpublish(env, &database, site, id).await
        }
        (Method::Get, ["sites", site, "metrics"]) => site_metrics(req, &database, site).await,
        (Method::Get, ["sites", site, "stats"]) => site_stats(&database, site).await,
        (Method::Get, ["sites", site, "leads"]) => site_leads(req, &database, site).await,
        (Method::Get, ["dead-letters"]) => dead_letters(&database).await,
        (Method::Post, ["dead-letters", id, "retry"]) => {
            retry_dead_letter(req, env, &database, id).await
        }
        (Method::Post, ["marketo", "setup"]) => {
            gate::setup(env).await.map(|v| Reply::json(200, json!(v)))
        }
        (Method::Post, ["marketo", "sync"]) => {
            gate::sync(env).await.map(|v| Reply::json(200, json!(v)))
        }
        (Method::Get, ["marketo", "gate"]) => {
            gate::stats(env).await.map(|v| Reply::json(200, json!(v)))
        }
        (Method::Post, ["outbox", "sweep"]) => sweep(env, &database).await,
        (Method::Post, ["retention", "run"]) => {
            run_retention(env).await.map(|v| Reply::json(200, v))
        }
        (Method::Post, ["clock"]) => set_clock(req, env, &database).await,
        _ => Err(ApiError::NotFound("admin path".into())),
    }
}

#[derive(Deserialize)]
struct EtagInputs {
    config: String,
    trait_fields: String,
}

#[derive(Deserialize)]
struct PubRow {
    dialogue: String,
    hash: String,
    priority: i64,
}

#[derive(Deserialize)]
struct JsonRow {
    json: String,
}

/// Recomputes a site's trait fields and bundle ETag after any change.
async fn refresh_site(database: &D1Database, site: &str) -> Result<String, ApiError> {
    let published: Vec<PubRow> = db::rows(
        database,
        "SELECT dialogue, hash, priority FROM published WHERE site = ?",
        &[s(site)],
    )
    .await?;
    let versions: Vec<JsonRow> = db::rows(database, "SELECT v.json FROM published p JOIN dialogue_versions v ON v.site = p.site AND v.hash = p.hash WHERE p.site = ?", &[s(site)]).await?;
    let mut traits = BTreeSet::new();
    for v in versions {
        if let Ok(value) = serde_json::from_str::<Value>(&v.json) {
            bundle::collect_trait_fields(&value, &mut traits);
        }
    }
    let trait_fields = serde_json::to_string(&traits)?;
    let inputs: EtagInputs = db::first(
        database,
        "SELECT config, ? AS trait_fields FROM sites WHERE id = ?",
        &[s(&trait_fields), s(site)],
    )
    .await?
    .ok_or_else(|| ApiError::NotFound("site".into()))?;
    let list: Vec<(String, String, i32)> = published
        .into_iter()
        .map(|p| (p.dialogue, p.hash, p.priority as i32))
        .collect();
    let etag = bundle::etag(&inputs.config, &inputs.trait_fields, &list);
    db::exec(
        database,
        "UPDATE sites SET trait_fields = ?, bundle_etag = ? WHERE id = ?",
        &[s(&trait_fields), s(&etag), s(site)],
    )
    .await?;
    db::forget_site(site);
    Ok(etag)
}

async fn put_site(
    req: &mut Request,
    env: &Env,
    database: &D1Database,
    site: &str,
) -> Result<Reply, ApiError> {
    if !validate::valid_id(site) {
        return Err(ApiError::field(
            "site",
            "must be 1-64 letters, digits, '-' or '_'",
        ));
    }
    let v = json_body(req, MAX_ADMIN_BODY).await?;
    let o = v
        .as_object()
        .ok_or_else(|| ApiError::field("$", "must be an object"))?;
    if let Some(k) = o.keys().find(|k| {
        ![
            "name",
            "allowed_origins",
            "config",
            "lead_fields",
            "marketo",
            "limits",
        ]
        .contains(&k.as_str())
    }) {
        return Err(ApiError::field(
            k.chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect::<String>(),
            "unknown field",
        ));
    }
    let name = o.get("name").and_then(Value::as_str).unwrap_or(site);
    let mut origins = Vec::new();
    for (i, x) in o
        .get("allowed_origins")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        match x.as_str() {
            Some(s) if validate::valid_origin(s) => origins.push(s.to_string()),
            _ => {
                return Err(ApiError::field(
                    format!("allowed_origins[{i}]"),
                    "must be an origin like https://www.example.com",
                ))
            }
        }
    }
    let config = o.get("config").cloned().unwrap_or_else(|| json!({}));
    if !config.is_object() {
        return Err(ApiError::field("config", "must be an object"));
    }
    let mut lead_fields = Vec::new();
    for (i, x) in o
        .get("lead_fields")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        match x.as_str() {
            Some(s) if validate::valid_field_name(s) => lead_fields.push(s.to_string()),
            _ => {
                return Err(ApiError::field(
                    format!("lead_fields[{i}]"),
                    "must be a Marketo field name",
                ))
            }
        }
    }
    let program_id = o
        .get("marketo")
        .and_then(|m| m.get("program_id"))
        .and_then(Value::as_i64);
    let program_status = o
        .get("marketo")
        .and_then(|m| m.get("program_status"))
        .and_then(Value::as_str);
    let site_rate = o
        .get("limits")
        .and_then(|m| m.get("site_per_minute"))
        .and_then(Value::as_i64);
    let ip_rate = o
        .get("limits")
        .and_then(|m| m.get("ip_per_minute"))
        .and_then(Value::as_i64);
    let now = db::now(env, database).await?;
    db::exec(
        database,
        "INSERT INTO sites (id, name, allowed_origins, config, lead_fields, program_id, program_status, rate_site_per_minute, rate_ip_per_minute, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
         ON CONFLICT(id) DO UPDATE SET name = excluded.name, allowed_origins = excluded.allowed_origins, config = excluded.config, lead_fields = excluded.lead_fields, program_id = excluded.program_id, program_status = excluded.program_status, rate_site_per_minute = excluded.rate_site_per_minute, rate_ip_per_minute = excluded.rate_ip_per_minute, updated_at = excluded.updated_at",
        &[s(site), s(name), s(&serde_json::to_string(&origins)?), s(&config.to_string()), s(&serde_json::to_string(&lead_fields)?), on(program_id), os(program_status), on(site_rate), on(ip_rate), n(now), n(now)],
    )
    .await?;
    let etag = refresh_site(database, site).await?;
    Ok(Reply::json(200, json!({"site": site, "etag": etag})))
}

#[derive(Deserialize)]
struct SiteRow {
    id: String,
    name: String,
    allowed_origins: String,
    config: String,
    lead_fields: String,
    trait_fields: String,
    program_id: Option<i64>,
    program_status: Option<String>,
    bundle_etag: String,
}

async fn get_site(database: &D1Database, site: &str) -> Result<Reply, ApiError> {
    let r: SiteRow = db::first(database, "SELECT id, name, allowed_origins, config, lead_fields, trait_fields, program_id, program_status, bundle_etag FROM sites WHERE id = ?", &[s(site)])
        .await?
        .ok_or_else(|| ApiError::NotFound("site".into()))?;
    let parse = |t: &str| serde_json::from_str::<Value>(t).unwrap_or(Value::Null);
    Ok(Reply::json(
        200,
        json!({"id": r.id, "name": r.name, "allowed_origins": parse(&r.allowed_origins), "config": parse(&r.config), "lead_fields": parse(&r.lead_fields),
               "trait_fields": parse(&r.trait_fields), "marketo": {"program_id": r.program_id, "program_status": r.program_status}, "etag": r.bundle_etag}),
    ))
}

#[derive(Deserialize)]
struct LeadFieldsRow {
    lead_fields: String,
}

/// `POST /admin/sites/{site}/dialogues[?publish=false]`: compile, store the version, publish.
async fn publish_new(
    req: &mut Request,
    env: &Env,
    database: &D1Database,
    site: &str,
) -> Result<Reply, ApiError> {
    let row: LeadFieldsRow = db::first(
        database,
        "SELECT lead_fields FROM sites WHERE id = ?",
        &[s(site)],
    )
    .await?
    .ok_or_else(|| ApiError::NotFound("site".into()))?;
    let lead_fields: Vec<String> = serde_json::from_str(&row.lead_fields).unwrap_or_default();
    let v = json_body(req, MAX_ADMIN_BODY).await?;
    let p = bundle::publishable(
        &v.to_string(),
        if lead_fields.is_empty() {
            None
        } else {
            Some(&lead_fields)
        },
    )?;
    let now = db::now(env, database).await?;
    let publish = !req
        .url()
        .map(|u| u.query_pairs().any(|(k, v)| k == "publish" && v == "false"))
        .unwrap_or(false);
    let mut st = vec![db::stmt(database, "INSERT OR IGNORE INTO dialogue_versions (site, hash, dialogue, json, created_at) VALUES (?, ?, ?, ?, ?)", &[s(site), s(&p.hash), s(&p.id), s(&p.json), n(now)])?];
    if publish {
        st.push(db::stmt(
            database,
            "INSERT INTO published (site, dialogue, hash, priority, published_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT(site, dialogue) DO UPDATE SET hash = excluded.hash, priority = excluded.priority, published_at = excluded.published_at",
            &[s(site), s(&p.id), s(&p.hash), n(p.priority as i64), n(now)],
        )?);
    }
    db::batch(database, st).await?;
    let etag = refresh_site(database, site).await?;
    Ok(Reply::json(
        201,
        json!({"id": p.id, "hash": p.hash, "published": publish, "warnings": p.warnings, "etag": etag}),
    ))
}

async fn republish(
    req: &mut Request,
    env: &Env,
    database: &D1Database,
    site: &str,
    id: &str,
) -> Result<Reply, ApiError> {
    let v = json_body(req, MAX_ADMIN_BODY).await?;
    let hash = v
        .get("hash")
        .and_then(Value::as_str)
        .filter(|h| validate::valid_hash(h))
        .ok_or_else(|| ApiError::field("hash", "is required"))?;
    let row: JsonRow = db::first(
        database,
        "SELECT json FROM dialogue_versions WHERE site = ? AND hash = ? AND dialogue = ?",
        &[s(site), s(hash), s(id)],
    )
    .await?
    .ok_or_else(|| ApiError::NotFound("version".into()))?;
    let p = bundle::publishable(&row.json, None)?;
    let now = db::now(env, database).await?;
    db::exec(
        database,
        "INSERT INTO published (site, dialogue, hash, priority, published_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT(site, dialogue) DO UPDATE SET hash = excluded.hash, priority = excluded.priority, published_at = excluded.published_at",
        &[s(site), s(id), s(hash), n(p.priority as i64), n(now)],
    )
    .await?;
    let etag = refresh_site(database, site).await?;
    Ok(Reply::json(
        200,
        json!({"id": id, "hash": hash, "etag": etag}),
    ))
}

async fn unpublish(
    _env: &Env,
    database: &D1Database,
    site: &str,
    id: &str,
) -> Result<Reply, ApiError> {
    db::exec(
        database,
        "DELETE FROM published WHERE site = ? AND dialogue = ?",
        &[s(site), s(id)],
    )
    .await?;
    let etag = refresh_site(database, site).await?;
    Ok(Reply::json(
        200,
        json!({"id": id, "published": false, "etag": etag}),
    ))
}

#[derive(Deserialize, serde::Serialize)]
struct VersionRow {
    dialogue: String,
    hash: String,
    created_at: i64,
    live: i64,
}

async fn list_dialogues(database: &D1Database, site: &str) -> Result<Reply, ApiError> {
    let rows: Vec<VersionRow> = db::rows(
        database,
        "SELECT v.dialogue, v.hash, v.created_at, CASE WHEN p.hash IS NULL THEN 0 ELSE 1 END AS live FROM dialogue_versions v LEFT JOIN published p ON p.site = v.site AND p.dialogue = v.dialogue AND p.hash = v.hash WHERE v.site = ? ORDER BY v.dialogue, v.created_at",
        &[s(site)],
    )
    .await?;
    Ok(Reply::json(200, json!({"versions": rows})))
}

#[derive(Deserialize)]
struct MetricRow {
    dialogue: String,
    day: i64,
    triggered: i64,
    engaged: i64,
    completed: i64,
    captured: i64,
    meetings: i64,
    goals: i64,
}

/// `GET /admin/sites/{site}/metrics?from=YYYY-MM-DD&to=YYYY-MM-DD`.
async fn site_metrics(req: &Request, database: &D1Database, site: &str) -> Result<Reply, ApiError> {
    let url = req.url()?;
    let q = |k: &str| {
        url.query_pairs()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.to_string())
    };
    let from = match q("from") {
        Some(d) => {
            days::parse_day(&d).ok_or_else(|| ApiError::field("from", "must be YYYY-MM-DD"))?
        }
        None => 0,
    };
    let to = match q("to") {
        Some(d) => {
            days::parse_day(&d).ok_or_else(|| ApiError::field("to", "must be YYYY-MM-DD"))?
        }
        None => i64::from(i32::MAX),
    };
    let rows: Vec<MetricRow> = db::rows(
        database,
        "SELECT dialogue, day, triggered, engaged, completed, captured, meetings, goals FROM metrics_daily WHERE site = ? AND day BETWEEN ? AND ? ORDER BY day, dialogue",
        &[s(site), n(from), n(to)],
    )
    .await?;
    let out: Vec<Value> = rows
        .into_iter()
        .map(|r| {
            let (engagement, conversion) = metrics::rates(r.triggered, r.engaged, r.captured);
            json!({"dialogue": r.dialogue, "day": days::day_string(r.day), "triggered": r.triggered, "engaged": r.engaged, "completed": r.completed,
                   "captured": r.captured, "meetings": r.meetings, "goals": r.goals, "engagement_rate": engagement, "conversion_rate": conversion})
        })
        .collect();
    Ok(Reply::json(200, json!({"site": site, "days": out})))
}

#[derive(Deserialize)]
struct CountRow {
    k: String,
    c: i64,
}

async fn site_stats(database: &D1Database, site: &str) -> Result<Reply, ApiError> {
    // D1 limits compound SELECTs, so one query per table.
    const QUERIES: [&str; 6] = [
        "SELECT 'events' AS k, COUNT(*) AS c FROM events WHERE site = ?",
        "SELECT 'leads_' || status AS k, COUNT(*) AS c FROM leads WHERE site = ? GROUP BY status",
        "SELECT 'membership_' || member_status AS k, COUNT(*) AS c FROM leads WHERE site = ? GROUP BY member_status",
        "SELECT 'activities_' || status AS k, COUNT(*) AS c FROM activities WHERE site = ? GROUP BY status",
        "SELECT 'dead_letters' AS k, COUNT(*) AS c FROM dead_letters WHERE site = ?",
        "SELECT 'metric_rows' AS k, COUNT(*) AS c FROM metrics_daily WHERE site = ?",
    ];
    let mut out = serde_json::Map::new();
    for q in QUERIES {
        for r in db::rows::<CountRow>(database, q, &[s(site)]).await? {
            out.insert(r.k, json!(r.c));
        }
    }
    Ok(Reply::json(200, Value::Object(out)))
}

#[derive(Deserialize, serde::Serialize)]
struct LeadRow {
    id: String,
    email: String,
    status: String,
    attempts: i64,
    marketo_id: Option<i64>,
    member_status: String,
    last_error: Option<String>,
    record: String,
}

async fn site_leads(req: &Request, database: &D1Database, site: &str) -> Result<Reply, ApiError> {
    let url = req.url()?;
    let status = url
        .query_pairs()
        .find(|(k, _)| k == "status")
        .map(|(_, v)| v.to_string());
    let rows: Vec<LeadRow> = db::rows(
        database,
        "SELECT id, email, status, attempts, marketo_id, member_status, last_error, record FROM leads WHERE site = ? AND (? IS NULL OR status = ?) ORDER BY created_at LIMIT 1000",
        &[s(site), os(status.as_deref()), os(status.as_deref())],
    )
    .await?;
    Ok(Reply::json(200, json!({"leads": rows})))
}

#[derive(Deserialize, serde::Serialize)]
struct DeadRow {
    id: i64,
    kind: String,
    #[serde(rename = "ref")]
    reference: String,
    site: String,
    code: String,
    reason: String,
    created_at: i64,
    retried_at: Option<i64>,
}

async fn dead_letters(database: &D1Database) -> Result<Reply, ApiError> {
    let rows: Vec<DeadRow> = db::rows(database, "SELECT id, kind, ref, site, code, reason, created_at, retried_at FROM dead_letters ORDER BY id DESC LIMIT 500", &[]).await?;
    Ok(Reply::json(200, json!({"dead_letters": rows})))
}

/// `POST /admin/dead-letters/{id}/retry` with an optional `{"record": {..}}` that replaces the
/// lead's fields (to fix the value Marketo rejected); the row goes back to the outbox.
async fn retry_dead_letter(
    req: &mut Request,
    env: &Env,
    database: &D1Database,
    id: &str,
) -> Result<Reply, ApiError> {
    let id: i64 = id
        .parse()
        .map_err(|_| ApiError::NotFound("dead letter".into()))?;
    let dl: DeadRow = db::first(database, "SELECT id, kind, ref, site, code, reason, created_at, retried_at FROM dead_letters WHERE id = ?", &[n(id)]).await?.ok_or_else(|| ApiError::NotFound("dead letter".into()))?;
    let body = if header(req, "Content-Type").is_some() {
        json_body(req, MAX_ADMIN_BODY).await?
    } else {
        Value::Null
    };
    let now = db::now(env, database).await?;
    let mut st = Vec::new();
    match dl.kind.as_str() {
        "lead" => {
            if let Some(rec) = body.get("record") {
                let o = rec.as_object().ok_or_else(|| ApiError::field("record", "must be an object"))?;
                if !o.get("email").and_then(Value::as_str).map(dynchat_engine::fields::valid_email).unwrap_or(false) {
                    return Err(ApiError::field("record.email", "a valid email is required"));
                }
                st.push(db::stmt(database, "UPDATE leads SET record = ? WHERE id = ?", &[s(&rec.to_string()), s(&dl.reference)])?);
            }
            st.push(db::stmt(database, "UPDATE leads SET status = 'queued', attempts = 0, next_attempt_at = 0, last_error = NULL WHERE id = ? AND status = 'dead'", &[s(&dl.reference)])?);
        }
        "membership" => st.push(db::stmt(database, "UPDATE leads SET member_status = 'pending', next_attempt_at = 0 WHERE id = ?", &[s(&dl.reference)])?),
        "association" => st.push(db::stmt(database, "UPDATE leads SET assoc_status = 'pending', assoc_next_at = 0, assoc_attempts = 0 WHERE id = ? AND assoc_status = 'failed'", &[s(&dl.reference)])?),
        _ => st.push(db::stmt(database, "UPDATE activities SET status = 'queued', attempts = 0, next_attempt_at = 0 WHERE CAST(id AS TEXT) = ? AND status = 'dead'", &[s(&dl.reference)])?),
    }
    st.push(db::stmt(
        database,
        "UPDATE dead_letters SET retried_at = ? WHERE id = ?",
        &[n(now), n(id)],
    )?);
    db::batch(database, st).await?;
    gate::kick(env).await?;
    Ok(Reply::json(202, json!({"retried": id})))
}

#[derive(Deserialize)]
struct DueRow {
    due: i64,
    leased: i64,
}

/// The sweep: counts what is due or whose lease ran out, and kicks the gate.
async fn sweep(env: &Env, database: &D1Database) -> Result<Reply, ApiError> {
    let now = db::real_now();
    let r: Option<DueRow> = db::first(
        database,
        "SELECT SUM(CASE WHEN next_attempt_at <= ?1 THEN 1 ELSE 0 END) AS due, SUM(CASE WHEN next_attempt_at > ?1 THEN 1 ELSE 0 END) AS leased FROM leads WHERE status = 'queued'",
        &[n(now)],
    )
    .await
    .unwrap_or(None);
    gate::kick(env).await?;
    let (due, leased) = r.map(|r| (r.due, r.leased)).unwrap_or((0, 0));
    Ok(Reply::json(200, json!({"due": due, "waiting": leased})))
}

/// Deletes raw events and rollups older than `RETENTION_DAYS` (90) by the worker's clock.
pub async fn run_retention(env: &Env) -> Result<Value, ApiError> {
    let database = db::database(env)?;
    let now = db::now(env, &database).await?;
    let keep = super::config::number(env, "RETENTION_DAYS", 90).max(1);
    let cutoff = days::retention_cutoff_day(now, keep);
    let events = db::exec(&database, "DELETE FROM events WHERE day < ?", &[n(cutoff)]).await?;
    let rollups = db::exec(
        &database,
        "DELETE FROM metrics_daily WHERE day < ?",
        &[n(cutoff)],
    )
    .await?;
    Ok(
        json!({"cutoff_day": days::day_string(cutoff), "events_deleted": events, "rollups_deleted": rollups}),
    )
}

/// `POST /admin/clock {"now_ms": n | null}`: drives the worker's clock (tests only).
async fn set_clock(req: &mut Request, env: &Env, database: &D1Database) -> Result<Reply, ApiError> {
    if super::config::string(env, "ALLOW_CLOCK_OVERRIDE", "0") != "1" {
        return Err(ApiError::NotFound(
            "clock override (ALLOW_CLOCK_OVERRIDE is off)".into(),
        ));
    }
    let v = json_body(req, 1024).await?;
    match v.get("now_ms") {
        Some(Value::Null) | None => {
            db::exec(
                database,
                "DELETE FROM settings WHERE key = 'clock_override'",
                &[],
            )
            .await?;
        }
        Some(t) => {
            let t = t
                .as_i64()
                .filter(|t| *t > 0)
                .ok_or_else(|| ApiError::field("now_ms", "must be ms since the epoch or null"))?;
            db::set_setting(database, "clock_override", &t.to_string()).await?;
        }
    }
    Ok(Reply::json(
        200,
        json!({"now_ms": db::now(env, database).await?}),
    ))
}
