//! Public (widget) handlers: bundle, flows, traits, events, leads. Nothing is acknowledged
//! before it is in D1.

use super::db::{self, n, on, os, s, Site};
use super::gate;
use super::http::{header, Reply};
use crate::error::ApiError;
use crate::marketo::mapping;
use crate::validate::{self, EventKind};
use crate::{bundle, days, metrics};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use worker::{D1Database, Env, Request};

#[derive(Deserialize)]
struct PublishedRow {
    dialogue: String,
    hash: String,
    priority: i64,
    json: String,
}

/// `GET /v1/sites/{site}/bundle`.
pub async fn bundle(
    req: &Request,
    _env: &Env,
    database: &D1Database,
    site: &Site,
) -> Result<Reply, ApiError> {
    let country = header(req, "CF-IPCountry")
        .filter(|c| c.len() == 2 && c.bytes().all(|b| b.is_ascii_alphabetic()))
        .unwrap_or_else(|| "XX".into());
    if bundle::etag_matches(header(req, "If-None-Match").as_deref(), &site.etag) {
        return Ok(Reply::empty(304)
            .header("ETag", site.etag.clone())
            .header("Cache-Control", "public, max-age=60")
            .header("X-Dynchat-Country", country));
    }
    let rows: Vec<PublishedRow> = db::rows(
        database,
        "SELECT p.dialogue, p.hash, p.priority, v.json FROM published p JOIN dialogue_versions v ON v.site = p.site AND v.hash = p.hash WHERE p.site = ? ORDER BY p.priority DESC, p.dialogue",
        &[s(&site.id)],
    )
    .await?;
    let dialogues: Vec<Value> = rows
        .into_iter()
        .map(|r| json!({"id": r.dialogue, "hash": r.hash, "priority": r.priority, "dialogue": serde_json::from_str::<Value>(&r.json).unwrap_or(Value::Null), "flow": bundle::wire_flow(&r.json)}))
        .collect();
    let config: Value = serde_json::from_str(&site.config).unwrap_or_else(|_| json!({}));
    let lead_fields: Vec<String> = site
        .trait_fields
        .iter()
        .map(|f| f.strip_prefix("lead.").unwrap_or(f).to_string())
        .collect();
    let body = json!({"site": site.id, "etag": site.etag, "config": config, "dialogues": dialogues, "lead_fields": lead_fields});
    Ok(Reply::json(200, body)
        .header("ETag", site.etag.clone())
        .header("Cache-Control", "public, max-age=60")
        .header("X-Dynchat-Country", country))
}

#[derive(Deserialize)]
struct VersionRow {
    dialogue: String,
    json: String,
}

/// `GET /v1/sites/{site}/flows/{hash}`: one immutable published version.
pub async fn flow(database: &D1Database, site: &Site, hash: &str) -> Result<Reply, ApiError> {
    if !validate::valid_hash(hash) {
        return Err(ApiError::NotFound("flow".into()));
    }
    let row: VersionRow = db::first(
        database,
        "SELECT dialogue, json FROM dialogue_versions WHERE site = ? AND hash = ?",
        &[s(&site.id), s(hash)],
    )
    .await?
    .ok_or_else(|| ApiError::NotFound("flow".into()))?;
    let d: Value = serde_json::from_str(&row.json).unwrap_or(Value::Null);
    Ok(Reply::json(
        200,
        json!({"id": row.dialogue, "hash": hash, "dialogue": d, "flow": bundle::wire_flow(&row.json)}),
    )
    .header("Cache-Control", "public, max-age=31536000, immutable"))
}

/// Per-site and per-IP limits, counted in the site's `RateLimiter` Durable Object.
pub async fn rate_limit(req: &Request, env: &Env, site: &Site) -> Result<(), ApiError> {
    let ip = header(req, "CF-Connecting-IP").unwrap_or_else(|| "unknown".into());
    let site_limit = site
        .rate_site_per_minute
        .unwrap_or_else(|| super::config::number(env, "RATE_SITE_PER_MINUTE", 6000));
    let ip_limit = site
        .rate_ip_per_minute
        .unwrap_or_else(|| super::config::number(env, "RATE_IP_PER_MINUTE", 600));
    super::limiter_do::check(env, &site.id, &ip, site_limit, ip_limit).await
}

#[derive(Deserialize)]
struct CacheRow {
    lead_id: Option<i64>,
    fields: String,
    fetched_at: i64,
}

/// Key of the company record inside a cached lead's fields.
const COMPANY_KEY: &str = "@company";

/// `POST /v1/sites/{site}/traits`: known-visitor fields, only those the site's rules use.
pub async fn traits(
    env: &Env,
    database: &D1Database,
    site: &Site,
    body: Value,
) -> Result<Reply, ApiError> {
    let t = validate::traits(&body)?;
    let wanted: Vec<&String> = t
        .fields
        .iter()
        .filter(|f| site.trait_fields.contains(f))
        .collect();
    let (key_type, key) = match (&t.mkto_trk, &t.email) {
        (Some(c), _) => ("cookie", c.clone()),
        (None, Some(e)) => ("email", e.clone()),
        (None, None) => return Err(ApiError::field("mkto_trk", "mkto_trk or email is required")),
    };
    let ttl = super::config::number(env, "TRAITS_TTL_MS", 3_600_000);
    let now = db::real_now();
    let cached: Option<CacheRow> = db::first(
        database,
        "SELECT lead_id, fields, fetched_at FROM marketo_cache WHERE key_type = ? AND key = ?",
        &[s(key_type), s(&key)],
    )
    .await?;
    let (known, fields, stale) = match cached {
        Some(c) if now - c.fetched_at < ttl => (
            c.lead_id.is_some(),
            serde_json::from_str::<Map<String, Value>>(&c.fields).unwrap_or_default(),
            false,
        ),
        cached => {
            let names: Vec<String> = site
                .trait_fields
                .iter()
                .filter_map(|f| f.split_once('.').map(|(_, n)| n.to_string()))
                .chain(["email".to_string()])
                .collect();
            let company_fields: Vec<String> = site
                .trait_fields
                .iter()
                .filter_map(|f| f.strip_prefix("company.").map(str::to_string))
                .collect();
            let by = if key_type == "cookie" {
                gate::LookupBy::Cookie
            } else {
                gate::LookupBy::Email
            };
            let ask = gate::LookupQuery {
                by,
                value: key.clone(),
                fields: names,
                company_fields,
            };
            match gate::lookup(env, ask).await {
                Ok(v) => {
                    let lead_id = v.id;
                    let mut fields = v.fields;
                    // The account's own record (companies.json) is kept next to the lead's
                    // fields and wins over the lead's copy of the same field.
                    if !v.company.is_empty() {
                        fields.insert(COMPANY_KEY.into(), Value::Object(v.company));
                    }
                    let text = Value::Object(fields.clone()).to_string();
                    let mut st = vec![db::stmt(
                        database,
                        "INSERT INTO marketo_cache (key_type, key, lead_id, fields, fetched_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT(key_type, key) DO UPDATE SET lead_id = excluded.lead_id, fields = excluded.fields, fetched_at = excluded.fetched_at",
                        &[s(key_type), s(&key), on(lead_id), s(&text), n(now)],
                    )?];
                    if let Some(email) = fields
                        .get("email")
                        .and_then(Value::as_str)
                        .filter(|_| key_type == "cookie")
                    {
                        st.push(db::stmt(
                            database,
                            "INSERT INTO marketo_cache (key_type, key, lead_id, fields, fetched_at) VALUES ('email', ?, ?, ?, ?) ON CONFLICT(key_type, key) DO UPDATE SET lead_id = excluded.lead_id, fields = excluded.fields, fetched_at = excluded.fetched_at",
                            &[s(&dynchat_engine::fields::normalise_email(email)), on(lead_id), s(&text), n(now)],
                        )?);
                    }
                    db::batch(database, st).await?;
                    (lead_id.is_some(), fields, false)
                }
                // Marketo busy or down: serve what we had, or "unknown", never an error to the page.
                Err(_) => match cached {
                    Some(c) => (
                        c.lead_id.is_some(),
                        serde_json::from_str(&c.fields).unwrap_or_default(),
                        true,
                    ),
                    None => (false, Map::new(), true),
                },
            }
        }
    };
    let mut lead = Map::new();
    let mut company = Map::new();
    for f in wanted {
        if let Some((ns, name)) = f.split_once('.') {
            let from_company = fields
                .get(COMPANY_KEY)
                .and_then(|c| c.get(name))
                .filter(|_| ns == "company");
            if let Some(v) = from_company
                .or_else(|| fields.get(name))
                .filter(|v| !v.is_null())
            {
                if ns == "company" {
                    company.insert(name.to_string(), v.clone());
                } else {
                    lead.insert(name.to_string(), v.clone());
                }
            }
        }
    }
    let mut out = json!({"known": known, "lead": lead, "company": company});
    if stale {
        out["stale"] = Value::Bool(true);
    }
    Ok(Reply::json(200, out))
}

#[derive(Deserialize)]
struct LeadRef {
    id: String,
    transcript: String,
}

fn activity_stmt(
    database: &D1Database,
    site: &str,
    lead_id: &str,
    a: &mapping::Activity,
    at: i64,
) -> Result<worker::D1PreparedStatement, ApiError> {
    let attrs: Vec<[&str; 2]> = a
        .attributes
        .iter()
        .map(|(k, v)| [k.as_str(), v.as_str()])
        .collect();
    db::stmt(
        database,
        "INSERT OR IGNORE INTO activities (site, lead_id, type_api, primary_value, attributes, at) VALUES (?, ?, ?, ?, ?, ?)",
        &[s(site), s(lead_id), s(a.type_api), s(&a.primary), s(&serde_json::to_string(&attrs)?), n(at)],
    )
}

fn metric_stmt(
    database: &D1Database,
    site: &str,
    dialogue: &str,
    day: i64,
    counter: metrics::Counter,
    by: i64,
) -> Result<worker::D1PreparedStatement, ApiError> {
    let col = counter.column();
    let sql = format!("INSERT INTO metrics_daily (site, dialogue, day, {col}) VALUES (?, ?, ?, ?) ON CONFLICT(site, dialogue, day) DO UPDATE SET {col} = {col} + excluded.{col}");
    db::stmt(database, &sql, &[s(site), s(dialogue), n(day), n(by)])
}

/// `POST /v1/sites/{site}/events`: raw events + rollups + activities of known leads, one batch.
pub async fn events(
    env: &Env,
    database: &D1Database,
    site: &Site,
    body: Value,
) -> Result<Reply, ApiError> {
    let b = validate::events(&body)?;
    for (i, e) in b.events.iter().enumerate() {
        if !site.dialogue_ids.contains(&e.dialogue) {
            return Err(ApiError::field(
                format!("events[{i}].dialogue"),
                "is not a dialogue of this site",
            ));
        }
    }
    let now = db::now(env, database).await?;
    let day = days::day_number(now);
    let mut st = Vec::with_capacity(b.events.len() + 8);
    let mut counts: BTreeMap<(String, &'static str), (metrics::Counter, i64)> = BTreeMap::new();
    for e in &b.events {
        st.push(db::stmt(
            database,
            "INSERT INTO events (site, visitor, session, type, dialogue, hash, card, value, at, day, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            &[s(&site.id), s(&b.visitor), s(&b.session), s(e.kind.as_str()), s(&e.dialogue), os(e.hash.as_deref()), os(e.card.as_deref()), os(e.value.as_deref()), n(e.at), n(day), n(now)],
        )?);
        if let Some(c) = metrics::counter_for(e.kind) {
            counts
                .entry((e.dialogue.clone(), c.column()))
                .or_insert((c, 0))
                .1 += 1;
        }
    }
    for ((dialogue, _), (c, by)) in &counts {
        st.push(metric_stmt(database, &site.id, dialogue, day, *c, *by)?);
    }
    let mut wake = false;
    if b.events.iter().any(|e| {
        matches!(
            e.kind,
            EventKind::Completed | EventKind::Dropped | EventKind::Goal | EventKind::DocumentOpened
        )
    }) {
        let lead: Option<LeadRef> = db::first(database, "SELECT id, transcript FROM leads WHERE site = ? AND visitor = ? ORDER BY created_at DESC LIMIT 1", &[s(&site.id), s(&b.visitor)]).await?;
        if let Some(l) = lead {
            for e in &b.events {
                if let Some(a) = mapping::activity_for_event(
                    e.kind,
                    &e.dialogue,
                    e.value.as_deref(),
                    &site.id,
                    &l.transcript,
                ) {
                    st.push(activity_stmt(database, &site.id, &l.id, &a, e.at)?);
                    wake = true;
                }
            }
        }
    }
    db::batch(database, st).await?;
    if wake {
        let _ = send_wakeup(env, "activity").await;
    }
    Ok(Reply::json(202, json!({"accepted": b.events.len()})))
}

async fn send_wakeup(env: &Env, kind: &str) -> Result<(), ApiError> {
    let q = env
        .queue("OUTBOX")
        .map_err(|e| ApiError::Config(e.to_string()))?;
    q.send(json!({ "kind": kind }))
        .await
        .map_err(ApiError::from)
}

#[derive(Deserialize)]
struct IdemRow {
    id: String,
    body_hash: String,
}

#[derive(Deserialize)]
struct JsonRow {
    json: String,
}

#[derive(Deserialize)]
struct FieldsRow {
    fields: String,
}

#[derive(Deserialize)]
struct EventRow {
    #[serde(rename = "type")]
    kind: String,
    dialogue: String,
    value: Option<String>,
    at: i64,
}

fn lead_id(site: &str, key: &str) -> String {
    let d = Sha256::digest(format!("{site}\0{key}").as_bytes());
    format!(
        "l-{}",
        d.iter()
            .take(12)
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    )
}

/// `POST /v1/sites/{site}/leads` with `Idempotency-Key`: the lead is in the D1 outbox before 201.
pub async fn leads(
    req: &Request,
    env: &Env,
    database: &D1Database,
    site: &Site,
    body: Value,
) -> Result<Reply, ApiError> {
    let key = header(req, "Idempotency-Key").unwrap_or_default();
    if !(8..=128).contains(&key.len()) || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ApiError::field(
            "Idempotency-Key",
            "header of 8-128 printable characters is required",
        ));
    }
    let l = validate::lead(&body)?;
    if !site.dialogue_ids.contains(&l.dialogue) {
        return Err(ApiError::field(
            "dialogue",
            "is not a dialogue of this site",
        ));
    }
    // The site's email-domain blocklist: refused before anything is stored.
    let config: Value = serde_json::from_str(&site.config).unwrap_or_default();
    if crate::blocklist::blocked_by(l.email(), &config["email_blocklist"]).is_some() {
        return Err(ApiError::Unprocessable {
            field: "fields.email".into(),
            message: "this email domain is not accepted here; please use your work email".into(),
        });
    }
    let body_hash: String = Sha256::digest(body.to_string().as_bytes())
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect();
    let same = |row: IdemRow| {
        if row.body_hash == body_hash {
            Ok(Reply::json(
                200,
                json!({"lead": row.id, "status": "queued"}),
            ))
        } else {
            Err(ApiError::Conflict(
                "this Idempotency-Key was used with a different body".into(),
            ))
        }
    };
    if let Some(row) = db::first::<IdemRow>(
        database,
        "SELECT id, body_hash FROM leads WHERE site = ? AND idem_key = ?",
        &[s(&site.id), s(&key)],
    )
    .await?
    {
        return same(row);
    }
    // Answers map to lead fields through the version the visitor actually ran.
    let version: Option<JsonRow> = match &l.hash {
        Some(h) => Some(
            db::first(database, "SELECT json FROM dialogue_versions WHERE site = ? AND hash = ? AND dialogue = ?", &[s(&site.id), s(h), s(&l.dialogue)])
                .await?
                .ok_or_else(|| ApiError::field("hash", "is not a version of this dialogue"))?,
        ),
        None => db::first(database, "SELECT v.json FROM published p JOIN dialogue_versions v ON v.site = p.site AND v.hash = p.hash WHERE p.site = ? AND p.dialogue = ?", &[s(&site.id), s(&l.dialogue)]).await?,
    };
    let answer_fields = version
        .and_then(|v| serde_json::from_str::<Value>(&v.json).ok())
        .map(|d| mapping::answer_fields(&d))
        .unwrap_or_default();
    let known: Option<FieldsRow> = db::first(database, "SELECT fields FROM marketo_cache WHERE key_type = 'email' AND key = ? AND lead_id IS NOT NULL", &[s(l.email())]).await?;
    let known = known.and_then(|k| serde_json::from_str::<Map<String, Value>>(&k.fields).ok());
    let record = mapping::lead_record(&l, &answer_fields, known.as_ref());
    let transcript = mapping::transcript_text(&l.transcript);
    let now = db::now(env, database).await?;
    let id = lead_id(&site.id, &key);
    // The gate resolves the program (the dialogue's from the console, else the site's) and
    // marks the lead 'none' when there is neither.
    let member = "pending";
    let inserted = db::exec(
        database,
        "INSERT INTO leads (id, site, idem_key, body_hash, visitor, session, dialogue, hash, email, record, transcript, mkto_trk, status, member_status, created_at, next_attempt_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?, 0) ON CONFLICT DO NOTHING",
        &[s(&id), s(&site.id), s(&key), s(&body_hash), s(&l.visitor), s(&l.session), s(&l.dialogue), os(l.hash.as_deref()), s(l.email()), s(&Value::Object(record).to_string()), s(&transcript), os(l.mkto_trk.as_deref()), s(member), n(now)],
    )
    .await?;
    if inserted == 0 {
        // A concurrent request with the same key won the race.
        let row = db::first::<IdemRow>(
            database,
            "SELECT id, body_hash FROM leads WHERE site = ? AND idem_key = ?",
            &[s(&site.id), s(&key)],
        )
        .await?
        .ok_or_else(|| ApiError::Storage("lead vanished".into()))?;
        return same(row);
    }
    // The lead is durable; rollup and activities of this session's earlier events follow.
    let mut st = vec![metric_stmt(
        database,
        &site.id,
        &l.dialogue,
        days::day_number(now),
        metrics::Counter::Captured,
        1,
    )?];
    let earlier: Vec<EventRow> = db::rows(
        database,
        "SELECT type, dialogue, value, at FROM events WHERE site = ? AND session = ? AND type IN ('completed', 'dropped', 'goal', 'document_opened') LIMIT 200",
        &[s(&site.id), s(&l.session)],
    )
    .await?;
    let mut seen: HashMap<(String, String, i64), ()> = HashMap::new();
    for e in earlier {
        if let Some(kind) = EventKind::parse(&e.kind) {
            if let Some(a) = mapping::activity_for_event(
                kind,
                &e.dialogue,
                e.value.as_deref(),
                &site.id,
                &transcript,
            ) {
                if seen
                    .insert((a.type_api.to_string(), a.primary.clone(), e.at), ())
                    .is_none()
                {
                    st.push(activity_stmt(database, &site.id, &id, &a, e.at)?);
                }
            }
        }
    }
    if let Err(e) = db::batch(database, st).await {
        worker::console_error!("lead {id}: rollup/activities not written: {e}");
    }
    if let Err(e) = send_wakeup(env, "lead").await {
        // The cron sweep delivers it anyway: the outbox row is the truth.
        worker::console_error!("lead {id}: queue send failed: {e}");
    }
    Ok(Reply::json(201, json!({"lead": id, "status": "queued"})))
}
