//! The worker's keys for secrets at rest (`crate::secrets`), from its vars: `CONSOLE_KEY`
//! (32 bytes base64) seals the console's Marketo secret, `CALENDAR_KEY` (64 hex digits) the
//! calendar credentials.

use super::config;
use crate::error::ApiError;
use crate::secrets::{self, Key, MARKETO_SECRET_CONTEXT};
use worker::Env;

/// The key of the console's saved Marketo secret.
pub fn console_key(env: &Env) -> Result<Key, ApiError> {
    Key::from_base64("CONSOLE_KEY", &config::string(env, "CONSOLE_KEY", ""))
}

/// Seals the Marketo client secret for the `marketo_connection` row.
pub fn seal_marketo_secret(env: &Env, plain: &str) -> Result<String, ApiError> {
    let nonce = super::random::bytes::<12>()?;
    secrets::seal(
        &console_key(env)?,
        nonce,
        MARKETO_SECRET_CONTEXT,
        plain.as_bytes(),
    )
}

/// Opens the saved Marketo client secret (also one stored before contexts were bound).
pub fn open_marketo_secret(env: &Env, sealed: &str) -> Result<String, ApiError> {
    let plain = secrets::open_or_legacy(
        &console_key(env)?,
        MARKETO_SECRET_CONTEXT,
        sealed,
        "Marketo secret (CONSOLE_KEY)",
    )?;
    String::from_utf8(plain).map_err(|_| ApiError::Config("stored secret is not text".into()))
}
