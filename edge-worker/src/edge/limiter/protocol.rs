//! The `RateLimiter` Durable Object's typed protocol: the request it takes and the answer it
//! gives, as serde types, and the client every caller uses (which admits a busy sender from the
//! isolate's lease when it holds one, see [`crate::ratelimit::Leases`]).

use crate::error::ApiError;
use crate::ratelimit::{Leases, Limits};
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use worker::{Env, Method, Request, RequestInit};

/// Public requests to count against a site's limits: the one being admitted plus up to
/// `want - 1` more for the calling isolate's lease.
#[derive(Serialize, Deserialize)]
pub struct Hit {
    pub ip: String,
    pub site_per_minute: i64,
    pub ip_per_minute: i64,
    #[serde(default = "one")]
    pub want: u32,
}

fn one() -> u32 {
    1
}

/// The limiter's verdict.
#[derive(Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Verdict {
    /// `granted` requests were counted (at least the one being admitted).
    Allowed {
        granted: u32,
    },
    Limited {
        retry_after_s: u32,
    },
}

thread_local! {
    static LEASES: RefCell<Leases> = RefCell::new(Leases::default());
}

/// The limits as the counters take them.
pub fn limits(site_per_minute: i64, ip_per_minute: i64) -> Limits {
    Limits {
        site_per_minute: site_per_minute.clamp(0, u32::MAX as i64) as u32,
        ip_per_minute: ip_per_minute.clamp(0, u32::MAX as i64) as u32,
    }
}

/// Counts one request against the site's limits (one `RateLimiter` per site).
pub async fn check(
    env: &Env,
    site: &str,
    ip: &str,
    site_per_minute: i64,
    ip_per_minute: i64,
) -> Result<(), ApiError> {
    let lim = limits(site_per_minute, ip_per_minute);
    let now = worker::Date::now().as_millis() as i64;
    let local = LEASES.with(|l| {
        let mut l = l.borrow_mut();
        if let Some(retry_after_s) = l.still_refused(site, ip, lim, now) {
            Some(Err(retry_after_s))
        } else if l.spend(site, ip, lim, now) {
            Some(Ok(()))
        } else {
            None
        }
    });
    match local {
        Some(Ok(())) => return Ok(()),
        Some(Err(retry_after_s)) => return Err(ApiError::RateLimited { retry_after_s }),
        None => {}
    }
    let want = LEASES.with(|l| l.borrow().want(site, ip, lim, now));
    let ns = env
        .durable_object("RATE_LIMITER")
        .map_err(|e| ApiError::Config(e.to_string()))?;
    let stub = ns.id_from_name(site)?.get_stub()?;
    let body = serde_json::to_string(&Hit {
        ip: ip.to_string(),
        site_per_minute,
        ip_per_minute,
        want,
    })?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post).with_body(Some(body.into()));
    let req = Request::new_with_init("https://rate-limiter/hit", &init)?;
    let mut resp = stub.fetch_with_request(req).await?;
    let verdict = resp.json::<Verdict>().await?;
    LEASES.with(|l| {
        let mut l = l.borrow_mut();
        match verdict {
            Verdict::Allowed { granted } => {
                l.granted(site, ip, lim, now, granted);
                Ok(())
            }
            Verdict::Limited { retry_after_s } => {
                l.refused(site, ip, lim, now);
                Err(ApiError::RateLimited { retry_after_s })
            }
        }
    })
}
