//! Meetings at the edge: public `slots` and `book`, the booking job the `QueueRouter` runs,
//! and the admin API for agents, calendars (OAuth connect, CalDAV), queues, the invitation
//! template, the assignment log and the meetings list (cancel, no-show).

use super::db::{self, n, os, s};
use super::reply::{header, json_body, Reply};
use super::site::Site;
use crate::calendar::client::{
    around, CalFailure, CalendarProvider, Connected, NowFromWorker, ProviderConfig,
};
use crate::calendar::{self, Credentials, NewEvent, Provider};
use crate::error::ApiError;
use crate::mail::smtp::{MailSender, OutgoingMail, SmtpSender, TlsMode};
use crate::marketo::mapping;
use crate::meetings::{self, BookInput, Route};
use chrono::{DateTime, Duration, Utc};
use dynchat_scheduling::{
    assign, invitation_email, queue_slots, AgentId, AgentSettings, Availability, Busy,
    EmailAddress, IcsMethod, InvitationEmail, Meeting, Person, Rotation, Slot,
};
use futures_util::future::join_all;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use std::cell::RefCell;
use std::collections::HashMap;
use wasm_bindgen::prelude::wasm_bindgen;
use worker::{D1Database, Env, Method, Request, RequestInit};

const MAX_ADMIN_BODY: usize = 64 * 1024;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = crypto, js_name = getRandomValues)]
    fn get_random_values(buf: &mut [u8]);
}

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    get_random_values(&mut b);
    b
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

// ---------------------------------------------------------------------------------------------
// Configuration

/// Provider base URLs and OAuth clients from wrangler vars.
pub fn provider_config(env: &Env) -> ProviderConfig {
    let v = |k: &str, d: &str| {
        super::config::string(env, k, d)
            .trim_end_matches('/')
            .to_string()
    };
    ProviderConfig {
        google_auth_url: v(
            "GOOGLE_AUTH_URL",
            "https://accounts.google.com/o/oauth2/v2/auth",
        ),
        google_token_url: v("GOOGLE_TOKEN_URL", "https://oauth2.googleapis.com/token"),
        google_api_base: v("GOOGLE_API_BASE", "https://www.googleapis.com"),
        google_client_id: v("GOOGLE_CLIENT_ID", ""),
        google_client_secret: v("GOOGLE_CLIENT_SECRET", ""),
        ms_login_base: v("MS_LOGIN_BASE", "https://login.microsoftonline.com"),
        ms_tenant: v("MS_TENANT", "common"),
        graph_base: v("GRAPH_BASE", "https://graph.microsoft.com"),
        ms_client_id: v("MS_CLIENT_ID", ""),
        ms_client_secret: v("MS_CLIENT_SECRET", ""),
        timeout_ms: super::config::number(env, "CALENDAR_TIMEOUT_MS", 10_000).clamp(100, 60_000)
            as u64,
    }
}

fn smtp(env: &Env) -> SmtpSender {
    let user = super::config::string(env, "SMTP_USERNAME", "");
    let pass = super::config::string(env, "SMTP_PASSWORD", "");
    SmtpSender {
        host: super::config::string(env, "SMTP_HOST", "127.0.0.1"),
        port: super::config::number(env, "SMTP_PORT", 2525).clamp(1, 65_535) as u16,
        helo: super::config::string(env, "SMTP_HELO", "dynchat.local"),
        tls: TlsMode::parse(&super::config::string(env, "SMTP_TLS", "starttls")),
        username: (!user.is_empty()).then_some(user),
        password: (!pass.is_empty()).then_some(pass),
        timeout_ms: super::config::number(env, "SMTP_TIMEOUT_MS", 15_000).clamp(100, 120_000)
            as u64,
    }
}

fn mail_from(env: &Env) -> String {
    super::config::string(env, "SMTP_FROM", "meetings@dynchat.local")
}

fn calendar_key(env: &Env) -> Result<[u8; 32], ApiError> {
    calendar::key_from_secret(&super::config::string(env, "CALENDAR_KEY", ""))
}

// ---------------------------------------------------------------------------------------------
// Agents and their calendars

#[derive(Deserialize)]
struct AgentRow {
    id: String,
    name: String,
    email: String,
    settings: String,
    provider: Option<String>,
    account: Option<String>,
    secret: Option<String>,
    state: Option<String>,
    reason: Option<String>,
}

/// An agent with validated settings and the calendar connection as stored.
#[derive(Debug, Clone)]
pub struct Agent {
    pub id: String,
    pub name: String,
    pub email: String,
    pub settings: AgentSettings,
    pub provider: Option<Provider>,
    pub account: String,
    secret: Option<String>,
    pub state: String,
    pub reason: Option<String>,
}

const AGENT_SELECT: &str = "SELECT a.id, a.name, a.email, a.settings, c.provider, c.account, c.secret, c.state, c.reason FROM agents a LEFT JOIN calendar_connections c ON c.site = a.site AND c.agent = a.id";

fn agent_from_row(r: AgentRow) -> Option<Agent> {
    let settings = AgentSettings::from_json(&r.settings).ok()?;
    Some(Agent {
        id: r.id,
        name: r.name,
        email: r.email,
        settings,
        provider: r.provider.as_deref().and_then(Provider::parse),
        account: r.account.unwrap_or_default(),
        secret: r.secret,
        state: r.state.unwrap_or_else(|| "none".into()),
        reason: r.reason,
    })
}

/// The agents of `ids`, in that order (unknown ids left out).
pub async fn load_agents(
    database: &D1Database,
    site: &str,
    ids: &[String],
) -> Result<Vec<Agent>, ApiError> {
    let rows: Vec<AgentRow> = db::rows(
        database,
        &format!("{AGENT_SELECT} WHERE a.site = ?"),
        &[s(site)],
    )
    .await?;
    let mut by_id: HashMap<String, Agent> = rows
        .into_iter()
        .filter_map(agent_from_row)
        .map(|a| (a.id.clone(), a))
        .collect();
    Ok(ids.iter().filter_map(|id| by_id.remove(id)).collect())
}

#[derive(Deserialize)]
struct QueueRow {
    id: String,
    name: String,
    agents: String,
    last_agent: Option<String>,
}

async fn queue_row(
    database: &D1Database,
    site: &str,
    id: &str,
) -> Result<Option<QueueRow>, ApiError> {
    db::first(
        database,
        "SELECT id, name, agents, last_agent FROM queues WHERE site = ? AND id = ?",
        &[s(site), s(id)],
    )
    .await
}

/// The rotation of a route: a queue's order and pointer, or the one named agent.
pub async fn route_rotation(
    database: &D1Database,
    site: &str,
    route: &Route,
) -> Result<Rotation, ApiError> {
    match route {
        Route::Queue(q) => {
            let row = queue_row(database, site, q)
                .await?
                .ok_or_else(|| ApiError::NotFound("queue".into()))?;
            let order: Vec<String> = serde_json::from_str(&row.agents).unwrap_or_default();
            Ok(Rotation {
                order: order.into_iter().map(AgentId).collect(),
                last: row.last_agent.map(AgentId),
            })
        }
        Route::Agent(a) => {
            let exists: Option<IdRow> = db::first(
                database,
                "SELECT id FROM agents WHERE site = ? AND id = ?",
                &[s(site), s(a)],
            )
            .await?;
            if exists.is_none() {
                return Err(ApiError::NotFound("agent".into()));
            }
            Ok(Rotation::new(vec![AgentId(a.clone())]))
        }
    }
}

#[derive(Deserialize)]
struct IdRow {
    id: String,
}

fn connection(env: &Env, site: &str, a: &Agent) -> Result<Option<Connected>, ApiError> {
    let (Some(provider), Some(secret)) = (a.provider, a.secret.as_deref()) else {
        return Ok(None);
    };
    let creds = calendar::open(
        &calendar_key(env)?,
        &calendar::seal_context(site, &a.id, provider),
        secret,
    )?;
    Ok(Some(Connected {
        provider,
        account: a.account.clone(),
        credentials: creds,
        cache_key: format!("{site}/{}", a.id),
        rotated_refresh_token: RefCell::new(None),
    }))
}

/// What is known about an agent's time.
#[derive(Debug, Clone)]
pub enum AgentTime {
    Known(Busy),
    Unknown(String),
    Disconnected(String),
}

impl AgentTime {
    fn busy(&self) -> Busy {
        match self {
            AgentTime::Known(b) => b.clone(),
            _ => Busy::Unknown,
        }
    }
}

#[derive(Deserialize)]
struct SpanRow {
    start_ms: i64,
    end_ms: i64,
}

/// Our own meetings (held or scheduled) of an agent: busy even before the provider shows them.
async fn own_meetings(
    database: &D1Database,
    site: &str,
    agent: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    except_key: Option<&str>,
) -> Result<Vec<dynchat_scheduling::Interval>, ApiError> {
    let rows: Vec<SpanRow> = db::rows(
        database,
        "SELECT start_ms, end_ms FROM meetings WHERE site = ? AND agent = ? AND status IN ('pending', 'scheduled') AND start_ms < ? AND end_ms > ? AND idem_key <> ?",
        &[s(site), s(agent), n(to.timestamp_millis()), n(from.timestamp_millis()), s(except_key.unwrap_or(""))],
    )
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            dynchat_scheduling::Interval::new(
                meetings::from_ms(r.start_ms),
                meetings::from_ms(r.end_ms),
            )
        })
        .collect())
}

struct CachedBusy {
    at_ms: i64,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    busy: Busy,
}

thread_local! {
    /// Provider busy time reused for a few seconds when computing alternatives after a lost
    /// slot (our own meetings are always read fresh from D1 on top).
    static BUSY_CACHE: RefCell<HashMap<String, CachedBusy>> = RefCell::new(HashMap::new());
}
const BUSY_CACHE_MS: i64 = 10_000;

/// Reads an agent's calendar and adds our own meetings. `invalid_grant` marks the agent
/// disconnected in D1; any other failure is "unknown" (never free).
pub async fn agent_time(
    env: &Env,
    database: &D1Database,
    cfg: &ProviderConfig,
    site: &str,
    a: &Agent,
    window: (DateTime<Utc>, DateTime<Utc>),
    cached: bool,
) -> AgentTime {
    let (from, to) = window;
    if a.state != "connected" {
        return AgentTime::Disconnected(
            a.reason
                .clone()
                .unwrap_or_else(|| "no calendar connected".into()),
        );
    }
    let key = format!("{site}/{}", a.id);
    let now = db::real_now();
    let hit = if cached {
        BUSY_CACHE.with(|m| {
            m.borrow()
                .get(&key)
                .filter(|c| now - c.at_ms < BUSY_CACHE_MS && c.from <= from && c.to >= to)
                .map(|c| c.busy.clone())
        })
    } else {
        None
    };
    let provider_busy = match hit {
        Some(b) => Ok(b),
        None => {
            let conn = match connection(env, site, a) {
                Ok(Some(c)) => c,
                Ok(None) => return AgentTime::Disconnected("no calendar connected".into()),
                Err(e) => return AgentTime::Unknown(e.to_string()),
            };
            let r = conn.busy(cfg, from, to).await;
            store_rotated_token(env, database, site, a, &conn).await;
            if let Ok(b) = &r {
                BUSY_CACHE.with(|m| {
                    m.borrow_mut().insert(
                        key,
                        CachedBusy {
                            at_ms: now,
                            from,
                            to,
                            busy: b.clone(),
                        },
                    )
                });
            }
            r
        }
    };
    match provider_busy {
        Ok(Busy::Known(list)) => match own_meetings(database, site, &a.id, from, to, None).await {
            Ok(own) => AgentTime::Known(Busy::Known(list).union(Busy::Known(own))),
            Err(e) => AgentTime::Unknown(e.to_string()),
        },
        Ok(Busy::Unknown) => AgentTime::Unknown("the calendar reported an error".into()),
        Err(CalFailure::Disconnected(reason)) => {
            mark_disconnected(database, site, &a.id, &reason).await;
            AgentTime::Disconnected(reason)
        }
        Err(CalFailure::Failed(reason)) => {
            worker::console_log!("calendar of {site}/{}: {reason}", a.id);
            AgentTime::Unknown(reason)
        }
    }
}

async fn mark_disconnected(database: &D1Database, site: &str, agent: &str, reason: &str) {
    let r = db::exec(database, "UPDATE calendar_connections SET state = 'disconnected', reason = ?, updated_at = ? WHERE site = ? AND agent = ?", &[s(reason), n(db::real_now()), s(site), s(agent)]).await;
    if let Err(e) = r {
        worker::console_error!("could not mark {site}/{agent} disconnected: {e}");
    }
}

async fn store_rotated_token(
    env: &Env,
    database: &D1Database,
    site: &str,
    a: &Agent,
    conn: &Connected,
) {
    let Some(rt) = conn.rotated_refresh_token.borrow_mut().take() else {
        return;
    };
    let Some(provider) = a.provider else { return };
    let sealed = calendar_key(env).and_then(|k| {
        calendar::seal(
            &k,
            random_bytes::<12>(),
            &calendar::seal_context(site, &a.id, provider),
            &Credentials::OAuth { refresh_token: rt },
        )
    });
    match sealed {
        Ok(v) => {
            let _ = db::exec(database, "UPDATE calendar_connections SET secret = ?, updated_at = ? WHERE site = ? AND agent = ? AND state = 'connected'", &[s(&v), n(db::real_now()), s(site), s(&a.id)]).await;
        }
        Err(e) => worker::console_error!("rotated token of {site}/{} not stored: {e}", a.id),
    }
}

// ---------------------------------------------------------------------------------------------
// Public: slots

fn query_map(req: &Request) -> Result<HashMap<String, String>, ApiError> {
    Ok(req
        .url()?
        .query_pairs()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect())
}

/// Slots of a route for the visitor, and the agents whose calendar is not known.
/// Which slots to compute: the visitor's zone, how many days from `now`, and whether recent
/// provider answers may be reused.
pub struct SlotQuery {
    pub tz: chrono_tz::Tz,
    pub days: i64,
    pub now: DateTime<Utc>,
    pub cached: bool,
}

pub async fn route_slots(
    env: &Env,
    database: &D1Database,
    site: &str,
    route: &Route,
    q: SlotQuery,
) -> Result<Value, ApiError> {
    let SlotQuery {
        tz,
        days,
        now,
        cached,
    } = q;
    let rotation = route_rotation(database, site, route).await?;
    let ids: Vec<String> = rotation.order.iter().map(|a| a.0.clone()).collect();
    let agents = load_agents(database, site, &ids).await?;
    let cfg = provider_config(env);
    let from = now;
    let to = now + Duration::days(days);
    let times = join_all(
        agents
            .iter()
            .map(|a| agent_time(env, database, &cfg, site, a, (from, to), cached)),
    )
    .await;
    let mut unknown = Vec::new();
    let mut input = Vec::new();
    for (a, t) in agents.iter().zip(times) {
        if !matches!(t, AgentTime::Known(_)) {
            unknown.push(a.id.clone());
        }
        input.push((AgentId(a.id.clone()), a.settings.clone(), t.busy()));
    }
    let list: Vec<Value> = queue_slots(&input, from, to, now)
        .into_iter()
        .map(|q| json!({"start": meetings::iso(q.start), "end": meetings::iso(q.end), "label": dynchat_scheduling::label(q.start, tz)}))
        .collect();
    Ok(json!({"tz": tz.name(), "slots": list, "unknown_agents": unknown}))
}

/// `GET /v1/sites/{site}/slots?route=queue:sales|agent:id&tz=Europe/Amsterdam&days=14`.
pub async fn slots(
    req: &Request,
    env: &Env,
    database: &D1Database,
    site: &Site,
) -> Result<Reply, ApiError> {
    let q = query_map(req)?;
    let route = Route::parse(q.get("route").map(String::as_str).unwrap_or(""), "route")?;
    let tz = dynchat_scheduling::parse_tz(q.get("tz").map(String::as_str).unwrap_or("UTC"), "tz")
        .map_err(|e| ApiError::field("tz", e.to_string()))?;
    let days = match q.get("days") {
        Some(d) => d
            .parse::<i64>()
            .ok()
            .filter(|d| (1..=62).contains(d))
            .ok_or_else(|| ApiError::field("days", "must be a whole number from 1 to 62"))?,
        None => 14,
    };
    let now = db::now(env, database).await?;
    let body = route_slots(
        env,
        database,
        &site.id,
        &route,
        SlotQuery {
            tz,
            days,
            now: meetings::from_ms(now),
            cached: false,
        },
    )
    .await?;
    Ok(Reply::json(200, body))
}

// ---------------------------------------------------------------------------------------------
// Public: book

/// What the worker hands the route's `QueueRouter`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BookJob {
    pub site: String,
    pub key: String,
    pub body_hash: String,
    pub input: BookInput,
}

#[derive(Deserialize)]
struct MeetingRow {
    id: String,
    body_hash: String,
    route: String,
    agent: String,
    agent_name: Option<String>,
    lead_email: String,
    lead_name: String,
    lead_fields: String,
    dialogue: String,
    session: String,
    start_ms: i64,
    end_ms: i64,
    tz: String,
    status: String,
    provider: String,
    event_id: Option<String>,
    uid: String,
    sequence: i64,
    invite_status: String,
    notify_status: String,
    created_at: i64,
}

const MEETING_SELECT: &str = "SELECT m.id, m.idem_key, m.body_hash, m.route, m.agent, a.name AS agent_name, m.lead_email, m.lead_name, m.lead_fields, m.dialogue, m.session, m.start_ms, m.end_ms, m.tz, m.status, m.provider, m.event_id, m.uid, m.sequence, m.invite_status, m.notify_status, m.created_at FROM meetings m LEFT JOIN agents a ON a.site = m.site AND a.id = m.agent";

async fn meeting_by_key(
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

fn booked_body(m: &MeetingRow) -> Value {
    json!({"meeting": m.id, "agent": m.agent_name.clone().unwrap_or_else(|| m.agent.clone()), "start": meetings::iso(meetings::from_ms(m.start_ms)), "end": meetings::iso(meetings::from_ms(m.end_ms))})
}

fn replay(m: &MeetingRow, body_hash: &str) -> Result<Value, ApiError> {
    if m.body_hash != body_hash {
        return Err(ApiError::Conflict(
            "this Idempotency-Key was used with a different body".into(),
        ));
    }
    Ok(json!({"status": 200, "body": booked_body(m)}))
}

/// `POST /v1/sites/{site}/book` with `Idempotency-Key`.
pub async fn book(
    req: &Request,
    env: &Env,
    database: &D1Database,
    site: &Site,
    body: Value,
) -> Result<Reply, ApiError> {
    let key = header(req, "Idempotency-Key").unwrap_or_default();
    if !(8..=128).contains(&key.len()) || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ApiError::field(
            "Idempotency-Key",
            "header of 8-128 printable characters is required",
        ));
    }
    let input = meetings::book_input(&body)?;
    if !input.dialogue.is_empty() && !site.dialogue_ids.contains(&input.dialogue) {
        return Err(ApiError::field(
            "dialogue",
            "is not a dialogue of this site",
        ));
    }
    let body_hash = hex(&Sha256::digest(body.to_string().as_bytes())[..16]);
    if let Some(m) = meeting_by_key(database, &site.id, &key).await? {
        if m.status != "pending" {
            let v = replay(&m, &body_hash)?;
            return Ok(Reply::json(200, v["body"].clone()));
        }
    }
    let route = Route::parse(&input.route, "route")?;
    let rotation = route_rotation(database, &site.id, &route).await?;
    let ids: Vec<String> = rotation.order.iter().map(|a| a.0.clone()).collect();
    let agents = load_agents(database, &site.id, &ids).await?;
    let now = meetings::from_ms(db::now(env, database).await?);
    let slot = Slot {
        start: input.start,
        end: input.end,
    };
    if let Some(p) = meetings::route_slot_problem(agents.iter().map(|a| &a.settings), &slot, now) {
        return Err(p.error());
    }
    let tz = dynchat_scheduling::parse_tz(&input.tz, "tz")
        .map_err(|e| ApiError::field("tz", e.to_string()))?;
    let job = BookJob {
        site: site.id.clone(),
        key,
        body_hash,
        input,
    };
    let answer = call_router(env, &site.id, &route, "/book", &serde_json::to_value(&job)?).await?;
    let status = answer.get("status").and_then(Value::as_u64).unwrap_or(500) as u16;
    match status {
        200 | 201 => Ok(Reply::json(
            status,
            answer.get("body").cloned().unwrap_or(Value::Null),
        )),
        409 if answer.get("code").and_then(Value::as_str) == Some("slot_taken") => {
            let alternatives = route_slots(
                env,
                database,
                &site.id,
                &route,
                SlotQuery {
                    tz,
                    days: 14,
                    now,
                    cached: true,
                },
            )
            .await
            .map(|v| v["slots"].clone())
            .unwrap_or_else(|_| json!([]));
            let alternatives: Vec<Value> = alternatives
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .filter(|v| v["start"] != json!(meetings::iso(slot.start)))
                .take(50)
                .collect();
            Ok(Reply::json(
                409,
                json!({"error": {"code": "slot_taken", "message": "this slot was just taken; pick another"}, "slots": alternatives}),
            ))
        }
        409 => Err(ApiError::Conflict(
            answer
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("conflict")
                .to_string(),
        )),
        _ => Err(ApiError::Upstream(
            answer
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("booking failed")
                .to_string(),
        )),
    }
}

/// Sends a job to the route's `QueueRouter` (one object per queue, one per named agent).
async fn call_router(
    env: &Env,
    site: &str,
    route: &Route,
    path: &str,
    body: &Value,
) -> Result<Value, ApiError> {
    let ns = env
        .durable_object("QUEUE_ROUTER")
        .map_err(|e| ApiError::Config(e.to_string()))?;
    let stub = ns
        .id_from_name(&format!("{site}/{}", route.as_string()))?
        .get_stub()?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_body(Some(body.to_string().into()));
    let req = Request::new_with_init(&format!("https://queue-router{path}"), &init)?;
    let mut resp = stub.fetch_with_request(req).await?;
    let v: Value = resp
        .json()
        .await
        .map_err(|e| ApiError::Storage(format!("router answer: {e}")))?;
    Ok(v)
}

#[derive(Deserialize)]
struct TemplateRow {
    subject: String,
    body: String,
    location: Option<String>,
}

async fn template(database: &D1Database, site: &str) -> Result<TemplateRow, ApiError> {
    Ok(db::first(
        database,
        "SELECT subject, body, location FROM meeting_templates WHERE site = ?",
        &[s(site)],
    )
    .await?
    .unwrap_or_else(|| TemplateRow {
        subject: meetings::DEFAULT_SUBJECT.into(),
        body: meetings::DEFAULT_BODY.into(),
        location: None,
    }))
}

fn person(name: &str, email: &str) -> Result<Person, ApiError> {
    Ok(Person {
        name: name.to_string(),
        email: EmailAddress::parse(email, "email")
            .map_err(|e| ApiError::field("email", e.to_string()))?,
    })
}

fn router_error(e: ApiError) -> Value {
    json!({"status": e.status(), "code": e.code(), "message": e.to_string()})
}

/// The booking, serialised per route by the `QueueRouter`: re-check the slot for whoever is
/// next in rotation (skipping busy / unknown / disconnected agents and recording why), hold
/// the slot in D1 so no other route can take the same agent, create the event, send the
/// invitation, record the meeting and its assignment, and only then advance the rotation.
pub async fn run_book_job(env: &Env, job: BookJob) -> Value {
    match book_job(env, &job).await {
        Ok(v) => v,
        Err(e) => {
            worker::console_error!("booking {}: {e}", job.key);
            router_error(e)
        }
    }
}

async fn book_job(env: &Env, job: &BookJob) -> Result<Value, ApiError> {
    let database = db::database(env)?;
    let site = super::site::site(&database, &job.site).await?;
    let input = &job.input;
    let ids = meetings::booking_ids(&job.site, &job.key);
    let resume = match meeting_by_key(&database, &job.site, &job.key).await? {
        Some(m) if m.status != "pending" => return replay(&m, &job.body_hash),
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
    let ids_order: Vec<String> = rotation.order.iter().map(|a| a.0.clone()).collect();
    let agents = load_agents(&database, &job.site, &ids_order).await?;
    let now = meetings::from_ms(db::now(env, &database).await?);
    let slot = Slot {
        start: input.start,
        end: input.end,
    };
    let cfg = provider_config(env);
    let tpl = template(&database, &job.site).await?;

    let mut seen: HashMap<AgentId, Availability> = HashMap::new();
    let mut notes: Vec<Value> = Vec::new();
    let mut booked: Option<(Agent, String)> = None;
    let n_agents = rotation.order.len();
    let start_index = rotation
        .next_in_line()
        .and_then(|nx| rotation.order.iter().position(|a| a == nx))
        .unwrap_or(0);
    for k in 0..n_agents {
        let id = &rotation.order[(start_index + k) % n_agents];
        if let Some(r) = &resume {
            if r != &id.0 {
                continue;
            }
        }
        let Some(agent) = agents.iter().find(|a| a.id == id.0) else {
            seen.insert(id.clone(), Availability::Unknown);
            continue;
        };
        let (from, to) = around(
            slot.start,
            slot.end,
            agent.settings.buffer_before_minutes(),
            agent.settings.buffer_after_minutes(),
        );
        let avail = if resume.is_some() {
            Availability::Free
        } else {
            match agent_time(env, &database, &cfg, &job.site, agent, (from, to), false).await {
                AgentTime::Known(b) if meetings::is_free_slot(&agent.settings, &b, &slot, now) => {
                    Availability::Free
                }
                AgentTime::Known(_) => Availability::Busy,
                AgentTime::Unknown(why) => {
                    notes.push(json!({"agent": id.0, "note": why}));
                    Availability::Unknown
                }
                AgentTime::Disconnected(why) => {
                    notes.push(json!({"agent": id.0, "note": why}));
                    Availability::Disconnected
                }
            }
        };
        if avail != Availability::Free {
            seen.insert(id.clone(), avail);
            continue;
        }
        // Hold: a conditional insert, atomic in D1, so two routes can never give the same
        // agent overlapping meetings even if both calendars still looked free.
        if resume.is_none() && !hold(&database, job, agent, &ids).await? {
            seen.insert(id.clone(), Availability::Busy);
            continue;
        }
        match create_event(env, &database, &cfg, &tpl, job, agent, &ids).await {
            Ok(event_id) => {
                seen.insert(id.clone(), Availability::Free);
                booked = Some((agent.clone(), event_id));
                break;
            }
            Err(e) => {
                notes.push(json!({"agent": id.0, "note": format!("event not created: {e}")}));
                db::exec(
                    &database,
                    "DELETE FROM meetings WHERE site = ? AND idem_key = ? AND status = 'pending'",
                    &[s(&job.site), s(&job.key)],
                )
                .await?;
                seen.insert(
                    id.clone(),
                    if matches!(e, CalFailure::Disconnected(_)) {
                        Availability::Disconnected
                    } else {
                        Availability::Unknown
                    },
                );
            }
        }
    }
    let decision = assign(&rotation, &slot, &|a: &AgentId| {
        seen.get(a).copied().unwrap_or(Availability::Unknown)
    });
    let skipped = serde_json::to_string(&decision.skipped)?;
    let at = db::real_now();
    let Some((agent, event_id)) = booked else {
        db::exec(
            &database,
            "INSERT INTO assignment_log (site, route, meeting, slot_start, slot_end, next_in_line, chosen, skipped, outcome, at) VALUES (?, ?, NULL, ?, ?, ?, NULL, ?, 'slot_taken', ?)",
            &[s(&job.site), s(&input.route), n(slot.start.timestamp_millis()), n(slot.end.timestamp_millis()), os(decision.next_in_line.as_ref().map(|a| a.0.as_str())), s(&skipped), n(at)],
        )
        .await?;
        return Ok(
            json!({"status": 409, "code": "slot_taken", "skipped": decision.skipped, "notes": notes}),
        );
    };
    if decision.chosen.as_ref().map(|c| c.0.as_str()) != Some(agent.id.as_str()) && resume.is_none()
    {
        worker::console_error!(
            "rotation decision {:?} differs from booked agent {}",
            decision.chosen,
            agent.id
        );
    }

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
    let meeting = ics_meeting(
        &tpl,
        &ids.uid,
        &agent,
        &visitor_name,
        &input.email,
        slot,
        tz,
    )?;
    let from_addr = mail_from(env);
    let from = person(&agent.name, &from_addr)?;
    let agent_person = person(&agent.name, &agent.email)?;
    let lead_person = person(&visitor_name, &input.email)?;
    let provider = agent.provider.unwrap_or(Provider::Caldav);
    let mut mails = Vec::new();
    let invite_status = if provider.sends_invitations() {
        "by_provider"
    } else {
        let msg = invitation_email(&InvitationEmail {
            meeting: &meeting,
            method: IcsMethod::Request,
            sequence: 0,
            from: &from,
            to: &lead_person,
            reply_to: Some(&agent_person),
            subject_template: &tpl.subject,
            body_template: &tpl.body,
            visitor_name: &visitor_name,
            agent_name: &agent.name,
            visitor_tz: tz,
            now: Utc::now_from_worker(),
        });
        mails.push(OutMail {
            kind: MailKind::Invitation,
            sequence: 0,
            rcpt: input.email.clone(),
            subject: meeting.summary.clone(),
            message: msg,
        });
        "queued"
    };
    let notify = invitation_email(&InvitationEmail {
        meeting: &meeting,
        method: IcsMethod::Request,
        sequence: 0,
        from: &person("dynchat", &from_addr)?,
        to: &agent_person,
        reply_to: Some(&lead_person),
        subject_template: meetings::NOTIFY_SUBJECT,
        body_template: meetings::NOTIFY_BODY,
        visitor_name: &visitor_name,
        agent_name: &agent.name,
        visitor_tz: agent.settings.tz(),
        now: Utc::now_from_worker(),
    });
    mails.push(OutMail {
        kind: MailKind::Notification,
        sequence: 0,
        rcpt: agent.email.clone(),
        subject: format!("New meeting with {visitor_name}"),
        message: notify,
    });

    // Record the meeting, the assignment, the Marketo activity; then advance the rotation.
    let mut st = vec![
        db::stmt(
            &database,
            "UPDATE meetings SET status = 'scheduled', event_id = ?, invite_status = ?, notify_status = 'queued', updated_at = ? WHERE site = ? AND idem_key = ?",
            &[s(&event_id), s(invite_status), n(at), s(&job.site), s(&job.key)],
        )?,
        db::stmt(
            &database,
            "INSERT INTO assignment_log (site, route, meeting, slot_start, slot_end, next_in_line, chosen, skipped, outcome, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'booked', ?)",
            &[s(&job.site), s(&input.route), s(&ids.meeting), n(slot.start.timestamp_millis()), n(slot.end.timestamp_millis()), os(decision.next_in_line.as_ref().map(|a| a.0.as_str())), s(&agent.id), s(&skipped), n(at)],
        )?,
    ];
    if let Route::Queue(q) = &route {
        let mut r = rotation.clone();
        r.advance(&AgentId(agent.id.clone()));
        st.push(db::stmt(
            &database,
            "UPDATE queues SET last_agent = ? WHERE site = ? AND id = ?",
            &[
                os(r.last.as_ref().map(|a| a.0.as_str())),
                s(&job.site),
                s(q),
            ],
        )?);
    }
    for m in &mails {
        st.push(outbox_stmt(
            &database,
            &job.site,
            &ids.meeting,
            &from_addr,
            m,
            at,
        )?);
    }
    st.extend(marketo_statements(&database, &site, job, &ids.meeting, &agent, at).await?);
    db::batch(&database, st).await?;
    if let Ok(q) = env.queue("OUTBOX") {
        if let Err(e) = q.send(json!({"kind": "activity"})).await {
            worker::console_error!("meeting {}: queue send failed: {e}", ids.meeting);
        }
    }
    Ok(
        json!({"status": 201, "mail": !mails.is_empty(), "body": {"meeting": ids.meeting, "agent": agent.name, "start": meetings::iso(slot.start), "end": meetings::iso(slot.end)}}),
    )
}

// ---------------------------------------------------------------------------------------------
// Mail outbox: invitations, notifications and cancellations are stored with the meeting, then
// delivered over SMTP by the router's alarm; a relay that is down or refuses means a retry
// with backoff, visible to the admin, until the message is accepted.

/// What a queued message is, and which column of the meeting shows its state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailKind {
    Invitation,
    Notification,
    Cancellation,
}

impl MailKind {
    fn as_str(self) -> &'static str {
        match self {
            MailKind::Invitation => "invitation",
            MailKind::Notification => "notification",
            MailKind::Cancellation => "cancellation",
        }
    }

    fn parse(s: &str) -> Option<MailKind> {
        match s {
            "invitation" => Some(MailKind::Invitation),
            "notification" => Some(MailKind::Notification),
            "cancellation" => Some(MailKind::Cancellation),
            _ => None,
        }
    }

    /// The meeting column showing this message's delivery, and the prefix of its value.
    fn column(self) -> (&'static str, &'static str) {
        match self {
            MailKind::Invitation => ("invite_status", ""),
            MailKind::Notification => ("notify_status", ""),
            MailKind::Cancellation => ("invite_status", "cancel "),
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

fn outbox_stmt(
    database: &D1Database,
    site: &str,
    meeting: &str,
    from: &str,
    m: &OutMail,
    now: i64,
) -> Result<worker::D1PreparedStatement, ApiError> {
    db::stmt(
        database,
        "INSERT OR IGNORE INTO mail_outbox (id, site, meeting, kind, mail_from, rcpt, subject, message, status, attempts, next_attempt_at, lease_until, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?, 0, ?)",
        &[
            s(&format!("{meeting}:{}:{}", m.kind.as_str(), m.sequence)),
            s(site),
            s(meeting),
            s(m.kind.as_str()),
            s(from),
            s(&m.rcpt),
            s(&m.subject.chars().take(200).collect::<String>()),
            s(&m.message),
            n(now),
            n(now),
        ],
    )
}

/// How long a sender holds a message it is sending (longer than any SMTP conversation).
fn mail_lease_ms(env: &Env) -> i64 {
    smtp(env).timeout_ms as i64 + 30_000
}

/// Delay before attempt `attempts + 1`: `MAIL_RETRY_MS` (default 30 s) doubled per failed
/// attempt, at most 30 minutes.
fn mail_backoff_ms(env: &Env, attempts: i64) -> i64 {
    let base = super::config::number(env, "MAIL_RETRY_MS", 30_000).clamp(100, 3_600_000);
    let shift = attempts.clamp(1, 16) - 1;
    (base << shift).min(30 * 60_000)
}

#[derive(Deserialize)]
struct OutboxRow {
    id: String,
    site: String,
    meeting: String,
    kind: String,
    mail_from: String,
    rcpt: String,
    message: String,
    attempts: i64,
}

#[derive(Deserialize)]
struct NextRow {
    next: Option<i64>,
}

/// Delivers every due message (at most 50 a run) over one SMTP connection. The due messages
/// are claimed with a lease in one statement first, so two senders never send the same
/// message; a failure schedules the next attempt with backoff and shows on the meeting.
/// Answers when the next pending message is due, if any.
pub async fn deliver_mail(env: &Env) -> Result<Option<i64>, ApiError> {
    let database = db::database(env)?;
    let now = db::real_now();
    let claimed: Vec<OutboxRow> = db::rows(
        &database,
        "UPDATE mail_outbox SET lease_until = ? WHERE id IN (SELECT id FROM mail_outbox WHERE status = 'pending' AND next_attempt_at <= ? AND lease_until <= ? ORDER BY next_attempt_at, id LIMIT 50) AND status = 'pending' AND lease_until <= ? \
         RETURNING id, site, meeting, kind, mail_from, rcpt, message, attempts",
        &[n(now + mail_lease_ms(env)), n(now), n(now), n(now)],
    )
    .await?;
    if !claimed.is_empty() {
        let mut claimed = claimed;
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
        let max_attempts = super::config::number(env, "MAIL_MAX_ATTEMPTS", 60).clamp(1, 1000);
        let done = db::real_now();
        let mut st = Vec::new();
        for (r, result) in claimed.iter().zip(results) {
            let kind = MailKind::parse(&r.kind).unwrap_or(MailKind::Invitation);
            let (column, prefix) = kind.column();
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
            st.push(db::stmt(
                &database,
                "UPDATE mail_outbox SET status = ?, attempts = ?, next_attempt_at = ?, lease_until = 0, last_error = ?, sent_at = CASE WHEN ? = 'sent' THEN ? ELSE sent_at END WHERE id = ?",
                &[s(status), n(attempts), n(next), os(error.as_deref()), s(status), n(done), s(&r.id)],
            )?);
            st.push(db::stmt(
                &database,
                &format!(
                    "UPDATE meetings SET {column} = ?, updated_at = ? WHERE site = ? AND id = ?"
                ),
                &[s(&shown), n(done), s(&r.site), s(&r.meeting)],
            )?);
        }
        db::batch(&database, st).await?;
    }
    let next: Option<NextRow> = db::first(
        &database,
        "SELECT MIN(MAX(next_attempt_at, lease_until)) AS next FROM mail_outbox WHERE status = 'pending'",
        &[],
    )
    .await?;
    Ok(next.and_then(|r| r.next))
}

/// Asks the route's router to deliver the outbox now (it sets its alarm).
async fn kick_mail(env: &Env, site: &str, route: &Route) {
    if let Err(e) = call_router(env, site, route, "/mail", &json!({})).await {
        worker::console_error!("mail kick for {site}/{}: {e}", route.as_string());
    }
}

#[derive(Deserialize, Serialize)]
struct OutboxListRow {
    id: String,
    meeting: String,
    kind: String,
    rcpt: String,
    subject: String,
    status: String,
    attempts: i64,
    next_attempt_at: i64,
    last_error: Option<String>,
    created_at: i64,
    sent_at: Option<i64>,
}

/// `GET /admin/sites/{site}/mail-outbox?status=pending|sent|failed`: the queued mails (no
/// message bodies), newest first.
async fn list_outbox(req: &Request, database: &D1Database, site: &str) -> Result<Reply, ApiError> {
    let q = query_map(req)?;
    let status = q.get("status").cloned();
    if let Some(st) = &status {
        if !["pending", "sent", "failed"].contains(&st.as_str()) {
            return Err(ApiError::field("status", "must be pending, sent or failed"));
        }
    }
    let rows: Vec<OutboxListRow> = db::rows(
        database,
        "SELECT id, meeting, kind, rcpt, subject, status, attempts, next_attempt_at, last_error, created_at, sent_at FROM mail_outbox WHERE site = ? AND (? IS NULL OR status = ?) ORDER BY created_at DESC, id LIMIT 1000",
        &[s(site), os(status.as_deref()), os(status.as_deref())],
    )
    .await?;
    Ok(Reply::json(200, json!({"mails": rows})))
}

async fn hold(
    database: &D1Database,
    job: &BookJob,
    agent: &Agent,
    ids: &meetings::BookingIds,
) -> Result<bool, ApiError> {
    let i = &job.input;
    let before = i64::from(agent.settings.buffer_before_minutes()) * 60_000;
    let after = i64::from(agent.settings.buffer_after_minutes()) * 60_000;
    let (start, end) = (i.start.timestamp_millis(), i.end.timestamp_millis());
    let now = db::real_now();
    let changed = db::exec(
        database,
        "INSERT OR IGNORE INTO meetings (id, site, idem_key, body_hash, route, agent, lead_email, lead_name, lead_fields, dialogue, session, start_ms, end_ms, tz, status, provider, uid, created_at, updated_at) \
         SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ? \
         WHERE NOT EXISTS (SELECT 1 FROM meetings WHERE site = ? AND agent = ? AND status IN ('pending', 'scheduled') AND start_ms < ? AND end_ms > ?)",
        &[
            s(&ids.meeting),
            s(&job.site),
            s(&job.key),
            s(&job.body_hash),
            s(&i.route),
            s(&agent.id),
            s(&i.email),
            s(&i.name),
            s(&Value::Object(i.lead.clone()).to_string()),
            s(&i.dialogue),
            s(&i.session),
            n(start),
            n(end),
            s(&i.tz),
            s(agent.provider.map(Provider::as_str).unwrap_or("none")),
            s(&ids.uid),
            n(now),
            n(now),
            s(&job.site),
            s(&agent.id),
            n(end + after),
            n(start - before),
        ],
    )
    .await?;
    Ok(changed == 1)
}

fn ics_meeting(
    tpl: &TemplateRow,
    uid: &str,
    agent: &Agent,
    visitor_name: &str,
    visitor_email: &str,
    slot: Slot,
    tz: chrono_tz::Tz,
) -> Result<Meeting, ApiError> {
    let time = dynchat_scheduling::label(slot.start, tz);
    let link = tpl.location.clone().unwrap_or_default();
    Ok(Meeting {
        uid: uid.to_string(),
        summary: meetings::render_template(&tpl.subject, visitor_name, &agent.name, &time, &link),
        description: meetings::render_template(&tpl.body, visitor_name, &agent.name, &time, &link),
        location: tpl.location.clone(),
        start: slot.start,
        end: slot.end,
        organizer: person(&agent.name, &agent.email)?,
        attendees: vec![person(visitor_name, visitor_email)?],
    })
}

async fn create_event(
    env: &Env,
    database: &D1Database,
    cfg: &ProviderConfig,
    tpl: &TemplateRow,
    job: &BookJob,
    agent: &Agent,
    ids: &meetings::BookingIds,
) -> Result<String, CalFailure> {
    let conn = match connection(env, &job.site, agent) {
        Ok(Some(c)) => c,
        Ok(None) => return Err(CalFailure::Disconnected("no calendar connected".into())),
        Err(e) => return Err(CalFailure::Failed(e.to_string())),
    };
    let tz = dynchat_scheduling::parse_tz(&job.input.tz, "tz").unwrap_or(chrono_tz::UTC);
    let visitor = if job.input.name.is_empty() {
        job.input.email.clone()
    } else {
        job.input.name.clone()
    };
    let time = dynchat_scheduling::label(job.input.start, tz);
    let link = tpl.location.clone().unwrap_or_default();
    let e = NewEvent {
        summary: meetings::render_template(&tpl.subject, &visitor, &agent.name, &time, &link),
        description: meetings::render_template(&tpl.body, &visitor, &agent.name, &time, &link),
        location: tpl.location.clone(),
        start: job.input.start,
        end: job.input.end,
        attendee_email: job.input.email.clone(),
        attendee_name: visitor.clone(),
        organizer_email: agent.email.clone(),
        organizer_name: agent.name.clone(),
        google_event_id: ids.google_event.clone(),
        graph_transaction_id: ids.graph_transaction.clone(),
        uid: ids.uid.clone(),
    };
    let r = conn.create(cfg, &e).await;
    store_rotated_token(env, database, &job.site, agent, &conn).await;
    if let Err(CalFailure::Disconnected(reason)) = &r {
        mark_disconnected(database, &job.site, &agent.id, reason).await;
    }
    r
}

#[derive(Deserialize)]
struct LeadIdRow {
    id: String,
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
) -> Result<Vec<worker::D1PreparedStatement>, ApiError> {
    let i = &job.input;
    let mut st = Vec::new();
    let existing: Option<LeadIdRow> = db::first(
        database,
        "SELECT id FROM leads WHERE site = ? AND ((session = ? AND session <> '') OR email = ?) ORDER BY created_at DESC LIMIT 1",
        &[s(&site.id), s(&i.session), s(&i.email)],
    )
    .await?;
    let lead_id = match existing {
        Some(l) => l.id,
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
            st.push(db::stmt(
                database,
                "INSERT INTO leads (id, site, idem_key, body_hash, visitor, session, dialogue, hash, email, record, transcript, mkto_trk, status, member_status, created_at, next_attempt_at) \
                 VALUES (?, ?, ?, 'meeting', ?, ?, ?, NULL, ?, ?, '', NULL, 'queued', ?, ?, 0) ON CONFLICT DO NOTHING",
                &[s(&id), s(&site.id), s(&format!("meeting:{meeting_id}")), s(&i.session), s(&i.session), s(&i.dialogue), s(&i.email), s(&Value::Object(record).to_string()), s(member), n(at)],
            )?);
            id
        }
    };
    let a = mapping::Activity {
        type_api: "dynchat_meeting",
        primary: agent.name.clone(),
        attributes: vec![
            ("start".into(), meetings::iso(i.start)),
            ("dialogue".into(), i.dialogue.clone()),
            ("site".into(), site.id.clone()),
        ],
    };
    let attrs: Vec<[&str; 2]> = a
        .attributes
        .iter()
        .map(|(k, v)| [k.as_str(), v.as_str()])
        .collect();
    st.push(db::stmt(
        database,
        "INSERT OR IGNORE INTO activities (site, lead_id, type_api, primary_value, attributes, at) VALUES (?, ?, ?, ?, ?, ?)",
        &[s(&site.id), s(&lead_id), s(a.type_api), s(&a.primary), s(&serde_json::to_string(&attrs)?), n(at)],
    )?);
    if !i.dialogue.is_empty() {
        st.push(db::stmt(
            database,
            "INSERT INTO metrics_daily (site, dialogue, day, meetings) VALUES (?, ?, ?, 1) ON CONFLICT(site, dialogue, day) DO UPDATE SET meetings = meetings + 1",
            &[s(&site.id), s(&i.dialogue), n(crate::days::day_number(at))],
        )?);
    }
    Ok(st)
}

/// Replaces a queue's order, serialised with bookings by the queue's router: whoever was next
/// in line among the agents still present stays next.
pub async fn run_order_job(env: &Env, body: Value) -> Value {
    let r = async {
        let database = db::database(env)?;
        let site = body.get("site").and_then(Value::as_str).unwrap_or_default();
        let queue = body.get("queue").and_then(Value::as_str).unwrap_or_default();
        let order: Vec<String> = serde_json::from_value(body.get("agents").cloned().unwrap_or(Value::Null))?;
        let name = body.get("name").and_then(Value::as_str);
        let now = db::real_now();
        let (mut rotation, old_name) = match queue_row(&database, site, queue).await? {
            Some(q) => (
                Rotation { order: serde_json::from_str::<Vec<String>>(&q.agents).unwrap_or_default().into_iter().map(AgentId).collect(), last: q.last_agent.map(AgentId) },
                q.name,
            ),
            None => (Rotation::default(), queue.to_string()),
        };
        rotation.set_order(order.into_iter().map(AgentId).collect());
        let agents: Vec<&str> = rotation.order.iter().map(|a| a.0.as_str()).collect();
        db::exec(
            &database,
            "INSERT INTO queues (site, id, name, agents, last_agent, updated_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(site, id) DO UPDATE SET name = excluded.name, agents = excluded.agents, last_agent = excluded.last_agent, updated_at = excluded.updated_at",
            &[s(site), s(queue), s(name.unwrap_or(&old_name)), s(&serde_json::to_string(&agents)?), os(rotation.last.as_ref().map(|a| a.0.as_str())), n(now)],
        )
        .await?;
        Ok::<_, ApiError>(json!({"status": 200, "body": queue_json(queue, name.unwrap_or(&old_name), &rotation)}))
    }
    .await;
    r.unwrap_or_else(router_error)
}

fn queue_json(id: &str, name: &str, r: &Rotation) -> Value {
    json!({"id": id, "name": name, "agents": r.order, "last_agent": r.last, "next_in_line": r.next_in_line()})
}

// ---------------------------------------------------------------------------------------------
// Admin

fn authorised(req: &Request, env: &Env) -> bool {
    super::console::bearer_ok(req, env)
}

/// Routes the meetings part of `/admin/...`; `rest` is the path after `admin`.
pub async fn admin(
    req: &mut Request,
    env: &Env,
    method: Method,
    rest: &[&str],
) -> Result<Reply, ApiError> {
    let database = db::database(env)?;
    if let ["oauth", "callback"] = rest {
        return oauth_callback(req, env, &database).await;
    }
    if !authorised(req, env) {
        // Not the setup bearer token: an admin console session (CSRF-checked writes) or 401/403,
        // exactly as for the rest of `/admin/*`.
        super::console::require_admin(req, env, &method).await?;
    }
    match (method, rest) {
        (Method::Get, ["sites", site, "agents"]) => list_agents(&database, site).await,
        (Method::Put, ["sites", site, "agents", id]) => {
            put_agent(req, env, &database, site, id).await
        }
        (Method::Get, ["sites", site, "agents", id]) => get_agent(&database, site, id).await,
        (Method::Delete, ["sites", site, "agents", id]) => {
            delete_agent(env, &database, site, id).await
        }
        (Method::Put, ["sites", site, "agents", id, "calendar"]) => {
            put_caldav(req, env, &database, site, id).await
        }
        (Method::Delete, ["sites", site, "agents", id, "calendar"]) => {
            db::exec(
                &database,
                "DELETE FROM calendar_connections WHERE site = ? AND agent = ?",
                &[s(site), s(id)],
            )
            .await?;
            Ok(Reply::json(200, json!({"agent": id, "calendar": null})))
        }
        (Method::Post, ["sites", site, "agents", id, "calendar", "connect"]) => {
            oauth_start(req, env, &database, site, id).await
        }
        (Method::Get, ["sites", site, "queues"]) => list_queues(&database, site).await,
        (Method::Get, ["sites", site, "queues", id]) => {
            let q = queue_row(&database, site, id)
                .await?
                .ok_or_else(|| ApiError::NotFound("queue".into()))?;
            let r = Rotation {
                order: serde_json::from_str::<Vec<String>>(&q.agents)
                    .unwrap_or_default()
                    .into_iter()
                    .map(AgentId)
                    .collect(),
                last: q.last_agent.map(AgentId),
            };
            Ok(Reply::json(200, queue_json(&q.id, &q.name, &r)))
        }
        (Method::Put, ["sites", site, "queues", id]) => {
            put_queue(req, env, &database, site, id).await
        }
        (Method::Get, ["sites", site, "assignments"]) => assignments(req, &database, site).await,
        (Method::Get, ["sites", site, "mail-outbox"]) => list_outbox(req, &database, site).await,
        (Method::Get, ["sites", site, "meetings"]) => {
            list_meetings(req, env, &database, site).await
        }
        (Method::Post, ["sites", site, "meetings", id, "cancel"]) => {
            cancel_meeting(env, &database, site, id).await
        }
        (Method::Post, ["sites", site, "meetings", id, "no-show"]) => {
            let changed = db::exec(&database, "UPDATE meetings SET status = 'no_show', updated_at = ? WHERE site = ? AND id = ? AND status = 'scheduled'", &[n(db::real_now()), s(site), s(id)]).await?;
            if changed == 0 {
                return Err(ApiError::Conflict(
                    "only a scheduled meeting can be marked as a no-show".into(),
                ));
            }
            Ok(Reply::json(
                200,
                json!({"meeting": id, "status": "no_show"}),
            ))
        }
        (Method::Put, ["sites", site, "meeting-template"]) => {
            put_template(req, &database, site).await
        }
        (Method::Get, ["sites", site, "meeting-template"]) => {
            let t = template(&database, site).await?;
            Ok(Reply::json(
                200,
                json!({"subject": t.subject, "body": t.body, "location": t.location}),
            ))
        }
        _ => Err(ApiError::NotFound("admin path".into())),
    }
}

async fn require_site(database: &D1Database, site: &str) -> Result<(), ApiError> {
    let r: Option<IdRow> =
        db::first(database, "SELECT id FROM sites WHERE id = ?", &[s(site)]).await?;
    r.map(|_| ())
        .ok_or_else(|| ApiError::NotFound("site".into()))
}

fn agent_json(a: &Agent, queues: &[String]) -> Value {
    json!({
        "id": a.id, "name": a.name, "email": a.email, "settings": a.settings,
        "calendar": a.provider.map(|p| json!({"provider": p.as_str(), "account": a.account, "state": a.state, "reason": a.reason})),
        "in_rotation": a.state == "connected",
        "queues": queues,
    })
}

async fn agent_queues(
    database: &D1Database,
    site: &str,
) -> Result<HashMap<String, Vec<String>>, ApiError> {
    let rows: Vec<QueueRow> = db::rows(
        database,
        "SELECT id, name, agents, last_agent FROM queues WHERE site = ? ORDER BY id",
        &[s(site)],
    )
    .await?;
    let mut out: HashMap<String, Vec<String>> = HashMap::new();
    for q in rows {
        for a in serde_json::from_str::<Vec<String>>(&q.agents).unwrap_or_default() {
            out.entry(a).or_default().push(q.id.clone());
        }
    }
    Ok(out)
}

async fn list_agents(database: &D1Database, site: &str) -> Result<Reply, ApiError> {
    let rows: Vec<AgentRow> = db::rows(
        database,
        &format!("{AGENT_SELECT} WHERE a.site = ? ORDER BY a.id"),
        &[s(site)],
    )
    .await?;
    let queues = agent_queues(database, site).await?;
    let list: Vec<Value> = rows
        .into_iter()
        .filter_map(agent_from_row)
        .map(|a| agent_json(&a, queues.get(&a.id).map(Vec::as_slice).unwrap_or(&[])))
        .collect();
    Ok(Reply::json(200, json!({"agents": list})))
}

async fn get_agent(database: &D1Database, site: &str, id: &str) -> Result<Reply, ApiError> {
    let a = load_agents(database, site, &[id.to_string()])
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::NotFound("agent".into()))?;
    let queues = agent_queues(database, site).await?;
    Ok(Reply::json(
        200,
        agent_json(&a, queues.get(id).map(Vec::as_slice).unwrap_or(&[])),
    ))
}

async fn put_agent(
    req: &mut Request,
    env: &Env,
    database: &D1Database,
    site: &str,
    id: &str,
) -> Result<Reply, ApiError> {
    require_site(database, site).await?;
    if !crate::validate::valid_id(id) {
        return Err(ApiError::field(
            "id",
            "must be 1-64 letters, digits, '-' or '_'",
        ));
    }
    let v = json_body(req, MAX_ADMIN_BODY).await?;
    let o = v
        .as_object()
        .ok_or_else(|| ApiError::field("$", "must be an object"))?;
    if let Some(k) = o
        .keys()
        .find(|k| !["name", "email", "settings"].contains(&k.as_str()))
    {
        return Err(ApiError::field(
            k.chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect::<String>(),
            "unknown field",
        ));
    }
    let name = o
        .get("name")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|n| !n.is_empty() && n.chars().count() <= 100)
        .ok_or_else(|| ApiError::field("name", "is required (at most 100 characters)"))?;
    let email = o.get("email").and_then(Value::as_str).unwrap_or_default();
    let email =
        EmailAddress::parse(email, "email").map_err(|e| ApiError::field("email", e.to_string()))?;
    let settings_value = o
        .get("settings")
        .ok_or_else(|| ApiError::field("settings", "is required"))?;
    let settings = AgentSettings::from_json(&settings_value.to_string()).map_err(|e| {
        ApiError::field(
            format!("settings.{}", e.field().unwrap_or_default())
                .trim_end_matches('.')
                .to_string(),
            e.to_string(),
        )
    })?;
    let now = db::now(env, database).await?;
    db::exec(
        database,
        "INSERT INTO agents (site, id, name, email, settings, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(site, id) DO UPDATE SET name = excluded.name, email = excluded.email, settings = excluded.settings, updated_at = excluded.updated_at",
        &[s(site), s(id), s(name), s(email.as_str()), s(&serde_json::to_string(&settings)?), n(now), n(now)],
    )
    .await?;
    get_agent(database, site, id).await
}

async fn delete_agent(
    env: &Env,
    database: &D1Database,
    site: &str,
    id: &str,
) -> Result<Reply, ApiError> {
    let queues: Vec<QueueRow> = db::rows(
        database,
        "SELECT id, name, agents, last_agent FROM queues WHERE site = ?",
        &[s(site)],
    )
    .await?;
    for q in queues {
        let order: Vec<String> = serde_json::from_str(&q.agents).unwrap_or_default();
        if order.iter().any(|a| a == id) {
            let rest: Vec<String> = order.into_iter().filter(|a| a != id).collect();
            let v = call_router(
                env,
                site,
                &Route::Queue(q.id.clone()),
                "/order",
                &json!({"site": site, "queue": q.id, "agents": rest}),
            )
            .await?;
            if v.get("status").and_then(Value::as_u64) != Some(200) {
                return Err(ApiError::Storage(format!("queue {} not updated", q.id)));
            }
        }
    }
    let st = vec![
        db::stmt(
            database,
            "DELETE FROM calendar_connections WHERE site = ? AND agent = ?",
            &[s(site), s(id)],
        )?,
        db::stmt(
            database,
            "DELETE FROM agents WHERE site = ? AND id = ?",
            &[s(site), s(id)],
        )?,
    ];
    db::batch(database, st).await?;
    Ok(Reply::json(200, json!({"agent": id, "deleted": true})))
}

async fn put_caldav(
    req: &mut Request,
    env: &Env,
    database: &D1Database,
    site: &str,
    id: &str,
) -> Result<Reply, ApiError> {
    load_agents(database, site, &[id.to_string()])
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::NotFound("agent".into()))?;
    let v = json_body(req, MAX_ADMIN_BODY).await?;
    let provider = v
        .get("provider")
        .and_then(Value::as_str)
        .unwrap_or("caldav");
    if provider != "caldav" {
        return Err(ApiError::field(
            "provider",
            "only caldav is set directly; Google and Microsoft connect through calendar/connect",
        ));
    }
    let url = v
        .get("url")
        .and_then(Value::as_str)
        .filter(|u| {
            (u.starts_with("https://") || u.starts_with("http://"))
                && u.len() <= 1000
                && !u.contains(char::is_whitespace)
        })
        .ok_or_else(|| {
            ApiError::field("url", "must be the http(s) URL of the calendar collection")
        })?;
    let username = v
        .get("username")
        .and_then(Value::as_str)
        .filter(|u| !u.is_empty() && u.len() <= 256)
        .ok_or_else(|| ApiError::field("username", "is required"))?;
    let password = v
        .get("password")
        .and_then(Value::as_str)
        .filter(|p| !p.is_empty() && p.len() <= 1024)
        .ok_or_else(|| ApiError::field("password", "is required"))?;
    let sealed = calendar::seal(
        &calendar_key(env)?,
        random_bytes::<12>(),
        &calendar::seal_context(site, id, Provider::Caldav),
        &Credentials::Basic {
            username: username.into(),
            password: password.into(),
        },
    )?;
    store_connection(database, site, id, Provider::Caldav, url, &sealed).await?;
    get_agent(database, site, id).await
}

async fn store_connection(
    database: &D1Database,
    site: &str,
    agent: &str,
    provider: Provider,
    account: &str,
    sealed: &str,
) -> Result<(), ApiError> {
    db::exec(
        database,
        "INSERT INTO calendar_connections (site, agent, provider, account, secret, state, reason, updated_at) VALUES (?, ?, ?, ?, ?, 'connected', NULL, ?) \
         ON CONFLICT(site, agent) DO UPDATE SET provider = excluded.provider, account = excluded.account, secret = excluded.secret, state = 'connected', reason = NULL, updated_at = excluded.updated_at",
        &[s(site), s(agent), s(provider.as_str()), s(account), s(sealed), n(db::real_now())],
    )
    .await?;
    crate::calendar::client::forget_token(&format!("{site}/{agent}"));
    Ok(())
}

fn redirect_uri(req: &Request, env: &Env) -> Result<String, ApiError> {
    let configured = super::config::string(env, "OAUTH_REDIRECT_URL", "");
    if !configured.is_empty() {
        return Ok(configured);
    }
    let url = req.url()?;
    let host = url.host_str().unwrap_or("127.0.0.1");
    let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
    Ok(format!(
        "{}://{host}{port}/admin/oauth/callback",
        url.scheme()
    ))
}

async fn oauth_start(
    req: &mut Request,
    env: &Env,
    database: &D1Database,
    site: &str,
    id: &str,
) -> Result<Reply, ApiError> {
    load_agents(database, site, &[id.to_string()])
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::NotFound("agent".into()))?;
    let v = json_body(req, MAX_ADMIN_BODY).await?;
    let provider = v
        .get("provider")
        .and_then(Value::as_str)
        .and_then(Provider::parse)
        .filter(|p| *p != Provider::Caldav)
        .ok_or_else(|| ApiError::field("provider", "must be google or graph"))?;
    let hint = v
        .get("login_hint")
        .and_then(Value::as_str)
        .filter(|h| h.len() <= 254);
    let state = hex(&random_bytes::<16>());
    let redirect = redirect_uri(req, env)?;
    let now = db::real_now();
    let st = vec![
        db::stmt(database, "DELETE FROM oauth_states WHERE created_at < ?", &[n(now - 15 * 60_000)])?,
        db::stmt(database, "INSERT INTO oauth_states (state, site, agent, provider, redirect_uri, created_at) VALUES (?, ?, ?, ?, ?, ?)", &[s(&state), s(site), s(id), s(provider.as_str()), s(&redirect), n(now)])?,
    ];
    db::batch(database, st).await?;
    let url = provider_config(env).authorize_url(provider, &redirect, &state, hint);
    Ok(Reply::json(
        200,
        json!({"redirect_url": url, "state": state}),
    ))
}

#[derive(Deserialize)]
struct StateRow {
    site: String,
    agent: String,
    provider: String,
    redirect_uri: String,
    created_at: i64,
}

/// `GET /admin/oauth/callback?code&state`: reached by the browser after consent, so no bearer
/// token; the one-use `state` (15 minutes) is the proof.
async fn oauth_callback(
    req: &Request,
    env: &Env,
    database: &D1Database,
) -> Result<Reply, ApiError> {
    let q = query_map(req)?;
    let state = q.get("state").cloned().unwrap_or_default();
    let row: StateRow = db::first(
        database,
        "SELECT site, agent, provider, redirect_uri, created_at FROM oauth_states WHERE state = ?",
        &[s(&state)],
    )
    .await?
    .ok_or_else(|| ApiError::field("state", "unknown or already used"))?;
    db::exec(
        database,
        "DELETE FROM oauth_states WHERE state = ?",
        &[s(&state)],
    )
    .await?;
    if db::real_now() - row.created_at > 15 * 60_000 {
        return Err(ApiError::field(
            "state",
            "expired; start the connection again",
        ));
    }
    if let Some(err) = q.get("error") {
        return Err(ApiError::field(
            "error",
            format!(
                "consent refused: {}",
                err.chars().take(64).collect::<String>()
            ),
        ));
    }
    let code = q
        .get("code")
        .filter(|c| !c.is_empty())
        .ok_or_else(|| ApiError::field("code", "is required"))?;
    let provider = Provider::parse(&row.provider)
        .ok_or_else(|| ApiError::Storage("bad provider in oauth_states".into()))?;
    let (tokens, account) = provider_config(env)
        .exchange_code(provider, code, &row.redirect_uri)
        .await?;
    let refresh_token = tokens.refresh_token.unwrap_or_default();
    let sealed = calendar::seal(
        &calendar_key(env)?,
        random_bytes::<12>(),
        &calendar::seal_context(&row.site, &row.agent, provider),
        &Credentials::OAuth { refresh_token },
    )?;
    store_connection(database, &row.site, &row.agent, provider, &account, &sealed).await?;
    let body = json!({"connected": true, "site": row.site, "agent": row.agent, "provider": provider.as_str(), "account": account});
    // A browser coming back from the consent page (started in the console) returns to the
    // console's calendar page; API clients get the JSON.
    let browser = header(req, "Accept").is_some_and(|a| a.contains("text/html"));
    Ok(Reply {
        status: if browser { 303 } else { 200 },
        body: Some(body),
        headers: if browser {
            vec![("Location", "/console/#/calendar".to_string())]
        } else {
            Vec::new()
        },
    })
}

async fn list_queues(database: &D1Database, site: &str) -> Result<Reply, ApiError> {
    let rows: Vec<QueueRow> = db::rows(
        database,
        "SELECT id, name, agents, last_agent FROM queues WHERE site = ? ORDER BY id",
        &[s(site)],
    )
    .await?;
    let list: Vec<Value> = rows
        .into_iter()
        .map(|q| {
            let r = Rotation {
                order: serde_json::from_str::<Vec<String>>(&q.agents)
                    .unwrap_or_default()
                    .into_iter()
                    .map(AgentId)
                    .collect(),
                last: q.last_agent.map(AgentId),
            };
            queue_json(&q.id, &q.name, &r)
        })
        .collect();
    Ok(Reply::json(200, json!({"queues": list})))
}

async fn put_queue(
    req: &mut Request,
    env: &Env,
    database: &D1Database,
    site: &str,
    id: &str,
) -> Result<Reply, ApiError> {
    require_site(database, site).await?;
    if !crate::validate::valid_id(id) {
        return Err(ApiError::field(
            "id",
            "must be 1-64 letters, digits, '-' or '_'",
        ));
    }
    let v = json_body(req, MAX_ADMIN_BODY).await?;
    let list = v.get("agents").and_then(Value::as_array).ok_or_else(|| {
        ApiError::field("agents", "must be an array of agent ids in rotation order")
    })?;
    let known: Vec<IdRow> =
        db::rows(database, "SELECT id FROM agents WHERE site = ?", &[s(site)]).await?;
    let mut agents = Vec::new();
    for (i, a) in list.iter().enumerate() {
        match a.as_str() {
            Some(a) if known.iter().any(|k| k.id == a) => {
                if agents.iter().any(|x: &String| x == a) {
                    return Err(ApiError::field(format!("agents[{i}]"), "is listed twice"));
                }
                agents.push(a.to_string());
            }
            _ => {
                return Err(ApiError::field(
                    format!("agents[{i}]"),
                    "is not an agent of this site",
                ))
            }
        }
    }
    let name = v
        .get("name")
        .and_then(Value::as_str)
        .filter(|n| n.chars().count() <= 100);
    let answer = call_router(
        env,
        site,
        &Route::Queue(id.to_string()),
        "/order",
        &json!({"site": site, "queue": id, "agents": agents, "name": name}),
    )
    .await?;
    match answer.get("status").and_then(Value::as_u64) {
        Some(200) => Ok(Reply::json(
            200,
            answer.get("body").cloned().unwrap_or(Value::Null),
        )),
        _ => Err(ApiError::Storage(
            answer
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("queue update failed")
                .to_string(),
        )),
    }
}

#[derive(Deserialize, Serialize)]
struct LogRow {
    id: i64,
    route: String,
    meeting: Option<String>,
    slot_start: i64,
    slot_end: i64,
    next_in_line: Option<String>,
    chosen: Option<String>,
    skipped: String,
    outcome: String,
    at: i64,
}

async fn assignments(req: &Request, database: &D1Database, site: &str) -> Result<Reply, ApiError> {
    let q = query_map(req)?;
    let route = q.get("route").cloned();
    let limit = q
        .get("limit")
        .and_then(|l| l.parse::<i64>().ok())
        .unwrap_or(500)
        .clamp(1, 5000);
    let rows: Vec<LogRow> = db::rows(
        database,
        "SELECT id, route, meeting, slot_start, slot_end, next_in_line, chosen, skipped, outcome, at FROM assignment_log WHERE site = ? AND (? IS NULL OR route = ?) ORDER BY id LIMIT ?",
        &[s(site), os(route.as_deref()), os(route.as_deref()), n(limit)],
    )
    .await?;
    let list: Vec<Value> = rows
        .into_iter()
        .map(|r| {
            json!({"id": r.id, "route": r.route, "meeting": r.meeting, "start": meetings::iso(meetings::from_ms(r.slot_start)), "end": meetings::iso(meetings::from_ms(r.slot_end)),
                   "next_in_line": r.next_in_line, "chosen": r.chosen, "skipped": serde_json::from_str::<Value>(&r.skipped).unwrap_or(Value::Null), "outcome": r.outcome, "at": r.at})
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
        "invitation": m.invite_status, "agent_notified": m.notify_status, "created_at": m.created_at,
    })
}

async fn list_meetings(
    req: &Request,
    env: &Env,
    database: &D1Database,
    site: &str,
) -> Result<Reply, ApiError> {
    let q = query_map(req)?;
    let now = db::now(env, database).await?;
    let rows: Vec<MeetingRow> = db::rows(database, &format!("{MEETING_SELECT} WHERE m.site = ? AND m.status <> 'pending' ORDER BY m.start_ms, m.id LIMIT 5000"), &[s(site)]).await?;
    let want = q.get("status").cloned();
    let list: Vec<Value> = rows
        .iter()
        .map(|m| meeting_json(m, now))
        .filter(|v| want.as_deref().is_none_or(|w| v["status"] == w))
        .collect();
    Ok(Reply::json(200, json!({"meetings": list})))
}

async fn cancel_meeting(
    env: &Env,
    database: &D1Database,
    site: &str,
    id: &str,
) -> Result<Reply, ApiError> {
    let m: MeetingRow = db::first(
        database,
        &format!("{MEETING_SELECT} WHERE m.site = ? AND m.id = ?"),
        &[s(site), s(id)],
    )
    .await?
    .ok_or_else(|| ApiError::NotFound("meeting".into()))?;
    if m.status != "scheduled" {
        return Err(ApiError::Conflict(format!(
            "the meeting is {}, not scheduled",
            m.status
        )));
    }
    let agent = load_agents(database, site, std::slice::from_ref(&m.agent))
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::NotFound("agent".into()))?;
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
    let sequence = m.sequence + 1;
    let provider = Provider::parse(&m.provider);
    let invite = if provider.is_some_and(Provider::sends_invitations) {
        "by_provider".to_string()
    } else {
        let tpl = template(database, site).await?;
        let tz = dynchat_scheduling::parse_tz(&m.tz, "tz").unwrap_or(chrono_tz::UTC);
        let visitor = if m.lead_name.is_empty() {
            m.lead_email.clone()
        } else {
            m.lead_name.clone()
        };
        let slot = Slot {
            start: meetings::from_ms(m.start_ms),
            end: meetings::from_ms(m.end_ms),
        };
        let mut meeting = ics_meeting(&tpl, &m.uid, &agent, &visitor, &m.lead_email, slot, tz)?;
        meeting.summary = format!("Cancelled: {}", meeting.summary);
        let from_addr = mail_from(env);
        let msg = invitation_email(&InvitationEmail {
            meeting: &meeting,
            method: IcsMethod::Cancel,
            sequence: u32::try_from(sequence).unwrap_or(1),
            from: &person(&agent.name, &from_addr)?,
            to: &person(&visitor, &m.lead_email)?,
            reply_to: Some(&person(&agent.name, &agent.email)?),
            subject_template: "Cancelled: meeting with {{agent.name}} on {{meeting.time}}",
            body_template: "Hi {{visitor.name}},\n\nyour meeting with {{agent.name}} on {{meeting.time}} is cancelled.\n",
            visitor_name: &visitor,
            agent_name: &agent.name,
            visitor_tz: tz,
            now: Utc::now_from_worker(),
        });
        // Straight away when the relay answers; otherwise through the outbox, retried by the
        // route's router until it is accepted.
        match smtp(env).send(&from_addr, &[&m.lead_email], &msg).await {
            Ok(()) => "sent".into(),
            Err(e) => {
                let now = db::real_now();
                let out = OutMail {
                    kind: MailKind::Cancellation,
                    sequence,
                    rcpt: m.lead_email.clone(),
                    subject: meeting.summary.clone(),
                    message: msg,
                };
                db::batch(
                    database,
                    vec![outbox_stmt(database, site, id, &from_addr, &out, now)?],
                )
                .await?;
                let route = Route::parse(&m.route, "route")?;
                kick_mail(env, site, &route).await;
                format!("retrying ({e})")
            }
        }
    };
    db::exec(database, "UPDATE meetings SET status = 'cancelled', sequence = ?, invite_status = ?, updated_at = ? WHERE site = ? AND id = ?", &[n(sequence), s(&format!("cancel {invite}")), n(db::real_now()), s(site), s(id)]).await?;
    Ok(Reply::json(
        200,
        json!({"meeting": id, "status": "cancelled", "calendar": provider_status, "cancellation": invite}),
    ))
}

async fn put_template(
    req: &mut Request,
    database: &D1Database,
    site: &str,
) -> Result<Reply, ApiError> {
    require_site(database, site).await?;
    let v = json_body(req, MAX_ADMIN_BODY).await?;
    let subject = v
        .get("subject")
        .and_then(Value::as_str)
        .filter(|t| !t.trim().is_empty() && t.chars().count() <= 200)
        .ok_or_else(|| ApiError::field("subject", "is required (at most 200 characters)"))?;
    let body = v
        .get("body")
        .and_then(Value::as_str)
        .filter(|t| !t.trim().is_empty() && t.len() <= 20_000)
        .ok_or_else(|| ApiError::field("body", "is required (at most 20,000 bytes)"))?;
    dynchat_scheduling::validate_template(subject, "subject")
        .map_err(|e| ApiError::field("subject", e.to_string()))?;
    dynchat_scheduling::validate_template(body, "body")
        .map_err(|e| ApiError::field("body", e.to_string()))?;
    let location = v
        .get("location")
        .and_then(Value::as_str)
        .filter(|l| l.len() <= 1000);
    db::exec(
        database,
        "INSERT INTO meeting_templates (site, subject, body, location, updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT(site) DO UPDATE SET subject = excluded.subject, body = excluded.body, location = excluded.location, updated_at = excluded.updated_at",
        &[s(site), s(subject), s(body), os(location), n(db::real_now())],
    )
    .await?;
    Ok(Reply::json(
        200,
        json!({"subject": subject, "body": body, "location": location}),
    ))
}

/// Whether an `/admin/...` path (after `admin`) belongs to the meetings API.
pub fn owns(rest: &[&str]) -> bool {
    matches!(
        rest,
        ["oauth", "callback"]
            | [
                "sites",
                _,
                "agents"
                    | "queues"
                    | "assignments"
                    | "meetings"
                    | "meeting-template"
                    | "mail-outbox",
                ..
            ]
    )
}
