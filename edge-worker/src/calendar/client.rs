//! Fetch-based calendar clients (wasm32): one [`CalendarProvider`] trait, implemented for
//! Google Calendar, Microsoft Graph and CalDAV; OAuth token refresh and code exchange.
//!
//! The clients never touch D1: they return what happened ([`CalFailure::Disconnected`] when a
//! refresh token was revoked, a rotated refresh token in [`Connected::rotated_refresh_token`])
//! and the edge records it.

use super::{form, oauth_error, urlencode, Created, Credentials, NewEvent, Provider};
use base64::Engine as _;
use chrono::{DateTime, Duration, Utc};
use dynchat_scheduling::{
    caldav_freebusy_query, google_calendar_busy, google_freebusy_request, graph_schedule_requests,
    merge_graph_answers, parse_caldav_freebusy, parse_google_freebusy, parse_graph_schedule, Busy,
};
use futures_util::future::{select, Either};
use serde_json::Value;
use std::cell::RefCell;
use std::collections::HashMap;
use std::future::Future;
use worker::{Delay, Fetch, Headers, Method, Request, RequestInit};

/// Base URLs and OAuth clients, from wrangler vars (see wrangler.toml).
#[derive(Debug, Clone)]
pub struct ProviderConfig {
    pub google_auth_url: String,
    pub google_token_url: String,
    pub google_api_base: String,
    pub google_client_id: String,
    pub google_client_secret: String,
    pub ms_login_base: String,
    pub ms_tenant: String,
    pub graph_base: String,
    pub ms_client_id: String,
    pub ms_client_secret: String,
    pub timeout_ms: u64,
}

/// Why a provider call failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CalFailure {
    /// The grant was revoked or expired (`invalid_grant`): the agent must reconnect.
    Disconnected(String),
    /// Anything else: network, timeout, 4xx/5xx, unreadable answer.
    Failed(String),
}

impl std::fmt::Display for CalFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CalFailure::Disconnected(r) => write!(f, "calendar disconnected: {r}"),
            CalFailure::Failed(r) => write!(f, "calendar error: {r}"),
        }
    }
}

impl From<CalFailure> for crate::error::ApiError {
    fn from(e: CalFailure) -> Self {
        crate::error::ApiError::Upstream(e.to_string())
    }
}

/// Runs `fut` for at most `ms` milliseconds.
pub async fn with_timeout<T>(ms: u64, fut: impl Future<Output = T>) -> Option<T> {
    let delay = Delay::from(std::time::Duration::from_millis(ms));
    match select(Box::pin(fut), Box::pin(delay)).await {
        Either::Left((v, _)) => Some(v),
        Either::Right(_) => None,
    }
}

/// One HTTP exchange: (status, body text).
pub async fn http(
    method: Method,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<String>,
    timeout_ms: u64,
) -> Result<(u16, String), CalFailure> {
    // One retry when the connection itself failed (no HTTP answer): a server that closes
    // after each answer (Radicale speaks HTTP/1.0) can leave a dead pooled connection.
    // Every call we make is safe to repeat: reads, and creates made idempotent by their ids.
    let first = http_once(method.clone(), url, headers, body.clone(), timeout_ms).await;
    match first {
        Err(CalFailure::Failed(m)) if m.starts_with("fetch:") => {
            http_once(method, url, headers, body, timeout_ms).await
        }
        other => other,
    }
}

async fn http_once(
    method: Method,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<String>,
    timeout_ms: u64,
) -> Result<(u16, String), CalFailure> {
    let h = Headers::new();
    for (k, v) in headers {
        h.set(k, v).map_err(|e| CalFailure::Failed(e.to_string()))?;
    }
    let mut init = RequestInit::new();
    init.with_method(method).with_headers(h);
    if let Some(b) = body {
        init.with_body(Some(b.into()));
    }
    let req = Request::new_with_init(url, &init)
        .map_err(|e| CalFailure::Failed(format!("request {url}: {e}")))?;
    let exchange = async {
        let mut resp = Fetch::Request(req)
            .send()
            .await
            .map_err(|e| CalFailure::Failed(format!("fetch: {e}")))?;
        let status = resp.status_code();
        let text = resp
            .text()
            .await
            .map_err(|e| CalFailure::Failed(format!("body: {e}")))?;
        Ok::<_, CalFailure>((status, text))
    };
    with_timeout(timeout_ms, exchange)
        .await
        .unwrap_or_else(|| Err(CalFailure::Failed(format!("timeout after {timeout_ms} ms"))))
}

/// An agent's calendar, ready to be asked.
#[derive(Debug, Clone)]
pub struct Connected {
    pub provider: Provider,
    /// Account email (Google, Graph) or collection URL (CalDAV).
    pub account: String,
    pub credentials: Credentials,
    /// Cache key of the access token (site/agent).
    pub cache_key: String,
    /// Set when Graph handed out a new refresh token: store it.
    pub rotated_refresh_token: RefCell<Option<String>>,
}

/// The created event's provider id.
pub type EventId = String;

/// What every calendar provider offers the booking flow.
#[allow(async_fn_in_trait)]
pub trait CalendarProvider {
    /// Busy time in `[from, to)`; a calendar that failed is [`Busy::Unknown`] inside `Ok`
    /// only when the provider said so per calendar, otherwise an `Err`.
    async fn busy(
        &self,
        cfg: &ProviderConfig,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Busy, CalFailure>;
    /// Creates the event idempotently (same ids, same event), with the video link the
    /// provider made for it when [`NewEvent::video`] asked for one.
    async fn create(&self, cfg: &ProviderConfig, event: &NewEvent) -> Result<Created, CalFailure>;
    /// Moves a Google or Graph event to new times by patching it (its conference and id
    /// stay); answers the event's video link as the provider shows it after the move.
    /// CalDAV events are not patched (the caller removes and makes them again). `body`: the
    /// event's new text for Graph, which mails it to the attendees as the update.
    async fn move_to(
        &self,
        cfg: &ProviderConfig,
        event_id: &str,
        times: (DateTime<Utc>, DateTime<Utc>),
        body: Option<&str>,
    ) -> Result<Option<String>, CalFailure>;
    /// Cancels the event (Graph mails the cancellation itself).
    async fn cancel(
        &self,
        cfg: &ProviderConfig,
        event_id: &str,
        comment: &str,
    ) -> Result<(), CalFailure>;
}

struct CachedToken {
    token: String,
    expires_at_ms: i64,
}

thread_local! {
    static TOKENS: RefCell<HashMap<String, CachedToken>> = RefCell::new(HashMap::new());
}

pub(super) fn now_ms() -> i64 {
    worker::Date::now().as_millis() as i64
}

/// Forgets a cached access token (after a 401).
pub fn forget_token(cache_key: &str) {
    TOKENS.with(|t| t.borrow_mut().remove(cache_key));
}

/// Result of a token endpoint call.
#[derive(Debug, Clone)]
pub struct TokenAnswer {
    pub access_token: String,
    pub refresh_token: Option<String>,
    pub expires_in: i64,
}

async fn token_call(url: &str, body: String, timeout_ms: u64) -> Result<TokenAnswer, CalFailure> {
    let (status, text) = http(
        Method::Post,
        url,
        &[
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Accept", "application/json"),
        ],
        Some(body),
        timeout_ms,
    )
    .await?;
    if status >= 400 {
        return Err(match oauth_error(&text) {
            Some(e) if e == "invalid_grant" => CalFailure::Disconnected(
                "invalid_grant: the refresh token was revoked or expired; reconnect the calendar"
                    .into(),
            ),
            Some(e) => CalFailure::Failed(format!("token endpoint {status} {e}")),
            None => CalFailure::Failed(format!("token endpoint {status}")),
        });
    }
    let v: Value = serde_json::from_str(&text)
        .map_err(|e| CalFailure::Failed(format!("token answer: {e}")))?;
    let access_token = v
        .get("access_token")
        .and_then(Value::as_str)
        .ok_or_else(|| CalFailure::Failed("token answer without access_token".into()))?
        .to_string();
    Ok(TokenAnswer {
        access_token,
        refresh_token: v
            .get("refresh_token")
            .and_then(Value::as_str)
            .map(str::to_string),
        expires_in: v.get("expires_in").and_then(Value::as_i64).unwrap_or(3600),
    })
}

const GOOGLE_SCOPES: &str = "https://www.googleapis.com/auth/calendar.events https://www.googleapis.com/auth/calendar.freebusy openid email";
const GRAPH_SCOPES: &str = "offline_access Calendars.ReadWrite User.Read";

impl ProviderConfig {
    fn token_url(&self, p: Provider) -> String {
        match p {
            Provider::Graph => format!(
                "{}/{}/oauth2/v2.0/token",
                self.ms_login_base, self.ms_tenant
            ),
            _ => self.google_token_url.clone(),
        }
    }

    /// The consent URL an admin (or agent) is sent to.
    pub fn authorize_url(
        &self,
        p: Provider,
        redirect_uri: &str,
        state: &str,
        login_hint: Option<&str>,
    ) -> String {
        let hint = login_hint
            .map(|h| format!("&login_hint={}", urlencode(h)))
            .unwrap_or_default();
        match p {
            Provider::Graph => format!(
                "{}/{}/oauth2/v2.0/authorize?{}{hint}",
                self.ms_login_base,
                self.ms_tenant,
                form(&[
                    ("client_id", &self.ms_client_id),
                    ("redirect_uri", redirect_uri),
                    ("response_type", "code"),
                    ("response_mode", "query"),
                    ("scope", GRAPH_SCOPES),
                    ("state", state),
                    ("prompt", "consent")
                ])
            ),
            _ => format!(
                "{}?{}{hint}",
                self.google_auth_url,
                form(&[
                    ("client_id", &self.google_client_id),
                    ("redirect_uri", redirect_uri),
                    ("response_type", "code"),
                    ("scope", GOOGLE_SCOPES),
                    ("access_type", "offline"),
                    ("prompt", "consent"),
                    ("state", state)
                ])
            ),
        }
    }

    fn client(&self, p: Provider) -> (&str, &str) {
        match p {
            Provider::Graph => (&self.ms_client_id, &self.ms_client_secret),
            _ => (&self.google_client_id, &self.google_client_secret),
        }
    }

    /// Exchanges an authorization code; answers the tokens and the account's email.
    pub async fn exchange_code(
        &self,
        p: Provider,
        code: &str,
        redirect_uri: &str,
    ) -> Result<(TokenAnswer, String), CalFailure> {
        let (id, secret) = self.client(p);
        let mut pairs = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
            ("client_id", id),
            ("client_secret", secret),
        ];
        if p == Provider::Graph {
            pairs.push(("scope", GRAPH_SCOPES));
        }
        let t = token_call(&self.token_url(p), form(&pairs), self.timeout_ms).await?;
        if t.refresh_token.is_none() {
            return Err(CalFailure::Failed(
                "no refresh token in the answer (offline access not granted)".into(),
            ));
        }
        let bearer = format!("Bearer {}", t.access_token);
        let (url, key) = match p {
            Provider::Graph => (format!("{}/v1.0/me", self.graph_base), "mail"),
            _ => (
                format!("{}/calendar/v3/calendars/primary", self.google_api_base),
                "id",
            ),
        };
        let (status, text) = http(
            Method::Get,
            &url,
            &[("Authorization", &bearer)],
            None,
            self.timeout_ms,
        )
        .await?;
        if status != 200 {
            return Err(CalFailure::Failed(format!("account lookup {status}")));
        }
        let v: Value =
            serde_json::from_str(&text).map_err(|e| CalFailure::Failed(e.to_string()))?;
        let account = v
            .get(key)
            .or_else(|| v.get("userPrincipalName"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        Ok((t, account))
    }
}

impl Connected {
    async fn access_token(&self, cfg: &ProviderConfig) -> Result<String, CalFailure> {
        let now = now_ms();
        if let Some(t) = TOKENS.with(|m| {
            m.borrow()
                .get(&self.cache_key)
                .filter(|t| t.expires_at_ms > now)
                .map(|t| t.token.clone())
        }) {
            return Ok(t);
        }
        let Credentials::OAuth { refresh_token } = &self.credentials else {
            return Err(CalFailure::Failed(
                "OAuth provider with Basic credentials".into(),
            ));
        };
        let (id, secret) = cfg.client(self.provider);
        let mut pairs = vec![
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token.as_str()),
            ("client_id", id),
            ("client_secret", secret),
        ];
        if self.provider == Provider::Graph {
            pairs.push(("scope", GRAPH_SCOPES));
        }
        let t = token_call(&cfg.token_url(self.provider), form(&pairs), cfg.timeout_ms).await?;
        if let Some(rt) = t.refresh_token.filter(|rt| rt != refresh_token) {
            *self.rotated_refresh_token.borrow_mut() = Some(rt);
        }
        // A minute of margin so a token never expires in flight.
        let expires_at_ms = now + (t.expires_in.max(60) - 60) * 1000;
        TOKENS.with(|m| {
            m.borrow_mut().insert(
                self.cache_key.clone(),
                CachedToken {
                    token: t.access_token.clone(),
                    expires_at_ms,
                },
            )
        });
        Ok(t.access_token)
    }

    pub(super) async fn bearer(&self, cfg: &ProviderConfig) -> Result<String, CalFailure> {
        Ok(format!("Bearer {}", self.access_token(cfg).await?))
    }

    pub(super) fn basic(&self) -> Result<String, CalFailure> {
        match &self.credentials {
            Credentials::Basic { username, password } => Ok(format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"))
            )),
            Credentials::OAuth { .. } => Err(CalFailure::Failed(
                "CalDAV connection without Basic credentials".into(),
            )),
        }
    }

    pub(super) fn collection(&self) -> String {
        format!("{}/", self.account.trim_end_matches('/'))
    }

    /// A 401 means the cached access token died: forget it so the next call refreshes.
    pub(super) fn check_auth(&self, status: u16) {
        if status == 401 {
            forget_token(&self.cache_key);
        }
    }
}

pub(super) fn failed(what: &str, status: u16, body: &str) -> CalFailure {
    let snippet: String = body.chars().take(200).collect();
    CalFailure::Failed(format!("{what}: HTTP {status} {snippet}"))
}

/// A 401 from an OAuth provider: the access token died (revoked or expired early). The token
/// was forgotten, so one more attempt refreshes it, which turns a revoked grant into
/// [`CalFailure::Disconnected`] at once instead of on the next request.
fn unauthorised(r: &Result<impl Sized, CalFailure>) -> bool {
    matches!(r, Err(CalFailure::Failed(m)) if m.contains("HTTP 401"))
}

/// A CalDAV server that answers 401 to Basic credentials refuses the stored login (password
/// changed or account removed): the agent is disconnected until an admin enters a new one.
fn caldav_login_refused<T>(provider: Provider, r: Result<T, CalFailure>) -> Result<T, CalFailure> {
    match r {
        Err(CalFailure::Failed(m)) if provider == Provider::Caldav && m.contains("HTTP 401") => {
            Err(CalFailure::Disconnected(
                "the CalDAV server refused the stored login (HTTP 401)".into(),
            ))
        }
        other => other,
    }
}

impl CalendarProvider for Connected {
    async fn busy(
        &self,
        cfg: &ProviderConfig,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Busy, CalFailure> {
        let r = self.busy_once(cfg, from, to).await;
        if unauthorised(&r) && self.provider != Provider::Caldav {
            return self.busy_once(cfg, from, to).await;
        }
        caldav_login_refused(self.provider, r)
    }

    async fn create(&self, cfg: &ProviderConfig, e: &NewEvent) -> Result<Created, CalFailure> {
        let r = self.create_once(cfg, e).await;
        if unauthorised(&r) && self.provider != Provider::Caldav {
            return self.create_once(cfg, e).await;
        }
        caldav_login_refused(self.provider, r)
    }

    async fn move_to(
        &self,
        cfg: &ProviderConfig,
        event_id: &str,
        times: (DateTime<Utc>, DateTime<Utc>),
        body: Option<&str>,
    ) -> Result<Option<String>, CalFailure> {
        let r = self.move_once(cfg, event_id, times, body).await;
        if unauthorised(&r) {
            return self.move_once(cfg, event_id, times, body).await;
        }
        r
    }

    async fn cancel(
        &self,
        cfg: &ProviderConfig,
        event_id: &str,
        comment: &str,
    ) -> Result<(), CalFailure> {
        let r = self.cancel_once(cfg, event_id, comment).await;
        if unauthorised(&r) && self.provider != Provider::Caldav {
            return self.cancel_once(cfg, event_id, comment).await;
        }
        caldav_login_refused(self.provider, r)
    }
}

impl Connected {
    async fn busy_once(
        &self,
        cfg: &ProviderConfig,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Busy, CalFailure> {
        match self.provider {
            Provider::Google => {
                let bearer = self.bearer(cfg).await?;
                let url = format!("{}/calendar/v3/freeBusy", cfg.google_api_base);
                let (status, text) = http(
                    Method::Post,
                    &url,
                    &[
                        ("Authorization", &bearer),
                        ("Content-Type", "application/json"),
                    ],
                    Some(google_freebusy_request(&["primary"], from, to)),
                    cfg.timeout_ms,
                )
                .await?;
                self.check_auth(status);
                if status != 200 {
                    return Err(failed("google freeBusy", status, &text));
                }
                let parsed =
                    parse_google_freebusy(&text).map_err(|e| CalFailure::Failed(e.to_string()))?;
                Ok(google_calendar_busy(&parsed, "primary"))
            }
            Provider::Graph => {
                let bearer = self.bearer(cfg).await?;
                let url = format!("{}/v1.0/me/calendar/getSchedule", cfg.graph_base);
                let mut answers = Vec::new();
                for r in graph_schedule_requests(&[self.account.as_str()], from, to, 15) {
                    let (status, text) = http(
                        Method::Post,
                        &url,
                        &[
                            ("Authorization", &bearer),
                            ("Content-Type", "application/json"),
                            ("Prefer", "outlook.timezone=\"UTC\""),
                        ],
                        Some(r.body.clone()),
                        cfg.timeout_ms,
                    )
                    .await?;
                    self.check_auth(status);
                    if status != 200 {
                        return Err(failed("graph getSchedule", status, &text));
                    }
                    let parsed = parse_graph_schedule(&text)
                        .map_err(|e| CalFailure::Failed(e.to_string()))?;
                    answers.push((r, Some(parsed)));
                }
                Ok(merge_graph_answers(&answers)
                    .remove(&self.account.to_ascii_lowercase())
                    .unwrap_or(Busy::Unknown))
            }
            Provider::Caldav => {
                let auth = self.basic()?;
                let (status, text) = http(
                    Method::Report,
                    &self.collection(),
                    &[
                        ("Authorization", &auth),
                        ("Depth", "1"),
                        ("Content-Type", "application/xml; charset=utf-8"),
                    ],
                    Some(caldav_freebusy_query(from, to)),
                    cfg.timeout_ms,
                )
                .await?;
                if status == 401 || status == 403 {
                    return Err(failed(
                        "caldav free-busy (credentials refused)",
                        status,
                        &text,
                    ));
                }
                if !(200..300).contains(&status) {
                    return Err(failed("caldav free-busy", status, &text));
                }
                parse_caldav_freebusy(&text).map_err(|e| CalFailure::Failed(e.to_string()))
            }
        }
    }
}

/// The platform clock as a chrono instant (chrono's own clock is not compiled in).
pub trait NowFromWorker {
    fn now_from_worker() -> DateTime<Utc>;
}

impl NowFromWorker for Utc {
    fn now_from_worker() -> DateTime<Utc> {
        DateTime::from_timestamp_millis(now_ms()).unwrap_or_default()
    }
}

/// Padding around a slot when re-checking it: the agent's buffers plus a minute.
pub fn around(
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    before_min: u32,
    after_min: u32,
) -> (DateTime<Utc>, DateTime<Utc>) {
    (
        start - Duration::minutes(i64::from(before_min) + 1),
        end + Duration::minutes(i64::from(after_min) + 1),
    )
}
