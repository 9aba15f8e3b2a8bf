//! The HTTP layer: routing, body reading, CORS and turning results into responses. Handlers
//! return `Result<Reply, ApiError>`; errors become responses only here, via `ApiError::status`.

use super::{admin, api, console, db};
use crate::cors::{self, OriginCheck};
use crate::error::ApiError;
use crate::validate::{self, MAX_BODY};
use serde_json::Value;
use worker::{Env, Headers, Method, Request, Response};

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

fn to_response(reply: Reply, extra: &[(&'static str, String)]) -> Response {
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

fn error_reply(e: &ApiError) -> Reply {
    if e.status() >= 500 {
        worker::console_error!("{e}");
    }
    let mut r = Reply::json(e.status(), e.body());
    r.headers.extend(e.headers());
    r
}

/// Entry point of every HTTP request.
pub async fn handle(mut req: Request, env: Env) -> Response {
    let path = req.path();
    let method = req.method();
    let segs: Vec<String> = path
        .trim_matches('/')
        .split('/')
        .map(str::to_string)
        .collect();
    let segs: Vec<&str> = segs.iter().map(String::as_str).collect();

    if path == "/health" {
        let r = match method {
            Method::Get | Method::Head => Reply::json(
                200,
                serde_json::json!({"ok": true, "version": super::config::string(&env, "VERSION", env!("CARGO_PKG_VERSION"))}),
            ),
            _ => error_reply(&ApiError::MethodNotAllowed),
        };
        return to_response(r, &[]);
    }
    match segs.as_slice() {
        ["v1", "sites", site, rest @ ..] => public(&mut req, &env, method, site, rest).await,
        ["admin", "console", rest @ ..] => {
            let r = console::route(&mut req, &env, method, rest)
                .await
                .unwrap_or_else(|e| error_reply(&e));
            to_response(r, &[])
        }
        ["admin", rest @ ..] if super::meetings::admin::owns(rest) => {
            let r = super::meetings::admin::admin(&mut req, &env, method, rest)
                .await
                .unwrap_or_else(|e| error_reply(&e));
            to_response(r, &[])
        }
        ["admin", rest @ ..] => {
            let r = admin::route(&mut req, &env, method, rest)
                .await
                .unwrap_or_else(|e| error_reply(&e));
            to_response(r, &[])
        }
        ["widget", ..] => static_file(req, &env, &path).await,
        _ => to_response(error_reply(&ApiError::NotFound("path".into())), &[]),
    }
}

/// Serves `dist/widget/*` through the assets binding with the headers the loader needs: a short
/// cache for `loader.js` (its URL never changes) and `application/wasm` for wasm files.
async fn static_file(req: Request, env: &Env, path: &str) -> Response {
    let fetched = match env.assets("ASSETS") {
        Ok(a) => a.fetch_request(req).await,
        Err(e) => Err(e),
    };
    let mut resp = match fetched {
        Ok(r) => r,
        Err(e) => return to_response(error_reply(&ApiError::Storage(e.to_string())), &[]),
    };
    if resp.status_code() == 200 {
        // A fetched response's headers are immutable: set them on a copy.
        let h = resp.headers().clone();
        if path.ends_with(".wasm") {
            let _ = h.set("Content-Type", "application/wasm");
        }
        let _ = h.set(
            "Cache-Control",
            if path.ends_with("loader.js") {
                "public, max-age=300"
            } else {
                "public, max-age=3600"
            },
        );
        let _ = h.set("X-Content-Type-Options", "nosniff");
        let _ = h.set("Access-Control-Allow-Origin", "*");
        resp = resp.with_headers(h);
    }
    resp
}

async fn public(
    req: &mut Request,
    env: &Env,
    method: Method,
    site_id: &str,
    rest: &[&str],
) -> Response {
    let database = match db::database(env) {
        Ok(d) => d,
        Err(e) => return to_response(error_reply(&e), &[]),
    };
    let site = match db::site(&database, site_id).await {
        Ok(s) => s,
        Err(e) => return to_response(error_reply(&e), &[]),
    };
    let origin = header(req, "Origin");
    let check = cors::check(origin.as_deref(), &site.allowed_origins);
    if method == Method::Options {
        let r = match &check {
            OriginCheck::Allowed(o) => {
                return to_response(Reply::empty(204), &cors::headers(o, true))
            }
            _ => error_reply(&ApiError::OriginNotAllowed),
        };
        return to_response(r, &[]);
    }
    let cors_headers = match &check {
        OriginCheck::Allowed(o) => cors::headers(o, false),
        _ => Vec::new(),
    };
    let result = async {
        match (method, rest) {
            (Method::Get, ["bundle"]) => api::bundle(req, env, &database, &site).await,
            (Method::Get, ["flows", hash]) => api::flow(&database, &site, hash).await,
            (Method::Post, [what @ ("traits" | "events" | "leads")]) => {
                // Browsers on foreign origins may not write into a site.
                if check == OriginCheck::Denied {
                    return Err(ApiError::OriginNotAllowed);
                }
                api::rate_limit(req, env, &site).await?;
                let body = json_body(req, MAX_BODY).await?;
                match *what {
                    "traits" => api::traits(env, &database, &site, body).await,
                    "events" => api::events(env, &database, &site, body).await,
                    _ => api::leads(req, env, &database, &site, body).await,
                }
            }
            (Method::Get, ["slots"]) => {
                super::meetings::public::slots(req, env, &database, &site).await
            }
            (Method::Post, ["book"]) => {
                if check == OriginCheck::Denied {
                    return Err(ApiError::OriginNotAllowed);
                }
                api::rate_limit(req, env, &site).await?;
                let body = json_body(req, MAX_BODY).await?;
                super::meetings::public::book(req, env, &database, &site, body).await
            }
            (_, ["slots"] | ["book"]) => Err(ApiError::MethodNotAllowed),
            (_, ["bundle"] | ["flows", _] | ["traits"] | ["events"] | ["leads"]) => {
                Err(ApiError::MethodNotAllowed)
            }
            _ => Err(ApiError::NotFound("path".into())),
        }
    }
    .await;
    let reply = result.unwrap_or_else(|e| error_reply(&e));
    to_response(reply, &cors_headers)
}
