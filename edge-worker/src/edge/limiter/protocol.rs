//! The `RateLimiter` Durable Object's typed protocol: the request it takes and the answer it
//! gives, as serde types, and the client every caller uses.

use crate::error::ApiError;
use serde::{Deserialize, Serialize};
use worker::{Env, Method, Request, RequestInit};

/// One public request to count against a site's limits.
#[derive(Serialize, Deserialize)]
pub struct Hit {
    pub ip: String,
    pub site_per_minute: i64,
    pub ip_per_minute: i64,
}

/// The limiter's verdict.
#[derive(Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Verdict {
    Allowed,
    Limited { retry_after_s: u32 },
}

/// Counts one request against the site's limits (one `RateLimiter` per site).
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
    match resp.json::<Verdict>().await? {
        Verdict::Allowed => Ok(()),
        Verdict::Limited { retry_after_s } => Err(ApiError::RateLimited { retry_after_s }),
    }
}
