//! `MarketoGate` Durable Object: the one owner of the Marketo access token and of the rate,
//! concurrency and daily limits. It drains the D1 outbox (leads, then program membership, then
//! chat activities) in batches of up to 300 records, answers trait lookups, runs the setup of
//! custom activity types and the incremental lead-change sync.
//!
//! Architecture Invariant: no other code calls Marketo; the outbox rows in D1 are the truth and
//! a row is marked delivered only after Marketo answered for it.

use super::config;
use super::db::{self, n, on, s};
use crate::days;
use crate::error::ApiError;
use crate::marketo::limiter::{Limiter, Ticket, Wait};
use crate::marketo::mapping::{self, ACTIVITY_TYPES};
use crate::marketo::protocol::{self, CallError, RecordOutcome, Token};
use crate::marketo::{backoff_ms, MAX_RECORDS_PER_CALL};
use futures_util::future::{join_all, select, Either};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;
use worker::{
    durable_object, AbortController, Delay, Env, Fetch, Headers, Method, Request, RequestInit,
    Response, State,
};

/// Counters shown by `GET /admin/marketo/gate` and the bench.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
struct Stats {
    calls: u64,
    token_calls: u64,
    lead_calls: u64,
    lead_records: u64,
    max_records_per_lead_call: u64,
    member_calls: u64,
    activity_calls: u64,
    association_calls: u64,
    lookups: u64,
    company_lookups: u64,
    delivered: u64,
    dead: u64,
    retries: u64,
    seen_606: u64,
    seen_615: u64,
    seen_607: u64,
    errors: BTreeMap<String, u64>,
    peak_window: u32,
    peak_in_flight: u32,
}

#[durable_object]
pub struct MarketoGate {
    state: State,
    env: Env,
    cfg: config::Marketo,
    limiter: RefCell<Limiter>,
    token: RefCell<Option<Token>>,
    stats: RefCell<Stats>,
    claim_seq: Cell<i64>,
    restored: Cell<bool>,
    token_busy: Cell<bool>,
    /// Gate-wide backoff after calls failed transiently: nothing is sent before this time, and
    /// the records of a failed call wait for it too, so they go out together (full batches)
    /// once Marketo answers again instead of trickling back on per-record timers.
    pause_until: Cell<i64>,
    /// Calls failed transiently in a row (reset by any success).
    failures: Cell<u32>,
    /// A single-record probe is in flight.
    probing: Cell<bool>,
    type_ids: RefCell<HashMap<String, i64>>,
    known_fields: RefCell<Option<Vec<String>>>,
    /// The connection in use: the console's saved one, else the worker's vars.
    conn: RefCell<Connection>,
    conn_checked: Cell<i64>,
}

fn now() -> i64 {
    db::real_now()
}

fn is_timeout<T>(r: &Result<T, CallError>) -> bool {
    matches!(r, Err(CallError::Transient(t)) if t == "timeout")
}

fn err_text(e: &CallError) -> String {
    e.text().chars().take(300).collect()
}

/// A reserved call slot. Dropped unused (any early return, any `?`), it is given back to the
/// limiter, so no error path can leak a slot and jam the gate.
struct Slot<'a> {
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
struct Probe<'a> {
    flag: &'a Cell<bool>,
}

impl Drop for Probe<'_> {
    fn drop(&mut self) {
        self.flag.set(false);
    }
}

/// Puts a claimed lead back in the outbox, due at `at`.
fn lead_retry_stmt(
    database: &worker::D1Database,
    c: &LeadClaim,
    at: i64,
    error: &str,
) -> Result<worker::D1PreparedStatement, ApiError> {
    db::stmt(
        database,
        "UPDATE leads SET attempts = ?, next_attempt_at = ?, last_error = ? WHERE id = ?",
        &[n(c.attempts + 1), n(at), s(error), s(&c.id)],
    )
}

#[derive(Deserialize)]
struct LeadClaim {
    id: String,
    record: String,
    attempts: i64,
}

#[derive(Deserialize)]
struct AssocClaim {
    id: String,
    site: String,
    marketo_id: Option<i64>,
    mkto_trk: Option<String>,
    assoc_attempts: i64,
}

#[derive(Deserialize)]
struct MemberClaim {
    id: String,
    site: String,
    dialogue: String,
    marketo_id: i64,
    attempts: i64,
}

#[derive(Deserialize)]
struct ActivityClaim {
    id: i64,
    type_api: String,
    primary_value: String,
    attributes: String,
    at: i64,
    attempts: i64,
    marketo_id: i64,
}

#[derive(Deserialize)]
struct ProgramRow {
    id: String,
    program_id: i64,
    program_status: Option<String>,
}

#[derive(Deserialize)]
struct DialogueProgramRow {
    site: String,
    dialogue: String,
    program_id: i64,
    statuses: String,
}

#[derive(Deserialize)]
struct ConnectionRow {
    endpoint: String,
    client_id: String,
    secret: String,
}

/// Where and as whom the gate calls Marketo.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Connection {
    base_url: String,
    client_id: String,
    client_secret: String,
}

#[derive(Deserialize)]
struct TypeRow {
    api_name: String,
    type_id: i64,
}

#[derive(Deserialize)]
struct MinRow {
    t: Option<i64>,
}

impl worker::DurableObject for MarketoGate {
    fn new(state: State, env: Env) -> Self {
        let cfg = config::Marketo::from_env(&env);
        let limiter = Limiter::new(cfg.limits, days::day_number(now()), 0);
        let conn = Connection {
            base_url: cfg.base_url.clone(),
            client_id: cfg.client_id.clone(),
            client_secret: cfg.client_secret.clone(),
        };
        MarketoGate {
            state,
            env,
            cfg,
            limiter: RefCell::new(limiter),
            token: RefCell::new(None),
            stats: RefCell::new(Stats::default()),
            claim_seq: Cell::new(0),
            restored: Cell::new(false),
            token_busy: Cell::new(false),
            pause_until: Cell::new(0),
            failures: Cell::new(0),
            probing: Cell::new(false),
            type_ids: RefCell::new(HashMap::new()),
            known_fields: RefCell::new(None),
            conn: RefCell::new(conn),
            conn_checked: Cell::new(0),
        }
    }

    async fn fetch(&self, mut req: Request) -> worker::Result<Response> {
        self.restore().await;
        self.refresh_connection().await;
        let path = req.path();
        let body: Value = if req.method() == Method::Post {
            req.json().await.unwrap_or(Value::Null)
        } else {
            Value::Null
        };
        let result: Result<Value, ApiError> = match path.as_str() {
            "/kick" => self.kick().await.map(|_| json!({"ok": true})),
            "/lookup" => self.lookup(&body).await,
            "/setup" => self.setup().await,
            "/sync" => self.sync().await,
            "/stats" => Ok(self.stats_json()),
            _ => Err(ApiError::NotFound("gate path".into())),
        };
        match result {
            Ok(v) => Response::from_json(&v),
            Err(e) => Ok(Response::from_json(&e.body())?.with_status(e.status())),
        }
    }

    async fn alarm(&self) -> worker::Result<Response> {
        self.restore().await;
        self.refresh_connection().await;
        if let Err(e) = self.drain().await {
            worker::console_error!("gate drain: {e}");
            // Try again soon; the cron sweep is the backstop.
            let _ = self.state.storage().set_alarm(Duration::from_secs(5)).await;
        }
        Response::ok("drained")
    }
}

impl MarketoGate {
    /// Restores the day's call count and the calls still in the rate window, so a restart
    /// keeps honouring the daily quota and never doubles the window.
    async fn restore(&self) {
        if self.restored.replace(true) {
            return;
        }
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

    /// Uses the Marketo connection saved in the console (endpoint, client id, encrypted secret)
    /// when there is one, else the worker's vars; re-read at most every 10 s. A change drops
    /// the token, so the next call authenticates against the new instance.
    async fn refresh_connection(&self) {
        let t = now();
        if t - self.conn_checked.get() < 10_000 {
            return;
        }
        self.conn_checked.set(t);
        match self.read_connection().await {
            Ok(next) => {
                if *self.conn.borrow() != next {
                    *self.conn.borrow_mut() = next;
                    *self.token.borrow_mut() = None;
                    *self.known_fields.borrow_mut() = None;
                    self.type_ids.borrow_mut().clear();
                    self.failures.set(0);
                    self.pause_until.set(0);
                }
            }
            Err(e) => {
                // Never fall back to another instance: hold every call and look again soon.
                worker::console_error!("marketo connection: {e}");
                self.conn_checked.set(0);
                self.pause_for(5_000);
            }
        }
    }

    /// The connection to use, and when it names another instance than the one used before,
    /// forgets what belonged to that one (activity type ids, trait cache, sync position).
    async fn read_connection(&self) -> Result<Connection, ApiError> {
        let database = db::database(&self.env)?;
        let row: Option<ConnectionRow> = db::first(
            &database,
            "SELECT endpoint, client_id, secret FROM marketo_connection WHERE id = 1 AND secret IS NOT NULL",
            &[],
        )
        .await?;
        let next = match row {
            Some(r) => Connection {
                base_url: r.endpoint.trim_end_matches('/').to_string(),
                client_id: r.client_id,
                client_secret: super::console::decrypt(&self.env, &r.secret)?,
            },
            None => Connection {
                base_url: self.cfg.base_url.clone(),
                client_id: self.cfg.client_id.clone(),
                client_secret: self.cfg.client_secret.clone(),
            },
        };
        let identity = format!("{} {}", next.base_url, next.client_id);
        let before = db::setting(&database, "marketo_instance").await?;
        if before.as_deref() != Some(identity.as_str()) {
            if before.is_some() {
                worker::console_log!("marketo instance changed: forgetting the old one's ids");
                db::batch(
                    &database,
                    vec![
                        db::stmt(&database, "DELETE FROM activity_types", &[])?,
                        db::stmt(&database, "DELETE FROM marketo_cache", &[])?,
                        db::stmt(
                            &database,
                            "DELETE FROM settings WHERE key = 'marketo_sync_token'",
                            &[],
                        )?,
                    ],
                )
                .await?;
            }
            db::set_setting(&database, "marketo_instance", &identity).await?;
        }
        Ok(next)
    }

    async fn kick(&self) -> Result<(), ApiError> {
        let storage = self.state.storage();
        let at = storage.get_alarm().await?;
        // While the gate backs off, new work waits for the end of the pause.
        let delay = (self.held_until() - now()).max(50);
        let soon = now() + delay;
        if at.map(|t| t > soon).unwrap_or(true) {
            storage
                .set_alarm(Duration::from_millis(delay as u64))
                .await?;
        }
        Ok(())
    }

    fn stats_json(&self) -> Value {
        let mut st = self.stats.borrow().clone();
        let l = self.limiter.borrow();
        st.peak_window = l.peak_window;
        st.peak_in_flight = l.peak_in_flight;
        let mut v = serde_json::to_value(st).unwrap_or(Value::Null);
        v["window_budget"] = json!(self
            .cfg
            .limits
            .window_calls
            .saturating_sub(self.cfg.limits.safety_calls));
        v["window_calls"] = json!(self.cfg.limits.window_calls);
        v["in_flight"] = json!(l.in_flight(now()));
        v["day_calls"] = json!(l.day_calls().1);
        v
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
    async fn acquire(&self) -> Result<Slot<'_>, i64> {
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
    fn held_until(&self) -> i64 {
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
        let headers = Headers::new();
        let _ = headers.set("Accept", "application/json");
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
            let status = resp.status_code();
            let text = resp.text().await?;
            Ok::<_, worker::Error>((status, text))
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
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        mut held: Option<Slot<'_>>,
    ) -> Result<Value, CallError> {
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
                .http(method.clone(), &url, text_body.clone(), Some(&token))
                .await;
            self.release(ticket, is_timeout(&r));
            self.stats.borrow_mut().calls += 1;
            let res = r.and_then(|(status, text)| protocol::classify(status, &text));
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
    async fn ready(&self) -> bool {
        self.token_fresh() || self.ensure_token().await.is_ok()
    }

    fn token_fresh(&self) -> bool {
        self.token
            .borrow()
            .as_ref()
            .is_some_and(|t| t.refresh_at > now())
    }

    /// Holds every call for at least `ms`.
    fn pause_for(&self, ms: i64) {
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
    async fn batch_limit(&self) -> (i64, Option<Probe<'_>>) {
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

    fn next_claim(&self) -> i64 {
        let seq = self.claim_seq.get() + 1;
        self.claim_seq.set(seq);
        now() + self.cfg.lease_ms + seq % 1000
    }

    fn retry_at(&self, attempts: i64, e: &CallError) -> i64 {
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
    fn record_retry_at(&self, attempts: i64) -> i64 {
        now().max(self.pause_until.get()) + backoff_ms(attempts.max(1) as u32, self.cfg.backoff_ms)
    }

    /// Drains the outbox with up to `max_in_flight` concurrent workers for at most 25 s, then
    /// schedules the next run for the earliest due row.
    async fn drain(&self) -> Result<(), ApiError> {
        let deadline = now() + 25_000;
        let workers = (0..self.cfg.limits.max_in_flight).map(|_| self.work(deadline));
        let results = join_all(workers).await;
        for r in results {
            if let Err(e) = r {
                worker::console_error!("gate worker: {e}");
            }
        }
        self.schedule_next().await
    }

    async fn work(&self, deadline: i64) -> Result<(), ApiError> {
        for _ in 0..100_000 {
            if now() >= deadline {
                return Ok(());
            }
            // Leads first, then membership of delivered leads, then their activities.
            // Cookie associations last: one call per lead, so they only use spare calls.
            let did = self.deliver_leads().await?
                || self.deliver_memberships().await?
                || self.deliver_activities().await?
                || self.deliver_association().await?;
            if !did {
                return Ok(());
            }
        }
        Ok(())
    }

    async fn schedule_next(&self) -> Result<(), ApiError> {
        let database = db::database(&self.env)?;
        let row: Option<MinRow> = db::first(
            &database,
            "SELECT MIN(t) AS t FROM (SELECT MIN(next_attempt_at) AS t FROM leads WHERE status = 'queued' \
             UNION ALL SELECT MIN(next_attempt_at) FROM leads WHERE status = 'delivered' AND member_status = 'pending' \
             UNION ALL SELECT MIN(a.next_attempt_at) FROM activities a JOIN leads l ON l.id = a.lead_id WHERE a.status = 'queued' AND l.marketo_id IS NOT NULL \
             UNION ALL SELECT MIN(assoc_next_at) FROM leads WHERE assoc_status = 'pending')",
            &[],
        )
        .await?;
        if let Some(t) = row.and_then(|r| r.t) {
            let delay = (t.max(self.held_until()) - now()).clamp(50, 3_600_000);
            self.state
                .storage()
                .set_alarm(Duration::from_millis(delay as u64))
                .await?;
        }
        Ok(())
    }

    /// Takes a slot, claims up to 300 due leads, sends them, records each outcome.
    async fn deliver_leads(&self) -> Result<bool, ApiError> {
        if !self.ready().await {
            return Ok(false);
        }
        let Ok(slot) = self.acquire().await else {
            return Ok(false);
        };
        let database = db::database(&self.env)?;
        let (limit, _probe) = self.batch_limit().await;
        let stamp = self.next_claim();
        let claimed: Vec<LeadClaim> = match db::rows(
            &database,
            "UPDATE leads SET next_attempt_at = ?1 WHERE id IN (SELECT id FROM leads WHERE status = 'queued' AND next_attempt_at <= ?2 ORDER BY next_attempt_at, created_at LIMIT ?3) RETURNING id, record, attempts",
            &[n(stamp), n(now()), n(limit)],
        )
        .await
        {
            Ok(c) => c,
            Err(e) => {
                drop(slot);
                return Err(e);
            }
        };
        if claimed.is_empty() {
            drop(slot);
            return Ok(false);
        }
        let input: Vec<Value> = claimed
            .iter()
            .map(|c| serde_json::from_str(&c.record).unwrap_or_else(|_| json!({})))
            .collect();
        let body = json!({"action": "createOrUpdate", "lookupField": "email", "input": input});
        {
            let mut st = self.stats.borrow_mut();
            st.lead_calls += 1;
            st.lead_records += claimed.len() as u64;
            st.max_records_per_lead_call = st.max_records_per_lead_call.max(claimed.len() as u64);
        }
        let res = self
            .call(Method::Post, "/rest/v1/leads.json", Some(&body), Some(slot))
            .await;
        let t = now();
        let mut st = Vec::with_capacity(claimed.len() * 2);
        match res {
            Ok(v) => {
                let outcomes = protocol::record_outcomes(&v, claimed.len());
                for (c, o) in claimed.iter().zip(outcomes) {
                    match o {
                        RecordOutcome::Done(mid) => {
                            self.stats.borrow_mut().delivered += 1;
                            st.push(db::stmt(
                                &database,
                                "UPDATE leads SET status = 'delivered', marketo_id = ?1, delivered_at = ?2, next_attempt_at = 0, attempts = attempts + 1, last_error = NULL, member_status = CASE WHEN ?1 IS NULL THEN 'none' ELSE member_status END, assoc_status = CASE WHEN ?1 IS NOT NULL AND mkto_trk IS NOT NULL THEN 'pending' ELSE 'none' END, assoc_next_at = 0 WHERE id = ?3",
                                &[on(mid), n(t), s(&c.id)],
                            )?);
                        }
                        RecordOutcome::Rejected { code, reason } => {
                            self.stats.borrow_mut().dead += 1;
                            st.push(db::stmt(&database, "UPDATE leads SET status = 'dead', attempts = attempts + 1, last_error = ? WHERE id = ?", &[s(&format!("{code} {reason}")), s(&c.id)])?);
                            st.push(db::stmt(
                                &database,
                                "INSERT INTO dead_letters (kind, ref, site, code, reason, created_at) SELECT 'lead', id, site, ?, ?, ? FROM leads WHERE id = ?",
                                &[s(&code), s(&reason), n(t), s(&c.id)],
                            )?);
                        }
                        RecordOutcome::Missing => {
                            let at = self.record_retry_at(c.attempts + 1);
                            st.push(lead_retry_stmt(&database, c, at, "no result for record")?);
                        }
                    }
                }
            }
            Err(e) => {
                // The call failed as a whole: one statement puts every record back.
                self.stats.borrow_mut().retries += claimed.len() as u64;
                let ids: Vec<&str> = claimed.iter().map(|c| c.id.as_str()).collect();
                let at = self.retry_at(
                    claimed.iter().map(|c| c.attempts).max().unwrap_or(0) + 1,
                    &e,
                );
                st.push(db::stmt(
                    &database,
                    "UPDATE leads SET attempts = attempts + 1, next_attempt_at = ?, last_error = ? WHERE id IN (SELECT value FROM json_each(?))",
                    &[n(at), s(&err_text(&e)), s(&json!(ids).to_string())],
                )?);
            }
        }
        db::batch(&database, st).await?;
        Ok(true)
    }

    async fn deliver_memberships(&self) -> Result<bool, ApiError> {
        if !self.ready().await {
            return Ok(false);
        }
        let Ok(slot) = self.acquire().await else {
            return Ok(false);
        };
        let database = db::database(&self.env)?;
        let (limit, _probe) = self.batch_limit().await;
        let stamp = self.next_claim();
        let claimed: Vec<MemberClaim> = db::rows(
            &database,
            "UPDATE leads SET next_attempt_at = ?1 WHERE id IN (SELECT id FROM leads WHERE status = 'delivered' AND member_status = 'pending' AND marketo_id IS NOT NULL AND next_attempt_at <= ?2 LIMIT ?3) RETURNING id, site, dialogue, marketo_id, attempts",
            &[n(stamp), n(now()), n(limit)],
        )
        .await
        ?;
        if claimed.is_empty() {
            drop(slot);
            return Ok(false);
        }
        let programs: Vec<ProgramRow> = db::rows(
            &database,
            "SELECT id, program_id, program_status FROM sites WHERE program_id IS NOT NULL",
            &[],
        )
        .await?;
        let programs: HashMap<String, (i64, String)> = programs
            .into_iter()
            .map(|p| {
                (
                    p.id,
                    (
                        p.program_id,
                        p.program_status.unwrap_or_else(|| "Member".into()),
                    ),
                )
            })
            .collect();
        // A program picked for the dialogue in the console wins over the site's.
        let per_dialogue: Vec<DialogueProgramRow> = db::rows(
            &database,
            "SELECT site, dialogue, program_id, statuses FROM dialogue_marketo WHERE program_id IS NOT NULL",
            &[],
        )
        .await?;
        let per_dialogue: HashMap<(String, String), (i64, Option<String>)> = per_dialogue
            .into_iter()
            .map(|r| {
                let captured = serde_json::from_str::<Value>(&r.statuses)
                    .ok()
                    .and_then(|v| {
                        v.get("captured")
                            .and_then(Value::as_str)
                            .map(str::to_string)
                    })
                    .filter(|x| !x.trim().is_empty());
                ((r.site, r.dialogue), (r.program_id, captured))
            })
            .collect();
        let mut groups: BTreeMap<(i64, String), Vec<&MemberClaim>> = BTreeMap::new();
        let mut st = Vec::new();
        for c in &claimed {
            let site_program = programs.get(&c.site);
            let chosen = match per_dialogue.get(&(c.site.clone(), c.dialogue.clone())) {
                Some((program, status)) => Some((
                    *program,
                    status
                        .clone()
                        .or_else(|| site_program.map(|p| p.1.clone()))
                        .unwrap_or_else(|| "Member".into()),
                )),
                None => site_program.cloned(),
            };
            match chosen.as_ref() {
                Some(p) => groups.entry(p.clone()).or_default().push(c),
                None => st.push(db::stmt(
                    &database,
                    "UPDATE leads SET member_status = 'none' WHERE id = ?",
                    &[s(&c.id)],
                )?),
            }
        }
        let mut held = Some(slot);
        for ((program, status), members) in &groups {
            let input: Vec<Value> = members
                .iter()
                .map(|m| json!({"leadId": m.marketo_id}))
                .collect();
            let body = json!({"statusName": status, "input": input});
            self.stats.borrow_mut().member_calls += 1;
            let res = self
                .call(
                    Method::Post,
                    &format!("/rest/v1/programs/{program}/members/status.json"),
                    Some(&body),
                    held.take(),
                )
                .await;
            match res {
                Ok(v) => {
                    for (m, o) in members
                        .iter()
                        .zip(protocol::record_outcomes(&v, members.len()))
                    {
                        match o {
                            RecordOutcome::Done(_) => st.push(db::stmt(&database, "UPDATE leads SET member_status = 'done', next_attempt_at = 0 WHERE id = ?", &[s(&m.id)])?),
                            RecordOutcome::Rejected { code, reason } => {
                                st.push(db::stmt(&database, "UPDATE leads SET member_status = 'failed', last_error = ? WHERE id = ?", &[s(&format!("membership {code} {reason}")), s(&m.id)])?);
                                st.push(db::stmt(&database, "INSERT INTO dead_letters (kind, ref, site, code, reason, created_at) VALUES ('membership', ?, ?, ?, ?, ?)", &[s(&m.id), s(&m.site), s(&code), s(&reason), n(now())])?);
                            }
                            RecordOutcome::Missing => st.push(db::stmt(&database, "UPDATE leads SET attempts = attempts + 1, next_attempt_at = ? WHERE id = ?", &[n(self.record_retry_at(m.attempts + 1)), s(&m.id)])?),
                        }
                    }
                }
                Err(e) => {
                    for m in members {
                        st.push(db::stmt(&database, "UPDATE leads SET attempts = attempts + 1, next_attempt_at = ?, last_error = ? WHERE id = ?", &[n(self.retry_at(m.attempts + 1, &e)), s(&format!("membership {}", err_text(&e))), s(&m.id)])?);
                    }
                }
            }
        }
        drop(held);
        db::batch(&database, st).await?;
        Ok(true)
    }

    /// Ties one delivered lead's tracking cookie to it in Marketo (`associate.json`), so the
    /// visitor is known by cookie on the next visit; drops the cached "unknown" for that cookie.
    async fn deliver_association(&self) -> Result<bool, ApiError> {
        // One call per lead: only while most of the day's quota is left for leads.
        let (_, used) = self.limiter.borrow().day_calls();
        if u64::from(used) * 10 > u64::from(self.cfg.limits.daily_quota) * 6 || !self.ready().await
        {
            return Ok(false);
        }
        let database = db::database(&self.env)?;
        let Ok(slot) = self.acquire().await else {
            return Ok(false);
        };
        let stamp = self.next_claim();
        let claimed: Option<AssocClaim> = db::rows(
            &database,
            "UPDATE leads SET assoc_next_at = ?1 WHERE id IN (SELECT id FROM leads WHERE assoc_status = 'pending' AND assoc_next_at <= ?2 LIMIT 1) RETURNING id, site, marketo_id, mkto_trk, assoc_attempts",
            &[n(stamp), n(now())],
        )
        .await
        ?
        .into_iter()
        .next();
        let Some(c) = claimed else {
            drop(slot);
            return Ok(false);
        };
        let (Some(lead), Some(cookie)) = (c.marketo_id, c.mkto_trk.as_deref()) else {
            drop(slot);
            db::exec(
                &database,
                "UPDATE leads SET assoc_status = 'none' WHERE id = ?",
                &[s(&c.id)],
            )
            .await?;
            return Ok(true);
        };
        self.stats.borrow_mut().association_calls += 1;
        let path = format!(
            "/rest/v1/leads/{lead}/associate.json?cookie={}",
            urlencode(cookie)
        );
        let res = self.call(Method::Post, &path, None, Some(slot)).await;
        let attempts = c.assoc_attempts + 1;
        let st = match res {
            Ok(_) => vec![
                db::stmt(
                    &database,
                    "UPDATE leads SET assoc_status = 'done', assoc_attempts = ? WHERE id = ?",
                    &[n(attempts), s(&c.id)],
                )?,
                db::stmt(
                    &database,
                    "DELETE FROM marketo_cache WHERE key_type = 'cookie' AND key = ?",
                    &[s(cookie)],
                )?,
            ],
            // 1004 (lead gone), 1012 (cookie refused) and other definite refusals: for a human.
            Err(CallError::Fatal(text)) => {
                let (code, reason) = text.split_once(' ').unwrap_or((text.as_str(), ""));
                vec![
                    db::stmt(&database, "UPDATE leads SET assoc_status = 'failed', assoc_attempts = ?, last_error = ? WHERE id = ?", &[n(attempts), s(&format!("associate {text}")), s(&c.id)])?,
                    db::stmt(&database, "INSERT INTO dead_letters (kind, ref, site, code, reason, created_at) VALUES ('association', ?, ?, ?, ?, ?)", &[s(&c.id), s(&c.site), s(code), s(reason), n(now())])?,
                ]
            }
            Err(e) => vec![db::stmt(
                &database,
                "UPDATE leads SET assoc_attempts = ?, assoc_next_at = ? WHERE id = ?",
                &[n(attempts), n(self.retry_at(attempts, &e)), s(&c.id)],
            )?],
        };
        db::batch(&database, st).await?;
        Ok(true)
    }

    async fn load_type_ids(&self) -> Result<(), ApiError> {
        if self.type_ids.borrow().len() == ACTIVITY_TYPES.len() {
            return Ok(());
        }
        let database = db::database(&self.env)?;
        let rows: Vec<TypeRow> = db::rows(
            &database,
            "SELECT api_name, type_id FROM activity_types WHERE approved = 1",
            &[],
        )
        .await?;
        if rows.len() < ACTIVITY_TYPES.len() {
            self.setup().await?;
            let rows: Vec<TypeRow> = db::rows(
                &database,
                "SELECT api_name, type_id FROM activity_types WHERE approved = 1",
                &[],
            )
            .await?;
            *self.type_ids.borrow_mut() =
                rows.into_iter().map(|r| (r.api_name, r.type_id)).collect();
        } else {
            *self.type_ids.borrow_mut() =
                rows.into_iter().map(|r| (r.api_name, r.type_id)).collect();
        }
        Ok(())
    }

    async fn deliver_activities(&self) -> Result<bool, ApiError> {
        let database = db::database(&self.env)?;
        let pending: Option<MinRow> = db::first(
            &database,
            "SELECT a.id AS t FROM activities a JOIN leads l ON l.id = a.lead_id WHERE a.status = 'queued' AND a.next_attempt_at <= ? AND l.marketo_id IS NOT NULL LIMIT 1",
            &[n(now())],
        )
        .await?;
        if pending.is_none() {
            return Ok(false);
        }
        if !self.ready().await {
            return Ok(false);
        }
        if let Err(e) = self.load_type_ids().await {
            worker::console_error!("activity types not ready: {e}");
            return Ok(false);
        }
        let Ok(slot) = self.acquire().await else {
            return Ok(false);
        };
        let (limit, _probe) = self.batch_limit().await;
        let stamp = self.next_claim();
        let claim = db::exec(
            &database,
            "UPDATE activities SET next_attempt_at = ?1 WHERE id IN (SELECT a.id FROM activities a JOIN leads l ON l.id = a.lead_id WHERE a.status = 'queued' AND a.next_attempt_at <= ?2 AND l.marketo_id IS NOT NULL ORDER BY a.id LIMIT ?3)",
            &[n(stamp), n(now()), n(limit)],
        )
        .await;
        let claimed: Vec<ActivityClaim> = match claim {
            Ok(_) => db::rows(
                &database,
                "SELECT a.id, a.type_api, a.primary_value, a.attributes, a.at, a.attempts, l.marketo_id FROM activities a JOIN leads l ON l.id = a.lead_id WHERE a.status = 'queued' AND a.next_attempt_at = ? AND l.marketo_id IS NOT NULL",
                &[n(stamp)],
            )
            .await
            ?,
            Err(e) => {
                drop(slot);
                return Err(e);
            }
        };
        if claimed.is_empty() {
            drop(slot);
            return Ok(false);
        }
        let ids = self.type_ids.borrow().clone();
        let input: Vec<Value> = claimed
            .iter()
            .map(|a| {
                let attrs: Vec<(String, String)> =
                    serde_json::from_str::<Vec<(String, String)>>(&a.attributes)
                        .unwrap_or_default();
                mapping::external_input(
                    a.marketo_id,
                    ids.get(&a.type_api).copied().unwrap_or(0),
                    &a.primary_value,
                    &attrs,
                    &days::iso(a.at),
                )
            })
            .collect();
        self.stats.borrow_mut().activity_calls += 1;
        let res = self
            .call(
                Method::Post,
                "/rest/v1/activities/external.json",
                Some(&json!({"input": input})),
                Some(slot),
            )
            .await;
        let mut st = Vec::new();
        match res {
            Ok(v) => {
                for (a, o) in claimed
                    .iter()
                    .zip(protocol::record_outcomes(&v, claimed.len()))
                {
                    match o {
                        RecordOutcome::Done(_) => st.push(db::stmt(&database, "UPDATE activities SET status = 'delivered', attempts = attempts + 1, last_error = NULL WHERE id = ?", &[n(a.id)])?),
                        RecordOutcome::Rejected { code, reason } => {
                            st.push(db::stmt(&database, "UPDATE activities SET status = 'dead', last_error = ? WHERE id = ?", &[s(&format!("{code} {reason}")), n(a.id)])?);
                            st.push(db::stmt(
                                &database,
                                "INSERT INTO dead_letters (kind, ref, site, code, reason, created_at) SELECT 'activity', CAST(id AS TEXT), site, ?, ?, ? FROM activities WHERE id = ?",
                                &[s(&code), s(&reason), n(now()), n(a.id)],
                            )?);
                        }
                        RecordOutcome::Missing => st.push(db::stmt(&database, "UPDATE activities SET attempts = attempts + 1, next_attempt_at = ? WHERE id = ?", &[n(self.record_retry_at(a.attempts + 1)), n(a.id)])?),
                    }
                }
            }
            Err(e) => {
                for a in &claimed {
                    st.push(db::stmt(&database, "UPDATE activities SET attempts = attempts + 1, next_attempt_at = ?, last_error = ? WHERE id = ?", &[n(self.retry_at(a.attempts + 1, &e)), s(&err_text(&e)), n(a.id)])?);
                }
            }
        }
        db::batch(&database, st).await?;
        Ok(true)
    }

    /// Creates, completes and approves the custom activity types; records their ids in D1.
    async fn setup(&self) -> Result<Value, ApiError> {
        let database = db::database(&self.env)?;
        let up = |e: CallError| ApiError::Upstream(e.text().to_string());
        let list = self
            .call(
                Method::Get,
                "/rest/v1/activities/external/types.json",
                None,
                None,
            )
            .await
            .map_err(up)?;
        let existing: Vec<Value> = list
            .get("result")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let mut report = Vec::new();
        for t in &ACTIVITY_TYPES {
            let found = existing
                .iter()
                .find(|x| x.get("apiName").and_then(Value::as_str) == Some(t.api_name))
                .cloned();
            let mut current = match found {
                Some(x) => x,
                None => {
                    let r = self
                        .call(
                            Method::Post,
                            "/rest/v1/activities/external/type.json",
                            Some(&t.create_body()),
                            None,
                        )
                        .await
                        .map_err(up)?;
                    r.get("result")
                        .and_then(|a| a.get(0))
                        .cloned()
                        .ok_or_else(|| ApiError::Upstream("type.json: empty result".into()))?
                }
            };
            let have: Vec<String> = current
                .get("attributes")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .chain(
                    current
                        .get("pendingAttributes")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten(),
                )
                .filter_map(|a| a.get("apiName").and_then(Value::as_str).map(str::to_string))
                .collect();
            let missing = t
                .attributes
                .iter()
                .any(|(name, _)| !have.iter().any(|h| h == name));
            if missing {
                let body = json!({"attributes": t.attributes_body()["attributes"].as_array().map(|a| a.iter().filter(|x| !have.iter().any(|h| Some(h.as_str()) == x["apiName"].as_str())).cloned().collect::<Vec<_>>()).unwrap_or_default()});
                let r = self
                    .call(
                        Method::Post,
                        &format!(
                            "/rest/v1/activities/external/type/{}/attributes/create.json",
                            t.api_name
                        ),
                        Some(&body),
                        None,
                    )
                    .await
                    .map_err(up)?;
                if let Some(x) = r.get("result").and_then(|a| a.get(0)) {
                    current = x.clone();
                }
            }
            if missing || current.get("status").and_then(Value::as_str) != Some("approved") {
                let r = self
                    .call(
                        Method::Post,
                        &format!(
                            "/rest/v1/activities/external/type/{}/approve.json",
                            t.api_name
                        ),
                        None,
                        None,
                    )
                    .await
                    .map_err(up)?;
                if let Some(x) = r.get("result").and_then(|a| a.get(0)) {
                    current = x.clone();
                }
            }
            let id = current
                .get("id")
                .and_then(Value::as_i64)
                .ok_or_else(|| ApiError::Upstream(format!("{}: no id", t.api_name)))?;
            db::exec(&database, "INSERT INTO activity_types (api_name, type_id, approved) VALUES (?, ?, 1) ON CONFLICT(api_name) DO UPDATE SET type_id = excluded.type_id, approved = 1", &[s(t.api_name), n(id)]).await?;
            self.type_ids
                .borrow_mut()
                .insert(t.api_name.to_string(), id);
            report.push(json!({"apiName": t.api_name, "id": id, "status": current.get("status").cloned().unwrap_or(Value::Null)}));
        }
        Ok(json!({"types": report}))
    }

    /// Field names Marketo knows (describe2), so lookups never ask for an unknown field (1006).
    async fn known_fields(&self) -> Result<Vec<String>, ApiError> {
        if let Some(f) = self.known_fields.borrow().as_ref() {
            return Ok(f.clone());
        }
        let v = self
            .call(Method::Get, "/rest/v1/leads/describe2.json", None, None)
            .await
            .map_err(|e| ApiError::Upstream(e.text().to_string()))?;
        let names: Vec<String> = v
            .pointer("/result/0/fields")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|f| f.get("name").and_then(Value::as_str).map(str::to_string))
            .collect();
        *self.known_fields.borrow_mut() = Some(names.clone());
        Ok(names)
    }

    /// `leads.json?filterType=cookies|email`: `{"id": n | null, "fields": {..}}`.
    async fn lookup(&self, body: &Value) -> Result<Value, ApiError> {
        let filter = body.get("filterType").and_then(Value::as_str).unwrap_or("");
        let value = body
            .get("filterValue")
            .and_then(Value::as_str)
            .unwrap_or("");
        if !matches!(filter, "cookies" | "email") || value.is_empty() {
            return Err(ApiError::field(
                "filterType",
                "cookies or email with a value",
            ));
        }
        let known = self.known_fields().await?;
        let mut fields: Vec<String> = body
            .get("fields")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .filter(|f| known.iter().any(|k| k == f))
            .map(str::to_string)
            .collect();
        // The account record is found by the lead's company name.
        let wants_company = body
            .get("company_fields")
            .and_then(Value::as_array)
            .is_some_and(|a| !a.is_empty());
        if wants_company && known.iter().any(|k| k == "company") {
            fields.push("company".into());
        }
        fields.sort();
        fields.dedup();
        if fields.is_empty() {
            fields.push("email".into());
        }
        self.stats.borrow_mut().lookups += 1;
        let path = format!(
            "/rest/v1/leads.json?filterType={filter}&filterValues={}&fields={}",
            urlencode(value),
            urlencode(&fields.join(","))
        );
        let v = self
            .call(Method::Get, &path, None, None)
            .await
            .map_err(|e| ApiError::Upstream(e.text().to_string()))?;
        let Some(lead) = v
            .get("result")
            .and_then(Value::as_array)
            .and_then(|a| a.first())
        else {
            return Ok(json!({"id": null, "fields": {}, "company": {}}));
        };
        let mut f = lead.as_object().cloned().unwrap_or_default();
        let id = f.remove("id").and_then(|i| i.as_i64());
        let company = self.company_of(body, &f).await;
        Ok(json!({"id": id, "fields": f, "company": company}))
    }

    /// The company (account) record of a known lead, by its company name, with the company
    /// fields the site's rules use (`companies.json`). Empty when none is asked for or found;
    /// a failed company call leaves the lead's own fields to answer.
    async fn company_of(&self, body: &Value, lead: &serde_json::Map<String, Value>) -> Value {
        let mut wanted: Vec<&str> = body
            .get("company_fields")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .filter(|f| mapping::COMPANY_FIELDS.contains(f))
            .collect();
        wanted.sort_unstable();
        wanted.dedup();
        let name = lead.get("company").and_then(Value::as_str).unwrap_or("");
        if wanted.is_empty() || name.trim().is_empty() {
            return json!({});
        }
        if !wanted.contains(&"company") {
            wanted.push("company");
        }
        let path = format!(
            "/rest/v1/companies.json?filterType=company&filterValues={}&fields={}",
            urlencode(name),
            urlencode(&wanted.join(","))
        );
        self.stats.borrow_mut().company_lookups += 1;
        match self.call(Method::Get, &path, None, None).await {
            // filterValues is a comma-separated list: a name with a comma may bring back other
            // accounts, so only an exact (case-insensitive) name match counts.
            Ok(v) => v
                .get("result")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_object)
                .find(|c| {
                    c.get("company")
                        .and_then(Value::as_str)
                        .is_some_and(|n| n.trim().eq_ignore_ascii_case(name.trim()))
                })
                .map(|c| {
                    let mut c = c.clone();
                    c.remove("seq");
                    c.remove("id");
                    Value::Object(c)
                })
                .unwrap_or_else(|| json!({})),
            Err(e) => {
                worker::console_error!("company lookup: {}", e.text());
                json!({})
            }
        }
    }

    /// Incremental sync: lead changes since the stored paging token update the trait cache.
    async fn sync(&self) -> Result<Value, ApiError> {
        let database = db::database(&self.env)?;
        let up = |e: CallError| ApiError::Upstream(e.text().to_string());
        let mut token = match db::setting(&database, "marketo_sync_token").await? {
            Some(t) => t,
            None => {
                let since = days::iso(now() - 3_600_000);
                let v = self
                    .call(
                        Method::Get,
                        &format!(
                            "/rest/v1/activities/pagingtoken.json?sinceDatetime={}",
                            urlencode(&since)
                        ),
                        None,
                        None,
                    )
                    .await
                    .map_err(up)?;
                v.get("nextPageToken")
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .ok_or_else(|| ApiError::Upstream("no nextPageToken".into()))?
            }
        };
        #[derive(Deserialize)]
        struct TraitRow {
            trait_fields: String,
        }
        let sites: Vec<TraitRow> =
            db::rows(&database, "SELECT trait_fields FROM sites", &[]).await?;
        let known = self.known_fields().await?;
        let mut fields: Vec<String> = sites
            .iter()
            .flat_map(|r| serde_json::from_str::<Vec<String>>(&r.trait_fields).unwrap_or_default())
            .filter_map(|f| f.split_once('.').map(|(_, n)| n.to_string()))
            .chain(["email".to_string()])
            .filter(|f| known.iter().any(|k| k == f))
            .collect();
        fields.sort();
        fields.dedup();
        let mut changed = 0;
        for _page in 0..10 {
            let path = format!(
                "/rest/v1/activities/leadchanges.json?nextPageToken={}&fields={}",
                urlencode(&token),
                urlencode(&fields.join(","))
            );
            let v = self
                .call(Method::Get, &path, None, None)
                .await
                .map_err(up)?;
            let mut st = Vec::new();
            for change in v
                .get("result")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let Some(lead) = change.get("leadId").and_then(Value::as_i64) else {
                    continue;
                };
                for f in change
                    .get("fields")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    let (Some(name), Some(new)) =
                        (f.get("name").and_then(Value::as_str), f.get("newValue"))
                    else {
                        continue;
                    };
                    if !crate::validate::valid_field_name(name) {
                        continue;
                    }
                    st.push(db::stmt(&database, "UPDATE marketo_cache SET fields = json_set(fields, '$.' || ?, ?) WHERE lead_id = ?", &[s(name), s(&json_text(new)), n(lead)])?);
                    changed += 1;
                }
            }
            db::batch(&database, st).await?;
            if let Some(t) = v.get("nextPageToken").and_then(Value::as_str) {
                token = t.to_string();
            }
            db::set_setting(&database, "marketo_sync_token", &token).await?;
            if v.get("moreResult").and_then(Value::as_bool) != Some(true) {
                break;
            }
        }
        Ok(json!({"changed_fields": changed}))
    }
}

fn json_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Asks the gate to drain the outbox soon (idempotent).
pub async fn kick(env: &Env) -> Result<(), ApiError> {
    call_gate(env, "/kick", &json!({})).await.map(|_| ())
}

/// Sends a request to the single `MarketoGate` instance.
pub async fn call_gate(env: &Env, path: &str, body: &Value) -> Result<Value, ApiError> {
    let ns = env
        .durable_object("MARKETO_GATE")
        .map_err(|e| ApiError::Config(e.to_string()))?;
    let stub = ns.id_from_name("marketo")?.get_stub()?;
    let mut init = RequestInit::new();
    let method = if path == "/stats" {
        Method::Get
    } else {
        Method::Post
    };
    init.with_method(method.clone());
    if method == Method::Post {
        init.with_body(Some(body.to_string().into()));
    }
    let req = Request::new_with_init(&format!("https://gate{path}"), &init)?;
    let mut resp = stub.fetch_with_request(req).await?;
    let status = resp.status_code();
    let v: Value = resp.json().await.unwrap_or(Value::Null);
    if status >= 400 {
        let msg = v
            .pointer("/error/message")
            .and_then(Value::as_str)
            .unwrap_or("gate error")
            .to_string();
        return Err(if status == 502 {
            ApiError::Upstream(msg)
        } else {
            ApiError::Storage(msg)
        });
    }
    Ok(v)
}
