//! What a meeting says: the site's invitation template, the iCalendar meeting, and the mails
//! of a booking (the visitor's invitation, the agent's notification), of a cancellation (the
//! visitor's `CANCEL`, the agent's notice) and of a reassignment (the old agent's notice).

use super::super::store;
use super::agents::Agent;
use super::mail_outbox::{MailKind, OutMail};
use crate::calendar::client::NowFromWorker;
use crate::calendar::NewEvent;
use crate::error::ApiError;
use crate::meetings;
use chrono::Utc;
use dynchat_scheduling::{
    invitation_email, EmailAddress, IcsMethod, InvitationEmail, Meeting, Person, Slot,
};
use worker::{D1Database, Env};

pub use store::meetings::TemplateRow;

/// The site's template, or the default one.
pub async fn template(database: &D1Database, site: &str) -> Result<TemplateRow, ApiError> {
    Ok(store::meetings::template(database, site)
        .await?
        .unwrap_or_else(|| TemplateRow {
            subject: meetings::DEFAULT_SUBJECT.into(),
            body: meetings::DEFAULT_BODY.into(),
            location: None,
        }))
}

/// The template of a meeting on `route` (its text as stored): the queue's own subject and body
/// when the queue has them (`queue_templates`), else the site's; the location is always the
/// site's (the `{{meeting.link}}`).
pub async fn template_for(
    database: &D1Database,
    site: &str,
    route: &str,
) -> Result<TemplateRow, ApiError> {
    let mut tpl = template(database, site).await?;
    if let Some(queue) = route.strip_prefix("queue:") {
        if let Some(q) = store::queue_templates::get(database, site, queue).await? {
            tpl.subject = q.subject;
            tpl.body = q.body;
        }
    }
    Ok(tpl)
}

/// The meeting's LOCATION: the agent's own location when set, else the template's.
pub fn meeting_location(tpl: &TemplateRow, agent: &Agent) -> Option<String> {
    agent
        .location
        .clone()
        .filter(|l| !l.trim().is_empty())
        .or_else(|| tpl.location.clone())
}

/// The subject and body of an invitation template (`PUT meeting-template`, `PUT
/// queues/{id}/template`): required, at most 200 characters / 20,000 bytes, known tokens only
/// (400 naming the field).
pub fn template_texts(v: &serde_json::Value) -> Result<(String, String), ApiError> {
    let subject = v
        .get("subject")
        .and_then(serde_json::Value::as_str)
        .filter(|t| !t.trim().is_empty() && t.chars().count() <= 200)
        .ok_or_else(|| ApiError::field("subject", "is required (at most 200 characters)"))?;
    let body = v
        .get("body")
        .and_then(serde_json::Value::as_str)
        .filter(|t| !t.trim().is_empty() && t.len() <= 20_000)
        .ok_or_else(|| ApiError::field("body", "is required (at most 20,000 bytes)"))?;
    dynchat_scheduling::validate_template(subject, "subject")
        .map_err(|e| ApiError::field("subject", e.to_string()))?;
    dynchat_scheduling::validate_template(body, "body")
        .map_err(|e| ApiError::field("body", e.to_string()))?;
    Ok((subject.to_string(), body.to_string()))
}

/// A named address (400 on `email` when it is not usable).
pub fn person(name: &str, email: &str) -> Result<Person, ApiError> {
    Ok(Person {
        name: name.to_string(),
        email: EmailAddress::parse(email, "email")
            .map_err(|e| ApiError::field("email", e.to_string()))?,
    })
}

/// Who a meeting is with, and where.
pub struct Attendance<'a> {
    pub uid: &'a str,
    pub agent: &'a Agent,
    pub visitor_name: &'a str,
    pub visitor_email: &'a str,
    pub slot: Slot,
    pub tz: chrono_tz::Tz,
    /// The meeting's video link (Meet, Teams or the agent's fixed link).
    pub video: Option<&'a str>,
}

/// The calendar event of a meeting: the template's texts in the visitor's zone, the video
/// meeting asked for by the agent's [`meetings::VideoPlan`]. `ids`: Google's event id,
/// Graph's transaction id, the iCalendar UID. Its `sequence` is 0 (a booking's); a move sets
/// the meeting's.
pub fn new_event(
    tpl: &TemplateRow,
    a: &Attendance<'_>,
    plan: &meetings::VideoPlan,
    (google_event_id, graph_transaction_id): (String, String),
) -> NewEvent {
    let time = dynchat_scheduling::label(a.slot.start, a.tz);
    let link = plan
        .fixed
        .clone()
        .or_else(|| tpl.location.clone())
        .unwrap_or_default();
    let agent = a.agent;
    NewEvent {
        summary: meetings::render_template(&tpl.subject, a.visitor_name, &agent.name, &time, &link),
        description: meetings::render_template(
            &tpl.body,
            a.visitor_name,
            &agent.name,
            &time,
            &link,
        ),
        location: meeting_location(tpl, agent),
        start: a.slot.start,
        end: a.slot.end,
        attendee_email: a.visitor_email.to_string(),
        attendee_name: a.visitor_name.to_string(),
        organizer_email: agent.email.clone(),
        organizer_name: agent.name.clone(),
        google_event_id,
        graph_transaction_id,
        uid: a.uid.to_string(),
        video: plan.ask_provider,
        video_link: plan.fixed.clone(),
        sequence: 0,
    }
}

/// The iCalendar meeting, its texts rendered from the template in the visitor's zone.
pub fn ics_meeting(tpl: &TemplateRow, a: &Attendance<'_>) -> Result<Meeting, ApiError> {
    let time = dynchat_scheduling::label(a.slot.start, a.tz);
    let link = a
        .video
        .map(str::to_string)
        .or_else(|| tpl.location.clone())
        .unwrap_or_default();
    let agent = a.agent;
    Ok(Meeting {
        uid: a.uid.to_string(),
        summary: meetings::render_template(&tpl.subject, a.visitor_name, &agent.name, &time, &link),
        description: meetings::render_template(
            &tpl.body,
            a.visitor_name,
            &agent.name,
            &time,
            &link,
        ),
        location: meeting_location(tpl, agent),
        video: a.video.map(str::to_string),
        start: a.slot.start,
        end: a.slot.end,
        organizer: person(&agent.name, &agent.email)?,
        attendees: vec![person(a.visitor_name, a.visitor_email)?],
    })
}

/// The mails of a new booking: the visitor's invitation unless the provider sends it (Graph
/// mails attendees itself), and always the agent's notification. Answers them with the
/// invitation's state for the meeting (`by_provider` or `queued`).
///
/// `sequence` is 0 for a booking and the next one for a move (the same UID, so the visitor's
/// calendar updates the event); `links` (the reschedule and cancel links) ends the visitor's
/// text.
pub fn booking_mails(
    tpl: &TemplateRow,
    a: &Attendance<'_>,
    from_addr: &str,
    provider_sends: bool,
    (sequence, links): (i64, &str),
) -> Result<(Vec<OutMail>, &'static str), ApiError> {
    let meeting = ics_meeting(tpl, a)?;
    let has_video = a.video.is_some();
    let visitor_body = format!("{}{links}", meetings::with_video_line(&tpl.body, has_video));
    let notify_body = meetings::with_video_line(meetings::NOTIFY_BODY, has_video);
    let seq = u32::try_from(sequence).unwrap_or(0);
    let agent = a.agent;
    let from = person(&agent.name, from_addr)?;
    let agent_person = person(&agent.name, &agent.email)?;
    let lead_person = person(a.visitor_name, a.visitor_email)?;
    let mut mails = Vec::new();
    let invite_status = if provider_sends {
        "by_provider"
    } else {
        let msg = invitation_email(&InvitationEmail {
            meeting: &meeting,
            method: IcsMethod::Request,
            sequence: seq,
            from: &from,
            to: &lead_person,
            reply_to: Some(&agent_person),
            subject_template: &tpl.subject,
            body_template: &visitor_body,
            visitor_name: a.visitor_name,
            agent_name: &agent.name,
            visitor_tz: a.tz,
            now: Utc::now_from_worker(),
        });
        mails.push(OutMail {
            kind: MailKind::Invitation,
            sequence,
            rcpt: a.visitor_email.to_string(),
            subject: meeting.summary.clone(),
            message: msg,
        });
        "queued"
    };
    let notify = invitation_email(&InvitationEmail {
        meeting: &meeting,
        method: IcsMethod::Request,
        sequence: seq,
        from: &person("dynchat", from_addr)?,
        to: &agent_person,
        reply_to: Some(&lead_person),
        subject_template: meetings::NOTIFY_SUBJECT,
        body_template: &notify_body,
        visitor_name: a.visitor_name,
        agent_name: &agent.name,
        visitor_tz: agent.settings.tz(),
        now: Utc::now_from_worker(),
    });
    mails.push(OutMail {
        kind: MailKind::Notification,
        sequence,
        rcpt: agent.email.clone(),
        subject: format!("New meeting with {}", a.visitor_name),
        message: notify,
    });
    Ok((mails, invite_status))
}

/// The visitor's cancellation (iCalendar `CANCEL` with the next `sequence`).
pub fn cancellation_mail(
    tpl: &TemplateRow,
    a: &Attendance<'_>,
    from_addr: &str,
    sequence: i64,
) -> Result<OutMail, ApiError> {
    let mut meeting = ics_meeting(tpl, a)?;
    meeting.summary = format!("Cancelled: {}", meeting.summary);
    let agent = a.agent;
    let msg = invitation_email(&InvitationEmail {
        meeting: &meeting,
        method: IcsMethod::Cancel,
        sequence: u32::try_from(sequence).unwrap_or(1),
        from: &person(&agent.name, from_addr)?,
        to: &person(a.visitor_name, a.visitor_email)?,
        reply_to: Some(&person(&agent.name, &agent.email)?),
        subject_template: "Cancelled: meeting with {{agent.name}} on {{meeting.time}}",
        body_template: "Hi {{visitor.name}},\n\nyour meeting with {{agent.name}} on {{meeting.time}} is cancelled.\n",
        visitor_name: a.visitor_name,
        agent_name: &agent.name,
        visitor_tz: a.tz,
        now: Utc::now_from_worker(),
    });
    Ok(OutMail {
        kind: MailKind::Cancellation,
        sequence,
        rcpt: a.visitor_email.to_string(),
        subject: meeting.summary,
        message: msg,
    })
}

/// The agent's notice that a meeting leaves their calendar: an iCalendar `CANCEL` of the UID
/// their booking notice carried, at `sequence`, the time in the agent's zone, from dynchat with
/// the visitor as reply-to (like the booking's notice). `a.agent` is the agent told: the
/// meeting's agent when the visitor or an admin cancels it (`given_to: None`), the old agent
/// when an admin gives it to `given_to`. Sent whatever the agent's calendar: the booking's and
/// the move's notices are too, and the provider removing the event mails nobody.
pub fn agent_cancellation_mail(
    a: &Attendance<'_>,
    given_to: Option<&str>,
    from_addr: &str,
    sequence: i64,
) -> Result<OutMail, ApiError> {
    let agent = a.agent;
    let notice = TemplateRow {
        subject: meetings::NOTIFY_SUBJECT.into(),
        body: meetings::NOTIFY_BODY.into(),
        location: None,
    };
    let mut meeting = ics_meeting(&notice, a)?;
    let (kind, subject, body) = match given_to {
        None => {
            meeting.summary = format!("Cancelled: {}", meeting.summary);
            let text = |t: &str| t.to_string();
            (
                MailKind::AgentCancellation,
                text(meetings::AGENT_CANCEL_SUBJECT),
                text(meetings::AGENT_CANCEL_BODY),
            )
        }
        Some(new_agent) => {
            // The name goes into the text as it is, never read as a template token.
            let new_agent: String = new_agent.chars().filter(|c| !"{}".contains(*c)).collect();
            meeting.summary = format!("Reassigned: {}", meeting.summary);
            (
                MailKind::Released,
                "Reassigned: meeting with {{visitor.name}} on {{meeting.time}}".to_string(),
                format!(
                    "Hi {{{{agent.name}}}},\n\nyour meeting with {{{{visitor.name}}}} on {{{{meeting.time}}}} was given to {new_agent}. It is off your calendar; there is nothing to do.\n"
                ),
            )
        }
    };
    let msg = invitation_email(&InvitationEmail {
        meeting: &meeting,
        method: IcsMethod::Cancel,
        sequence: u32::try_from(sequence).unwrap_or(1),
        from: &person("dynchat", from_addr)?,
        to: &person(&agent.name, &agent.email)?,
        reply_to: Some(&person(a.visitor_name, a.visitor_email)?),
        subject_template: &subject,
        body_template: &body,
        visitor_name: a.visitor_name,
        agent_name: &agent.name,
        visitor_tz: agent.settings.tz(),
        now: Utc::now_from_worker(),
    });
    Ok(OutMail {
        kind,
        sequence,
        rcpt: agent.email.clone(),
        subject: meeting.summary,
        message: msg,
    })
}

/// The visitor's `CANCEL` of the copy our invitation put in their calendar, when the meeting
/// was given to an agent whose provider invites them itself (Graph: its own UID, so our
/// update could not replace that copy). `a.agent` is the old agent, `tpl` the meeting's
/// template; the text says the meeting goes on with `new_agent`.
pub fn replaced_mail(
    tpl: &TemplateRow,
    a: &Attendance<'_>,
    new_agent: &str,
    from_addr: &str,
    sequence: i64,
) -> Result<OutMail, ApiError> {
    let agent = a.agent;
    let mut meeting = ics_meeting(tpl, a)?;
    let new_agent: String = new_agent.chars().filter(|c| !"{}".contains(*c)).collect();
    meeting.summary = format!("Now with {new_agent}: {}", meeting.summary);
    let body = format!(
        "Hi {{{{visitor.name}}}},\n\nyour meeting on {{{{meeting.time}}}} now is with {new_agent}, at the same time; their invitation replaces this one.\n"
    );
    let msg = invitation_email(&InvitationEmail {
        meeting: &meeting,
        method: IcsMethod::Cancel,
        sequence: u32::try_from(sequence).unwrap_or(1),
        from: &person(&agent.name, from_addr)?,
        to: &person(a.visitor_name, a.visitor_email)?,
        reply_to: None,
        subject_template: &format!("Your meeting on {{{{meeting.time}}}} now is with {new_agent}"),
        body_template: &body,
        visitor_name: a.visitor_name,
        agent_name: &agent.name,
        visitor_tz: a.tz,
        now: Utc::now_from_worker(),
    });
    Ok(OutMail {
        kind: MailKind::Replaced,
        sequence,
        rcpt: a.visitor_email.to_string(),
        subject: meeting.summary,
        message: msg,
    })
}

/// The reschedule and cancel links of a meeting at `sequence` as the visitor's mail ends them
/// (valid until its start); empty without `LINK_KEY` or a base URL.
pub fn visitor_links_text(
    env: &Env,
    base: &str,
    site: &str,
    meeting: &str,
    sequence: i64,
    slot: &Slot,
) -> Result<String, ApiError> {
    let Some(key) = super::config::link_key(env)? else {
        return Ok(String::new());
    };
    if base.is_empty() {
        return Ok(String::new());
    }
    let (reschedule, cancel) =
        crate::visitor_links::links(&key, base, site, meeting, sequence, slot.start.timestamp());
    Ok(crate::visitor_links::mail_text(&reschedule, &cancel))
}
