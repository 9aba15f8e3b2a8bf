//! The query string of a request as a map.

use crate::error::ApiError;
use std::collections::HashMap;
use worker::Request;

/// The query parameters (the last value of a repeated name wins).
pub fn query_map(req: &Request) -> Result<HashMap<String, String>, ApiError> {
    Ok(req
        .url()?
        .query_pairs()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect())
}
