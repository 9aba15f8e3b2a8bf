//! The no-slot fallback: `POST /v1/sites/{site}/meetings/requests` with `Idempotency-Key`.
//! When no offered time fits, the visitor's preferred times are stored once per key and the
//! route's agents (the queue's members, or the one agent) are told by mail through the outbox,
//! in the same batch; the route's `QueueRouter` delivers it. `GET /admin/sites/{site}/meeting-requests`
//! lists them.

use super::super::db;
use super::super::reply::{header, Reply};
use super::super::site::Site;
use super::super::store::meeting_requests::{self as store, RequestWrite};
use super::agents::{rotation_agents, route_rotation};
use super::config::mail_from;
use super::mail_outbox::{kick_mail, outbox_stmt, MailKind, OutMail};
use super::routing::{resolve, Resolved, Visitor};
use crate::error::ApiError;
use crate::meeting_requests::{request_input, request_message, RequestMail};
use crate::meetings::{self, Route};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use worker::{D1Database, Env, Request};

/// The request id of a site's Idempotency-Key (`r-` and 24 hex digits).
fn request_id(site: &str, key: &str) -> String {
    let d = Sha256::digest(format!("request\0{site}\0{key}").as_bytes());
    format!("r-{}", crate::auth::hex(&d[..12]))
}

/// Stores the request and queues the queue's notice; a retry answers the stored request.
pub async fn create(
    req: &Request,
    env: &Env,
    database: &D1Database,
    site: &Site,
    body: Value,
) -> Result<Reply, ApiError> {
    let key = crate::validate::idempotency_key(header(req, "Idempotency-Key").as_deref())?;
    let input = request_input(&body)?;
    if !input.dialogue.is_empty() && !site.dialogue_ids.contains(&input.dialogue) {
        return Err(ApiError::field(
            "dialogue",
            "is not a dialogue of this site",
        ));
    }
    let body_hash = crate::auth::hex(&Sha256::digest(body.to_string().as_bytes())[..16]);
    let answer = |r: &store::RequestRow, status: u16| {
        Reply::json(
            status,
            json!({"request": r.id, "route": r.route, "notified": r.notified}),
        )
    };
    if let Some(r) = store::by_key(database, &site.id, &key).await? {
        return if r.body_hash == body_hash {
            Ok(answer(&r, 200))
        } else {
            Err(ApiError::Conflict(
                "this Idempotency-Key was used with a different body".into(),
            ))
        };
    }
    // A rules route is resolved from the facts `/book` would carry: the request reaches the
    // queue the booking would have landed in.
    let visitor = Visitor {
        email: Some(&input.email),
        lead: &input.lead,
        answers: &input.answers,
    };
    let Resolved { route, .. } =
        resolve(env, database, site, &input.route, "route", &visitor).await?;
    let rotation = route_rotation(database, &site.id, &route).await?;
    let agents = rotation_agents(database, &site.id, &rotation).await?;
    let queue = match &route {
        Route::Queue(q) => q.clone(),
        other => other.as_string(),
    };
    let id = request_id(&site.id, &key);
    let from = mail_from(env);
    let at = db::real_now();
    let now = meetings::from_ms(at);
    // The queue's notification address when it has one, else every member once.
    let address = match &route {
        Route::Queue(q) => store::notify_address(database, &site.id, q).await?,
        _ => None,
    };
    let rcpts: Vec<String> = match address {
        Some(a) => vec![a],
        None => {
            let mut all: Vec<String> = Vec::new();
            for a in &agents {
                if !all.iter().any(|r| r.eq_ignore_ascii_case(&a.email)) {
                    all.push(a.email.clone());
                }
            }
            all
        }
    };
    let mut st = Vec::new();
    let mut notified = 0;
    for rcpt in &rcpts {
        let message = request_message(&RequestMail {
            id: &id,
            from: &from,
            to: rcpt,
            site: &site.id,
            queue: &queue,
            input: &input,
            now,
        });
        st.push(outbox_stmt(
            database,
            (&site.id, &id),
            &from,
            &OutMail {
                kind: MailKind::Request,
                sequence: notified,
                rcpt: rcpt.clone(),
                subject: format!("Meeting request from {}", input.name_or_email()),
                message,
            },
            at,
        )?);
        notified += 1;
    }
    let days: Vec<String> = input.days.iter().map(|d| d.to_string()).collect();
    let route_text = route.as_string();
    let days_json = serde_json::to_string(&days)?;
    let answers_json = serde_json::to_string(&input.answers)?;
    st.insert(
        0,
        store::insert(
            database,
            &RequestWrite {
                site: &site.id,
                id: &id,
                key: &key,
                body_hash: &body_hash,
                route: &route_text,
                email: &input.email,
                name: &input.name,
                preferred: &input.preferred,
                days: &days_json,
                tz: &input.tz,
                reason: input.reason.as_str(),
                session: &input.session,
                dialogue: &input.dialogue,
                answers: &answers_json,
                notified,
                at,
            },
        )?,
    );
    db::batch(database, st).await?;
    if notified > 0 {
        kick_mail(env, &site.id, &route).await;
    }
    // Two first attempts at once: both batches are ignored but one; answer what was stored.
    let stored = store::by_key(database, &site.id, &key)
        .await?
        .ok_or_else(|| ApiError::Upstream("the request was not stored".into()))?;
    if stored.body_hash != body_hash {
        return Err(ApiError::Conflict(
            "this Idempotency-Key was used with a different body".into(),
        ));
    }
    Ok(answer(&stored, 201))
}

/// `GET` / `PUT /admin/sites/{site}/queues/{queue}/request-notify` (`{"email": ".." | null}`):
/// the address the queue's request notices go to instead of every member.
pub async fn notify(
    database: &D1Database,
    (site, queue): (&str, &str),
    body: Option<Value>,
) -> Result<Reply, ApiError> {
    if super::super::store::queues::get(database, site, queue)
        .await?
        .is_none()
    {
        return Err(ApiError::NotFound("queue".into()));
    }
    if let Some(body) = body {
        let email = match body.get("email") {
            None => return Err(ApiError::field("email", "is required (null removes it)")),
            Some(Value::Null) => None,
            Some(Value::String(e)) => Some(
                dynchat_scheduling::EmailAddress::parse(e.trim(), "email")
                    .map_err(|e| ApiError::field("email", e.to_string()))?
                    .to_string(),
            ),
            Some(_) => return Err(ApiError::field("email", "must be an address or null")),
        };
        if let Some(k) = body
            .as_object()
            .and_then(|o| o.keys().find(|k| k.as_str() != "email"))
        {
            return Err(ApiError::field(
                k.chars()
                    .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .take(64)
                    .collect::<String>(),
                "unknown field",
            ));
        }
        store::set_notify_address(database, (site, queue), email.as_deref(), db::real_now())
            .await?;
    }
    let email = store::notify_address(database, site, queue).await?;
    Ok(Reply::json(200, json!({"queue": queue, "email": email})))
}

/// `GET /admin/sites/{site}/meeting-requests`: the newest requests.
pub async fn list(database: &D1Database, site: &str) -> Result<Reply, ApiError> {
    let rows = store::list(database, site).await?;
    Ok(Reply::json(200, json!({"requests": rows})))
}
