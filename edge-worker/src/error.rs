//! The worker's one error type and the one place where errors become HTTP statuses and bodies.

use std::fmt;

/// Everything a handler can fail with. Mapped to a status in [`ApiError::status`] only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    /// A field failed validation; `field` is a JSON path such as `events[3].type`.
    BadField { field: String, message: String },
    /// Well-formed, but refused by a site rule (an email domain on the site's blocklist);
    /// `field` is a JSON path such as `fields.email`.
    Unprocessable { field: String, message: String },
    /// The body is not JSON (or not the JSON shape expected at the top level).
    BadJson(String),
    /// Unknown site, flow, dead letter...
    NotFound(String),
    /// The path exists but not with this method.
    MethodNotAllowed,
    /// Body over the limit, in bytes.
    TooLarge { limit: usize },
    /// Content-Type is not `application/json`.
    UnsupportedMediaType,
    /// Rate limited; retry after this many seconds.
    RateLimited { retry_after_s: u32 },
    /// Same idempotency key, different body.
    Conflict(String),
    /// Origin not among the site's allowed embed origins.
    OriginNotAllowed,
    /// Missing or wrong admin bearer token.
    Unauthorized,
    /// Signed in, but not allowed: an agent on an admin-only action or on another agent's data,
    /// or a console write without a valid CSRF token / same-origin `Origin`.
    Forbidden(String),
    /// A platform binding (D1, Queue, Durable Object) failed.
    Storage(String),
    /// An upstream service (Marketo) failed.
    Upstream(String),
    /// A configuration variable is missing or malformed.
    Config(String),
}

impl ApiError {
    /// Shorthand for a field error.
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError::BadField {
            field: field.into(),
            message: message.into(),
        }
    }

    /// The HTTP status: the single mapping point of the crate.
    pub fn status(&self) -> u16 {
        match self {
            ApiError::BadField { .. } | ApiError::BadJson(_) => 400,
            ApiError::Unauthorized => 401,
            ApiError::OriginNotAllowed | ApiError::Forbidden(_) => 403,
            ApiError::NotFound(_) => 404,
            ApiError::MethodNotAllowed => 405,
            ApiError::Conflict(_) => 409,
            ApiError::Unprocessable { .. } => 422,
            ApiError::TooLarge { .. } => 413,
            ApiError::UnsupportedMediaType => 415,
            ApiError::RateLimited { .. } => 429,
            ApiError::Storage(_) | ApiError::Config(_) => 500,
            ApiError::Upstream(_) => 502,
        }
    }

    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::BadField { .. } => "bad_field",
            ApiError::Unprocessable { .. } => "refused_field",
            ApiError::BadJson(_) => "bad_json",
            ApiError::NotFound(_) => "not_found",
            ApiError::MethodNotAllowed => "method_not_allowed",
            ApiError::TooLarge { .. } => "too_large",
            ApiError::UnsupportedMediaType => "unsupported_media_type",
            ApiError::RateLimited { .. } => "rate_limited",
            ApiError::Conflict(_) => "conflict",
            ApiError::OriginNotAllowed => "origin_not_allowed",
            ApiError::Unauthorized => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::Storage(_) => "storage",
            ApiError::Upstream(_) => "upstream",
            ApiError::Config(_) => "config",
        }
    }

    /// The JSON error body of the API contract. Internal details of 5xx are not exposed.
    pub fn body(&self) -> serde_json::Value {
        let mut e = serde_json::json!({"code": self.code(), "message": self.public_message()});
        if let ApiError::BadField { field, .. } | ApiError::Unprocessable { field, .. } = self {
            e["field"] = serde_json::Value::String(field.clone());
        }
        serde_json::json!({ "error": e })
    }

    fn public_message(&self) -> String {
        match self {
            ApiError::Storage(_) | ApiError::Config(_) => "internal error".into(),
            ApiError::Upstream(_) => "upstream service unavailable".into(),
            other => other.to_string(),
        }
    }

    /// Extra response headers this error needs (`Retry-After`).
    pub fn headers(&self) -> Vec<(&'static str, String)> {
        match self {
            ApiError::RateLimited { retry_after_s } => {
                vec![("Retry-After", retry_after_s.to_string())]
            }
            ApiError::Unauthorized => vec![("WWW-Authenticate", "Bearer".into())],
            _ => Vec::new(),
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiError::BadField { field, message } | ApiError::Unprocessable { field, message } => {
                write!(f, "{field}: {message}")
            }
            ApiError::BadJson(m) => write!(f, "body is not valid JSON: {m}"),
            ApiError::NotFound(m) => write!(f, "{m} not found"),
            ApiError::MethodNotAllowed => write!(f, "method not allowed"),
            ApiError::TooLarge { limit } => write!(f, "body is over the limit of {limit} bytes"),
            ApiError::UnsupportedMediaType => write!(f, "Content-Type must be application/json"),
            ApiError::RateLimited { retry_after_s } => {
                write!(f, "rate limited; retry after {retry_after_s} s")
            }
            ApiError::Conflict(m) => write!(f, "{m}"),
            ApiError::OriginNotAllowed => write!(f, "origin is not allowed for this site"),
            ApiError::Unauthorized => write!(f, "missing or wrong bearer token"),
            ApiError::Forbidden(m) => write!(f, "forbidden: {m}"),
            ApiError::Storage(m) => write!(f, "storage: {m}"),
            ApiError::Upstream(m) => write!(f, "upstream: {m}"),
            ApiError::Config(m) => write!(f, "config: {m}"),
        }
    }
}

impl std::error::Error for ApiError {}

impl From<serde_json::Error> for ApiError {
    fn from(e: serde_json::Error) -> Self {
        ApiError::BadJson(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_follow_the_contract() {
        assert_eq!(ApiError::field("email", "bad").status(), 400);
        assert_eq!(ApiError::TooLarge { limit: 1 }.status(), 413);
        assert_eq!(ApiError::UnsupportedMediaType.status(), 415);
        assert_eq!(ApiError::RateLimited { retry_after_s: 3 }.status(), 429);
        assert_eq!(ApiError::NotFound("site".into()).status(), 404);
        let refused = ApiError::Unprocessable {
            field: "fields.email".into(),
            message: "blocked".into(),
        };
        assert_eq!(refused.status(), 422);
        assert_eq!(refused.body()["error"]["field"], "fields.email");
    }

    #[test]
    fn field_error_names_the_field_and_hides_internals() {
        let b = ApiError::field("events[3].type", "unknown").body();
        assert_eq!(b["error"]["field"], "events[3].type");
        assert_eq!(b["error"]["code"], "bad_field");
        let s = ApiError::Storage("D1_ERROR: secret table".into()).body();
        assert_eq!(s["error"]["message"], "internal error");
    }

    #[test]
    fn rate_limit_sets_retry_after() {
        let h = ApiError::RateLimited { retry_after_s: 7 }.headers();
        assert_eq!(h, vec![("Retry-After", "7".to_string())]);
    }
}
