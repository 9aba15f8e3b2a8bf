//! An admin's reassignment of a queue meeting to another agent of the queue,
//! `POST /admin/sites/{site}/meetings/{id}/reassign {"agent": "<id>"}`: run by the queue's
//! `QueueRouter` one at a time with its bookings. The new agent's calendar is read for the
//! meeting's time (buffers as a booking), the change stored by one conditional D1 statement
//! (no overlap with the new agent's meetings, only at the sequence read), the event made on the
//! new agent's calendar (video link per their plan) and removed from the old one's, the
//! visitor's iCalendar update (`SEQUENCE` + 1, same UID, the new agent, new links), the new
//! agent's notice and the old agent's (an iCalendar `CANCEL`) through the mail outbox, an
//! assignment-log row (`reassigned`, who did it), the queue's rotation (the meeting counts for
//! the new agent, no longer for the old one) and the Marketo activity again, in one batch.

use super::super::db;
use super::super::guard;
use super::super::reply::{json_body, Reply};
use super::super::store::{self, meetings::ReassignWrite};
use super::agents::{agent_time, connection, one_agent, queue_state, AgentTime};
use super::changed::{send_changed, Changed, Extra};
use super::config::{mail_from, provider_config, public_url};
use super::invitation::{agent_cancellation_mail, replaced_mail, template_for, Attendance};
use super::moving::{make_event, EventParts};
use super::router_client;
use super::router_protocol::{Booked, ReassignJob, RouterAnswer, RouterError, RouterReply};
use crate::auth::Principal;
use crate::calendar::client::{around, CalendarProvider};
use crate::calendar::Provider;
use crate::error::ApiError;
use crate::meetings::{self, Route};
use dynchat_scheduling::{AgentId, Slot};
use serde_json::{json, Value};
use worker::{D1Database, D1PreparedStatement, Env, Request};

const MAX_BODY: usize = 4096;

/// The agents of the queue a meeting's route names; `None` when it is not a queue route.
async fn queue_agents(
    database: &D1Database,
    site: &str,
    route: &str,
) -> Result<Option<Vec<String>>, ApiError> {
    let Some(queue) = route.strip_prefix("queue:") else {
        return Ok(None);
    };
    Ok(store::queues::get(database, site, queue)
        .await?
        .map(|q| serde_json::from_str::<Vec<String>>(&q.agents).unwrap_or_default()))
}

/// `POST /admin/sites/{site}/meetings/{id}/reassign`: checks the request, then asks the
/// queue's router.
pub async fn reassign_route(
    req: &mut Request,
    env: &Env,
    database: &D1Database,
    site: &str,
    id: &str,
) -> Result<Reply, ApiError> {
    let v = json_body(req, MAX_BODY).await?;
    let o = v
        .as_object()
        .ok_or_else(|| ApiError::field("$", "must be an object"))?;
    if let Some(k) = o.keys().find(|k| k.as_str() != "agent") {
        return Err(ApiError::field(
            k.chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect::<String>(),
            "unknown field",
        ));
    }
    let agent = o
        .get("agent")
        .and_then(Value::as_str)
        .filter(|a| crate::validate::valid_id(a))
        .ok_or_else(|| ApiError::field("agent", "is required (an agent id)"))?;
    let m = store::meetings::by_id(database, site, id)
        .await?
        .ok_or_else(|| ApiError::NotFound("meeting".into()))?;
    let Some(members) = queue_agents(database, site, &m.route).await? else {
        return Err(ApiError::field(
            "agent",
            "this meeting was not booked through a queue; it cannot be reassigned",
        ));
    };
    if m.status != "scheduled" {
        return Err(ApiError::Conflict("the meeting is not scheduled".into()));
    }
    if !members.iter().any(|a| a == agent) {
        return Err(ApiError::field(
            "agent",
            "is not an agent of the meeting's queue",
        ));
    }
    if agent == m.agent {
        return Err(ApiError::field("agent", "already has this meeting"));
    }
    let by = match guard::principal(req, env, database, &worker::Method::Post).await {
        Ok(Principal::Account { email, .. }) => email,
        _ => "token".to_string(),
    };
    let links_base = match public_url(env) {
        b if !b.is_empty() => b,
        _ => req
            .url()
            .map(|u| u.origin().ascii_serialization())
            .unwrap_or_default(),
    };
    let job = ReassignJob {
        site: site.to_string(),
        meeting: m.id.clone(),
        agent: agent.to_string(),
        by,
        links_base,
    };
    let route = Route::parse(&m.route, "route")?;
    let request = super::router_protocol::RouterRequest::Reassign(job);
    match router_client::call(env, site, &route, &request).await? {
        Ok(RouterAnswer::Reassigned { meeting, .. }) => {
            Ok(Reply::json(200, serde_json::to_value(meeting)?))
        }
        Err(RouterError::Busy) => Err(ApiError::Conflict(format!(
            "agent {agent} is not free at the meeting's time"
        ))),
        Err(RouterError::Conflict { message }) => Err(ApiError::Conflict(message)),
        Err(RouterError::Failed { message }) => Err(ApiError::Upstream(message)),
        Ok(_) | Err(RouterError::SlotTaken { .. }) => {
            Err(ApiError::Upstream("unexpected router answer".into()))
        }
    }
}

/// Runs a reassignment; every failure becomes the router's typed error (and is logged).
pub async fn run_reassign_job(env: &Env, job: ReassignJob) -> RouterReply {
    match reassign_job(env, &job).await {
        Ok(reply) => reply,
        Err(e) => {
            worker::console_error!("reassignment of {}: {e}", job.meeting);
            Err(RouterError::from(e))
        }
    }
}

async fn reassign_job(env: &Env, job: &ReassignJob) -> Result<RouterReply, ApiError> {
    let database = db::database(env)?;
    let site = job.site.as_str();
    let m = store::meetings::by_id(&database, site, &job.meeting)
        .await?
        .ok_or_else(|| ApiError::NotFound("meeting".into()))?;
    if m.status != "scheduled" {
        return Ok(Err(RouterError::Conflict {
            message: "the meeting is not scheduled".into(),
        }));
    }
    // The queue may have changed since the request was checked (reorders run here too).
    let members = queue_agents(&database, site, &m.route)
        .await?
        .unwrap_or_default();
    if !members.contains(&job.agent) || job.agent == m.agent {
        return Ok(Err(RouterError::Conflict {
            message: "the agent is no longer in the meeting's queue".into(),
        }));
    }
    let old_agent = one_agent(&database, site, &m.agent).await?;
    let agent = one_agent(&database, site, &job.agent).await?;
    let now = meetings::from_ms(db::now(env, &database).await?);
    let slot = Slot {
        start: meetings::from_ms(m.start_ms),
        end: meetings::from_ms(m.end_ms),
    };
    let (before, after) = (
        agent.settings.buffer_before_minutes(),
        agent.settings.buffer_after_minutes(),
    );
    let cfg = provider_config(env);
    let seen = agent_time(
        env,
        &database,
        &cfg,
        site,
        &agent,
        around(slot.start, slot.end, before, after),
        false,
    )
    .await;
    let free = matches!(&seen, AgentTime::Known(b)
        if meetings::free_slot(&agent.settings, b, slot.start, now).is_some_and(|s| s.start == slot.start));
    if !free {
        return Ok(Err(RouterError::Busy));
    }
    let at = db::real_now();
    let provider = agent.provider.map(Provider::as_str).unwrap_or("caldav");
    let changed = store::meetings::reassign_meeting(
        &database,
        &ReassignWrite {
            site,
            id: &m.id,
            from: &m.agent,
            to: &agent.id,
            provider,
            sequence: m.sequence,
            free_from: m.start_ms - i64::from(before) * 60_000,
            free_to: m.end_ms + i64::from(after) * 60_000,
            now: at,
        },
    )
    .await?;
    if !changed {
        return Ok(Err(RouterError::Busy));
    }
    let sequence = m.sequence + 1;
    let tz = dynchat_scheduling::parse_tz(&m.tz, "tz").unwrap_or(chrono_tz::UTC);
    let parts = EventParts::of(&m, tz);
    // The new agent's event first: when it cannot be made, the meeting stays the old agent's.
    let made = match make_event(
        env,
        &database,
        &cfg,
        (site, &agent),
        &parts,
        (&slot, sequence),
    )
    .await
    {
        Ok(made) => made,
        Err(e) => {
            store::meetings::unreassign_meeting(
                &database,
                site,
                &m.id,
                (&m.agent, &m.provider),
                m.sequence,
            )
            .await?;
            return Ok(Err(RouterError::Failed {
                message: format!("the event could not be made on the new agent's calendar: {e}"),
            }));
        }
    };
    // The old agent's event removed (best effort: the meeting is the new agent's already).
    // Graph mails the attendees of a meeting its organizer cancels or deletes (a change of
    // attendees too): the visitor's copy of a Graph meeting is Graph's (its own UID), so that
    // cancellation is what takes it off their calendar, and its comment says why.
    if let Some(old) = m.event_id.as_deref() {
        let comment = format!(
            "This meeting now is with {} at the same time; their invitation follows.",
            agent.name
        );
        let removed = match connection(env, site, &old_agent)? {
            Some(conn) => conn.cancel(&cfg, old, &comment).await,
            None => Ok(()),
        };
        if let Err(e) = removed {
            worker::console_error!("meeting {}: old agent's event not removed: {e}", m.id);
        }
    }
    let video = meetings::video_plan(&agent.settings, agent.provider).link(made.video);
    store::meetings::set_event(&database, site, &m.id, (&made.id, video.as_deref())).await?;

    // The assignment log, and the rotation: the meeting counts for the new agent now, no
    // longer for the old one.
    let reason = json!({"kind": "reassigned", "by": job.by, "from": m.agent}).to_string();
    let mut statements = vec![store::meetings::log_assignment(
        &database,
        &store::meetings::LogWrite {
            site,
            route: &m.route,
            meeting: Some(&m.id),
            slot_start: m.start_ms,
            slot_end: m.end_ms,
            next_in_line: None,
            chosen: Some(&agent.id),
            skipped: "[]",
            reason: &reason,
            outcome: "reassigned",
            routed: None,
            at,
        },
    )?];
    statements.extend(recount(&database, site, &m.route, (&m.agent, &agent.id)).await?);
    // The meeting as the old agent and the visitor's copy of ours knew it.
    let old = Attendance {
        uid: &m.uid,
        agent: &old_agent,
        visitor_name: m.visitor_name(),
        visitor_email: &m.lead_email,
        slot,
        tz,
        video: m.video_url.as_deref(),
    };
    // The old agent's notice (an iCalendar CANCEL of the meeting their notification announced).
    let released = agent_cancellation_mail(&old, Some(&agent.name), &mail_from(env), sequence)?;
    let mut mails = vec![released];
    // A Graph agent's invitation has Graph's own UID: the copy ours put in the visitor's
    // calendar is cancelled (Graph's copy, when the old agent was on Graph, Graph cancelled).
    let new_sends = agent
        .provider
        .unwrap_or(Provider::Caldav)
        .sends_invitations();
    let old_sends = Provider::parse(&m.provider).is_some_and(Provider::sends_invitations);
    if new_sends && !old_sends {
        let tpl = template_for(&database, site, &m.route).await?;
        mails.push(replaced_mail(
            &tpl,
            &old,
            &agent.name,
            &mail_from(env),
            sequence,
        )?);
    }
    // The visitor's update (SEQUENCE + 1, the same UID, the new agent, new links; Graph's
    // invitation instead for a Graph agent), the new agent's notice, the Marketo activity with
    // the new agent.
    let mail = send_changed(
        env,
        &database,
        &Changed {
            site,
            meeting: &m,
            agent: &agent,
            slot,
            tz,
            video: video.as_deref(),
            sequence,
            links_base: &job.links_base,
            provider_sends: new_sends,
            at,
        },
        Extra { mails, statements },
    )
    .await?;
    Ok(Ok(RouterAnswer::Reassigned {
        meeting: Booked {
            meeting: m.id.clone(),
            agent: agent.name.clone(),
            start: meetings::iso(slot.start),
            end: meetings::iso(slot.end),
            video,
        },
        mail,
    }))
}

/// The statement moving a reassigned meeting's count in its queue's rotation from agent
/// `from` to agent `to` (run in the queue's router, so no booking commits in between); none
/// when the queue is gone or neither agent is in its rotation.
async fn recount(
    database: &D1Database,
    site: &str,
    route: &str,
    (from, to): (&str, &str),
) -> Result<Option<D1PreparedStatement>, ApiError> {
    let Some(queue) = route.strip_prefix("queue:") else {
        return Ok(None);
    };
    let Some(row) = store::queues::get(database, site, queue).await? else {
        return Ok(None);
    };
    let mut rotation = queue_state(&row)?;
    if !rotation.reassign(&AgentId(from.to_string()), &AgentId(to.to_string())) {
        return Ok(None);
    }
    Ok(Some(store::queues::set_rotation(
        database,
        site,
        queue,
        rotation.last.as_ref().map(|a| a.0.as_str()),
        &rotation.to_json(),
    )?))
}
