//! Random bytes and tokens from the platform CSPRNG (`crypto.getRandomValues` via getrandom).

use crate::error::ApiError;

/// `N` random bytes.
pub fn bytes<const N: usize>() -> Result<[u8; N], ApiError> {
    let mut out = [0u8; N];
    getrandom::fill(&mut out).map_err(|e| ApiError::Config(format!("no CSPRNG: {e}")))?;
    Ok(out)
}

/// A 256-bit token as 64 lower-case hex digits.
pub fn token() -> Result<String, ApiError> {
    Ok(crate::auth::hex(&bytes::<32>()?))
}
