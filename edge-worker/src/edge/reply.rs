//! A handler's answer (`Reply`) and how it becomes a `Response`: security headers, JSON body,
//! errors mapped to HTTP statuses in one place (`ApiError::status`); plus reading a JSON body
//! and request headers. The lowest layer of the edge's HTTP side: handlers and the router use it.

use crate::error::ApiError;
use crate::validate;
use serde_json::Value;
use worker::{Headers, Request, Response};

/// A handler's answer before it becomes a `Response`.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub body: Option<Value>,
    pub headers: Vec<(&'static str, String)>,
}

impl Reply {
    pub fn json(status: u16, body: Value) -> Self {
        Reply {
            status,
            body: Some(body),
            headers: Vec::new(),
        }
    }

    pub fn empty(status: u16) -> Self {
        Reply {
            status,
            body: None,
            headers: Vec::new(),
        }
    }

    pub fn header(mut self, k: &'static str, v: impl Into<String>) -> Self {
        self.headers.push((k, v.into()));
        self
    }
}

/// Reads a JSON body with the content-type and size rules of the API.
pub async fn json_body(req: &mut Request, limit: usize) -> Result<Value, ApiError> {
    let ct = req.headers().get("Content-Type").ok().flatten();
    if !validate::is_json_content_type(ct.as_deref()) {
        return Err(ApiError::UnsupportedMediaType);
    }
    if let Some(len) = req
        .headers()
        .get("Content-Length")
        .ok()
        .flatten()
        .and_then(|l| l.parse::<usize>().ok())
    {
        if len > limit {
            return Err(ApiError::TooLarge { limit });
        }
    }
    let bytes = req
        .bytes()
        .await
        .map_err(|e| ApiError::BadJson(e.to_string()))?;
    if bytes.len() > limit {
        return Err(ApiError::TooLarge { limit });
    }
    serde_json::from_slice(&bytes).map_err(ApiError::from)
}

/// A request header as text.
pub fn header(req: &Request, name: &str) -> Option<String> {
    req.headers().get(name).ok().flatten()
}

pub fn to_response(reply: Reply, extra: &[(&'static str, String)]) -> Response {
    let headers = Headers::new();
    let set = |k: &str, v: &str| {
        let _ = headers.set(k, v);
    };
    set("X-Content-Type-Options", "nosniff");
    set(
        "Content-Security-Policy",
        "default-src 'none'; frame-ancestors 'none'",
    );
    set("Referrer-Policy", "no-referrer");
    if !reply.headers.iter().any(|(k, _)| *k == "Cache-Control") {
        set("Cache-Control", "no-store");
    }
    for (k, v) in reply.headers.iter().chain(extra.iter()) {
        if k.eq_ignore_ascii_case("Set-Cookie") {
            let _ = headers.append(k, v); // several cookies: one header each
        } else {
            set(k, v);
        }
    }
    let body = match reply.body {
        Some(v) => {
            set("Content-Type", "application/json; charset=utf-8");
            serde_json::to_vec(&v).unwrap_or_default()
        }
        None => Vec::new(),
    };
    match Response::from_bytes(body) {
        Ok(r) => r.with_status(reply.status).with_headers(headers),
        Err(_) => Response::empty()
            .map(|r| r.with_status(500))
            .unwrap_or_else(|_| {
                Response::error("internal error", 500).unwrap_or_else(|_| unreachable_response())
            }),
    }
}

fn unreachable_response() -> Response {
    // Response::empty() only fails when the JS runtime is gone; nothing useful can be sent then.
    Response::builder().with_status(500).fixed(Vec::new())
}

pub fn error_reply(e: &ApiError) -> Reply {
    if e.status() >= 500 {
        worker::console_error!("{e}");
    }
    let mut r = Reply::json(e.status(), e.body());
    r.headers.extend(e.headers());
    r
}
