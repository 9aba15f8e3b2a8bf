//! The tail every change of a scheduled meeting shares (a visitor's move, an admin's
//! reassignment): the visitor's iCalendar update (`SEQUENCE` + 1, the same UID, new links) and
//! the agent's notice queued in the mail outbox with the change's own statements, the Marketo
//! activity again (the agent and time it has now), all in one batch, then the activity wake-up.

use super::super::db;
use super::super::store::{meeting_activity as activity, meetings::MeetingRow};
use super::agents::Agent;
use super::config::mail_from;
use super::invitation::{booking_mails, template_for, visitor_links_text, Attendance};
use super::mail_outbox::{outbox_stmt, OutMail};
use crate::error::ApiError;
use crate::meetings;
use dynchat_scheduling::Slot;
use worker::{D1Database, D1PreparedStatement, Env};

/// A scheduled meeting after its change, as the visitor and the agent are to see it.
pub struct Changed<'a> {
    pub site: &'a str,
    /// The meeting as it was read before the change (its UID, visitor, route, lead).
    pub meeting: &'a MeetingRow,
    /// The agent who has the meeting now.
    pub agent: &'a Agent,
    pub slot: Slot,
    pub tz: chrono_tz::Tz,
    pub video: Option<&'a str>,
    /// The meeting's sequence after the change.
    pub sequence: i64,
    /// The base URL of the visitor's new links.
    pub links_base: &'a str,
    /// The calendar provider mails the visitor itself (Graph): no invitation from us.
    pub provider_sends: bool,
    pub at: i64,
}

/// What the change adds to the tail's batch: more mails (the old agent's notice) and
/// statements (the assignment log, the rotation).
#[derive(Default)]
pub struct Extra {
    pub mails: Vec<OutMail>,
    pub statements: Vec<D1PreparedStatement>,
}

/// Queues the visitor's update and the agent's notice (and `extra`), writes the meeting's
/// Marketo activity again, in one batch, and wakes the activity delivery. True when mail was
/// queued (the router then delivers its outbox).
pub async fn send_changed(
    env: &Env,
    database: &D1Database,
    c: &Changed<'_>,
    extra: Extra,
) -> Result<bool, ApiError> {
    let m = c.meeting;
    let tpl = template_for(database, c.site, &m.route).await?;
    let from_addr = mail_from(env);
    let links = visitor_links_text(env, c.links_base, c.site, &m.id, c.sequence, &c.slot)?;
    let (mut mails, _) = booking_mails(
        &tpl,
        &Attendance {
            uid: &m.uid,
            agent: c.agent,
            visitor_name: m.visitor_name(),
            visitor_email: &m.lead_email,
            slot: c.slot,
            tz: c.tz,
            video: c.video,
        },
        &from_addr,
        c.provider_sends,
        (c.sequence, &links),
    )?;
    mails.extend(extra.mails);
    let mut st = Vec::with_capacity(mails.len() + extra.statements.len() + 1);
    for mail in &mails {
        st.push(outbox_stmt(
            database,
            (c.site, &m.id),
            &from_addr,
            mail,
            c.at,
        )?);
    }
    st.extend(extra.statements);
    let start = meetings::iso(c.slot.start);
    st.extend(
        activity::meeting_again(database, m, (c.site, &c.agent.name, &start), None, c.at).await?,
    );
    db::batch(database, st).await?;
    if let Err(e) = crate::edge::wake::send(env, "activity").await {
        worker::console_error!("meeting {}: queue send failed: {e}", m.id);
    }
    Ok(!mails.is_empty())
}
