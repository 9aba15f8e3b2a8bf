//! `RateLimiter` Durable Object, one per site: per-site and per-IP counters in memory.
//!
//! Why a Durable Object and not a D1 counter: the counts must agree across isolates, and a D1
//! write per public request would double the write load on the hot path; losing a minute's
//! counts when the object restarts is harmless for a rate limit.

use crate::error::ApiError;
use crate::ratelimit::{Counters, Limits};
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use worker::{durable_object, Env, Method, Request, RequestInit, Response, State};

#[durable_object]
pub struct RateLimiter {
    counters: RefCell<Counters>,
}

#[derive(Serialize, Deserialize)]
struct Hit {
    ip: String,
    site_per_minute: i64,
    ip_per_minute: i64,
}

impl worker::DurableObject for RateLimiter {
    fn new(_state: State, _env: Env) -> Self {
        RateLimiter {
            counters: RefCell::new(Counters::default()),
        }
    }

    async fn fetch(&self, mut req: Request) -> worker::Result<Response> {
        let hit: Hit = req.json().await?;
        let limits = Limits {
            site_per_minute: hit.site_per_minute.clamp(0, u32::MAX as i64) as u32,
            ip_per_minute: hit.ip_per_minute.clamp(0, u32::MAX as i64) as u32,
        };
        let now = worker::Date::now().as_millis() as i64;
        match self.counters.borrow_mut().hit(&hit.ip, limits, now) {
            Ok(()) => Response::from_json(&serde_json::json!({"ok": true})),
            Err(retry) => {
                Response::from_json(&serde_json::json!({"ok": false, "retry_after": retry}))
            }
        }
    }
}

/// Counts one request against the site's limits.
pub async fn check(
    env: &Env,
    site: &str,
    ip: &str,
    site_per_minute: i64,
    ip_per_minute: i64,
) -> Result<(), ApiError> {
    let ns = env
        .durable_object("RATE_LIMITER")
        .map_err(|e| ApiError::Config(e.to_string()))?;
    let stub = ns.id_from_name(site)?.get_stub()?;
    let body = serde_json::to_string(&Hit {
        ip: ip.to_string(),
        site_per_minute,
        ip_per_minute,
    })?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post).with_body(Some(body.into()));
    let req = Request::new_with_init("https://rate-limiter/hit", &init)?;
    let mut resp = stub.fetch_with_request(req).await?;
    let v: serde_json::Value = resp.json().await?;
    if v.get("ok").and_then(serde_json::Value::as_bool) == Some(true) {
        Ok(())
    } else {
        let retry = v
            .get("retry_after")
            .and_then(serde_json::Value::as_u64)
            .unwrap_or(60) as u32;
        Err(ApiError::RateLimited {
            retry_after_s: retry,
        })
    }
}
