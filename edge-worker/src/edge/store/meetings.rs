//! Meetings (the slot hold, scheduling, cancellation, no-show), the assignment log and the
//! invitation template.

use super::super::db::{self, n, os, s};
use crate::error::ApiError;
use serde::{Deserialize, Serialize};
use worker::{D1Database, D1PreparedStatement};

/// A meeting with its agent's name.
#[derive(Deserialize)]
pub struct MeetingRow {
    pub id: String,
    pub body_hash: String,
    pub route: String,
    pub agent: String,
    pub agent_name: Option<String>,
    pub lead_email: String,
    pub lead_name: String,
    pub lead_fields: String,
    pub dialogue: String,
    pub session: String,
    pub start_ms: i64,
    pub end_ms: i64,
    pub tz: String,
    pub status: String,
    pub provider: String,
    pub event_id: Option<String>,
    pub uid: String,
    pub sequence: i64,
    pub invite_status: String,
    pub notify_status: String,
    pub created_at: i64,
    /// The experiment variant the visitor ran (migration 0016).
    #[serde(default)]
    pub variant: Option<String>,
    /// The meeting's video link (migration 0013).
    pub video_url: Option<String>,
}

impl MeetingRow {
    /// The visitor as mails and events name them: their name, else their email.
    pub fn visitor_name(&self) -> &str {
        if self.lead_name.is_empty() {
            &self.lead_email
        } else {
            &self.lead_name
        }
    }
}

const MEETING_SELECT: &str = "SELECT m.id, m.idem_key, m.body_hash, m.route, m.agent, a.name AS agent_name, m.lead_email, m.lead_name, m.lead_fields, m.dialogue, m.session, m.start_ms, m.end_ms, m.tz, m.status, m.provider, m.event_id, m.uid, m.sequence, m.invite_status, m.notify_status, m.created_at, m.variant, m.video_url FROM meetings m LEFT JOIN agents a ON a.site = m.site AND a.id = m.agent";

/// The meeting booked with an idempotency key.
pub async fn by_key(
    database: &D1Database,
    site: &str,
    key: &str,
) -> Result<Option<MeetingRow>, ApiError> {
    db::first(
        database,
        &format!("{MEETING_SELECT} WHERE m.site = ? AND m.idem_key = ?"),
        &[s(site), s(key)],
    )
    .await
}

/// One meeting by id.
pub async fn by_id(
    database: &D1Database,
    site: &str,
    id: &str,
) -> Result<Option<MeetingRow>, ApiError> {
    db::first(
        database,
        &format!("{MEETING_SELECT} WHERE m.site = ? AND m.id = ?"),
        &[s(site), s(id)],
    )
    .await
}

/// The site's meetings that are not merely held, by start (at most 5,000).
pub async fn listed(database: &D1Database, site: &str) -> Result<Vec<MeetingRow>, ApiError> {
    db::rows(database, &format!("{MEETING_SELECT} WHERE m.site = ? AND m.status <> 'pending' ORDER BY m.start_ms, m.id LIMIT 5000"), &[s(site)]).await
}

/// A held or scheduled meeting's time.
#[derive(Deserialize)]
pub struct SpanRow {
    pub start_ms: i64,
    pub end_ms: i64,
}

/// An agent's held or scheduled meetings overlapping `[from_ms, to_ms)`, except the one
/// booked with `except_key`.
pub async fn busy_spans(
    database: &D1Database,
    site: &str,
    agent: &str,
    (from_ms, to_ms): (i64, i64),
    except_key: &str,
) -> Result<Vec<SpanRow>, ApiError> {
    db::rows(
        database,
        "SELECT start_ms, end_ms FROM meetings WHERE site = ? AND agent = ? AND status IN ('pending', 'scheduled') AND start_ms < ? AND end_ms > ? AND idem_key <> ?",
        &[s(site), s(agent), n(to_ms), n(from_ms), s(except_key)],
    )
    .await
}

/// A meeting to hold for an agent, and the span (with buffers) that must be free of their
/// other meetings.
pub struct Hold<'a> {
    pub id: &'a str,
    pub site: &'a str,
    pub key: &'a str,
    pub body_hash: &'a str,
    pub route: &'a str,
    pub agent: &'a str,
    pub lead_email: &'a str,
    pub lead_name: &'a str,
    pub lead_fields: &'a str,
    pub dialogue: &'a str,
    pub session: &'a str,
    /// The experiment variant the visitor ran, if any.
    pub variant: Option<&'a str>,
    pub start_ms: i64,
    pub end_ms: i64,
    pub tz: &'a str,
    pub provider: &'a str,
    pub uid: &'a str,
    pub now: i64,
    /// Start of the span that must be free (the start minus the buffer before).
    pub free_from: i64,
    /// End of the span that must be free (the end plus the buffer after).
    pub free_to: i64,
}

/// Inserts a pending meeting only if the agent has no overlapping held or scheduled one (a
/// conditional insert, atomic in D1). Answers whether the hold was taken.
pub async fn hold(database: &D1Database, h: &Hold<'_>) -> Result<bool, ApiError> {
    let changed = db::exec(
        database,
        "INSERT OR IGNORE INTO meetings (id, site, idem_key, body_hash, route, agent, lead_email, lead_name, lead_fields, dialogue, session, variant, start_ms, end_ms, tz, status, provider, uid, created_at, updated_at) \
         SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ? \
         WHERE NOT EXISTS (SELECT 1 FROM meetings WHERE site = ? AND agent = ? AND status IN ('pending', 'scheduled') AND start_ms < ? AND end_ms > ?)",
        &[
            s(h.id),
            s(h.site),
            s(h.key),
            s(h.body_hash),
            s(h.route),
            s(h.agent),
            s(h.lead_email),
            s(h.lead_name),
            s(h.lead_fields),
            s(h.dialogue),
            s(h.session),
            os(h.variant),
            n(h.start_ms),
            n(h.end_ms),
            s(h.tz),
            s(h.provider),
            s(h.uid),
            n(h.now),
            n(h.now),
            s(h.site),
            s(h.agent),
            n(h.free_to),
            n(h.free_from),
        ],
    )
    .await?;
    Ok(changed == 1)
}

/// Releases the hold of a booking that did not go through.
pub async fn release_hold(database: &D1Database, site: &str, key: &str) -> Result<(), ApiError> {
    db::exec(
        database,
        "DELETE FROM meetings WHERE site = ? AND idem_key = ? AND status = 'pending'",
        &[s(site), s(key)],
    )
    .await?;
    Ok(())
}

/// Turns a held meeting into a scheduled one (for the booking's batch).
pub fn schedule(
    database: &D1Database,
    site: &str,
    key: &str,
    (event_id, video): (&str, Option<&str>),
    invite_status: &str,
    at: i64,
) -> Result<D1PreparedStatement, ApiError> {
    db::stmt(
        database,
        "UPDATE meetings SET status = 'scheduled', event_id = ?, video_url = ?, invite_status = ?, notify_status = 'queued', updated_at = ? WHERE site = ? AND idem_key = ?",
        &[s(event_id), os(video), s(invite_status), n(at), s(site), s(key)],
    )
}

/// Marks a scheduled meeting as a no-show; answers the rows changed.
pub async fn mark_no_show(
    database: &D1Database,
    site: &str,
    id: &str,
    now: i64,
) -> Result<usize, ApiError> {
    db::exec(database, "UPDATE meetings SET status = 'no_show', updated_at = ? WHERE site = ? AND id = ? AND status = 'scheduled'", &[n(now), s(site), s(id)]).await
}

/// Marks a meeting cancelled with its new sequence and what happened to the cancellation.
pub async fn mark_cancelled(
    database: &D1Database,
    site: &str,
    id: &str,
    sequence: i64,
    invite_status: &str,
    now: i64,
) -> Result<(), ApiError> {
    db::exec(database, "UPDATE meetings SET status = 'cancelled', sequence = ?, invite_status = ?, updated_at = ? WHERE site = ? AND id = ?", &[n(sequence), s(invite_status), n(now), s(site), s(id)]).await?;
    Ok(())
}

/// The meeting column that shows a message's delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryColumn {
    /// `invite_status`: the invitation or the cancellation to the visitor.
    Invitation,
    /// `notify_status`: the agent's notification.
    Notification,
}

/// Shows a message's delivery on its meeting (for the outbox's batch).
pub fn show_delivery(
    database: &D1Database,
    column: DeliveryColumn,
    (site, meeting): (&str, &str),
    shown: &str,
    at: i64,
) -> Result<D1PreparedStatement, ApiError> {
    let sql = match column {
        DeliveryColumn::Invitation => {
            "UPDATE meetings SET invite_status = ?, updated_at = ? WHERE site = ? AND id = ?"
        }
        DeliveryColumn::Notification => {
            "UPDATE meetings SET notify_status = ?, updated_at = ? WHERE site = ? AND id = ?"
        }
    };
    db::stmt(database, sql, &[s(shown), n(at), s(site), s(meeting)])
}

/// One assignment decision for the log.
pub struct LogWrite<'a> {
    pub site: &'a str,
    pub route: &'a str,
    pub meeting: Option<&'a str>,
    pub slot_start: i64,
    pub slot_end: i64,
    pub next_in_line: Option<&'a str>,
    pub chosen: Option<&'a str>,
    /// JSON array of the skipped agents and why.
    pub skipped: &'a str,
    /// JSON of why the chosen agent got it (`dynchat_scheduling::Reason`).
    pub reason: &'a str,
    pub outcome: &'a str,
    /// JSON of how routing rules chose the queue (`crate::route_rules::Routed`), if they did.
    pub routed: Option<&'a str>,
    pub at: i64,
}

/// Appends to the assignment log (for a batch).
pub fn log_assignment(
    database: &D1Database,
    l: &LogWrite<'_>,
) -> Result<D1PreparedStatement, ApiError> {
    db::stmt(
        database,
        "INSERT INTO assignment_log (site, route, meeting, slot_start, slot_end, next_in_line, chosen, skipped, reason, outcome, routed, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        &[s(l.site), s(l.route), os(l.meeting), n(l.slot_start), n(l.slot_end), os(l.next_in_line), os(l.chosen), s(l.skipped), s(l.reason), s(l.outcome), os(l.routed), n(l.at)],
    )
}

/// One entry of the assignment log.
#[derive(Deserialize, Serialize)]
pub struct LogRow {
    pub id: i64,
    pub route: String,
    pub meeting: Option<String>,
    pub slot_start: i64,
    pub slot_end: i64,
    pub next_in_line: Option<String>,
    pub chosen: Option<String>,
    pub skipped: String,
    /// `None` for entries logged before reasons were.
    pub reason: Option<String>,
    pub outcome: String,
    /// How routing rules chose the queue (JSON); `None` for a route named directly.
    pub routed: Option<String>,
    pub at: i64,
}

/// The log of a site (of one route if given), oldest first, at most `limit` entries.
pub async fn assignments(
    database: &D1Database,
    site: &str,
    route: Option<&str>,
    limit: i64,
) -> Result<Vec<LogRow>, ApiError> {
    db::rows(
        database,
        "SELECT id, route, meeting, slot_start, slot_end, next_in_line, chosen, skipped, reason, outcome, routed, at FROM assignment_log WHERE site = ? AND (? IS NULL OR route = ?) ORDER BY id LIMIT ?",
        &[s(site), os(route), os(route), n(limit)],
    )
    .await
}

/// A site's invitation template.
#[derive(Deserialize)]
pub struct TemplateRow {
    pub subject: String,
    pub body: String,
    pub location: Option<String>,
}

/// The site's invitation template, if one was saved.
pub async fn template(database: &D1Database, site: &str) -> Result<Option<TemplateRow>, ApiError> {
    db::first(
        database,
        "SELECT subject, body, location FROM meeting_templates WHERE site = ?",
        &[s(site)],
    )
    .await
}

/// Saves the site's invitation template.
pub async fn put_template(
    database: &D1Database,
    site: &str,
    t: &TemplateRow,
    now: i64,
) -> Result<(), ApiError> {
    db::exec(
        database,
        "INSERT INTO meeting_templates (site, subject, body, location, updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT(site) DO UPDATE SET subject = excluded.subject, body = excluded.body, location = excluded.location, updated_at = excluded.updated_at",
        &[s(site), s(&t.subject), s(&t.body), os(t.location.as_deref()), n(now)],
    )
    .await?;
    Ok(())
}

/// Takes a scheduled meeting at `sequence` for a visitor's link, once: the sequence moves on,
/// so a second use of the same link (or a concurrent one) finds nothing. Answers the new
/// sequence, `None` when the link is used or the meeting is no longer scheduled.
pub async fn take_for_link(
    database: &D1Database,
    site: &str,
    id: &str,
    sequence: i64,
    now: i64,
) -> Result<Option<i64>, ApiError> {
    let changed = db::exec(
        database,
        "UPDATE meetings SET sequence = sequence + 1, updated_at = ? WHERE site = ? AND id = ? AND status = 'scheduled' AND sequence = ?",
        &[n(now), s(site), s(id), n(sequence)],
    )
    .await?;
    Ok((changed == 1).then_some(sequence + 1))
}

/// Moves a scheduled meeting at `sequence` to a new time, unless another meeting of its agent
/// (with buffers: `free_from`..`free_to`) is there; the sequence moves on. Answers whether it
/// moved (one conditional statement, atomic in D1: no overlap is ever stored).
pub async fn move_meeting(database: &D1Database, m: &MoveWrite<'_>) -> Result<bool, ApiError> {
    let changed = db::exec(
        database,
        "UPDATE meetings SET start_ms = ?, end_ms = ?, sequence = sequence + 1, updated_at = ? \
         WHERE site = ? AND id = ? AND status = 'scheduled' AND sequence = ? \
         AND NOT EXISTS (SELECT 1 FROM meetings o WHERE o.site = ? AND o.agent = ? AND o.id <> ? AND o.status IN ('pending', 'scheduled') AND o.start_ms < ? AND o.end_ms > ?)",
        &[
            n(m.start_ms), n(m.end_ms), n(m.now), s(m.site), s(m.id), n(m.sequence),
            s(m.site), s(m.agent), s(m.id), n(m.free_to), n(m.free_from),
        ],
    )
    .await?;
    Ok(changed == 1)
}

/// A meeting's move.
pub struct MoveWrite<'a> {
    pub site: &'a str,
    pub id: &'a str,
    pub agent: &'a str,
    /// The sequence the move was asked at.
    pub sequence: i64,
    pub start_ms: i64,
    pub end_ms: i64,
    pub free_from: i64,
    pub free_to: i64,
    pub now: i64,
}

/// Puts a meeting back where it was before a move whose calendar event could not be made.
pub async fn unmove_meeting(
    database: &D1Database,
    site: &str,
    id: &str,
    (start_ms, end_ms): (i64, i64),
    sequence: i64,
) -> Result<(), ApiError> {
    db::exec(
        database,
        "UPDATE meetings SET start_ms = ?, end_ms = ?, sequence = ? WHERE site = ? AND id = ?",
        &[n(start_ms), n(end_ms), n(sequence), s(site), s(id)],
    )
    .await?;
    Ok(())
}

/// The calendar event of a meeting after a move, and its video link.
pub async fn set_event(
    database: &D1Database,
    site: &str,
    id: &str,
    (event_id, video): (&str, Option<&str>),
) -> Result<(), ApiError> {
    db::exec(
        database,
        "UPDATE meetings SET event_id = ?, video_url = ? WHERE site = ? AND id = ?",
        &[s(event_id), os(video), s(site), s(id)],
    )
    .await?;
    Ok(())
}

/// A meeting's reassignment to another agent of its queue.
pub struct ReassignWrite<'a> {
    pub site: &'a str,
    pub id: &'a str,
    /// The agent the meeting has now (it must still have it).
    pub from: &'a str,
    pub to: &'a str,
    /// The new agent's calendar provider.
    pub provider: &'a str,
    /// The sequence the meeting was read at.
    pub sequence: i64,
    pub free_from: i64,
    pub free_to: i64,
    pub now: i64,
}

/// Gives a scheduled meeting (still `from`'s, at `sequence`) to `to`, unless another meeting
/// of `to` (with buffers: `free_from`..`free_to`) is there; the sequence moves on. Answers
/// whether it changed (one conditional statement, atomic in D1: no overlap is ever stored).
pub async fn reassign_meeting(
    database: &D1Database,
    r: &ReassignWrite<'_>,
) -> Result<bool, ApiError> {
    let changed = db::exec(
        database,
        "UPDATE meetings SET agent = ?, provider = ?, sequence = sequence + 1, updated_at = ? \
         WHERE site = ? AND id = ? AND status = 'scheduled' AND sequence = ? AND agent = ? \
         AND NOT EXISTS (SELECT 1 FROM meetings o WHERE o.site = ? AND o.agent = ? AND o.id <> ? AND o.status IN ('pending', 'scheduled') AND o.start_ms < ? AND o.end_ms > ?)",
        &[
            s(r.to), s(r.provider), n(r.now), s(r.site), s(r.id), n(r.sequence), s(r.from),
            s(r.site), s(r.to), s(r.id), n(r.free_to), n(r.free_from),
        ],
    )
    .await?;
    Ok(changed == 1)
}

/// Gives a meeting back to its agent after a reassignment whose calendar event could not be
/// made.
pub async fn unreassign_meeting(
    database: &D1Database,
    site: &str,
    id: &str,
    (agent, provider): (&str, &str),
    sequence: i64,
) -> Result<(), ApiError> {
    db::exec(
        database,
        "UPDATE meetings SET agent = ?, provider = ?, sequence = ? WHERE site = ? AND id = ?",
        &[s(agent), s(provider), n(sequence), s(site), s(id)],
    )
    .await?;
    Ok(())
}
