//! The booking, run by the route's `QueueRouter` one at a time: the rotation (through
//! `dynchat_scheduling`'s [`Assigning`]) decides who is asked and who gets the meeting; this
//! job answers for each agent asked, for their own meeting length from the booked start
//! (agents of one queue may have different lengths): re-check their calendar, hold the slot in
//! D1 so no other route can take the same agent, create the event. Then it sends the invitation through the
//! outbox, records the meeting and its assignment (with the decision's reason), and only then
//! commits the decision to the queue's stored rotation state (weights and fairness included).

use super::super::db;
use super::super::site::Site;
use super::super::store::{self, meeting_activity as activity, meetings::LogWrite};
use super::agents::{
    agent_time, connection, mark_disconnected, rotation_agents, route_rotation,
    store_rotated_token, Agent, AgentTime,
};
use super::config::{mail_from, provider_config};
use super::invitation::{
    booking_mails, new_event, template_for, visitor_links_text, Attendance, TemplateRow,
};
use super::mail_outbox::outbox_stmt;
use super::replay::replay;
use super::router_protocol::{AgentNote, BookJob, Booked, RouterAnswer, RouterError, RouterReply};
use crate::calendar::client::{around, CalFailure, CalendarProvider, ProviderConfig};
use crate::calendar::{Created, Provider};
use crate::error::ApiError;
use crate::marketo::mapping;
use crate::meetings::{self, BookingIds, Route};
use chrono::{DateTime, Duration, Utc};
use dynchat_scheduling::{AgentId, Availability, Slot};
use serde_json::{json, Map, Value};
use worker::{D1Database, D1PreparedStatement, Env};

/// Runs a booking; every failure becomes the router's typed error (and is logged).
pub async fn run_book_job(env: &Env, job: BookJob) -> RouterReply {
    match book_job(env, &job).await {
        Ok(reply) => reply,
        Err(e) => {
            worker::console_error!("booking {}: {e}", job.key);
            Err(RouterError::from(e))
        }
    }
}

/// Everything the per-agent step needs.
struct Attempt<'a> {
    env: &'a Env,
    database: &'a D1Database,
    cfg: &'a ProviderConfig,
    tpl: &'a TemplateRow,
    job: &'a BookJob,
    ids: &'a BookingIds,
    /// The start booked; each agent is asked for their own meeting length from it.
    start: DateTime<Utc>,
    now: DateTime<Utc>,
    /// The agent of a held meeting left by an interrupted earlier attempt with this key: only
    /// they are asked, without a new calendar read or hold.
    resume: Option<String>,
}

/// The slot an agent would hold at `start`: their own meeting length from it.
fn own_slot(agent: &Agent, start: DateTime<Utc>) -> Slot {
    Slot {
        start,
        end: start + Duration::minutes(i64::from(agent.settings.meeting_minutes())),
    }
}

/// The availability of the agent the rotation asks (for their own meeting length), found by
/// reading their calendar, holding the slot and creating the event; `Free` only once the
/// event exists (the agent, the event id and the slot in `created`).
async fn ask(
    a: &Attempt<'_>,
    agent: Option<&Agent>,
    id: &AgentId,
    notes: &mut Vec<AgentNote>,
    created: &mut Option<(Agent, Created, Slot)>,
) -> Result<Availability, ApiError> {
    if a.resume.as_ref().is_some_and(|r| r != &id.0) {
        return Ok(Availability::Unknown);
    }
    let Some(agent) = agent else {
        return Ok(Availability::Unknown);
    };
    let mut note = |why: String| {
        notes.push(AgentNote {
            agent: id.0.clone(),
            note: why,
        })
    };
    let slot = own_slot(agent, a.start);
    if a.resume.is_none() {
        let window = around(
            slot.start,
            slot.end,
            agent.settings.buffer_before_minutes(),
            agent.settings.buffer_after_minutes(),
        );
        let seen = agent_time(a.env, a.database, a.cfg, &a.job.site, agent, window, false).await;
        let avail = match seen {
            AgentTime::Known(b)
                if meetings::free_slot(&agent.settings, &b, a.start, a.now) == Some(slot) =>
            {
                Availability::Free
            }
            AgentTime::Known(_) => Availability::Busy,
            AgentTime::Unknown(why) => {
                note(why);
                Availability::Unknown
            }
            AgentTime::Disconnected(why) => {
                note(why);
                Availability::Disconnected
            }
        };
        if avail != Availability::Free {
            return Ok(avail);
        }
        // Hold: a conditional insert, atomic in D1, so two routes can never give the same
        // agent overlapping meetings even if both calendars still looked free. Lost: busy.
        if !hold(a.database, a.job, agent, a.ids, &slot).await? {
            return Ok(Availability::Busy);
        }
    }
    match create_event(a, agent, &slot).await {
        Ok(made) => {
            *created = Some((agent.clone(), made, slot));
            Ok(Availability::Free)
        }
        Err(e) => {
            note(format!("event not created: {e}"));
            store::meetings::release_hold(a.database, &a.job.site, &a.job.key).await?;
            Ok(if matches!(e, CalFailure::Disconnected(_)) {
                Availability::Disconnected
            } else {
                Availability::Unknown
            })
        }
    }
}

async fn book_job(env: &Env, job: &BookJob) -> Result<RouterReply, ApiError> {
    let database = db::database(env)?;
    let site = super::super::site::site(&database, &job.site).await?;
    let input = &job.input;
    let ids = meetings::booking_ids(&job.site, &job.key);
    let resume = match store::meetings::by_key(&database, &job.site, &job.key).await? {
        Some(m) if m.status != "pending" => {
            return Ok(Ok(RouterAnswer::Booked {
                meeting: replay(&m, &job.body_hash)?,
                created: false,
                mail: false,
            }))
        }
        Some(m) => {
            if m.body_hash != job.body_hash {
                return Err(ApiError::Conflict(
                    "this Idempotency-Key was used with a different body".into(),
                ));
            }
            Some(m.agent)
        }
        None => None,
    };
    let route = Route::parse(&input.route, "route")?;
    let rotation = route_rotation(&database, &job.site, &route).await?;
    let agents = rotation_agents(&database, &job.site, &rotation).await?;
    let now = meetings::from_ms(db::now(env, &database).await?);
    let cfg = provider_config(env);
    let tpl = template_for(&database, &job.site, &input.route).await?;
    let attempt = Attempt {
        env,
        database: &database,
        cfg: &cfg,
        tpl: &tpl,
        job,
        ids: &ids,
        start: input.start,
        now,
        resume,
    };

    let mut notes = Vec::new();
    let mut created: Option<(Agent, Created, Slot)> = None;
    // Account routing: the lead's owner (found by the routing rules among the queue's agents)
    // is asked before the rotation.
    let owner = job
        .routed
        .as_ref()
        .and_then(|r| r.owner.clone())
        .map(AgentId);
    let mut asking = rotation.assigning(input.start);
    if let Some(o) = &owner {
        asking = asking.owner_first(o);
    }
    while let Some(id) = asking.candidate() {
        let agent = agents.iter().find(|a| a.id == id.0);
        let availability = ask(&attempt, agent, id, &mut notes, &mut created).await?;
        asking.answer(availability);
    }
    let decision = asking.finish();
    let skipped = serde_json::to_string(&decision.skipped)?;
    let reason = serde_json::to_string(&decision.reason)?;
    let at = db::real_now();
    let routed = job.routed.as_ref().map(serde_json::to_string).transpose()?;
    let log = || LogWrite {
        site: &job.site,
        route: &input.route,
        meeting: None,
        slot_start: input.start.timestamp_millis(),
        slot_end: input.end.timestamp_millis(),
        next_in_line: decision.next_in_line.as_ref().map(|a| a.0.as_str()),
        chosen: None,
        skipped: &skipped,
        reason: &reason,
        outcome: "slot_taken",
        routed: routed.as_deref(),
        at,
    };
    let (Some(chosen), Some((agent, made, slot))) = (&decision.chosen, created) else {
        let st = store::meetings::log_assignment(&database, &log())?;
        db::batch(&database, vec![st]).await?;
        return Ok(Err(RouterError::SlotTaken {
            skipped: decision.skipped,
            notes,
        }));
    };
    debug_assert_eq!(chosen.0, agent.id);

    // Invitation (not for Graph: Graph mails attendees itself) and the agent's notification go
    // to the mail outbox in the same batch as the meeting; the router's alarm delivers them
    // right after this answer and retries while the relay is down or refuses.
    let tz = dynchat_scheduling::parse_tz(&input.tz, "tz")
        .map_err(|e| ApiError::field("tz", e.to_string()))?;
    let visitor_name = if input.name.is_empty() {
        input.email.clone()
    } else {
        input.name.clone()
    };
    let from_addr = mail_from(env);
    let provider = agent.provider.unwrap_or(Provider::Caldav);
    let links = visitor_links_text(env, &job.links_base, &job.site, &ids.meeting, 0, &slot)?;
    let video = meetings::video_plan(&agent.settings, agent.provider).link(made.video);
    let (mails, invite_status) = booking_mails(
        &tpl,
        &Attendance {
            uid: &ids.uid,
            agent: &agent,
            visitor_name: &visitor_name,
            visitor_email: &input.email,
            slot,
            tz,
            video: video.as_deref(),
        },
        &from_addr,
        provider.sends_invitations(),
        (0, &links),
    )?;

    // Record the meeting, the assignment, the Marketo activity; then advance the rotation.
    let mut st = vec![
        store::meetings::schedule(
            &database,
            &job.site,
            &job.key,
            (&made.id, video.as_deref()),
            invite_status,
            at,
        )?,
        store::meetings::log_assignment(
            &database,
            &LogWrite {
                meeting: Some(&ids.meeting),
                slot_end: slot.end.timestamp_millis(),
                chosen: Some(&agent.id),
                outcome: "booked",
                ..log()
            },
        )?,
    ];
    if let Route::Queue(q) = &route {
        let mut r = rotation.clone();
        r.commit(&decision);
        st.push(store::queues::set_rotation(
            &database,
            &job.site,
            q,
            r.last.as_ref().map(|a| a.0.as_str()),
            &r.to_json(),
        )?);
    }
    for m in &mails {
        st.push(outbox_stmt(
            &database,
            (&job.site, &ids.meeting),
            &from_addr,
            m,
            at,
        )?);
    }
    st.extend(marketo_statements(&database, &site, job, &ids.meeting, &agent, at).await?);
    db::batch(&database, st).await?;
    if let Err(e) = crate::edge::wake::send(env, "activity").await {
        worker::console_error!("meeting {}: queue send failed: {e}", ids.meeting);
    }
    Ok(Ok(RouterAnswer::Booked {
        meeting: Booked {
            meeting: ids.meeting.clone(),
            agent: agent.name.clone(),
            start: meetings::iso(slot.start),
            end: meetings::iso(slot.end),
            video,
        },
        created: true,
        mail: !mails.is_empty(),
    }))
}

async fn hold(
    database: &D1Database,
    job: &BookJob,
    agent: &Agent,
    ids: &BookingIds,
    slot: &Slot,
) -> Result<bool, ApiError> {
    let i = &job.input;
    let before = i64::from(agent.settings.buffer_before_minutes()) * 60_000;
    let after = i64::from(agent.settings.buffer_after_minutes()) * 60_000;
    let (start, end) = (slot.start.timestamp_millis(), slot.end.timestamp_millis());
    store::meetings::hold(
        database,
        &store::meetings::Hold {
            id: &ids.meeting,
            site: &job.site,
            key: &job.key,
            body_hash: &job.body_hash,
            route: &i.route,
            agent: &agent.id,
            lead_email: &i.email,
            lead_name: &i.name,
            lead_fields: &Value::Object(i.lead.clone()).to_string(),
            dialogue: &i.dialogue,
            session: &i.session,
            variant: i.variant.as_deref(),
            start_ms: start,
            end_ms: end,
            tz: &i.tz,
            provider: agent.provider.map(Provider::as_str).unwrap_or("none"),
            uid: &ids.uid,
            now: db::real_now(),
            free_from: start - before,
            free_to: end + after,
        },
    )
    .await
}

async fn create_event(a: &Attempt<'_>, agent: &Agent, slot: &Slot) -> Result<Created, CalFailure> {
    let (job, ids) = (a.job, a.ids);
    let conn = match connection(a.env, &job.site, agent) {
        Ok(Some(c)) => c,
        Ok(None) => return Err(CalFailure::Disconnected("no calendar connected".into())),
        Err(e) => return Err(CalFailure::Failed(e.to_string())),
    };
    let visitor = if job.input.name.is_empty() {
        job.input.email.clone()
    } else {
        job.input.name.clone()
    };
    let mut e = new_event(
        a.tpl,
        &Attendance {
            uid: &ids.uid,
            agent,
            visitor_name: &visitor,
            visitor_email: &job.input.email,
            slot: *slot,
            tz: dynchat_scheduling::parse_tz(&job.input.tz, "tz").unwrap_or(chrono_tz::UTC),
            video: None,
        },
        &meetings::video_plan(&agent.settings, agent.provider),
        (ids.google_event.clone(), ids.graph_transaction.clone()),
    );
    // Graph mails the invitation itself, from the event's body: the visitor's links go there.
    if agent.provider.is_some_and(Provider::sends_invitations) {
        let links = visitor_links_text(a.env, &job.links_base, &job.site, &ids.meeting, 0, slot)
            .map_err(|e| CalFailure::Failed(e.to_string()))?;
        e.description.push_str(&links);
    }
    let r = conn.create(a.cfg, &e).await;
    store_rotated_token(a.env, a.database, &job.site, agent, &conn).await;
    if let Err(CalFailure::Disconnected(reason)) = &r {
        mark_disconnected(a.database, &job.site, &agent.id, reason).await;
    }
    r
}

/// The "scheduled meeting" activity through the lead outbox: the visitor's lead row (this
/// session's, or one created from the booking's lead fields), the activity, the daily rollup.
async fn marketo_statements(
    database: &D1Database,
    site: &Site,
    job: &BookJob,
    meeting_id: &str,
    agent: &Agent,
    at: i64,
) -> Result<Vec<D1PreparedStatement>, ApiError> {
    let i = &job.input;
    let mut st = Vec::new();
    let lead_id = match activity::visitor_lead(database, &site.id, &i.session, &i.email).await? {
        Some(id) => id,
        None => {
            let id = format!("l-{}", &meeting_id[2..]);
            let mut record = Map::new();
            for (k, v) in &i.lead {
                record.insert(k.clone(), v.clone());
            }
            record.insert("email".into(), json!(i.email));
            record.insert("leadSource".into(), json!("Website chat"));
            let member = if site.program_id.is_some() {
                "pending"
            } else {
                "none"
            };
            st.push(activity::new_lead(
                database,
                &activity::LeadWrite {
                    id: &id,
                    site: &site.id,
                    idem_key: &format!("meeting:{meeting_id}"),
                    session: &i.session,
                    dialogue: &i.dialogue,
                    email: &i.email,
                    record: &Value::Object(record).to_string(),
                    member_status: member,
                    at,
                },
            )?);
            id
        }
    };
    let mut a = mapping::Activity {
        type_api: "dynchat_meeting",
        primary: agent.name.clone(),
        attributes: vec![
            ("start".into(), meetings::iso(i.start)),
            ("dialogue".into(), i.dialogue.clone()),
            ("site".into(), site.id.clone()),
        ],
    };
    // The experiment variant the visitor ran, as on the chat's other activities.
    if let Some(v) = &i.variant {
        a.attributes.push(("variant".into(), v.clone()));
    }
    let attrs: Vec<[&str; 2]> = a
        .attributes
        .iter()
        .map(|(k, v)| [k.as_str(), v.as_str()])
        .collect();
    st.push(activity::activity(
        database,
        &activity::ActivityWrite {
            site: &site.id,
            lead_id: &lead_id,
            type_api: a.type_api,
            primary: &a.primary,
            attributes: &serde_json::to_string(&attrs)?,
            at,
        },
    )?);
    if !i.dialogue.is_empty() {
        st.push(activity::count_meeting(
            database,
            &site.id,
            &i.dialogue,
            crate::days::day_number(at),
        )?);
    }
    Ok(st)
}
