//! The HTTP layer: routing, body reading, CORS and turning results into responses. Handlers
//! return `Result<Reply, ApiError>`; errors become responses only here, via `ApiError::status`.

use super::reply::{error_reply, header, json_body, to_response, Reply};
use super::{admin, api, console, db, guard, install, sites_admin};
use crate::cors::{self, OriginCheck};
use crate::error::ApiError;
use crate::validate::MAX_BODY;
use worker::{Context, Env, Headers, Method, Request, Response};

/// Entry point of every HTTP request.
pub async fn handle(mut req: Request, env: Env, ctx: &Context) -> Response {
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
        ["v1", "sites", site, rest @ ..] => public(&mut req, &env, ctx, method, site, rest).await,
        // The unauthenticated admin paths: sign-in, and the OAuth redirect (its state is signed).
        ["admin", "console", "login"] if method == Method::Post => {
            let r = console::login_route(&mut req, &env)
                .await
                .unwrap_or_else(|e| error_reply(&e));
            to_response(r, &[])
        }
        // The set-password link of an invitation: its single-use token is the proof.
        ["admin", "console", "invite", "accept"] if method == Method::Post => {
            let r = super::invites::accept(&mut req, &env)
                .await
                .unwrap_or_else(|e| error_reply(&e));
            to_response(r, &[])
        }
        ["admin", "oauth", "callback"] => {
            let r = super::meetings::admin::admin(&mut req, &env, method, &segs[1..])
                .await
                .unwrap_or_else(|e| error_reply(&e));
            to_response(r, &[])
        }
        ["admin", rest @ ..] => {
            let r = admin_tables(&mut req, &env, method, rest)
                .await
                .unwrap_or_else(|e| error_reply(&e));
            to_response(r, &[])
        }
        // The visitor's reschedule / cancel link page (its token is the credential).
        ["meeting", site] => super::meetings::visitor::page(&mut req, &env, method, site).await,
        ["widget", ..] => static_file(req, &env, &path, Assets::Widget).await,
        ["console", ..] => static_file(req, &env, &path, Assets::Console).await,
        _ => to_response(error_reply(&ApiError::NotFound("path".into())), &[]),
    }
}

/// The `/admin/*` route tables. The guard runs once per table: the console table takes any
/// signed-in principal (each route checks the role it needs), every other table only the
/// bearer token or an admin session.
async fn admin_tables(
    req: &mut Request,
    env: &Env,
    method: Method,
    rest: &[&str],
) -> Result<Reply, ApiError> {
    let database = db::database(env)?;
    if let ["console", inner @ ..] = rest {
        let p = guard::principal(req, env, &database, &method).await?;
        if let Some(site) = guard::site_of(rest) {
            p.may_access_site(site).map_err(guard::denied)?;
        }
        return console::route(req, env, &database, p, method, inner).await;
    }
    let p = guard::require_admin(req, env, &database, &method).await?;
    // An account of some sites reaches only those sites' paths and the site list; the paths
    // about every site at once (Marketo setup, outbox, retention, clock) need all sites.
    match guard::site_of(rest) {
        Some(site) => p.may_access_site(site).map_err(guard::denied)?,
        None if rest == ["sites"] => {}
        None => p.require_all_sites().map_err(guard::denied)?,
    }
    match (&method, rest) {
        (Method::Get, ["sites"]) => return sites_admin::list(&database, &p).await,
        (Method::Post, ["sites"]) => return sites_admin::create(req, env, &database, &p).await,
        (Method::Get, ["sites", site, "install"]) => {
            return sites_admin::install_status(&database, site).await
        }
        _ => {}
    }
    if super::meetings::admin::owns(rest) {
        super::meetings::admin::admin(req, env, method, rest).await
    } else if super::experiments::owns(rest) {
        super::experiments::route(req, env, &database, method, rest).await
    } else {
        admin::route(req, env, &database, method, rest).await
    }
}

/// Which static files a path serves, for their headers.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Assets {
    /// `dist/widget/*`: CORS for the customer's origin, short caches.
    Widget,
    /// `dist/console/*`: the console's strict CSP, never framed.
    Console,
}

/// Serves `dist/widget/*` and `dist/console/*` through the assets binding. Widget files get the
/// headers the loader needs: a short cache for `loader.js` (its URL never changes; the assets
/// binding's ETag revalidates it), a year, `immutable`, for the content-hashed modules
/// (`crate::widget_files`), `application/wasm` for wasm files and CORS for any origin. Console answers (pages, files and
/// the assets' own redirects and 404s) get `crate::csp::console_headers`.
async fn static_file(req: Request, env: &Env, path: &str, kind: Assets) -> Response {
    if kind == Assets::Widget && req.method() == Method::Get {
        if let Some(r) = dictionary_compressed(&req, env, path).await {
            return r;
        }
    }
    let fetched = match env.assets("ASSETS") {
        Ok(a) => a.fetch_request(req).await,
        Err(e) => Err(e),
    };
    let resp = match fetched {
        Ok(r) => r,
        Err(e) => return to_response(error_reply(&ApiError::Storage(e.to_string())), &[]),
    };
    // A fetched response's headers are immutable: set them on a copy.
    let h = resp.headers().clone();
    match kind {
        Assets::Console => {
            for (k, v) in crate::csp::console_headers() {
                let _ = h.set(k, v);
            }
        }
        Assets::Widget if matches!(resp.status_code(), 200 | 304) => {
            if path.ends_with(".wasm") {
                let _ = h.set("Content-Type", "application/wasm");
            }
            let _ = h.set("Cache-Control", crate::widget_files::cache_control(path));
            let _ = h.set("X-Content-Type-Options", "nosniff");
            let _ = h.set("Access-Control-Allow-Origin", "*");
            if let Some(v) = crate::widget_files::use_as_dictionary(path) {
                let _ = h.set("Use-As-Dictionary", &v);
            }
        }
        Assets::Widget => return resp,
    }
    resp.with_headers(h)
}

/// The browser's own `Accept-Encoding`: Cloudflare (and wrangler dev, which copies it) hands a
/// Worker `Accept-Encoding: br, gzip` and keeps the client's value in `request.cf.clientAcceptEncoding`.
fn client_accept_encoding(req: &Request) -> Option<String> {
    use worker::js_sys::Reflect;
    let cf = Reflect::get(req.inner(), &"cf".into()).ok()?;
    if cf.is_undefined() || cf.is_null() {
        return None;
    }
    Reflect::get(&cf, &"clientAcceptEncoding".into())
        .ok()?
        .as_string()
}

/// The chat module's wasm compressed against the targeting module's (`Content-Encoding: dcb`,
/// RFC 9842) when the browser holds that dictionary and the build wrote the file for its hash
/// (`crate::widget_files::dcb_asset`); `None` (serve the plain file) for anything else: no or a
/// malformed header, another dictionary, a missing file, an assets error. The body is sent as
/// built (`EncodeBody::Manual`: workerd never re-encodes it).
async fn dictionary_compressed(req: &Request, env: &Env, path: &str) -> Option<Response> {
    use crate::widget_files::{dcb_asset, DCB, DCB_VARY, IMMUTABLE};
    let available = header(req, "Available-Dictionary");
    let accept = client_accept_encoding(req).or_else(|| header(req, "Accept-Encoding"));
    let asset = dcb_asset(path, available.as_deref(), accept.as_deref())?;
    let mut url = req.url().ok()?;
    url.set_path(&asset);
    url.set_query(None);
    let mut resp = env
        .assets("ASSETS")
        .ok()?
        .fetch(url.to_string(), None)
        .await
        .ok()?;
    if resp.status_code() != 200 {
        return None;
    }
    let body = resp.bytes().await.ok()?;
    let content_type = if path.ends_with(".wasm") {
        "application/wasm"
    } else {
        "text/javascript; charset=utf-8"
    };
    let h = Headers::new();
    for (k, v) in [
        ("Content-Type", content_type),
        ("Content-Encoding", DCB),
        ("Vary", DCB_VARY),
        ("Cache-Control", IMMUTABLE),
        ("X-Content-Type-Options", "nosniff"),
        ("Access-Control-Allow-Origin", "*"),
    ] {
        let _ = h.set(k, v);
    }
    Some(
        Response::from_bytes(body)
            .ok()?
            .with_headers(h)
            .with_encode_body(worker::EncodeBody::Manual),
    )
}

async fn public(
    req: &mut Request,
    env: &Env,
    ctx: &Context,
    method: Method,
    site_id: &str,
    rest: &[&str],
) -> Response {
    let database = match db::database(env) {
        Ok(d) => d,
        Err(e) => return to_response(error_reply(&e), &[]),
    };
    let site = match super::site::site(&database, site_id).await {
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
            (Method::Get, ["bundle"]) => {
                install::note_bundle(req, env, ctx, &site.id, &site.allowed_origins);
                api::bundle(req, env, &database, &site).await
            }
            (Method::Get, ["flows", hash]) => api::flow(&database, &site, hash).await,
            (Method::Get, ["flows", hash, "variant"]) => {
                api::variant(req, &database, &site, hash).await
            }
            (Method::Post, [what @ ("traits" | "events" | "leads")]) => {
                // Browsers on foreign origins may not write into a site.
                if check == OriginCheck::Denied {
                    return Err(ApiError::OriginNotAllowed);
                }
                api::rate_limit(req, env, &site).await?;
                let body = json_body(req, MAX_BODY).await?;
                match *what {
                    "traits" => api::traits(env, &database, &site, body).await,
                    "events" => api::events(env, ctx, &database, &site, body).await,
                    _ => api::leads(req, env, ctx, &database, &site, body).await,
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
            (Method::Post, ["meetings", "requests"]) => {
                if check == OriginCheck::Denied {
                    return Err(ApiError::OriginNotAllowed);
                }
                api::rate_limit(req, env, &site).await?;
                let body = json_body(req, crate::meeting_requests::MAX_REQUEST_BODY).await?;
                super::meetings::requests::create(req, env, &database, &site, body).await
            }
            (_, ["slots"] | ["book"] | ["meetings", "requests"]) => Err(ApiError::MethodNotAllowed),
            (
                _,
                ["bundle"]
                | ["flows", _]
                | ["flows", _, "variant"]
                | ["traits"]
                | ["events"]
                | ["leads"],
            ) => Err(ApiError::MethodNotAllowed),
            _ => Err(ApiError::NotFound("path".into())),
        }
    }
    .await;
    let reply = result.unwrap_or_else(|e| error_reply(&e));
    to_response(reply, &cors_headers)
}
