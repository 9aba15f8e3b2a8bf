//! Who is calling `/admin/*`: the setup bearer token (`ADMIN_TOKEN`, constant-time compare) or a
//! console session from D1 whose writes carry a valid CSRF token from the console's own origin.
//! The router asks once per route table; handlers receive the `Principal`.

use super::config;
use super::reply::header;
use super::store::accounts::{self, SessionRow};
use crate::auth::{self, Denied, Principal, Role, Sites};
use crate::error::ApiError;
use worker::{D1Database, Env, Method, Request};

/// A signed-in account with its session's CSRF token.
pub struct Session {
    pub principal: Principal,
    pub name: String,
    pub csrf: String,
}

/// The HTTP error of a role check.
pub fn denied(d: Denied) -> ApiError {
    match d {
        Denied::AdminOnly => ApiError::Forbidden("admins only".into()),
        Denied::OtherAgent => ApiError::Forbidden("another agent's data".into()),
        Denied::OtherSite => ApiError::Forbidden("not one of this account's sites".into()),
        Denied::AllSitesOnly => {
            ApiError::Forbidden("only an account of every site may do this".into())
        }
    }
}

/// The setup bearer token, compared in constant time.
fn bearer_ok(req: &Request, env: &Env) -> bool {
    let want = config::string(env, "ADMIN_TOKEN", "");
    let got = header(req, "Authorization").unwrap_or_default();
    let got = got.strip_prefix("Bearer ").unwrap_or("");
    !want.is_empty() && auth::constant_time_eq(got.as_bytes(), want.as_bytes())
}

fn own_origin(req: &Request) -> Result<String, ApiError> {
    Ok(req.url()?.origin().ascii_serialization())
}

/// The console session named by the request's cookie, if it is valid at `now`.
pub async fn session(
    req: &Request,
    database: &D1Database,
    now: i64,
) -> Result<Option<Session>, ApiError> {
    let cookies = header(req, "Cookie");
    let Some(token) = auth::cookie(cookies.as_deref(), auth::SESSION_COOKIE) else {
        return Ok(None);
    };
    let row: Option<SessionRow> =
        accounts::session(database, &auth::token_digest(token), now).await?;
    Ok(row.and_then(|r| {
        let role = Role::parse(&r.role)?;
        Some(Session {
            principal: Principal::Account {
                id: r.account_id,
                email: r.email,
                role,
                agent_id: r.agent_id,
                sites: Sites::from_row(r.all_sites, r.sites.as_deref()),
            },
            name: r.name,
            csrf: r.csrf,
        })
    }))
}

/// The bearer token, or a console session (CSRF + Origin checked on writes). 401 without
/// either; 403 for a session write that fails the CSRF / Origin check.
pub async fn principal(
    req: &Request,
    env: &Env,
    database: &D1Database,
    method: &Method,
) -> Result<Principal, ApiError> {
    if bearer_ok(req, env) {
        return Ok(Principal::Token);
    }
    let sess = session(req, database, super::db::real_now())
        .await?
        .ok_or(ApiError::Unauthorized)?;
    if auth::is_state_changing(method.as_ref()) {
        let cookies = header(req, "Cookie");
        let ok = auth::csrf_ok(
            &own_origin(req)?,
            header(req, "Origin").as_deref(),
            header(req, "Referer").as_deref(),
            header(req, auth::CSRF_HEADER).as_deref(),
            auth::cookie(cookies.as_deref(), auth::CSRF_COOKIE),
            &sess.csrf,
        );
        if !ok {
            return Err(ApiError::Forbidden(
                "missing or wrong CSRF token or cross-site request".into(),
            ));
        }
    }
    Ok(sess.principal)
}

/// The site a `/admin` path is about: `sites/{site}/...` and `console/sites/{site}/...`.
pub fn site_of<'a>(rest: &[&'a str]) -> Option<&'a str> {
    match rest {
        ["sites", site, ..] | ["console", "sites", site, ..] => Some(site),
        _ => None,
    }
}

/// [`principal`], and it must be the token or an admin account.
pub async fn require_admin(
    req: &Request,
    env: &Env,
    database: &D1Database,
    method: &Method,
) -> Result<Principal, ApiError> {
    let p = principal(req, env, database, method).await?;
    p.require_admin().map_err(denied)?;
    Ok(p)
}
