//! The mail outbox: invitations, notifications and cancellations are stored with the meeting,
//! then delivered over SMTP by the router's alarm; a relay that is down or refuses means a
//! retry with backoff, visible to the admin, until the message is accepted.

use super::super::db;
use super::super::reply::Reply;
use super::super::store::{self, mail::AttemptWrite, meetings::DeliveryColumn};
use super::config::{mail_max_attempts, mail_retry_ms, smtp};
use super::query::query_map;
use super::router_client;
use super::router_protocol::RouterRequest;
use crate::error::ApiError;
use crate::mail::smtp::{MailSender, OutgoingMail};
use crate::meetings::Route;
use serde_json::json;
use worker::{D1Database, D1PreparedStatement, Env, Request};

/// What a queued message is, and which column of the meeting shows its state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailKind {
    Invitation,
    Notification,
    Cancellation,
    /// The agent's notice of a cancelled meeting ([`super::invitation::agent_cancellation_mail`]).
    AgentCancellation,
    /// The old agent's notice that a meeting was given to another agent (an iCalendar
    /// `CANCEL`); shown in the outbox only, the meeting's columns are the new agent's.
    Released,
    /// The visitor's `CANCEL` of our copy of a meeting given to a Graph agent (Graph's own
    /// invitation replaces it); shown in the outbox only.
    Replaced,
    /// The queue's notice of a no-slot request (`super::requests`).
    Request,
}

impl MailKind {
    fn as_str(self) -> &'static str {
        match self {
            MailKind::Invitation => "invitation",
            MailKind::Notification => "notification",
            MailKind::Cancellation => "cancellation",
            MailKind::AgentCancellation => "agent_cancellation",
            MailKind::Released => "released",
            MailKind::Replaced => "replaced",
            MailKind::Request => "request",
        }
    }

    fn parse(s: &str) -> Option<MailKind> {
        match s {
            "invitation" => Some(MailKind::Invitation),
            "notification" => Some(MailKind::Notification),
            "cancellation" => Some(MailKind::Cancellation),
            "agent_cancellation" => Some(MailKind::AgentCancellation),
            "released" => Some(MailKind::Released),
            "replaced" => Some(MailKind::Replaced),
            "request" => Some(MailKind::Request),
            _ => None,
        }
    }

    /// The meeting column showing this message's delivery, and the prefix of its value
    /// (`None`: no column shows it).
    fn column(self) -> Option<(DeliveryColumn, &'static str)> {
        match self {
            MailKind::Invitation => Some((DeliveryColumn::Invitation, "")),
            MailKind::Notification => Some((DeliveryColumn::Notification, "")),
            MailKind::Cancellation => Some((DeliveryColumn::Invitation, "cancel ")),
            MailKind::AgentCancellation => Some((DeliveryColumn::Notification, "cancel ")),
            // No meeting row has a request's id: the update touches nothing.
            MailKind::Request => Some((DeliveryColumn::Notification, "")),
            MailKind::Released | MailKind::Replaced => None,
        }
    }
}

/// One message for the outbox.
pub struct OutMail {
    pub kind: MailKind,
    pub sequence: i64,
    pub rcpt: String,
    pub subject: String,
    pub message: String,
}

/// Queues a message of a meeting (for a batch); its id makes queuing it twice a no-op.
pub fn outbox_stmt(
    database: &D1Database,
    (site, meeting): (&str, &str),
    from: &str,
    m: &OutMail,
    now: i64,
) -> Result<D1PreparedStatement, ApiError> {
    store::mail::queue(
        database,
        &store::mail::MailWrite {
            id: &format!("{meeting}:{}:{}", m.kind.as_str(), m.sequence),
            site,
            meeting,
            kind: m.kind.as_str(),
            from,
            rcpt: &m.rcpt,
            subject: &m.subject.chars().take(200).collect::<String>(),
            message: &m.message,
            now,
        },
    )
}

/// How long a sender holds a message it is sending (longer than any SMTP conversation).
fn mail_lease_ms(env: &Env) -> i64 {
    smtp(env).timeout_ms as i64 + 30_000
}

/// Delay before attempt `attempts + 1`: `MAIL_RETRY_MS` (default 30 s) doubled per failed
/// attempt, at most 30 minutes.
fn mail_backoff_ms(env: &Env, attempts: i64) -> i64 {
    let shift = attempts.clamp(1, 16) - 1;
    (mail_retry_ms(env) << shift).min(30 * 60_000)
}

/// Delivers every due message (at most 50 a run) over one SMTP connection. The due messages
/// are claimed with a lease in one statement first, so two senders never send the same
/// message; a failure schedules the next attempt with backoff and shows on the meeting.
/// Answers when the next pending message is due, if any.
pub async fn deliver_mail(env: &Env) -> Result<Option<i64>, ApiError> {
    let database = db::database(env)?;
    let now = db::real_now();
    let mut claimed = store::mail::claim_due(&database, now, now + mail_lease_ms(env)).await?;
    if !claimed.is_empty() {
        claimed.sort_by(|a, b| a.id.cmp(&b.id));
        let rcpts: Vec<[&str; 1]> = claimed.iter().map(|r| [r.rcpt.as_str()]).collect();
        let outgoing: Vec<OutgoingMail<'_>> = claimed
            .iter()
            .zip(&rcpts)
            .map(|(r, to)| OutgoingMail {
                from: &r.mail_from,
                to,
                message: &r.message,
            })
            .collect();
        let results = smtp(env).send_all(&outgoing).await;
        let max_attempts = mail_max_attempts(env);
        let done = db::real_now();
        let mut st = Vec::new();
        for (r, result) in claimed.iter().zip(results) {
            let kind = MailKind::parse(&r.kind).unwrap_or(MailKind::Invitation);
            let column = kind.column();
            let prefix = column.map_or("", |c| c.1);
            let attempts = r.attempts + 1;
            let (status, shown, next, error) = match result {
                Ok(()) => ("sent", format!("{prefix}sent"), done, None),
                Err(e) => {
                    let error: String = e.to_string().chars().take(300).collect();
                    worker::console_warn!("mail {} attempt {attempts}: {error}", r.id);
                    if attempts >= max_attempts {
                        let shown = format!("{prefix}failed after {attempts} attempts: {error}");
                        ("failed", shown, done, Some(error))
                    } else {
                        let shown =
                            format!("{prefix}retrying (attempt {attempts} failed: {error})");
                        (
                            "pending",
                            shown,
                            done + mail_backoff_ms(env, attempts),
                            Some(error),
                        )
                    }
                }
            };
            st.push(store::mail::record_attempt(
                &database,
                &AttemptWrite {
                    id: &r.id,
                    status,
                    attempts,
                    next,
                    error: error.as_deref(),
                    done,
                },
            )?);
            if let Some((column, _)) = column {
                st.push(store::meetings::show_delivery(
                    &database,
                    column,
                    (&r.site, &r.meeting),
                    &shown,
                    done,
                )?);
            }
        }
        db::batch(&database, st).await?;
    }
    store::mail::next_due(&database).await
}

/// Asks the route's router to deliver the outbox now (it sets its alarm).
pub async fn kick_mail(env: &Env, site: &str, route: &Route) {
    if let Err(e) = router_client::call(env, site, route, &RouterRequest::Mail).await {
        worker::console_error!("mail kick for {site}/{}: {e}", route.as_string());
    }
}

/// `GET /admin/sites/{site}/mail-outbox?status=pending|sent|failed`: the queued mails (no
/// message bodies), newest first.
pub async fn list_outbox(
    req: &Request,
    database: &D1Database,
    site: &str,
) -> Result<Reply, ApiError> {
    let q = query_map(req)?;
    let status = q.get("status").cloned();
    if let Some(st) = &status {
        if !["pending", "sent", "failed"].contains(&st.as_str()) {
            return Err(ApiError::field("status", "must be pending, sent or failed"));
        }
    }
    let rows = store::mail::list(database, site, status.as_deref()).await?;
    Ok(Reply::json(200, json!({"mails": rows})))
}
