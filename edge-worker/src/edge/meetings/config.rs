//! The meetings configuration from wrangler vars (calendar providers, SMTP relay, sender,
//! the key sealing calendar credentials) and the random values a connection needs.

use super::super::config;
use crate::calendar::{self, client::ProviderConfig};
use crate::error::ApiError;
use crate::mail::smtp::{SmtpSender, TlsMode};
use worker::Env;

/// Provider base URLs and OAuth clients from wrangler vars.
pub fn provider_config(env: &Env) -> ProviderConfig {
    let v = |k: &str, d: &str| config::string(env, k, d).trim_end_matches('/').to_string();
    ProviderConfig {
        google_auth_url: v(
            "GOOGLE_AUTH_URL",
            "https://accounts.google.com/o/oauth2/v2/auth",
        ),
        google_token_url: v("GOOGLE_TOKEN_URL", "https://oauth2.googleapis.com/token"),
        google_api_base: v("GOOGLE_API_BASE", "https://www.googleapis.com"),
        google_client_id: v("GOOGLE_CLIENT_ID", ""),
        google_client_secret: v("GOOGLE_CLIENT_SECRET", ""),
        ms_login_base: v("MS_LOGIN_BASE", "https://login.microsoftonline.com"),
        ms_tenant: v("MS_TENANT", "common"),
        graph_base: v("GRAPH_BASE", "https://graph.microsoft.com"),
        ms_client_id: v("MS_CLIENT_ID", ""),
        ms_client_secret: v("MS_CLIENT_SECRET", ""),
        timeout_ms: config::number(env, "CALENDAR_TIMEOUT_MS", 10_000).clamp(100, 60_000) as u64,
    }
}

/// The SMTP relay.
pub fn smtp(env: &Env) -> SmtpSender {
    let user = config::string(env, "SMTP_USERNAME", "");
    let pass = config::string(env, "SMTP_PASSWORD", "");
    SmtpSender {
        host: config::string(env, "SMTP_HOST", "127.0.0.1"),
        port: config::number(env, "SMTP_PORT", 2525).clamp(1, 65_535) as u16,
        helo: config::string(env, "SMTP_HELO", "dynchat.local"),
        tls: TlsMode::parse(&config::string(env, "SMTP_TLS", "starttls")),
        username: (!user.is_empty()).then_some(user),
        password: (!pass.is_empty()).then_some(pass),
        timeout_ms: config::number(env, "SMTP_TIMEOUT_MS", 15_000).clamp(100, 120_000) as u64,
    }
}

/// The sender address of meeting mail.
pub fn mail_from(env: &Env) -> String {
    config::string(env, "SMTP_FROM", "meetings@dynchat.local")
}

/// `MAIL_RETRY_MS` (default 30 s): the first retry delay of the mail outbox.
pub fn mail_retry_ms(env: &Env) -> i64 {
    config::number(env, "MAIL_RETRY_MS", 30_000).clamp(100, 3_600_000)
}

/// `MAIL_MAX_ATTEMPTS` (default 60): attempts before a message is given up.
pub fn mail_max_attempts(env: &Env) -> i64 {
    config::number(env, "MAIL_MAX_ATTEMPTS", 60).clamp(1, 1000)
}

/// `OAUTH_REDIRECT_URL`, empty when the callback URL is derived from the request.
pub fn oauth_redirect_url(env: &Env) -> String {
    config::string(env, "OAUTH_REDIRECT_URL", "")
}

/// The key sealing calendar credentials (`CALENDAR_KEY`).
pub fn calendar_key(env: &Env) -> Result<[u8; 32], ApiError> {
    calendar::key_from_secret(&config::string(env, "CALENDAR_KEY", ""))
}

/// `LINK_KEY` (64 hex digits) signs the visitor's reschedule and cancel links; unset, the mails
/// carry no links and the link page says so. Set but not 64 hex digits: a configuration error.
pub fn link_key(env: &Env) -> Result<Option<crate::visitor_links::LinkKey>, ApiError> {
    let text = config::string(env, "LINK_KEY", "");
    if text.trim().is_empty() {
        return Ok(None);
    }
    crate::visitor_links::LinkKey::from_hex(&text)
        .map(Some)
        .ok_or_else(|| ApiError::Config("LINK_KEY must be 64 hex digits".into()))
}

/// `PUBLIC_URL`: the worker's public base URL for the links in mails; empty: the origin the
/// booking request reached.
pub fn public_url(env: &Env) -> String {
    config::string(env, "PUBLIC_URL", "")
        .trim_end_matches('/')
        .to_string()
}
