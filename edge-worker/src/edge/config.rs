//! Configuration from wrangler vars and secrets, with the defaults of wrangler.toml.

use crate::marketo::limiter::Limits;
use worker::Env;

fn var(env: &Env, name: &str) -> Option<String> {
    env.var(name)
        .ok()
        .map(|v| v.to_string())
        .or_else(|| env.secret(name).ok().map(|s| s.to_string()))
        .filter(|s| !s.is_empty())
}

/// A string var or secret.
pub fn string(env: &Env, name: &str, default: &str) -> String {
    var(env, name).unwrap_or_else(|| default.to_string())
}

/// A numeric var.
pub fn number(env: &Env, name: &str, default: i64) -> i64 {
    var(env, name)
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(default)
}

/// Marketo connection settings.
#[derive(Debug, Clone)]
pub struct Marketo {
    pub base_url: String,
    pub client_id: String,
    pub client_secret: String,
    pub timeout_ms: i64,
    pub lease_ms: i64,
    pub backoff_ms: i64,
    pub limits: Limits,
}

impl Marketo {
    pub fn from_env(env: &Env) -> Self {
        Marketo {
            base_url: string(env, "MARKETO_BASE_URL", "http://127.0.0.1:8790")
                .trim_end_matches('/')
                .to_string(),
            client_id: string(env, "MARKETO_CLIENT_ID", ""),
            client_secret: string(env, "MARKETO_CLIENT_SECRET", ""),
            timeout_ms: number(env, "MARKETO_TIMEOUT_MS", 20_000).max(100),
            lease_ms: number(env, "MARKETO_LEASE_MS", 60_000).max(1_000),
            backoff_ms: number(env, "MARKETO_BACKOFF_MS", 2_000).max(10),
            limits: Limits {
                window_ms: number(env, "MARKETO_WINDOW_MS", 20_000).max(1),
                window_calls: number(env, "MARKETO_WINDOW_CALLS", 100).clamp(1, 100_000) as u32,
                safety_calls: number(env, "MARKETO_SAFETY_CALLS", 5).clamp(0, 100_000) as u32,
                max_in_flight: number(env, "MARKETO_MAX_IN_FLIGHT", 10).clamp(1, 100) as u32,
                daily_quota: number(env, "MARKETO_DAILY_QUOTA", 50_000).clamp(1, 10_000_000) as u32,
            },
        }
    }
}
