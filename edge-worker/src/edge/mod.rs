//! The wasm32 edge: worker entry points (fetch, queue, cron) and the bindings to D1, Queues and
//! Durable Objects. Domain decisions are delegated to the plain-Rust modules of the crate.

mod admin;
mod api;
mod config;
mod console;
mod db;
mod experiments;
mod gate;
mod guard;
mod http;
mod install;
mod invites;
mod keys;
mod limiter;
mod meetings;
mod queue_router;
mod random;
mod reply;
mod site;
mod sites_admin;
mod store;
mod sync_admin;
mod variants;
mod versions;
mod wake;

use crate::error::ApiError;
use worker::{
    event, Context, Env, MessageBatch, Request, Response, ScheduleContext, ScheduledEvent,
};

impl From<worker::Error> for ApiError {
    fn from(e: worker::Error) -> Self {
        ApiError::Storage(e.to_string())
    }
}

#[event(fetch)]
async fn fetch(req: Request, env: Env, ctx: Context) -> worker::Result<Response> {
    Ok(http::handle(req, env, &ctx).await)
}

/// The outbox queue only carries wake-ups: the outbox rows in D1 are the truth, so a batch of
/// up to 100 messages becomes one kick of the Marketo gate, which pulls up to 300 leads per call.
#[event(queue)]
async fn queue(
    batch: MessageBatch<serde_json::Value>,
    env: Env,
    _ctx: Context,
) -> worker::Result<()> {
    match gate::kick(&env).await {
        Ok(()) => batch.ack_all(),
        Err(e) => {
            worker::console_error!("outbox kick failed: {e}");
            batch.retry_all();
        }
    }
    Ok(())
}

/// Cron: every minute the outbox sweep (re-kick anything due or whose lease expired), the
/// incremental Marketo sync and a bounded run of the initial sync; daily the retention run.
#[event(scheduled)]
async fn scheduled(ev: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    let res = if ev.cron() == "0 3 * * *" {
        admin::run_retention(&env).await.map(|_| ())
    } else {
        let kick = gate::kick(&env).await;
        let sync = gate::sync(&env).await.map(|_| ());
        // The initial sync (when one was started) goes on for a bounded run.
        let initial = gate::initial_sync(&env, gate::InitialSyncOp::Step)
            .await
            .map(|_| ());
        kick.and(sync).and(initial)
    };
    if let Err(e) = res {
        worker::console_error!("cron {} failed: {e}", ev.cron());
    }
}
