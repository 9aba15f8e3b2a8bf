//! Agents and their time: the agents of a route in rotation order, their calendar
//! connection (opened with the sealed credentials), and what their calendar plus our own
//! meetings say about a window.

use super::super::db;
use super::super::store::{self, agents::AgentRow, queues::QueueRow};
use super::config::calendar_key;
use crate::calendar::client::{CalFailure, CalendarProvider, Connected, ProviderConfig};
use crate::calendar::{self, Credentials, Provider};
use crate::error::ApiError;
use crate::meetings::{self, Route};
use chrono::{DateTime, Utc};
use dynchat_scheduling::{AgentId, AgentSettings, Busy, Rotation, RotationState};
use std::cell::RefCell;
use std::collections::HashMap;
use worker::{D1Database, Env};

/// The agent settings under `settings` of a request body (400 naming `settings.<field>`).
pub fn settings_of(body: &serde_json::Value) -> Result<AgentSettings, ApiError> {
    let raw = body
        .get("settings")
        .ok_or_else(|| ApiError::field("settings", "is required"))?;
    AgentSettings::from_json(&raw.to_string()).map_err(|e| {
        ApiError::field(
            format!("settings.{}", e.field().unwrap_or_default())
                .trim_end_matches('.')
                .to_string(),
            e.to_string(),
        )
    })
}

/// An agent with validated settings and the calendar connection as stored.
#[derive(Debug, Clone)]
pub struct Agent {
    pub id: String,
    pub name: String,
    pub email: String,
    pub settings: AgentSettings,
    /// Where the agent meets visitors; the invitation's LOCATION when set.
    pub location: Option<String>,
    pub provider: Option<Provider>,
    pub account: String,
    secret: Option<String>,
    pub state: String,
    pub reason: Option<String>,
}

/// An agent row with valid settings; `None` when the stored settings do not parse.
pub fn agent_from_row(r: AgentRow) -> Option<Agent> {
    let settings = AgentSettings::from_json(&r.settings).ok()?;
    Some(Agent {
        id: r.id,
        name: r.name,
        email: r.email,
        settings,
        location: r.location,
        provider: r.provider.as_deref().and_then(Provider::parse),
        account: r.account.unwrap_or_default(),
        secret: r.secret,
        state: r.state.unwrap_or_else(|| "none".into()),
        reason: r.reason,
    })
}

/// Every agent of a site with valid settings, ordered by id.
pub async fn all_agents(database: &D1Database, site: &str) -> Result<Vec<Agent>, ApiError> {
    Ok(store::agents::of_site(database, site)
        .await?
        .into_iter()
        .filter_map(agent_from_row)
        .collect())
}

/// The agents of `ids`, in that order (unknown ids left out).
pub async fn load_agents(
    database: &D1Database,
    site: &str,
    ids: &[String],
) -> Result<Vec<Agent>, ApiError> {
    let mut by_id: HashMap<String, Agent> = all_agents(database, site)
        .await?
        .into_iter()
        .map(|a| (a.id.clone(), a))
        .collect();
    Ok(ids.iter().filter_map(|id| by_id.remove(id)).collect())
}

/// One agent, or 404.
pub async fn one_agent(database: &D1Database, site: &str, id: &str) -> Result<Agent, ApiError> {
    load_agents(database, site, &[id.to_string()])
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::NotFound("agent".into()))
}

/// A stored queue's rotation.
pub fn queue_rotation(q: &QueueRow) -> Rotation {
    Rotation {
        order: serde_json::from_str::<Vec<String>>(&q.agents)
            .unwrap_or_default()
            .into_iter()
            .map(AgentId)
            .collect(),
        last: q.last_agent.clone().map(AgentId),
    }
}

/// A stored queue's rotation state: the versioned state, or (for queues stored before it)
/// the order and pointer read as version 1.
pub fn queue_state(q: &QueueRow) -> Result<RotationState, ApiError> {
    match q.rotation.as_deref() {
        Some(json) => RotationState::from_json(json)
            .map_err(|e| ApiError::Storage(format!("queue {}: {e}", q.id))),
        None => Ok(RotationState::from_legacy(queue_rotation(q))),
    }
}

/// The rotation of a route: a queue's stored state, or the one named agent.
pub async fn route_rotation(
    database: &D1Database,
    site: &str,
    route: &Route,
) -> Result<RotationState, ApiError> {
    match route {
        Route::Queue(q) => {
            let row = store::queues::get(database, site, q)
                .await?
                .ok_or_else(|| ApiError::NotFound("queue".into()))?;
            queue_state(&row)
        }
        Route::Agent(a) => {
            if !store::agents::exists(database, site, a).await? {
                return Err(ApiError::NotFound("agent".into()));
            }
            Ok(RotationState::from_legacy(Rotation::new(vec![AgentId(
                a.clone(),
            )])))
        }
    }
}

/// The agents of a route's rotation, in rotation order.
pub async fn rotation_agents(
    database: &D1Database,
    site: &str,
    rotation: &RotationState,
) -> Result<Vec<Agent>, ApiError> {
    let ids: Vec<String> = rotation.agents.iter().map(|a| a.agent.0.clone()).collect();
    load_agents(database, site, &ids).await
}

/// The agent's opened calendar connection, `None` without one.
pub fn connection(env: &Env, site: &str, a: &Agent) -> Result<Option<Connected>, ApiError> {
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
    /// The busy time, `Unknown` unless the calendar was read.
    pub fn busy(&self) -> Busy {
        match self {
            AgentTime::Known(b) => b.clone(),
            _ => Busy::Unknown,
        }
    }
}

/// Our own meetings (held or scheduled) of an agent: busy even before the provider shows them.
async fn own_meetings(
    database: &D1Database,
    site: &str,
    agent: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<dynchat_scheduling::Interval>, ApiError> {
    let rows = store::meetings::busy_spans(
        database,
        site,
        agent,
        (from.timestamp_millis(), to.timestamp_millis()),
        "",
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
        Ok(Busy::Known(list)) => match own_meetings(database, site, &a.id, from, to).await {
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

/// Flags the agent's calendar as disconnected (logged, never failing the caller).
pub async fn mark_disconnected(database: &D1Database, site: &str, agent: &str, reason: &str) {
    let r =
        store::calendars::mark_disconnected(database, site, agent, reason, db::real_now()).await;
    if let Err(e) = r {
        worker::console_error!("could not mark {site}/{agent} disconnected: {e}");
    }
}

/// Stores a refresh token the provider rotated while `conn` was used.
pub async fn store_rotated_token(
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
            super::super::random::bytes::<12>()?,
            &calendar::seal_context(site, &a.id, provider),
            &Credentials::OAuth { refresh_token: rt },
        )
    });
    match sealed {
        Ok(v) => {
            let _ =
                store::calendars::replace_secret(database, site, &a.id, &v, db::real_now()).await;
        }
        Err(e) => worker::console_error!("rotated token of {site}/{} not stored: {e}", a.id),
    }
}
