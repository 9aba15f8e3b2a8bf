//! `MarketoGate` Durable Object: the one owner of the Marketo access token and of the rate,
//! concurrency and daily limits. It drains the D1 outbox (leads, then program membership, then
//! chat activities, then cookie associations) in batches of up to 300 records, answers trait
//! lookups, runs the setup of custom activity types, the one-time initial sync (Bulk Lead
//! Extract) and the incremental lead-change sync.
//!
//! Architecture Invariant: no other code calls Marketo; the outbox rows in D1 are the truth and
//! a row is marked delivered only after Marketo answered for it.
//!
//! Layers, top down: this shell (requests, alarm, connection) -> `outboxes` (the four kinds
//! and the drain), `sync` and `initial_sync` -> `deliver` (the generic step), `setup`, `lookups` -> `client`
//! (HTTP, token, limits) -> `protocol` (the typed client callers use). SQL lives in
//! `edge::store`.

mod client;
mod deliver;
mod initial_sync;
mod lookups;
mod outboxes;
mod protocol;
mod setup;
mod sync;

pub use protocol::{
    describe, initial_sync, kick, lookup, setup, stats, sync, InitialSyncOp, LookupBy, LookupQuery,
};

use super::config;
use super::db::{self, real_now as now};
use super::store::marketo as store;
use crate::error::ApiError;
use client::{Connection, Marketo};
use protocol::{GateRequest, Kicked};
use serde::Serialize;
use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;
use worker::{durable_object, Env, Request, Response, State};

#[durable_object]
pub struct MarketoGate {
    state: Rc<State>,
    env: Env,
    marketo: Marketo,
    claim_seq: Cell<i64>,
    restored: Cell<bool>,
    conn_checked: Cell<i64>,
    /// An initial-sync run is in progress in this instance.
    initial_busy: Cell<bool>,
}

fn answer<T: Serialize>(r: Result<T, ApiError>) -> worker::Result<Response> {
    match r {
        Ok(v) => Response::from_json(&v),
        Err(e) => Ok(Response::from_json(&e.body())?.with_status(e.status())),
    }
}

impl worker::DurableObject for MarketoGate {
    fn new(state: State, env: Env) -> Self {
        let state = Rc::new(state);
        let cfg = config::Marketo::from_env(&env);
        MarketoGate {
            marketo: Marketo::new(state.clone(), cfg),
            state,
            env,
            claim_seq: Cell::new(0),
            restored: Cell::new(false),
            conn_checked: Cell::new(0),
            initial_busy: Cell::new(false),
        }
    }

    async fn fetch(&self, mut req: Request) -> worker::Result<Response> {
        self.restore().await;
        self.refresh_connection().await;
        let Ok(request) = req.json::<GateRequest>().await else {
            return answer::<()>(Err(ApiError::NotFound("gate request".into())));
        };
        let m = &self.marketo;
        match request {
            GateRequest::Kick => answer(self.kick().await.map(|_| Kicked { ok: true })),
            GateRequest::Lookup(q) => answer(lookups::lookup(m, &q).await),
            GateRequest::Setup => match db::database(&self.env) {
                Ok(d) => answer(setup::setup(m, &d).await),
                Err(e) => answer::<()>(Err(e)),
            },
            GateRequest::Sync => match db::database(&self.env) {
                Ok(d) => answer(sync::sync(m, &d).await),
                Err(e) => answer::<()>(Err(e)),
            },
            GateRequest::Stats => answer(Ok(m.stats())),
            GateRequest::Describe => answer(lookups::describe(m).await),
            GateRequest::InitialSync(op) => match db::database(&self.env) {
                Ok(d) => {
                    let tuning = initial_sync::Tuning::from_env(&self.env);
                    answer(initial_sync::handle(m, &d, &tuning, op, &self.initial_busy).await)
                }
                Err(e) => answer::<()>(Err(e)),
            },
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
    /// Restores the limiter's counts once per instance.
    async fn restore(&self) {
        if self.restored.replace(true) {
            return;
        }
        self.marketo.restore_limits().await;
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
            Ok(next) => self.marketo.use_connection(next),
            Err(e) => {
                // Never fall back to another instance: hold every call and look again soon.
                worker::console_error!("marketo connection: {e}");
                self.conn_checked.set(0);
                self.marketo.pause_for(5_000);
            }
        }
    }

    /// The connection to use, and when it names another instance than the one used before,
    /// forgets what belonged to that one (activity type ids, trait cache, sync position).
    async fn read_connection(&self) -> Result<Connection, ApiError> {
        let database = db::database(&self.env)?;
        let next = match store::saved_connection(&database).await? {
            Some(r) => Connection {
                base_url: r.endpoint.trim_end_matches('/').to_string(),
                client_id: r.client_id,
                client_secret: super::keys::open_marketo_secret(&self.env, &r.secret)?,
            },
            None => Connection::from_vars(&self.marketo.cfg),
        };
        let identity = format!("{} {}", next.base_url, next.client_id);
        store::switch_instance(&database, &identity).await?;
        Ok(next)
    }

    async fn kick(&self) -> Result<(), ApiError> {
        let storage = self.state.storage();
        let at = storage.get_alarm().await?;
        // While the gate backs off, new work waits for the end of the pause.
        let delay = (self.marketo.held_until() - now()).max(50);
        let soon = now() + delay;
        if at.map(|t| t > soon).unwrap_or(true) {
            storage
                .set_alarm(Duration::from_millis(delay as u64))
                .await?;
        }
        Ok(())
    }

    async fn drain(&self) -> Result<(), ApiError> {
        let drain = outboxes::Drain {
            d: deliver::Deliverer {
                m: &self.marketo,
                database: db::database(&self.env)?,
                claim_seq: &self.claim_seq,
            },
        };
        drain.run(&self.state).await
    }
}
