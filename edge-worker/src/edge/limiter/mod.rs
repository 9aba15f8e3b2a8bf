//! `RateLimiter` Durable Object, one per site: per-site and per-IP counters in memory, called
//! through the typed client in [`protocol`].
//!
//! Why a Durable Object and not a D1 counter: the counts must agree across isolates, and a D1
//! write per public request would double the write load on the hot path; losing a minute's
//! counts when the object restarts is harmless for a rate limit.

pub mod protocol;

use crate::ratelimit::Counters;
use protocol::{Hit, Verdict};
use std::cell::RefCell;
use worker::{durable_object, Env, Request, Response, State};

pub use protocol::check;

#[durable_object]
pub struct RateLimiter {
    counters: RefCell<Counters>,
}

impl worker::DurableObject for RateLimiter {
    fn new(_state: State, _env: Env) -> Self {
        RateLimiter {
            counters: RefCell::new(Counters::default()),
        }
    }

    async fn fetch(&self, mut req: Request) -> worker::Result<Response> {
        let hit: Hit = req.json().await?;
        let limits = protocol::limits(hit.site_per_minute, hit.ip_per_minute);
        let now = worker::Date::now().as_millis() as i64;
        let verdict = match self
            .counters
            .borrow_mut()
            .take(&hit.ip, limits, now, hit.want)
        {
            Ok(granted) => Verdict::Allowed { granted },
            Err(retry_after_s) => Verdict::Limited { retry_after_s },
        };
        Response::from_json(&verdict)
    }
}
