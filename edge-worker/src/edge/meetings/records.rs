//! What happened: the assignment log, the meetings list, and an admin's cancel / no-show of a
//! meeting (the cancellation goes to the visitor straight away, or through the outbox; the
//! agent's notice through the outbox; the queue's rotation is told, so an uncounted meeting is given back; Marketo gets the meeting's
//! activity with `status: cancelled`).

use super::super::db;
use super::super::reply::Reply;
use super::super::store::{self, meeting_activity as activity, meetings::MeetingRow};
use super::agents::{connection, mark_disconnected, one_agent};
use super::config::{mail_from, provider_config, smtp};
use super::invitation::{agent_cancellation_mail, cancellation_mail, template_for, Attendance};
use super::mail_outbox::{kick_mail, outbox_stmt};
use super::query::query_map;
use super::queues::uncount_meeting;
use crate::calendar::client::{CalFailure, CalendarProvider};
use crate::calendar::Provider;
use crate::error::ApiError;
use crate::mail::smtp::MailSender;
use crate::meetings::{self, Route};
use dynchat_scheduling::{Outcome, Slot};
use serde_json::{json, Value};
use worker::{D1Database, Env, Request};

/// `GET /admin/sites/{site}/assignments?route=&limit=`: the assignment log, oldest first.
pub async fn assignments(
    req: &Request,
    database: &D1Database,
    site: &str,
) -> Result<Reply, ApiError> {
    let q = query_map(req)?;
    let route = q.get("route").cloned();
    let limit = q
        .get("limit")
        .and_then(|l| l.parse::<i64>().ok())
        .unwrap_or(500)
        .clamp(1, 5000);
    let rows = store::meetings::assignments(database, site, route.as_deref(), limit).await?;
    let list: Vec<Value> = rows
        .into_iter()
        .map(|r| {
            json!({"id": r.id, "route": r.route, "meeting": r.meeting, "start": meetings::iso(meetings::from_ms(r.slot_start)), "end": meetings::iso(meetings::from_ms(r.slot_end)),
                   "next_in_line": r.next_in_line, "chosen": r.chosen, "skipped": serde_json::from_str::<Value>(&r.skipped).unwrap_or(Value::Null), "reason": r.reason.as_deref().and_then(|x| serde_json::from_str::<Value>(x).ok()), "outcome": r.outcome,
                   "routed": r.routed.as_deref().and_then(|x| serde_json::from_str::<Value>(x).ok()), "at": r.at})
        })
        .collect();
    Ok(Reply::json(200, json!({"assignments": list})))
}

fn meeting_json(m: &MeetingRow, now: i64) -> Value {
    json!({
        "id": m.id, "lead_email": m.lead_email, "lead_name": m.lead_name,
        "lead": serde_json::from_str::<Value>(&m.lead_fields).unwrap_or(Value::Null),
        "agent": {"id": m.agent, "name": m.agent_name}, "route": m.route,
        "start": meetings::iso(meetings::from_ms(m.start_ms)), "end": meetings::iso(meetings::from_ms(m.end_ms)), "tz": m.tz,
        "dialogue": m.dialogue, "session": m.session,
        "status": meetings::shown_status(&m.status, m.end_ms, now), "provider": m.provider,
        "invitation": m.invite_status, "agent_notified": m.notify_status, "created_at": m.created_at, "video": m.video_url,
    })
}

/// `GET /admin/sites/{site}/meetings?status=`.
pub async fn list_meetings(
    req: &Request,
    env: &Env,
    database: &D1Database,
    site: &str,
) -> Result<Reply, ApiError> {
    let q = query_map(req)?;
    let now = db::now(env, database).await?;
    let rows = store::meetings::listed(database, site).await?;
    let want = q.get("status").cloned();
    let list: Vec<Value> = rows
        .iter()
        .map(|m| meeting_json(m, now))
        .filter(|v| want.as_deref().is_none_or(|w| v["status"] == w))
        .collect();
    Ok(Reply::json(200, json!({"meetings": list})))
}

/// `POST /admin/sites/{site}/meetings/{id}/no-show`; the queue's rotation is told (a no-show
/// may not count, by the queue's fairness options).
pub async fn no_show(
    env: &Env,
    database: &D1Database,
    site: &str,
    id: &str,
) -> Result<Reply, ApiError> {
    let changed = store::meetings::mark_no_show(database, site, id, db::real_now()).await?;
    if changed == 0 {
        // Another site's meeting (or none) is not found here; this site's, not scheduled, is a
        // conflict.
        return Err(match store::meetings::by_id(database, site, id).await? {
            None => ApiError::NotFound("meeting".into()),
            Some(_) => {
                ApiError::Conflict("only a scheduled meeting can be marked as a no-show".into())
            }
        });
    }
    if let Some(m) = store::meetings::by_id(database, site, id).await? {
        if let Ok(route) = Route::parse(&m.route, "route") {
            uncount_meeting(env, site, &route, &m.agent, Outcome::NoShow).await;
        }
    }
    Ok(Reply::json(
        200,
        json!({"meeting": id, "status": "no_show"}),
    ))
}

/// `POST /admin/sites/{site}/meetings/{id}/cancel`: removes the event from the agent's
/// calendar and sends the visitor the cancellation.
pub async fn cancel_meeting(
    env: &Env,
    database: &D1Database,
    site: &str,
    id: &str,
) -> Result<Reply, ApiError> {
    let m = store::meetings::by_id(database, site, id)
        .await?
        .ok_or_else(|| ApiError::NotFound("meeting".into()))?;
    if m.status != "scheduled" {
        return Err(ApiError::Conflict(format!(
            "the meeting is {}, not scheduled",
            m.status
        )));
    }
    let (provider_status, invite) = cancel_row(env, database, site, &m, m.sequence + 1).await?;
    Ok(Reply::json(
        200,
        json!({"meeting": id, "status": "cancelled", "calendar": provider_status, "cancellation": invite}),
    ))
}

/// Cancels a scheduled meeting (the admin's action, or the visitor's link): the event removed
/// from the agent's calendar, the visitor's iCalendar `CANCEL` at `sequence` sent (or left to
/// the provider), the agent's notice (`CANCEL` at `sequence` too) queued in the mail outbox,
/// the meeting marked, the rotation told. Answers the calendar's and the cancellation's states.
pub async fn cancel_row(
    env: &Env,
    database: &D1Database,
    site: &str,
    m: &MeetingRow,
    sequence: i64,
) -> Result<(String, String), ApiError> {
    let id = m.id.as_str();
    let agent = one_agent(database, site, &m.agent).await?;
    let cfg = provider_config(env);
    let mut provider_status = "not_connected".to_string();
    if let (Some(conn), Some(event_id)) = (connection(env, site, &agent)?, m.event_id.as_deref()) {
        provider_status = match conn.cancel(&cfg, event_id, "Cancelled").await {
            Ok(()) => "cancelled".into(),
            Err(e) => {
                if let CalFailure::Disconnected(reason) = &e {
                    mark_disconnected(database, site, &agent.id, reason).await;
                }
                format!("failed: {e}")
            }
        };
    }
    let tpl = template_for(database, site, &m.route).await?;
    let tz = dynchat_scheduling::parse_tz(&m.tz, "tz").unwrap_or(chrono_tz::UTC);
    let attendance = Attendance {
        uid: &m.uid,
        agent: &agent,
        visitor_name: m.visitor_name(),
        visitor_email: &m.lead_email,
        slot: Slot {
            start: meetings::from_ms(m.start_ms),
            end: meetings::from_ms(m.end_ms),
        },
        tz,
        video: m.video_url.as_deref(),
    };
    let from_addr = mail_from(env);
    // The agent's notice always goes through the outbox (delivered by the route's router).
    let mut queued = vec![agent_cancellation_mail(
        &attendance,
        None,
        &from_addr,
        sequence,
    )?];
    let provider = Provider::parse(&m.provider);
    let invite = if provider.is_some_and(Provider::sends_invitations) {
        "by_provider".to_string()
    } else {
        let out = cancellation_mail(&tpl, &attendance, &from_addr, sequence)?;
        // Straight away when the relay answers; otherwise through the outbox, retried by the
        // route's router until it is accepted.
        match smtp(env)
            .send(&from_addr, &[&m.lead_email], &out.message)
            .await
        {
            Ok(()) => "sent".into(),
            Err(e) => {
                queued.push(out);
                format!("retrying ({e})")
            }
        }
    };
    let now = db::real_now();
    let st = queued
        .iter()
        .map(|out| outbox_stmt(database, (site, id), &from_addr, out, now))
        .collect::<Result<Vec<_>, _>>()?;
    db::batch(database, st).await?;
    store::meetings::mark_cancelled(
        database,
        site,
        id,
        sequence,
        &format!("cancel {invite}"),
        db::real_now(),
    )
    .await?;
    if let Ok(route) = Route::parse(&m.route, "route") {
        kick_mail(env, site, &route).await;
        uncount_meeting(env, site, &route, &m.agent, Outcome::Cancelled).await;
    }
    cancel_activity(env, database, site, m, &agent.name).await?;
    Ok((provider_status, invite))
}

/// Marketo: the meeting's `dynchat_meeting` activity again, with `status: cancelled`, through
/// the activity outbox like the booking's (nothing when the visitor has no lead row).
async fn cancel_activity(
    env: &Env,
    database: &D1Database,
    site: &str,
    m: &MeetingRow,
    agent_name: &str,
) -> Result<(), ApiError> {
    let start = meetings::iso(meetings::from_ms(m.start_ms));
    let Some(st) = activity::meeting_again(
        database,
        m,
        (site, agent_name, &start),
        Some("cancelled"),
        db::real_now(),
    )
    .await?
    else {
        return Ok(());
    };
    db::batch(database, vec![st]).await?;
    if let Err(e) = crate::edge::wake::send(env, "activity").await {
        worker::console_error!("meeting {}: queue send failed: {e}", m.id);
    }
    Ok(())
}
