//! The visitor's link page, `GET|POST /meeting/{site}?t=<token>`: the reschedule link shows the
//! agent's free times and moves the meeting through the route's `QueueRouter` (as bookings
//! go, so no overlap); the cancel link cancels it as the admin's cancel does (calendar event
//! removed, iCalendar `CANCEL` with the next sequence, the rotation told). A used, replaced,
//! expired, tampered or garbage link gets a clear page with a 4xx status. Server-rendered
//! HTML, no script, strict CSP (`crate::visitor_links`).

use super::super::db;
use super::super::store;
use super::agents::one_agent;
use super::config::{link_key, public_url};
use super::public::{route_slots, SlotQuery};
use super::records::cancel_row;
use super::router_client;
use super::router_protocol::{MoveJob, RouterAnswer, RouterError, RouterRequest};
use crate::error::ApiError;
use crate::meetings::{self, Route};
use crate::visitor_links::{
    self as links, cancel_page, message_page, reschedule_page, Purpose, Shown,
};
use chrono::DateTime;
use worker::{D1Database, Env, Method, Request, Response};

/// The most bytes a link form may post.
const MAX_FORM: usize = 4096;

/// The page's answer: status and HTML.
type Page = (u16, String);

fn msg(status: u16, title: &str, text: &str) -> Page {
    (status, message_page(title, text))
}

/// Serves the link page; errors are pages too.
pub async fn page(req: &mut Request, env: &Env, method: Method, site: &str) -> Response {
    let (status, html) = match answer(req, env, method, site).await {
        Ok(p) => p,
        Err(e) => {
            if e.status() >= 500 {
                worker::console_error!("meeting link: {e}");
            }
            msg(
                if e.status() >= 500 { 503 } else { e.status() },
                "Something went wrong",
                "The meeting could not be changed just now. Please try again in a minute.",
            )
        }
    };
    let resp = Response::from_html(html)
        .map(|r| r.with_status(status))
        .unwrap_or_else(|_| Response::builder().with_status(500).fixed(Vec::new()));
    let h = resp.headers().clone();
    for (k, v) in links::page_headers() {
        let _ = h.set(k, v);
    }
    resp.with_headers(h)
}

async fn answer(
    req: &mut Request,
    env: &Env,
    method: Method,
    site: &str,
) -> Result<Page, ApiError> {
    let not_found = || msg(404, "Not found", "There is no such page.");
    if !crate::validate::valid_id(site) {
        return Ok(not_found());
    }
    let Some(key) = link_key(env)? else {
        return Ok(not_found());
    };
    let (token, start) = match method {
        Method::Get => {
            let url = req.url().map_err(|e| ApiError::BadJson(e.to_string()))?;
            let t = url
                .query_pairs()
                .find(|(k, _)| k == "t")
                .map(|(_, v)| v.into_owned());
            (t, None)
        }
        Method::Post => {
            let bytes = req
                .bytes()
                .await
                .map_err(|e| ApiError::BadJson(e.to_string()))?;
            if bytes.len() > MAX_FORM {
                return Ok(msg(413, "Too large", "The form was too large."));
            }
            let fields = links::form_fields(&String::from_utf8_lossy(&bytes), 8);
            let get = |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
            (get("t"), get("start"))
        }
        _ => return Ok(msg(405, "Not allowed", "This page is opened from a link.")),
    };
    let Some(token) = token else {
        return Ok(msg(
            400,
            "This link is not valid",
            "The link is incomplete. Please use the link from your invitation email.",
        ));
    };
    let database = db::database(env)?;
    let now_ms = db::now(env, &database).await?;
    let claim = match links::verify(&key, site, &token, now_ms.div_euclid(1000)) {
        Ok(c) => c,
        Err(r) => {
            let (status, title, text) = r.page();
            return Ok(msg(status, title, text));
        }
    };
    let Some(m) = store::meetings::by_id(&database, site, &claim.meeting).await? else {
        return Ok(msg(
            404,
            "Meeting not found",
            "This meeting no longer exists.",
        ));
    };
    if m.status != "scheduled" {
        let text = if m.status == "cancelled" {
            "This meeting is cancelled."
        } else {
            "This meeting can no longer be changed."
        };
        return Ok(msg(410, "This link was already used", text));
    }
    if m.sequence != claim.sequence {
        return Ok(msg(
            410,
            "This link was already used",
            "The meeting was changed since this link was sent. The newest email about your meeting has the current links.",
        ));
    }
    let tz = dynchat_scheduling::parse_tz(&m.tz, "tz").unwrap_or(chrono_tz::UTC);
    let time = dynchat_scheduling::label(meetings::from_ms(m.start_ms), tz);
    let agent_name = m.agent_name.clone().unwrap_or_else(|| m.agent.clone());
    let shown = Shown {
        agent: &agent_name,
        time: &time,
    };
    match (method, claim.purpose) {
        (Method::Get, Purpose::Cancel) => Ok((200, cancel_page(&shown, &token))),
        (Method::Get, Purpose::Reschedule) => {
            let slots = free_times(env, &database, site, &m.agent, tz, m.start_ms).await?;
            Ok((200, reschedule_page(&shown, &token, &slots)))
        }
        (_, Purpose::Cancel) => {
            let Some(sequence) = store::meetings::take_for_link(
                &database,
                site,
                &m.id,
                claim.sequence,
                db::real_now(),
            )
            .await?
            else {
                return Ok(msg(
                    410,
                    "This link was already used",
                    "This meeting was already changed.",
                ));
            };
            cancel_row(env, &database, site, &m, sequence).await?;
            Ok(msg(
                200,
                "Your meeting is cancelled",
                &format!("Your meeting with {agent_name} on {time} is cancelled. You will get a confirmation by email."),
            ))
        }
        (_, Purpose::Reschedule) => {
            let Some(start) = start
                .as_deref()
                .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
                .map(|t| t.with_timezone(&chrono::Utc))
            else {
                return Ok(msg(
                    400,
                    "Pick a time",
                    "Please choose one of the times offered.",
                ));
            };
            let agent = one_agent(&database, site, &m.agent).await?;
            let now = meetings::from_ms(now_ms);
            if let Some(p) = meetings::route_slot_problem([&agent.settings], start, now) {
                return Ok(msg(
                    400,
                    "That time cannot be booked",
                    &p.error().to_string(),
                ));
            }
            let route = Route::parse(&m.route, "route")?;
            let links_base = match public_url(env) {
                b if !b.is_empty() => b,
                _ => req
                    .url()
                    .map(|u| u.origin().ascii_serialization())
                    .unwrap_or_default(),
            };
            let job = MoveJob {
                site: site.to_string(),
                meeting: m.id.clone(),
                sequence: claim.sequence,
                start,
                links_base,
            };
            match router_client::call(env, site, &route, &RouterRequest::Move(job)).await? {
                Ok(RouterAnswer::Moved { meeting, .. }) => {
                    let new_time = DateTime::parse_from_rfc3339(&meeting.start)
                        .map(|t| dynchat_scheduling::label(t.with_timezone(&chrono::Utc), tz))
                        .unwrap_or(meeting.start);
                    Ok(msg(
                        200,
                        "Your meeting is moved",
                        &format!("Your meeting with {agent_name} is now on {new_time}. You will get an updated invitation by email."),
                    ))
                }
                Err(RouterError::Busy) => {
                    let slots = free_times(env, &database, site, &m.agent, tz, m.start_ms).await?;
                    Ok((
                        409,
                        reschedule_page(
                            &Shown {
                                agent: &agent_name,
                                time: &format!("{time} (the time you picked was just taken; pick another)"),
                            },
                            &token,
                            &slots,
                        ),
                    ))
                }
                Err(RouterError::Conflict { .. }) => Ok(msg(
                    410,
                    "This link was already used",
                    "The meeting was changed since this link was sent.",
                )),
                Ok(_) | Err(RouterError::SlotTaken { .. }) | Err(RouterError::Failed { .. }) => {
                    Ok(msg(
                        502,
                        "The meeting could not be moved",
                        "The calendar did not answer. Your meeting is unchanged; please try again later.",
                    ))
                }
            }
        }
    }
}

/// At most this many free times on the reschedule page (two weeks of half-hour starts over a
/// ten-hour day is 280).
const MAX_TIMES: usize = 400;

/// The agent's free starts for the next two weeks (ISO, label in the visitor's zone), the
/// meeting's own start left out.
async fn free_times(
    env: &Env,
    database: &D1Database,
    site: &str,
    agent: &str,
    tz: chrono_tz::Tz,
    current_ms: i64,
) -> Result<Vec<(String, String)>, ApiError> {
    let now = meetings::from_ms(db::now(env, database).await?);
    let v = route_slots(
        env,
        database,
        site,
        &Route::Agent(agent.to_string()),
        SlotQuery {
            tz,
            days: 14,
            now,
            cached: false,
        },
    )
    .await?;
    let current = meetings::iso(meetings::from_ms(current_ms));
    Ok(v["slots"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| {
                    Some((
                        s["start"].as_str()?.to_string(),
                        s["label"].as_str()?.to_string(),
                    ))
                })
                .filter(|(s, _)| *s != current)
                .take(MAX_TIMES)
                .collect()
        })
        .unwrap_or_default())
}
