//! The Marketo HTTP client inside the gate: the access token (single flight), the call slots
//! of the limiter (window, concurrency, daily quota), the gate-wide pause after failures and
//! the one probe while calls keep failing. Every Marketo call goes through [`Marketo::call`].

use super::protocol::{Counters, GateStats};
use crate::days;
use crate::edge::config;
use crate::edge::db::real_now as now;
use crate::marketo::limiter::{Limiter, Ticket, Wait};
use crate::marketo::protocol::{self, CallError, Token};
use crate::marketo::{backoff_ms, bulk, MAX_RECORDS_PER_CALL};
use futures_util::future::{select, Either};
use serde_json::Value;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::time::Duration;
use worker::{AbortController, Delay, Fetch, Headers, Method, Request, RequestInit, State};

/// A query-string value, percent-encoded (one rule: [`crate::encode`]).
pub use crate::encode::query_value as urlencode;

/// One HTTP answer as the classifiers see it.
pub struct Exchange {
    pub status: u16,
    pub text: String,
    /// `Content-Type` names JSON.
    pub json: bool,
    pub content_range: Option<String>,
}

/// Where and as whom the gate calls Marketo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    pub base_url: String,
    pub client_id: String,
    pub client_secret: String,
}

impl Connection {
    /// The connection named by the worker's vars.
    pub fn from_vars(cfg: &config::Marketo) -> Self {
        Connection {
            base_url: cfg.base_url.clone(),
            client_id: cfg.client_id.clone(),
            client_secret: cfg.client_secret.clone(),
        }
    }
}

fn is_timeout<T>(r: &Result<T, CallError>) -> bool {
    matches!(r, Err(CallError::Transient(t)) if t == "timeout")
}

/// A reserved call slot. Dropped unused (any early return, any `?`), it is given back to the
/// limiter, so no error path can leak a slot and jam the gate.
pub struct Slot<'a> {
    limiter: &'a RefCell<Limiter>,
    ticket: Ticket,
    used: bool,
}

impl Slot<'_> {
    /// The slot is spent on a call: the caller finishes the ticket when the answer is back.
    fn take(mut self) -> Ticket {
        self.used = true;
        self.ticket
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        if !self.used {
            if let Ok(mut l) = self.limiter.try_borrow_mut() {
                l.cancel(self.ticket);
            }
        }
    }
}

/// The one probe call in flight while Marketo keeps failing; cleared when dropped.
pub struct Probe<'a> {
    flag: &'a Cell<bool>,
}

impl Drop for Probe<'_> {
    fn drop(&mut self) {
        self.flag.set(false);
    }
}

/// The gate's Marketo client and its limits.
pub struct Marketo {
    state: Rc<State>,
    pub cfg: config::Marketo,
    limiter: RefCell<Limiter>,
    token: RefCell<Option<Token>>,
    token_busy: Cell<bool>,
    /// Gate-wide backoff after calls failed transiently: nothing is sent before this time, and
    /// the records of a failed call wait for it too, so they go out together (full batches)
    /// once Marketo answers again instead of trickling back on per-record timers.
    pause_until: Cell<i64>,
    /// Calls failed transiently in a row (reset by any success).
    failures: Cell<u32>,
    /// A single-record probe is in flight.
    probing: Cell<bool>,
    /// The connection in use: the console's saved one, else the worker's vars.
    conn: RefCell<Connection>,
    pub stats: RefCell<Counters>,
    /// Custom activity type ids of the connected instance (forgotten with it).
    pub type_ids: RefCell<HashMap<String, i64>>,
    /// Lead field names of the connected instance (forgotten with it).
    pub known_fields: RefCell<Option<Vec<String>>>,
    /// Activity types (name, id) of the connected instance (forgotten with it).
    pub activity_types: RefCell<Option<Vec<(String, i64)>>>,
}

impl Marketo {
    /// A connection is configured (endpoint, client id and secret).
    pub fn connected(&self) -> bool {
        let c = self.conn.borrow();
        !(c.base_url.is_empty() || c.client_id.is_empty() || c.client_secret.is_empty())
    }

    pub fn new(state: Rc<State>, cfg: config::Marketo) -> Self {
        let limiter = Limiter::new(cfg.limits, days::day_number(now()), 0);
        let conn = Connection::from_vars(&cfg);
        Marketo {
            state,
            cfg,
            limiter: RefCell::new(limiter),
            token: RefCell::new(None),
            token_busy: Cell::new(false),
            pause_until: Cell::new(0),
            failures: Cell::new(0),
            probing: Cell::new(false),
            conn: RefCell::new(conn),
            stats: RefCell::new(Counters::default()),
            type_ids: RefCell::new(HashMap::new()),
            known_fields: RefCell::new(None),
            activity_types: RefCell::new(None),
        }
    }

    /// Restores the day's call count and the calls still in the rate window, so a restart
    /// keeps honouring the daily quota and never doubles the window.
    pub async fn restore_limits(&self) {
        let storage = self.state.storage();
        if let Ok(Some((day, calls))) = storage.get::<(i64, u32)>("quota").await {
            if day == days::day_number(now()) {
                *self.limiter.borrow_mut() = Limiter::new(self.cfg.limits, day, calls);
            }
        }
        if let Ok(Some(marks)) = storage.get::<Vec<i64>>("window").await {
            self.limiter.borrow_mut().restore_window(&marks, now());
        }
    }

    /// Switches to `next`; a change drops the token and what belonged to the old instance.
    pub fn use_connection(&self, next: Connection) {
        if *self.conn.borrow() != next {
            *self.conn.borrow_mut() = next;
            *self.token.borrow_mut() = None;
            *self.known_fields.borrow_mut() = None;
            *self.activity_types.borrow_mut() = None;
            self.type_ids.borrow_mut().clear();
            self.failures.set(0);
            self.pause_until.set(0);
        }
    }

    /// The counters with the limiter's current state.
    pub fn stats(&self) -> GateStats {
        let mut counters = self.stats.borrow().clone();
        let l = self.limiter.borrow();
        counters.peak_window = l.peak_window;
        counters.peak_in_flight = l.peak_in_flight;
        GateStats {
            counters,
            window_budget: self
                .cfg
                .limits
                .window_calls
                .saturating_sub(self.cfg.limits.safety_calls),
            window_calls: self.cfg.limits.window_calls,
            in_flight: l.in_flight(now()),
            day_calls: l.day_calls().1,
        }
    }

    /// Calls counted against today's quota.
    pub fn day_calls(&self) -> u32 {
        self.limiter.borrow().day_calls().1
    }

    fn count_error(&self, e: &CallError) {
        let mut st = self.stats.borrow_mut();
        let code = e.text().split(' ').next().unwrap_or("").to_string();
        match code.as_str() {
            "606" => st.seen_606 += 1,
            "615" => st.seen_615 += 1,
            "607" => st.seen_607 += 1,
            _ => {}
        }
        *st.errors.entry(code).or_insert(0) += 1;
    }

    /// Waits for a call slot (window, concurrency); `Err(until)` when the daily quota or the
    /// gate's backoff holds everything.
    pub async fn acquire(&self) -> Result<Slot<'_>, i64> {
        for _ in 0..10_000 {
            let t = now();
            if t < self.pause_until.get() {
                return Err(self.pause_until.get());
            }
            let r = self.limiter.borrow_mut().try_start(t);
            match r {
                Ok(ticket) => {
                    return Ok(Slot {
                        limiter: &self.limiter,
                        ticket,
                        used: false,
                    })
                }
                Err(Wait::For(ms)) => {
                    Delay::from(Duration::from_millis(ms.clamp(5, 1000) as u64)).await
                }
                Err(Wait::Until(t)) => return Err(t),
            }
        }
        Err(now() + 1000)
    }

    /// Finishes a call's ticket; a call we stopped waiting for may still be running at
    /// Marketo, so it keeps its concurrency slot for another timeout.
    fn release(&self, ticket: Ticket, timed_out: bool) {
        let t = now();
        let busy = if timed_out { self.cfg.timeout_ms } else { 0 };
        self.limiter.borrow_mut().finish(ticket, t, busy);
        let (day, calls) = self.limiter.borrow().day_calls();
        let marks = self.limiter.borrow().window_marks(t);
        let storage = self.state.storage();
        // Best effort: losing a few counts only makes the margins a little smaller.
        self.state.wait_until(async move {
            let _ = storage.put("quota", (day, calls)).await;
            let _ = storage.put("window", marks).await;
        });
    }

    /// Nothing may be sent before this time (gate pause or daily quota hold).
    pub fn held_until(&self) -> i64 {
        self.pause_until
            .get()
            .max(self.limiter.borrow().hold_until())
    }

    /// One HTTP exchange with a timeout. The slot must already be held.
    async fn http(
        &self,
        method: Method,
        url: &str,
        body: Option<String>,
        bearer: Option<&str>,
    ) -> Result<(u16, String), CallError> {
        self.http_with(method, url, body, bearer, None)
            .await
            .map(|x| (x.status, x.text))
    }

    /// [`Self::http`] with an optional `Range` header, answering the headers a file read needs.
    async fn http_with(
        &self,
        method: Method,
        url: &str,
        body: Option<String>,
        bearer: Option<&str>,
        range: Option<&str>,
    ) -> Result<Exchange, CallError> {
        let headers = Headers::new();
        let _ = headers.set("Accept", "application/json");
        if let Some(r) = range {
            let _ = headers.set("Range", r);
        }
        if body.is_some() {
            let _ = headers.set("Content-Type", "application/json");
        }
        if let Some(t) = bearer {
            let _ = headers.set("Authorization", &format!("Bearer {t}"));
        }
        let mut init = RequestInit::new();
        init.with_method(method)
            .with_headers(headers)
            .with_body(body.map(Into::into));
        let req = Request::new_with_init(url, &init)
            .map_err(|e| CallError::Fatal(format!("request: {e}")))?;
        let controller = AbortController::default();
        let signal = controller.signal();
        let exchange = async move {
            let mut resp = Fetch::Request(req).send_with_signal(&signal).await?;
            let head = |n: &str| resp.headers().get(n).ok().flatten();
            let json = head("Content-Type").is_some_and(|c| c.contains("json"));
            let content_range = head("Content-Range");
            let status = resp.status_code();
            let text = resp.text().await?;
            Ok::<_, worker::Error>(Exchange {
                status,
                text,
                json,
                content_range,
            })
        };
        let timeout = Delay::from(Duration::from_millis(self.cfg.timeout_ms as u64));
        match select(Box::pin(exchange), timeout).await {
            Either::Left((Ok(r), _)) => Ok(r),
            Either::Left((Err(e), _)) => Err(CallError::Transient(format!("network: {e}"))),
            Either::Right(((), _)) => {
                controller.abort();
                Err(CallError::Transient("timeout".into()))
            }
        }
    }

    async fn ensure_token(&self) -> Result<String, CallError> {
        // Single flight: concurrent workers wait for the one token request in progress.
        for _ in 0..2_000 {
            if let Some(t) = self
                .token
                .borrow()
                .as_ref()
                .filter(|t| t.refresh_at > now())
            {
                return Ok(t.value.clone());
            }
            if !self.token_busy.get() {
                break;
            }
            Delay::from(Duration::from_millis(20)).await;
        }
        self.token_busy.set(true);
        let r = self.fetch_token().await;
        self.token_busy.set(false);
        r
    }

    async fn fetch_token(&self) -> Result<String, CallError> {
        let conn = self.conn.borrow().clone();
        if conn.client_id.is_empty() || conn.client_secret.is_empty() {
            self.pause_for(60_000);
            return Err(CallError::Fatal(
                "MARKETO_CLIENT_ID / MARKETO_CLIENT_SECRET not set".into(),
            ));
        }
        let ticket = self
            .acquire()
            .await
            .map_err(|until| CallError::Transient(format!("held until {}", days::iso(until))))?
            .take();
        let url = format!(
            "{}/identity/oauth/token?grant_type=client_credentials&client_id={}&client_secret={}",
            conn.base_url,
            urlencode(&conn.client_id),
            urlencode(&conn.client_secret)
        );
        let r = self.http(Method::Get, &url, None, None).await;
        self.release(ticket, is_timeout(&r));
        self.stats.borrow_mut().token_calls += 1;
        let t = match r.and_then(|(status, text)| protocol::parse_token(status, &text, now())) {
            Ok(t) => t,
            Err(e) => {
                // Refused credentials wait a minute (an admin must fix them); an identity
                // service that is down backs off like any failed call.
                self.count_error(&e);
                match e {
                    CallError::Fatal(_) | CallError::Auth(_) => self.pause_for(60_000),
                    _ => self.back_off(),
                }
                return Err(e);
            }
        };
        let v = t.value.clone();
        *self.token.borrow_mut() = Some(t);
        Ok(v)
    }

    /// A REST call; `held` is a slot the caller already acquired for it. Retries once on
    /// 601/602 with a fresh token.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        held: Option<Slot<'_>>,
    ) -> Result<Value, CallError> {
        self.call_as(method, path, body, held, None, |x| {
            protocol::classify(x.status, &x.text)
        })
        .await
    }

    /// A byte range of a bulk export file (`GET .../file.json` with `Range: bytes=first-last`),
    /// through the same slots, token and backoff as every call: the text (200 or 206) and the
    /// file's total size when the answer names it; an error envelope is classified as usual.
    pub async fn read_file(
        &self,
        path: &str,
        first: i64,
        last: i64,
    ) -> Result<(String, Option<i64>), CallError> {
        let range = format!("bytes={first}-{last}");
        self.call_as(Method::Get, path, None, None, Some(&range), |x| {
            match x.status {
                200 | 206 if !x.json => Ok((
                    x.text.clone(),
                    x.content_range.as_deref().and_then(bulk::range_total),
                )),
                // Past the end: nothing more to read.
                416 => Ok((
                    String::new(),
                    x.content_range.as_deref().and_then(bulk::range_total),
                )),
                s => match protocol::classify(s, &x.text) {
                    Ok(_) => Err(CallError::Fatal("export file answered with JSON".into())),
                    Err(e) => Err(e),
                },
            }
        })
        .await
    }

    async fn call_as<T>(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        mut held: Option<Slot<'_>>,
        range: Option<&str>,
        classify: impl Fn(&Exchange) -> Result<T, CallError>,
    ) -> Result<T, CallError> {
        let url = format!("{}{}", self.conn.borrow().base_url, path);
        let text_body = body.map(Value::to_string);
        for attempt in 0..2 {
            // A token fetch needs a slot of its own: give a held one back first, so callers
            // holding every slot can never starve the fetch they wait for.
            if !self.token_fresh() {
                held = None;
            }
            let token = self.ensure_token().await?;
            let ticket = match held.take() {
                Some(slot) => slot.take(),
                None => match self.acquire().await {
                    Ok(slot) => slot.take(),
                    Err(until) if until >= days::next_day_start(now()) => {
                        return Err(CallError::Quota(format!("607 held until {until}")))
                    }
                    Err(until) => {
                        return Err(CallError::Transient(format!(
                            "held until {}",
                            days::iso(until)
                        )))
                    }
                },
            };
            let r = self
                .http_with(method.clone(), &url, text_body.clone(), Some(&token), range)
                .await;
            self.release(ticket, is_timeout(&r));
            self.stats.borrow_mut().calls += 1;
            let res = r.and_then(|x| classify(&x));
            match res {
                Ok(v) => {
                    self.failures.set(0);
                    return Ok(v);
                }
                Err(e) => {
                    self.count_error(&e);
                    if matches!(e, CallError::Transient(_) | CallError::Limited(_)) {
                        self.back_off();
                    }
                    match e {
                        CallError::Auth(_) if attempt == 0 => {
                            *self.token.borrow_mut() = None;
                            continue;
                        }
                        CallError::Quota(_) => {
                            self.limiter.borrow_mut().quota_exhausted(now());
                            return Err(e);
                        }
                        other => return Err(other),
                    }
                }
            }
        }
        self.back_off();
        Err(CallError::Transient("token refused twice".into()))
    }

    /// A usable token, fetched before any slot is taken (the fetch needs a slot of its own).
    pub async fn ready(&self) -> bool {
        self.token_fresh() || self.ensure_token().await.is_ok()
    }

    fn token_fresh(&self) -> bool {
        self.token
            .borrow()
            .as_ref()
            .is_some_and(|t| t.refresh_at > now())
    }

    /// Holds every call for at least `ms`.
    pub fn pause_for(&self, ms: i64) {
        self.pause_until.set(self.pause_until.get().max(now() + ms));
    }

    /// One more call failed transiently: pause the whole gate, doubling with each failure in a
    /// row (base `MARKETO_BACKOFF_MS`, at most 32 times the base and never over a minute).
    fn back_off(&self) {
        let failures = self.failures.get().saturating_add(1);
        self.failures.set(failures);
        let base = self.cfg.backoff_ms;
        let pause = backoff_ms(failures, base)
            .min(base.saturating_mul(32))
            .min(60_000);
        self.pause_until
            .set(self.pause_until.get().max(now() + pause));
    }

    /// Records per call: a full batch, or, while calls keep failing, one single-record probe at
    /// a time (an outage does not churn hundreds of outbox rows per attempt, and when Marketo is
    /// back the other workers wait for the probe's answer and then send full batches).
    pub async fn batch_limit(&self) -> (i64, Option<Probe<'_>>) {
        for _ in 0..1_500 {
            if self.failures.get() < 2 {
                return (MAX_RECORDS_PER_CALL as i64, None);
            }
            if !self.probing.get() {
                self.probing.set(true);
                return (
                    1,
                    Some(Probe {
                        flag: &self.probing,
                    }),
                );
            }
            Delay::from(Duration::from_millis(20)).await;
        }
        (1, None)
    }

    /// When the records of a call that failed as a whole are due again.
    pub fn retry_at(&self, attempts: i64, e: &CallError) -> i64 {
        match e {
            CallError::Quota(_) => days::next_day_start(now()),
            CallError::Fatal(_) => {
                now() + backoff_ms(attempts.max(1) as u32 + 4, self.cfg.backoff_ms)
            }
            // A call that failed as a whole says nothing about its records: they wait for the
            // gate's pause and go out together once Marketo answers again (full batches, not a
            // trickle of per-record timers).
            _ => self.pause_until.get().max(now() + 50),
        }
    }

    /// A record the answer did not cover: its own growing backoff (never a hot loop).
    pub fn record_retry_at(&self, attempts: i64) -> i64 {
        now().max(self.pause_until.get()) + backoff_ms(attempts.max(1) as u32, self.cfg.backoff_ms)
    }
}
