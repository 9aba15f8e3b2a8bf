//! The public meetings endpoints: `GET /v1/sites/{site}/slots` (free slots of a queue or
//! agent) and `POST /v1/sites/{site}/book` (checked here, then booked by the route's
//! `QueueRouter`; a lost slot answers 409 with alternatives). A queue offers each start once,
//! whichever of its agents are free (each for their own meeting length); `end` is the latest
//! of their ends, and the booked meeting lasts the chosen agent's length.

use super::super::db;
use super::super::reply::{header, Reply};
use super::super::site::Site;
use super::agents::{agent_time, rotation_agents, route_rotation, AgentTime};
use super::config::provider_config;
use super::query::query_map;
use super::replay::replay;
use super::router_client;
use super::router_protocol::{BookJob, RouterAnswer, RouterError, RouterRequest};
use super::routing::{resolve, Resolved, Visitor};
use crate::error::ApiError;
use crate::meetings::{self, Route};
use chrono::{DateTime, Duration, Utc};
use dynchat_scheduling::{queue_slots, AgentId};
use futures_util::future::join_all;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use worker::{D1Database, Env, Request};

/// Which slots to compute: the visitor's zone, how many days from `now`, and whether recent
/// provider answers may be reused.
pub struct SlotQuery {
    pub tz: chrono_tz::Tz,
    pub days: i64,
    pub now: DateTime<Utc>,
    pub cached: bool,
}

/// Slots of a route for the visitor, and the agents whose calendar is not known.
pub async fn route_slots(
    env: &Env,
    database: &D1Database,
    site: &str,
    route: &Route,
    q: SlotQuery,
) -> Result<Value, ApiError> {
    let SlotQuery {
        tz,
        days,
        now,
        cached,
    } = q;
    let rotation = route_rotation(database, site, route).await?;
    let agents = rotation_agents(database, site, &rotation).await?;
    let cfg = provider_config(env);
    let from = now;
    let to = now + Duration::days(days);
    let times = join_all(
        agents
            .iter()
            .map(|a| agent_time(env, database, &cfg, site, a, (from, to), cached)),
    )
    .await;
    let mut unknown = Vec::new();
    let mut input = Vec::new();
    for (a, t) in agents.iter().zip(times) {
        if !matches!(t, AgentTime::Known(_)) {
            unknown.push(a.id.clone());
        }
        input.push((AgentId(a.id.clone()), a.settings.clone(), t.busy()));
    }
    let list: Vec<Value> = queue_slots(&input, from, to, now)
        .into_iter()
        .map(|q| json!({"start": meetings::iso(q.start), "end": meetings::iso(q.end), "label": dynchat_scheduling::label(q.start, tz)}))
        .collect();
    Ok(json!({"tz": tz.name(), "slots": list, "unknown_agents": unknown}))
}

/// `GET /v1/sites/{site}/slots?route=queue:sales|agent:id|rules:<dialogue>/<card>&tz=Europe/Amsterdam&days=14`
/// (a rules route also `lead.<field>=`, `email=`, `answer.<card id>=`).
pub async fn slots(
    req: &Request,
    env: &Env,
    database: &D1Database,
    site: &Site,
) -> Result<Reply, ApiError> {
    let q = query_map(req)?;
    // A rules route reads the visitor's facts, the same `/book` reads: `lead.<field>` parameters
    // (the fields they gave), their email (`email`, else `lead.email`: what Marketo knows of
    // them) and `answer.<card id>` parameters; limits as `/book`'s, a 400 naming the parameter.
    let prefixed = |p: &str| -> serde_json::Map<String, Value> {
        q.iter()
            .filter_map(|(k, v)| {
                k.strip_prefix(p)
                    .map(|c| (c.to_string(), Value::String(v.clone())))
            })
            .collect()
    };
    let lead = crate::route_rules::visitor_lead(&prefixed("lead."))?;
    let (email_field, email) = match q.get("email") {
        Some(e) => ("email", Some(e.as_str())),
        None => ("lead.email", lead.get("email").and_then(Value::as_str)),
    };
    let email = match email {
        Some(e) if dynchat_engine::fields::valid_email(e) => {
            Some(dynchat_engine::fields::normalise_email(e))
        }
        Some(_) => return Err(ApiError::field(email_field, "must be a valid email")),
        None => None,
    };
    let answers =
        crate::route_rules::answers_as(Some(&Value::Object(prefixed("answer."))), "answer")?;
    let visitor = Visitor {
        email: email.as_deref(),
        lead: &lead,
        answers: &answers,
    };
    let route_text = q.get("route").map(String::as_str).unwrap_or("");
    let route = resolve(env, database, site, route_text, "route", &visitor)
        .await?
        .route;
    let tz = dynchat_scheduling::parse_tz(q.get("tz").map(String::as_str).unwrap_or("UTC"), "tz")
        .map_err(|e| ApiError::field("tz", e.to_string()))?;
    let days = match q.get("days") {
        Some(d) => d
            .parse::<i64>()
            .ok()
            .filter(|d| (1..=62).contains(d))
            .ok_or_else(|| ApiError::field("days", "must be a whole number from 1 to 62"))?,
        None => 14,
    };
    let now = db::now(env, database).await?;
    let body = route_slots(
        env,
        database,
        &site.id,
        &route,
        SlotQuery {
            tz,
            days,
            now: meetings::from_ms(now),
            cached: false,
        },
    )
    .await?;
    Ok(Reply::json(200, body))
}

/// `POST /v1/sites/{site}/book` with `Idempotency-Key`.
pub async fn book(
    req: &Request,
    env: &Env,
    database: &D1Database,
    site: &Site,
    body: Value,
) -> Result<Reply, ApiError> {
    let key = crate::validate::idempotency_key(header(req, "Idempotency-Key").as_deref())?;
    let input = meetings::book_input(&body)?;
    if !input.dialogue.is_empty() && !site.dialogue_ids.contains(&input.dialogue) {
        return Err(ApiError::field(
            "dialogue",
            "is not a dialogue of this site",
        ));
    }
    // The experiment variant counts the meeting for that variant: one the dialogue declares.
    if let Some(v) = &input.variant {
        if !super::super::variants::accepts(database, site, &input.dialogue, v).await? {
            return Err(ApiError::field(
                "variant",
                "is not a variant of this dialogue's experiment",
            ));
        }
    }
    let body_hash = crate::auth::hex(&Sha256::digest(body.to_string().as_bytes())[..16]);
    if let Some(m) = super::super::store::meetings::by_key(database, &site.id, &key).await? {
        if m.status != "pending" {
            let booked = replay(&m, &body_hash)?;
            return Ok(Reply::json(200, serde_json::to_value(booked)?));
        }
    }
    let visitor = Visitor {
        email: Some(&input.email),
        lead: &input.lead,
        answers: &input.answers,
    };
    let Resolved { route, routed } =
        resolve(env, database, site, &input.route, "route", &visitor).await?;
    let mut input = input;
    input.route = route.as_string();
    let rotation = route_rotation(database, &site.id, &route).await?;
    let agents = rotation_agents(database, &site.id, &rotation).await?;
    let now = meetings::from_ms(db::now(env, database).await?);
    // A booking names a start: each agent is checked for their own meeting length from it. The
    // requested `end` must be one that was offered (some agent's own end at that start); the
    // meeting lasts the chosen agent's length.
    let start = input.start;
    if let Some(p) = meetings::route_slot_problem(agents.iter().map(|a| &a.settings), start, now) {
        return Err(p.error());
    }
    if !meetings::offered_end(agents.iter().map(|a| &a.settings), start, input.end, now) {
        return Err(meetings::SlotProblem::NotASlot.error());
    }
    let tz = dynchat_scheduling::parse_tz(&input.tz, "tz")
        .map_err(|e| ApiError::field("tz", e.to_string()))?;
    let links_base = match super::config::public_url(env) {
        base if !base.is_empty() => base,
        _ => req
            .url()
            .map(|u| u.origin().ascii_serialization())
            .unwrap_or_default(),
    };
    let job = BookJob {
        site: site.id.clone(),
        key,
        body_hash,
        input,
        routed,
        links_base,
    };
    match router_client::call(env, &site.id, &route, &RouterRequest::Book(job)).await? {
        Ok(RouterAnswer::Booked {
            meeting, created, ..
        }) => Ok(Reply::json(
            if created { 201 } else { 200 },
            serde_json::to_value(meeting)?,
        )),
        Ok(_) => Err(ApiError::Upstream("booking failed".into())),
        Err(RouterError::SlotTaken { .. }) => {
            let alternatives = route_slots(
                env,
                database,
                &site.id,
                &route,
                SlotQuery {
                    tz,
                    days: 14,
                    now,
                    cached: true,
                },
            )
            .await
            .map(|v| v["slots"].clone())
            .unwrap_or_else(|_| json!([]));
            let alternatives: Vec<Value> = alternatives
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .filter(|v| v["start"] != json!(meetings::iso(start)))
                .take(50)
                .collect();
            Ok(Reply::json(
                409,
                json!({"error": {"code": "slot_taken", "message": "this slot was just taken; pick another"}, "slots": alternatives}),
            ))
        }
        Err(RouterError::Conflict { message }) => Err(ApiError::Conflict(message)),
        Err(RouterError::Failed { message }) => Err(ApiError::Upstream(message)),
        Err(RouterError::Busy) => Err(ApiError::Upstream("booking failed".into())),
    }
}
