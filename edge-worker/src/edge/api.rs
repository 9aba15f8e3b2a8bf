//! Public (widget) handlers: bundle, flows, traits, events, leads. Nothing is acknowledged
//! before it is in D1.

use super::db;
use super::gate;
use super::reply::{header, Reply};
use super::site::Site;
use super::store::{dialogues, events as events_store, leads as leads_store, traits_cache};
use crate::error::ApiError;
use crate::marketo::{fields, mapping};
use crate::route_rules::COMPANY_KEY;
use crate::validate::{self, EventKind};
use crate::{bundle, days, metrics};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use worker::{Context, D1Database, Env, Request};

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
    let rows = dialogues::published(database, &site.id).await?;
    let dialogues: Vec<Value> = rows
        .into_iter()
        .map(|r| {
            // What targeting reads of each dialogue; the chat fetches the whole version by its
            // hash when it mounts (`flow` below: immutable, cached), each experiment variant's
            // flow with it. `experiment: true` tells the loader to ask for the visitor's variant.
            let (targeting, experiment) = bundle::bundle_view(&r.json);
            let mut e = json!({"id": r.dialogue, "hash": r.hash, "priority": r.priority, "targeting": targeting});
            if experiment {
                e["experiment"] = Value::Bool(true);
            }
            e
        })
        .collect();
    let config: Value = serde_json::from_str(&site.config).unwrap_or_else(|_| json!({}));
    let lead_fields: Vec<String> = site
        .trait_fields
        .iter()
        .map(|f| f.strip_prefix("lead.").unwrap_or(f).to_string())
        .collect();
    // The stylesheet's head (the chat module adds its panel rules) and what the loader shows until
    // the visitor shows intent (the chat module loads then): `dynchat_engine::launcher`.
    let launcher = serde_json::from_str::<Value>(&site.launcher).unwrap_or(Value::Null);
    let body = json!({"site": site.id, "etag": site.etag, "config": config, "dialogues": dialogues, "lead_fields": lead_fields, "launcher": launcher});
    Ok(Reply::json(200, body)
        .header("ETag", site.etag.clone())
        .header("Cache-Control", "public, max-age=60")
        .header("X-Dynchat-Country", country))
}

/// `GET /v1/sites/{site}/flows/{hash}`: one immutable published version.
pub async fn flow(database: &D1Database, site: &Site, hash: &str) -> Result<Reply, ApiError> {
    if !validate::valid_hash(hash) {
        return Err(ApiError::NotFound("flow".into()));
    }
    let row = dialogues::version(database, &site.id, hash)
        .await?
        .ok_or_else(|| ApiError::NotFound("flow".into()))?;
    let d: Value = serde_json::from_str(&row.json).unwrap_or(Value::Null);
    let (flow, experiment) = bundle::wire(&row.json);
    Ok(Reply::json(
        200,
        json!({"id": row.dialogue, "hash": hash, "dialogue": d, "flow": flow, "experiment": experiment}),
    )
    .header("Cache-Control", "public, max-age=31536000, immutable"))
}

/// `GET /v1/sites/{site}/flows/{hash}/variant?visitor=..`: the experiment variant the visitor
/// sees in that version (`{"variant": "b"}`, `null` without an experiment), by the engine's
/// `experiment::assign` on the visitor id; the widget asks once per version and visitor (the
/// answer is cached by the browser), so the chat module carries no SHA-256.
pub async fn variant(
    req: &Request,
    database: &D1Database,
    site: &Site,
    hash: &str,
) -> Result<Reply, ApiError> {
    if !validate::valid_hash(hash) {
        return Err(ApiError::NotFound("flow".into()));
    }
    let url = req.url()?;
    let visitor = url
        .query_pairs()
        .find(|(k, _)| k == "visitor")
        .map(|(_, v)| v.into_owned())
        .filter(|v| validate::valid_id(v))
        .ok_or_else(|| ApiError::field("visitor", "is required: the widget's visitor id"))?;
    let arms = super::variants::arms(database, &site.id, hash).await?;
    let chosen = arms.as_ref().as_ref().and_then(|(x, a)| {
        dynchat_engine::experiment::assign(x, &visitor, a).map(|v| v.id.clone())
    });
    Ok(Reply::json(200, json!({"variant": chosen}))
        .header("Cache-Control", "private, max-age=86400"))
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
    super::limiter::check(env, &site.id, &ip, site_limit, ip_limit).await
}

/// Key of the last activity times (`{"visited_web_page": ms}`) inside a cached lead's fields.
const ACTIVITY_KEY: &str = "@activity";

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
    let (known, fields, stale) = known_fields(env, database, site, key_type, &key).await?;
    let mut lead = Map::new();
    let mut company = Map::new();
    let mut last = Map::new();
    for f in wanted {
        if let Some(name) = f.strip_prefix("activity.") {
            // The last time (ms) of that activity; absent: none in the last 90 days.
            let key = name.to_ascii_lowercase();
            if let Some(at) = fields.get(ACTIVITY_KEY).and_then(|a| a.get(&key)) {
                last.insert(key, at.clone());
            }
            continue;
        }
        if let Some((ns, name)) = f.split_once('.') {
            // Read under the rule's spelling: `FirstName` finds Marketo's `firstName`.
            let from_company = fields
                .get(COMPANY_KEY)
                .and_then(Value::as_object)
                .and_then(|c| fields::pick(c, name))
                .filter(|_| ns == "company");
            if let Some(v) = from_company
                .or_else(|| fields::pick(&fields, name))
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
    if t.fields.iter().any(|f| f.starts_with("activity.")) {
        out["activity"] = Value::Object(last);
    }
    if stale {
        out["stale"] = Value::Bool(true);
    }
    Ok(Reply::json(200, out))
}

/// What Marketo knows of a visitor by `key_type` (`cookie` or `email`): whether the lead is
/// known, its fields (the company record under [`COMPANY_KEY`], the last activity times under
/// [`ACTIVITY_KEY`]), and whether the answer is stale (Marketo busy or down). Cached in D1 for
/// `TRAITS_TTL_MS`; read by `/traits` and by the routing rules of a booking.
pub async fn known_fields(
    env: &Env,
    database: &D1Database,
    site: &Site,
    key_type: &str,
    key: &str,
) -> Result<(bool, Map<String, Value>, bool), ApiError> {
    let key = key.to_string();
    let ttl = super::config::number(env, "TRAITS_TTL_MS", 3_600_000);
    let now = db::real_now();
    let cached = traits_cache::get(database, key_type, &key).await?;
    // The activity types the site's rules read (`activity.<type>`).
    let activity: Vec<String> = site
        .trait_fields
        .iter()
        .filter_map(|f| f.strip_prefix("activity."))
        .map(str::to_ascii_lowercase)
        .collect();
    // A known lead cached without its activities (the initial sync stores fields only) is
    // looked up again when the rules read activities.
    let complete = |c: &traits_cache::Cached| {
        activity.is_empty() || c.lead_id.is_none() || c.fields.contains(ACTIVITY_KEY)
    };
    let found = match cached {
        Some(c) if now - c.fetched_at < ttl && complete(&c) => (
            c.lead_id.is_some(),
            serde_json::from_str::<Map<String, Value>>(&c.fields).unwrap_or_default(),
            false,
        ),
        cached => {
            let names: Vec<String> = site
                .trait_fields
                .iter()
                .filter_map(|f| f.split_once('.'))
                .filter(|(ns, _)| *ns != "activity")
                .map(|(_, n)| n.to_string())
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
                activity: activity.clone(),
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
                    if let Some(a) = v.activity {
                        fields.insert(ACTIVITY_KEY.into(), Value::Object(a));
                    }
                    let text = Value::Object(fields.clone()).to_string();
                    let also_email = fields
                        .get("email")
                        .and_then(Value::as_str)
                        .filter(|_| key_type == "cookie")
                        .map(dynchat_engine::fields::normalise_email);
                    traits_cache::put(
                        database,
                        key_type,
                        &key,
                        also_email.as_deref(),
                        lead_id,
                        &text,
                        now,
                    )
                    .await?;
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
    Ok(found)
}

/// An activity's attributes as stored: a JSON list of `[name, value]` pairs.
fn attributes_json(a: &mapping::Activity) -> Result<String, ApiError> {
    let attrs: Vec<[&str; 2]> = a
        .attributes
        .iter()
        .map(|(k, v)| [k.as_str(), v.as_str()])
        .collect();
    Ok(serde_json::to_string(&attrs)?)
}

/// `POST /v1/sites/{site}/events`: raw events + rollups + activities of known leads, one batch.
pub async fn events(
    env: &Env,
    ctx: &Context,
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
        if let Some(v) = &e.variant {
            if !super::variants::accepts(database, site, &e.dialogue, v).await? {
                return Err(ApiError::field(
                    format!("events[{i}].variant"),
                    "is not a variant of this dialogue's experiment",
                ));
            }
        }
    }
    let now = db::now(env, database).await?;
    let day = days::day_number(now);
    let mut st = Vec::with_capacity(b.events.len() + 8);
    let mut counts: BTreeMap<(String, &'static str), (metrics::Counter, i64)> = BTreeMap::new();
    for e in &b.events {
        st.push(events_store::insert(
            database,
            &events_store::NewEvent {
                site: &site.id,
                visitor: &b.visitor,
                session: &b.session,
                kind: e.kind.as_str(),
                dialogue: &e.dialogue,
                hash: e.hash.as_deref(),
                card: e.card.as_deref(),
                value: e.value.as_deref(),
                variant: e.variant.as_deref(),
                at: e.at,
                day,
                received_at: now,
            },
        )?);
        if let Some(c) = metrics::counter_for(e.kind) {
            counts
                .entry((e.dialogue.clone(), c.column()))
                .or_insert((c, 0))
                .1 += 1;
        }
    }
    for ((dialogue, _), (c, by)) in &counts {
        st.push(events_store::count(
            database, &site.id, dialogue, day, *c, *by,
        )?);
    }
    let mut wake = false;
    if b.events.iter().any(|e| {
        matches!(
            e.kind,
            EventKind::Completed | EventKind::Dropped | EventKind::Goal | EventKind::DocumentOpened
        )
    }) {
        let lead = events_store::latest_lead(database, &site.id, &b.visitor).await?;
        if let Some(l) = lead {
            for e in &b.events {
                if let Some(a) = mapping::activity_for_event(
                    e.kind,
                    &e.dialogue,
                    e.value.as_deref(),
                    e.variant.as_deref(),
                    &site.id,
                    &l.transcript,
                ) {
                    let attrs = attributes_json(&a)?;
                    st.push(events_store::activity(
                        database, &site.id, &l.id, a.type_api, &a.primary, &attrs, e.at,
                    )?);
                    wake = true;
                }
            }
        }
    }
    db::batch(database, st).await?;
    if wake {
        super::wake::wake_gate(env, ctx, "activity");
    }
    Ok(Reply::json(202, json!({"accepted": b.events.len()})))
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
    ctx: &Context,
    database: &D1Database,
    site: &Site,
    body: Value,
) -> Result<Reply, ApiError> {
    let key = validate::idempotency_key(header(req, "Idempotency-Key").as_deref())?;
    let l = validate::lead(&body)?;
    if !site.dialogue_ids.contains(&l.dialogue) {
        return Err(ApiError::field(
            "dialogue",
            "is not a dialogue of this site",
        ));
    }
    if let Some(v) = &l.variant {
        if !super::variants::accepts(database, site, &l.dialogue, v).await? {
            return Err(ApiError::field(
                "variant",
                "is not a variant of this dialogue's experiment",
            ));
        }
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
    let same = |row: leads_store::Stored| {
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
    // Round trip 1: every read of the capture path in one D1 batch (the version's mapping only
    // when this isolate has not read that version before).
    let keys = leads_store::Keys {
        site: &site.id,
        dialogue: &l.dialogue,
        hash: l.hash.as_deref(),
        email: l.email(),
        session: &l.session,
    };
    let cached = l
        .hash
        .as_deref()
        .and_then(|h| super::versions::cached(&site.id, &l.dialogue, h));
    let want = leads_store::Wanted {
        version: cached.is_none(),
        clock: super::config::string(env, "ALLOW_CLOCK_OVERRIDE", "0") == "1",
    };
    let reads = leads_store::read(database, &keys, want).await?;
    // Answers map to lead fields through the version the visitor actually ran.
    let answer_fields = match (cached, reads.version_json) {
        (Some(fields), _) => fields,
        (None, Some(Some(json))) => {
            super::versions::from_json(&site.id, &l.dialogue, l.hash.as_deref(), &json)
        }
        (None, _) if l.hash.is_some() => {
            return Err(ApiError::field("hash", "is not a version of this dialogue"))
        }
        (None, _) => Default::default(),
    };
    let known = reads
        .known_fields
        .and_then(|k| serde_json::from_str::<Map<String, Value>>(&k).ok());
    let record = mapping::lead_record(&l, &answer_fields, known.as_ref());
    let transcript = mapping::transcript_text(&l.transcript);
    let now = reads.clock_override.unwrap_or_else(db::real_now);
    let id = lead_id(&site.id, &key);
    let record = Value::Object(record).to_string();
    // The gate resolves the program (the dialogue's from the console, else the site's) and
    // marks the lead 'none' when there is neither.
    let new = leads_store::NewLead {
        id: &id,
        site: &site.id,
        idem_key: &key,
        body_hash: &body_hash,
        visitor: &l.visitor,
        session: &l.session,
        dialogue: &l.dialogue,
        hash: l.hash.as_deref(),
        variant: l.variant.as_deref(),
        email: l.email(),
        record: &record,
        transcript: &transcript,
        mkto_trk: l.mkto_trk.as_deref(),
        now,
        day: days::day_number(now),
    };
    // Activities of this session's earlier events, written with the lead.
    let mut activities = Vec::new();
    let mut seen: HashMap<(String, String, i64), ()> = HashMap::new();
    for e in &reads.earlier {
        if let Some(kind) = EventKind::parse(&e.kind) {
            if let Some(a) = mapping::activity_for_event(
                kind,
                &e.dialogue,
                e.value.as_deref(),
                e.variant.as_deref(),
                &site.id,
                &transcript,
            ) {
                if seen
                    .insert((a.type_api.to_string(), a.primary.clone(), e.at), ())
                    .is_none()
                {
                    activities.push(leads_store::activity_of_new_lead(
                        database,
                        &new,
                        a.type_api,
                        &a.primary,
                        &attributes_json(&a)?,
                        e.at,
                    )?);
                }
            }
        }
    }
    // Round trip 2: lead + rollup + activities in one transaction.
    if let leads_store::Written::Existing(row) =
        leads_store::write(database, &new, activities).await?
    {
        // A concurrent request with the same key won the race.
        return same(row);
    }
    // The lead is durable: answer now and wake the gate in the background. If the send fails,
    // the cron sweep delivers it anyway: the outbox row is the truth.
    super::wake::wake_gate(env, ctx, "lead");
    Ok(Reply::json(201, json!({"lead": id, "status": "queued"})))
}
