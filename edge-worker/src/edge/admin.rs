//! Admin / setup API under `/admin`, protected by the bearer `ADMIN_TOKEN` (the console work
//! replaces this with real sessions): sites, publishing, reports, dead letters, Marketo setup,
//! outbox sweep, retention, and the test clock.

use super::db;
use super::gate;
use super::reply::{header, json_body, Reply};
use super::store::{dead_letters, dialogues, reports, sites};
use crate::error::ApiError;
use crate::{bundle, days, metrics, site_settings, validate};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use worker::{D1Database, Env, Method, Request};

const MAX_ADMIN_BODY: usize = 512 * 1024;

/// Routes `/admin/...` for an admin the router has already identified.
pub async fn route(
    req: &mut Request,
    env: &Env,
    database: &D1Database,
    method: Method,
    rest: &[&str],
) -> Result<Reply, ApiError> {
    match (method, rest) {
        (Method::Put, ["sites", site]) => put_site(req, env, database, site).await,
        (Method::Get, ["sites", site]) => get_site(database, site).await,
        (Method::Post, ["sites", site, "dialogues"]) => publish_new(req, env, database, site).await,
        (Method::Get, ["sites", site, "dialogues"]) => list_dialogues(database, site).await,
        (Method::Post, ["sites", site, "dialogues", id, "publish"]) => {
            republish(req, env, database, site, id).await
        }
        (Method::Delete, ["sites", site, "dialogues", id]) => {
            unpublish(env, database, site, id).await
        }
        (Method::Get, ["sites", site, "metrics"]) => site_metrics(req, database, site).await,
        (Method::Get, ["sites", site, "stats"]) => site_stats(database, site).await,
        (Method::Get, ["sites", site, "leads"]) => site_leads(req, database, site).await,
        (Method::Get, ["sites", site, "dead-letters"]) => dead_letters(database, site).await,
        (Method::Post, ["sites", site, "dead-letters", id, "retry"]) => {
            retry_dead_letter(req, env, database, site, id).await
        }
        (Method::Post, ["marketo", "setup"]) => {
            gate::setup(env).await.map(|v| Reply::json(200, json!(v)))
        }
        (Method::Post, ["marketo", "sync"]) => {
            gate::sync(env).await.map(|v| Reply::json(200, json!(v)))
        }
        (Method::Post, ["marketo", "initial-sync"]) => super::sync_admin::start(req, env).await,
        (Method::Get, ["marketo", "initial-sync"]) => super::sync_admin::status(env).await,
        (Method::Get, ["marketo", "gate"]) => {
            gate::stats(env).await.map(|v| Reply::json(200, json!(v)))
        }
        (Method::Post, ["outbox", "sweep"]) => sweep(env, database).await,
        (Method::Post, ["retention", "run"]) => {
            run_retention(env).await.map(|v| Reply::json(200, v))
        }
        (Method::Post, ["clock"]) => set_clock(req, env, database).await,
        _ => Err(ApiError::NotFound("admin path".into())),
    }
}

/// Recomputes a site's trait fields and bundle ETag after any change.
pub(super) async fn refresh_site(database: &D1Database, site: &str) -> Result<String, ApiError> {
    let published = dialogues::published(database, site).await?;
    let mut traits = BTreeSet::new();
    for p in &published {
        if let Ok(value) = serde_json::from_str::<Value>(&p.json) {
            bundle::collect_trait_fields(&value, &mut traits);
        }
    }
    let trait_fields = serde_json::to_string(&traits)?;
    let config = sites::config(database, site)
        .await?
        .ok_or_else(|| ApiError::NotFound("site".into()))?;
    let list: Vec<(String, String, i32)> = published
        .into_iter()
        .map(|p| (p.dialogue, p.hash, p.priority as i32))
        .collect();
    let etag = bundle::etag(&config, &trait_fields, &list);
    sites::set_bundle_identity(database, site, &trait_fields, &etag).await?;
    super::site::forget_site(site);
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
    let input = site_settings::parse(site, &v)?;
    let now = db::now(env, database).await?;
    save(database, site, &input, now, Write::Replace).await?;
    let etag = refresh_site(database, site).await?;
    Ok(Reply::json(200, json!({"site": site, "etag": etag})))
}

/// How [`save`] writes a site.
pub enum Write {
    /// Only a new id (a taken one is left as it is).
    Create,
    /// Creates the site or replaces its settings.
    Replace,
}

/// Stores a site's parsed settings under `id`; false when [`Write::Create`] finds it taken.
pub async fn save(
    database: &D1Database,
    id: &str,
    input: &site_settings::SiteInput,
    now: i64,
    how: Write,
) -> Result<bool, ApiError> {
    let origins = serde_json::to_string(&input.allowed_origins)?;
    let config = input.config.to_string();
    let lead_fields = serde_json::to_string(&input.lead_fields)?;
    let row = sites::Upsert {
        id,
        name: &input.name,
        allowed_origins: &origins,
        config: &config,
        lead_fields: &lead_fields,
        program_id: input.program_id,
        program_status: input.program_status.as_deref(),
        rate_site_per_minute: input.site_per_minute,
        rate_ip_per_minute: input.ip_per_minute,
        now,
    };
    match how {
        Write::Create => sites::insert(database, &row).await,
        Write::Replace => sites::upsert(database, &row).await.map(|()| true),
    }
}

async fn get_site(database: &D1Database, site: &str) -> Result<Reply, ApiError> {
    let r = sites::admin(database, site)
        .await?
        .ok_or_else(|| ApiError::NotFound("site".into()))?;
    let parse = |t: &str| serde_json::from_str::<Value>(t).unwrap_or(Value::Null);
    Ok(Reply::json(
        200,
        json!({"id": r.id, "name": r.name, "allowed_origins": parse(&r.allowed_origins), "config": parse(&r.config), "lead_fields": parse(&r.lead_fields),
               "trait_fields": parse(&r.trait_fields), "marketo": {"program_id": r.program_id, "program_status": r.program_status}, "etag": r.bundle_etag}),
    ))
}

/// Every queue a dialogue's routing rules name must be a queue of the site (a 400 naming the
/// rule's path otherwise): the engine's compile cannot know the queues.
async fn known_rule_queues(database: &D1Database, site: &str, json: &str) -> Result<(), ApiError> {
    let model: dynchat_engine::model::Dialogue = serde_json::from_str(json)?;
    let named = crate::route_rules::rule_queues(&model);
    if named.is_empty() {
        return Ok(());
    }
    let queues: BTreeSet<String> = super::store::queues::of_site(database, site)
        .await?
        .into_iter()
        .map(|q| q.id)
        .collect();
    match named.into_iter().find(|(_, q)| !queues.contains(q)) {
        Some((path, q)) => Err(ApiError::field(
            path,
            format!("queue `{q}` is not a queue of this site"),
        )),
        None => Ok(()),
    }
}

/// The `lead.*` / `company.*` fields a dialogue reads, checked against the connected Marketo
/// instance's describe (`marketo::fields::check_uses`): an unknown or ambiguous name is a 400
/// naming the rule's JSON path and the field. Without a Marketo connection nothing is checked;
/// when the describe cannot be read, a warning says the names were not checked.
async fn known_marketo_fields(env: &Env, json: &str) -> Result<Option<String>, ApiError> {
    let uses = bundle::field_uses(&serde_json::from_str(json)?);
    if !uses.iter().any(|(_, f)| !f.starts_with("activity.")) {
        return Ok(None);
    }
    let d = match gate::describe(env).await {
        Ok(d) if d.connected => d,
        Ok(_) => return Ok(None),
        Err(e) => {
            return Ok(Some(format!(
                "field names not checked against Marketo (describe failed: {e})"
            )))
        }
    };
    let bad = crate::marketo::fields::check_uses(&uses, &d.fields);
    match bad.first() {
        None => Ok(None),
        Some(first) => Err(ApiError::field(
            format!("dialogue{}", first.path.trim_start_matches('$')),
            bad.iter()
                .map(|u| format!("{}: {}", u.path, u.message))
                .collect::<Vec<_>>()
                .join("; "),
        )),
    }
}

/// `POST /admin/sites/{site}/dialogues[?publish=false]`: compile, store the version, publish.
async fn publish_new(
    req: &mut Request,
    env: &Env,
    database: &D1Database,
    site: &str,
) -> Result<Reply, ApiError> {
    let lead_fields = sites::lead_fields(database, site)
        .await?
        .ok_or_else(|| ApiError::NotFound("site".into()))?;
    let lead_fields: Vec<String> = serde_json::from_str(&lead_fields).unwrap_or_default();
    let v = json_body(req, MAX_ADMIN_BODY).await?;
    let p = bundle::publishable(
        &v.to_string(),
        if lead_fields.is_empty() {
            None
        } else {
            Some(&lead_fields)
        },
    )?;
    known_rule_queues(database, site, &p.json).await?;
    let mut warnings = p.warnings.clone();
    warnings.extend(known_marketo_fields(env, &p.json).await?);
    let now = db::now(env, database).await?;
    let publish = !req
        .url()
        .map(|u| u.query_pairs().any(|(k, v)| k == "publish" && v == "false"))
        .unwrap_or(false);
    let version = dialogues::NewVersion {
        dialogue: &p.id,
        hash: &p.hash,
        json: &p.json,
        variants: &p.variants,
    };
    dialogues::store_version(
        database,
        site,
        &version,
        publish.then_some(p.priority as i64),
        now,
    )
    .await?;
    let etag = refresh_site(database, site).await?;
    Ok(Reply::json(
        201,
        json!({"id": p.id, "hash": p.hash, "published": publish, "warnings": warnings, "etag": etag}),
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
    let json = dialogues::version_of(database, site, id, hash)
        .await?
        .ok_or_else(|| ApiError::NotFound("version".into()))?;
    let p = bundle::publishable(&json, None)?;
    known_rule_queues(database, site, &p.json).await?;
    known_marketo_fields(env, &p.json).await?;
    let now = db::now(env, database).await?;
    dialogues::publish(database, site, id, hash, p.priority as i64, now).await?;
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
    dialogues::unpublish(database, site, id).await?;
    let etag = refresh_site(database, site).await?;
    Ok(Reply::json(
        200,
        json!({"id": id, "published": false, "etag": etag}),
    ))
}

async fn list_dialogues(database: &D1Database, site: &str) -> Result<Reply, ApiError> {
    let rows = dialogues::list(database, site).await?;
    Ok(Reply::json(200, json!({"versions": rows})))
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
    let rows = reports::metrics(database, site, from, to).await?;
    let facts = reports::funnel_facts(database, site, from, to).await?;
    Ok(Reply::json(200, metrics_json(site, rows, facts)))
}

/// The metrics answer: each dialogue-day's counters with its funnel over conversations, the
/// funnel of each dialogue and of the whole range. Rates come only from `metrics::Funnel`.
fn metrics_json(site: &str, rows: Vec<reports::MetricRow>, facts: Vec<reports::FactRow>) -> Value {
    let mut by_day: BTreeMap<(i64, String), (Option<reports::MetricRow>, metrics::Funnel)> =
        BTreeMap::new();
    for r in rows {
        let key = (r.day, r.dialogue.clone());
        by_day.entry(key).or_default().0 = Some(r);
    }
    for f in facts {
        by_day
            .entry((f.day, f.dialogue))
            .or_default()
            .1
            .add(metrics::Facts {
                triggered: f.triggered != 0,
                engaged: f.engaged != 0,
                goal: f.goal != 0,
                count: f.count,
                leads: f.leads,
            });
    }
    let funnel_json = |f: &metrics::Funnel| {
        let mut v = json!(f);
        v["engagement_rate"] = json!(f.engagement_rate());
        v["conversion_rate"] = json!(f.conversion_rate());
        v
    };
    let mut total = metrics::Funnel::default();
    let mut per_dialogue: BTreeMap<&str, metrics::Funnel> = BTreeMap::new();
    let mut out = Vec::with_capacity(by_day.len());
    for ((day, dialogue), (r, f)) in &by_day {
        total.merge(f);
        per_dialogue.entry(dialogue.as_str()).or_default().merge(f);
        let mut v = funnel_json(f);
        v["dialogue"] = json!(dialogue);
        v["day"] = json!(days::day_string(*day));
        for (k, n) in [
            ("triggered", r.as_ref().map(|r| r.triggered)),
            ("engaged", r.as_ref().map(|r| r.engaged)),
            ("completed", r.as_ref().map(|r| r.completed)),
            ("captured", r.as_ref().map(|r| r.captured)),
            ("meetings", r.as_ref().map(|r| r.meetings)),
            ("goals", r.as_ref().map(|r| r.goals)),
        ] {
            v[k] = json!(n.unwrap_or(0));
        }
        out.push(v);
    }
    let dialogues: Vec<Value> = per_dialogue
        .iter()
        .map(|(d, f)| {
            let mut v = funnel_json(f);
            v["dialogue"] = json!(d);
            v
        })
        .collect();
    json!({"site": site, "days": out, "dialogues": dialogues, "total": funnel_json(&total)})
}

async fn site_stats(database: &D1Database, site: &str) -> Result<Reply, ApiError> {
    Ok(Reply::json(
        200,
        Value::Object(reports::stats(database, site).await?),
    ))
}

async fn site_leads(req: &Request, database: &D1Database, site: &str) -> Result<Reply, ApiError> {
    let url = req.url()?;
    let status = url
        .query_pairs()
        .find(|(k, _)| k == "status")
        .map(|(_, v)| v.to_string());
    let rows = reports::leads(database, site, status.as_deref()).await?;
    Ok(Reply::json(200, json!({"leads": rows})))
}

async fn dead_letters(database: &D1Database, site: &str) -> Result<Reply, ApiError> {
    let rows = dead_letters::list(database, site).await?;
    Ok(Reply::json(200, json!({"dead_letters": rows})))
}

/// `POST /admin/sites/{site}/dead-letters/{id}/retry` with an optional `{"record": {..}}` that
/// replaces the lead's fields (to fix the value Marketo rejected); the row goes back to the
/// outbox. Another site's dead letter is 404, as if it did not exist.
async fn retry_dead_letter(
    req: &mut Request,
    env: &Env,
    database: &D1Database,
    site: &str,
    id: &str,
) -> Result<Reply, ApiError> {
    let id: i64 = id
        .parse()
        .map_err(|_| ApiError::NotFound("dead letter".into()))?;
    let dl = dead_letters::get(database, site, id)
        .await?
        .ok_or_else(|| ApiError::NotFound("dead letter".into()))?;
    let body = if header(req, "Content-Type").is_some() {
        json_body(req, MAX_ADMIN_BODY).await?
    } else {
        Value::Null
    };
    let now = db::now(env, database).await?;
    let record = match body.get("record") {
        Some(rec) if dl.kind == "lead" => {
            let o = rec
                .as_object()
                .ok_or_else(|| ApiError::field("record", "must be an object"))?;
            if !o
                .get("email")
                .and_then(Value::as_str)
                .map(dynchat_engine::fields::valid_email)
                .unwrap_or(false)
            {
                return Err(ApiError::field("record.email", "a valid email is required"));
            }
            Some(rec.to_string())
        }
        _ => None,
    };
    dead_letters::retry(database, &dl, record.as_deref(), now).await?;
    gate::kick(env).await?;
    Ok(Reply::json(202, json!({"retried": id})))
}

/// The sweep: counts what is due or whose lease ran out, and kicks the gate.
async fn sweep(env: &Env, database: &D1Database) -> Result<Reply, ApiError> {
    let now = db::real_now();
    let counts = dead_letters::queued_counts(database, now).await;
    gate::kick(env).await?;
    let (due, leased) = counts.unwrap_or((0, 0));
    Ok(Reply::json(200, json!({"due": due, "waiting": leased})))
}

/// Deletes raw events and rollups older than `RETENTION_DAYS` (90) by the worker's clock.
pub async fn run_retention(env: &Env) -> Result<Value, ApiError> {
    let database = db::database(env)?;
    let now = db::now(env, &database).await?;
    let keep = super::config::number(env, "RETENTION_DAYS", 90).max(1);
    let cutoff = days::retention_cutoff_day(now, keep);
    let (events, rollups) = reports::delete_before(&database, cutoff).await?;
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
            db::delete_setting(database, "clock_override").await?;
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
