//! Wake-ups of the Marketo gate through the outbox queue, coalesced per isolate.
//!
//! The queue only carries wake-ups (the outbox rows in D1 are the truth), and its consumer turns
//! a whole batch into one kick of the gate, so one message per lead is wasted work on the hot
//! path. A caller asks for a wake-up *after* its rows are written; the isolate sends one message
//! [`COALESCE_MS`] later for every caller of that interval.
//!
//! Why no row is missed: the pending flag is cleared immediately before the send. A caller that
//! found the flag set did so after its write, and the clear (then the send, then the gate's
//! pull) comes later, so the gate sees its rows; a caller that finds it clear schedules its
//! own send. If the isolate dies before sending, the cron sweep delivers within a minute, as
//! after any failed send.

use std::cell::Cell;
use std::time::Duration;
use worker::{Context, Delay, Env};

/// How long a wake-up waits for others to join it. The queue's own batch timeout (1 s) is much
/// longer, so this adds nothing a visitor or Marketo would notice.
const COALESCE_MS: u64 = 50;

/// A wake-up scheduled longer ago than this is taken as lost (its task cancelled) and does not
/// stop a new one.
const STALE_MS: i64 = 5_000;

thread_local! {
    /// When the pending wake-up was scheduled (ms since the epoch), 0 when none is.
    static PENDING: Cell<i64> = const { Cell::new(0) };
}

/// Makes sure one wake-up is sent after rows this request has already written.
pub fn wake_gate(env: &Env, ctx: &Context, why: &'static str) {
    let now = worker::Date::now().as_millis() as i64;
    let since = PENDING.with(Cell::get);
    if since != 0 && now - since < STALE_MS {
        return;
    }
    PENDING.with(|p| p.set(now));
    let env = env.clone();
    ctx.wait_until(async move {
        Delay::from(Duration::from_millis(COALESCE_MS)).await;
        PENDING.with(|p| p.set(0));
        if let Err(e) = send(&env, why).await {
            worker::console_error!("outbox wake-up ({why}): queue send failed: {e}");
        }
    });
}

/// Sends one wake-up now (callers without a request context, e.g. a Durable Object's job).
pub async fn send(env: &Env, why: &str) -> worker::Result<()> {
    env.queue("OUTBOX")?
        .send(serde_json::json!({ "kind": why }))
        .await
}
