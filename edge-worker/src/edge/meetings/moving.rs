//! A visitor's move of their meeting (the reschedule link), run by the route's `QueueRouter`
//! one at a time with its bookings: the same agent, their calendar read again for the new
//! time, the move stored by one conditional D1 statement (no overlap with the agent's other
//! meetings, and only at the link's sequence), the calendar event moved (Google and Graph:
//! patched, so the Meet or Teams meeting stays; CalDAV: removed and made again with the same
//! UID), the video link kept, the visitor's iCalendar update (`SEQUENCE` + 1, new links) and
//! the agent's notice through the mail outbox, and the Marketo activity with the new time.

use super::super::db;
use super::super::store::{self, meetings::MoveWrite};
use super::agents::{
    agent_time, connection, mark_disconnected, one_agent, store_rotated_token, Agent, AgentTime,
};
use super::changed::{send_changed, Changed, Extra};
use super::config::provider_config;
use super::invitation::{new_event, template_for, visitor_links_text, Attendance};
use super::router_protocol::{Booked, MoveJob, RouterAnswer, RouterError, RouterReply};
use crate::calendar::client::{around, CalFailure, CalendarProvider, ProviderConfig};
use crate::calendar::{Created, Provider};
use crate::error::ApiError;
use crate::meetings::{self};
use chrono::Duration;
use dynchat_scheduling::Slot;
use sha2::{Digest, Sha256};
use worker::{D1Database, Env};

/// Runs a move; every failure becomes the router's typed error (and is logged).
pub async fn run_move_job(env: &Env, job: MoveJob) -> RouterReply {
    match move_job(env, &job).await {
        Ok(reply) => reply,
        Err(e) => {
            worker::console_error!("move of {}: {e}", job.meeting);
            Err(RouterError::from(e))
        }
    }
}

/// The provider ids of the event made for `sequence` (Google never takes a deleted event's
/// id again; Graph keys its idempotency on the transaction id).
fn moved_ids(uid: &str, sequence: i64) -> (String, String) {
    let d = Sha256::digest(format!("{uid}\0{sequence}").as_bytes());
    let hex: String = d.iter().map(|b| format!("{b:02x}")).collect();
    (format!("dc{}", &hex[..40]), meetings::guid(&hex))
}

pub(super) struct EventParts<'a> {
    pub uid: &'a str,
    pub visitor_name: &'a str,
    pub visitor_email: &'a str,
    /// The meeting's route (`queue:<id>`: the queue's invitation texts).
    pub route: &'a str,
    pub tz: chrono_tz::Tz,
}

impl<'a> EventParts<'a> {
    /// The parts of meeting `m`'s event, its times shown in `tz`.
    pub(super) fn of(m: &'a store::meetings::MeetingRow, tz: chrono_tz::Tz) -> Self {
        EventParts {
            uid: &m.uid,
            visitor_name: m.visitor_name(),
            visitor_email: &m.lead_email,
            route: &m.route,
            tz,
        }
    }
}

/// Makes the event at `slot` for `sequence` (its provider ids and its iCalendar `SEQUENCE`).
pub(super) async fn make_event(
    env: &Env,
    database: &D1Database,
    cfg: &ProviderConfig,
    (site, agent): (&str, &Agent),
    p: &EventParts<'_>,
    (slot, sequence): (&Slot, i64),
) -> Result<Created, CalFailure> {
    let ids = moved_ids(p.uid, sequence);
    make_event_as(env, database, cfg, (site, agent), p, (slot, sequence), ids).await
}

/// Makes the event at `slot` with the provider ids `ids`; a CalDAV resource carries
/// `SEQUENCE:sequence`, the one of the visitor's last mail.
async fn make_event_as(
    env: &Env,
    database: &D1Database,
    cfg: &ProviderConfig,
    (site, agent): (&str, &Agent),
    p: &EventParts<'_>,
    (slot, sequence): (&Slot, i64),
    ids: (String, String),
) -> Result<Created, CalFailure> {
    let tpl = template_for(database, site, p.route)
        .await
        .map_err(|e| CalFailure::Failed(e.to_string()))?;
    let conn = match connection(env, site, agent) {
        Ok(Some(c)) => c,
        Ok(None) => return Err(CalFailure::Disconnected("no calendar connected".into())),
        Err(e) => return Err(CalFailure::Failed(e.to_string())),
    };
    let mut e = new_event(
        &tpl,
        &Attendance {
            uid: p.uid,
            agent,
            visitor_name: p.visitor_name,
            visitor_email: p.visitor_email,
            slot: *slot,
            tz: p.tz,
            video: None,
        },
        &meetings::video_plan(&agent.settings, agent.provider),
        ids,
    );
    e.sequence = u32::try_from(sequence).unwrap_or(0);
    let r = conn.create(cfg, &e).await;
    store_rotated_token(env, database, site, agent, &conn).await;
    if let Err(CalFailure::Disconnected(reason)) = &r {
        mark_disconnected(database, site, &agent.id, reason).await;
    }
    r
}

/// Moves a Google or Graph event by patching it (the same event, its conference kept);
/// answers the event id and its video link after the move.
async fn patch_event(
    env: &Env,
    database: &D1Database,
    cfg: &ProviderConfig,
    (site, agent): (&str, &Agent),
    event_id: &str,
    (slot, body): (&Slot, Option<&str>),
) -> Result<Created, CalFailure> {
    let conn = match connection(env, site, agent) {
        Ok(Some(c)) => c,
        Ok(None) => return Err(CalFailure::Disconnected("no calendar connected".into())),
        Err(e) => return Err(CalFailure::Failed(e.to_string())),
    };
    let r = conn
        .move_to(cfg, event_id, (slot.start, slot.end), body)
        .await;
    store_rotated_token(env, database, site, agent, &conn).await;
    if let Err(CalFailure::Disconnected(reason)) = &r {
        mark_disconnected(database, site, &agent.id, reason).await;
    }
    r.map(|video| Created {
        id: event_id.to_string(),
        video,
    })
}

/// The body of a moved Graph event: the template's text and the visitor's new links.
async fn graph_body(
    env: &Env,
    database: &D1Database,
    job: &MoveJob,
    (agent, p): (&Agent, &EventParts<'_>),
    (slot, sequence): (&Slot, i64),
) -> Result<String, ApiError> {
    let tpl = template_for(database, &job.site, p.route).await?;
    let e = new_event(
        &tpl,
        &Attendance {
            uid: p.uid,
            agent,
            visitor_name: p.visitor_name,
            visitor_email: p.visitor_email,
            slot: *slot,
            tz: p.tz,
            video: None,
        },
        &meetings::video_plan(&agent.settings, agent.provider),
        (String::new(), String::new()),
    );
    let links = visitor_links_text(
        env,
        &job.links_base,
        &job.site,
        &job.meeting,
        sequence,
        slot,
    )?;
    Ok(format!("{}{links}", e.description))
}

async fn move_job(env: &Env, job: &MoveJob) -> Result<RouterReply, ApiError> {
    let database = db::database(env)?;
    let site = job.site.as_str();
    let m = store::meetings::by_id(&database, site, &job.meeting)
        .await?
        .ok_or_else(|| ApiError::NotFound("meeting".into()))?;
    if m.status != "scheduled" || m.sequence != job.sequence {
        return Ok(Err(RouterError::Conflict {
            message: "this link was already used".into(),
        }));
    }
    let agent = one_agent(&database, site, &m.agent).await?;
    let now = meetings::from_ms(db::now(env, &database).await?);
    let slot = Slot {
        start: job.start,
        end: job.start + Duration::minutes(i64::from(agent.settings.meeting_minutes())),
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
        if meetings::free_slot(&agent.settings, b, slot.start, now) == Some(slot));
    if !free {
        return Ok(Err(RouterError::Busy));
    }
    let at = db::real_now();
    let (start_ms, end_ms) = (slot.start.timestamp_millis(), slot.end.timestamp_millis());
    let moved = store::meetings::move_meeting(
        &database,
        &MoveWrite {
            site,
            id: &m.id,
            agent: &agent.id,
            sequence: job.sequence,
            start_ms,
            end_ms,
            free_from: start_ms - i64::from(before) * 60_000,
            free_to: end_ms + i64::from(after) * 60_000,
            now: at,
        },
    )
    .await?;
    if !moved {
        return Ok(Err(RouterError::Busy));
    }
    let sequence = job.sequence + 1;
    let tz = dynchat_scheduling::parse_tz(&m.tz, "tz").unwrap_or(chrono_tz::UTC);
    let parts = EventParts::of(&m, tz);
    // Google and Graph: the event is patched (same id, its Meet or Teams meeting kept). CalDAV
    // (and an event we do not know): the old one removed (a CalDAV resource is named by the
    // UID), the new one made.
    let patchable = matches!(agent.provider, Some(Provider::Google | Provider::Graph))
        && agent.provider == Provider::parse(&m.provider);
    let (made, was_removed) = match (m.event_id.as_deref(), patchable) {
        (Some(old), true) => {
            // Graph mails the update from the event's body: the new links go there.
            let body = match agent.provider {
                Some(Provider::Graph) => Some(
                    graph_body(env, &database, job, (&agent, &parts), (&slot, sequence)).await?,
                ),
                _ => None,
            };
            (
                patch_event(
                    env,
                    &database,
                    &cfg,
                    (site, &agent),
                    old,
                    (&slot, body.as_deref()),
                )
                .await,
                false,
            )
        }
        (old, _) => {
            let removed = match (connection(env, site, &agent)?, old) {
                (Some(conn), Some(old)) => conn.cancel(&cfg, old, "Moved").await,
                (None, _) => Err(CalFailure::Disconnected("no calendar connected".into())),
                (Some(_), None) => Ok(()),
            };
            let was_removed = removed.is_ok();
            let made = match removed {
                Ok(()) => {
                    make_event(
                        env,
                        &database,
                        &cfg,
                        (site, &agent),
                        &parts,
                        (&slot, sequence),
                    )
                    .await
                }
                Err(e) => Err(e),
            };
            (made, was_removed)
        }
    };
    let made = match made {
        Ok(made) => made,
        Err(e) => {
            // Put the meeting back; its link works again. The old event is made again when it
            // was removed (best effort: the calendar just failed).
            store::meetings::unmove_meeting(
                &database,
                site,
                &m.id,
                (m.start_ms, m.end_ms),
                job.sequence,
            )
            .await?;
            let old = Slot {
                start: meetings::from_ms(m.start_ms),
                end: meetings::from_ms(m.end_ms),
            };
            // New provider ids (Google never takes a deleted event's id again), the
            // meeting's own sequence.
            let restored = if was_removed {
                make_event_as(
                    env,
                    &database,
                    &cfg,
                    (site, &agent),
                    &parts,
                    (&old, job.sequence),
                    moved_ids(&m.uid, sequence + 1_000),
                )
                .await
                .map(Some)
            } else {
                Ok(None)
            };
            match restored {
                Ok(Some(again)) => {
                    let video = m.video_url.clone().or(again.video);
                    store::meetings::set_event(
                        &database,
                        site,
                        &m.id,
                        (&again.id, video.as_deref()),
                    )
                    .await?
                }
                Ok(None) => {}
                Err(again) => {
                    worker::console_error!("meeting {}: old event not restored: {again}", m.id)
                }
            }
            return Ok(Err(RouterError::Failed {
                message: format!("the calendar event could not be moved: {e}"),
            }));
        }
    };
    // The link stays: the patched event's (or the one we had), else the agent's plan.
    let video = meetings::video_plan(&agent.settings, agent.provider)
        .link(made.video.or_else(|| m.video_url.clone()));
    store::meetings::set_event(&database, site, &m.id, (&made.id, video.as_deref())).await?;

    // The visitor's update (SEQUENCE + 1, the same UID, new links), the agent's notice and the
    // Marketo activity with the new time.
    let provider = Provider::parse(&m.provider).unwrap_or(Provider::Caldav);
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
            provider_sends: provider.sends_invitations(),
            at,
        },
        Extra::default(),
    )
    .await?;
    Ok(Ok(RouterAnswer::Moved {
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
