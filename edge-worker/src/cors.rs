//! CORS for the public API: only a site's allowed embed origins get `Access-Control-Allow-Origin`.

/// What to do about the `Origin` of a request to a site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OriginCheck {
    /// No `Origin` header (server-to-server, curl): no CORS headers, request allowed.
    NoOrigin,
    /// Allowed: echo it.
    Allowed(String),
    /// A browser on a foreign origin.
    Denied,
}

/// Compares an `Origin` header with the site's list (exact, case-insensitive scheme/host).
pub fn check(origin: Option<&str>, allowed: &[String]) -> OriginCheck {
    match origin {
        None => OriginCheck::NoOrigin,
        Some(o) => {
            let o = o.trim_end_matches('/');
            if allowed
                .iter()
                .any(|a| a.trim_end_matches('/').eq_ignore_ascii_case(o))
            {
                OriginCheck::Allowed(o.to_string())
            } else {
                OriginCheck::Denied
            }
        }
    }
}

/// Headers of an allowed response (also for preflight when `preflight`).
pub fn headers(origin: &str, preflight: bool) -> Vec<(&'static str, String)> {
    let mut h = vec![
        ("Access-Control-Allow-Origin", origin.to_string()),
        ("Vary", "Origin".to_string()),
    ];
    if preflight {
        h.push(("Access-Control-Allow-Methods", "GET, POST, OPTIONS".into()));
        h.push((
            "Access-Control-Allow-Headers",
            "Content-Type, Idempotency-Key, If-None-Match".into(),
        ));
        h.push(("Access-Control-Max-Age", "86400".into()));
    } else {
        h.push((
            "Access-Control-Expose-Headers",
            "ETag, Retry-After, X-Dynchat-Country".into(),
        ));
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_listed_origins() {
        let allowed = vec!["http://127.0.0.1:8080".to_string()];
        assert_eq!(
            check(Some("http://127.0.0.1:8080"), &allowed),
            OriginCheck::Allowed("http://127.0.0.1:8080".into())
        );
        assert_eq!(
            check(Some("http://evil.example"), &allowed),
            OriginCheck::Denied
        );
        assert_eq!(check(None, &allowed), OriginCheck::NoOrigin);
        assert!(headers("http://x", true)
            .iter()
            .any(|(k, _)| *k == "Access-Control-Allow-Methods"));
    }
}
