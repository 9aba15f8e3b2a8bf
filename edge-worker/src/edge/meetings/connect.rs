//! Connecting an agent's calendar: a CalDAV login stored directly, Google / Microsoft 365
//! through the provider's consent page (start, then the callback with a one-use state), and
//! removing the connection. Credentials are sealed with `CALENDAR_KEY` before they are stored.

use super::super::db;
use super::super::reply::{header, json_body, Reply};
use super::super::store::{self, calendars::ConnectionWrite, calendars::OAuthStateRow};
use super::agents::one_agent;
use super::config::{calendar_key, oauth_redirect_url, provider_config};
use super::query::query_map;
use crate::calendar::{self, Credentials, Provider};
use crate::error::ApiError;
use serde_json::{json, Value};
use worker::{D1Database, Env, Request};

const MAX_ADMIN_BODY: usize = 64 * 1024;

/// How long a consent may take, from start to callback.
const OAUTH_STATE_MS: i64 = 15 * 60_000;

/// `PUT /admin/sites/{site}/agents/{id}/calendar` `{"provider": "caldav", url, username, password}`.
/// The caller answers the agent with the new connection.
pub async fn put_caldav(
    req: &mut Request,
    env: &Env,
    database: &D1Database,
    site: &str,
    id: &str,
) -> Result<(), ApiError> {
    one_agent(database, site, id).await?;
    let v = json_body(req, MAX_ADMIN_BODY).await?;
    let provider = v
        .get("provider")
        .and_then(Value::as_str)
        .unwrap_or("caldav");
    if provider != "caldav" {
        return Err(ApiError::field(
            "provider",
            "only caldav is set directly; Google and Microsoft connect through calendar/connect",
        ));
    }
    let url = v
        .get("url")
        .and_then(Value::as_str)
        .filter(|u| {
            (u.starts_with("https://") || u.starts_with("http://"))
                && u.len() <= 1000
                && !u.contains(char::is_whitespace)
        })
        .ok_or_else(|| {
            ApiError::field("url", "must be the http(s) URL of the calendar collection")
        })?;
    let username = v
        .get("username")
        .and_then(Value::as_str)
        .filter(|u| !u.is_empty() && u.len() <= 256)
        .ok_or_else(|| ApiError::field("username", "is required"))?;
    let password = v
        .get("password")
        .and_then(Value::as_str)
        .filter(|p| !p.is_empty() && p.len() <= 1024)
        .ok_or_else(|| ApiError::field("password", "is required"))?;
    let sealed = calendar::seal(
        &calendar_key(env)?,
        super::super::random::bytes::<12>()?,
        &calendar::seal_context(site, id, Provider::Caldav),
        &Credentials::Basic {
            username: username.into(),
            password: password.into(),
        },
    )?;
    store_connection(database, site, id, Provider::Caldav, url, &sealed).await
}

/// `DELETE /admin/sites/{site}/agents/{id}/calendar`.
pub async fn delete_calendar(
    database: &D1Database,
    site: &str,
    id: &str,
) -> Result<Reply, ApiError> {
    store::calendars::remove(database, site, id).await?;
    Ok(Reply::json(200, json!({"agent": id, "calendar": null})))
}

async fn store_connection(
    database: &D1Database,
    site: &str,
    agent: &str,
    provider: Provider,
    account: &str,
    sealed: &str,
) -> Result<(), ApiError> {
    store::calendars::connect(
        database,
        &ConnectionWrite {
            site,
            agent,
            provider: provider.as_str(),
            account,
            sealed,
            now: db::real_now(),
        },
    )
    .await?;
    crate::calendar::client::forget_token(&format!("{site}/{agent}"));
    Ok(())
}

fn redirect_uri(req: &Request, env: &Env) -> Result<String, ApiError> {
    let configured = oauth_redirect_url(env);
    if !configured.is_empty() {
        return Ok(configured);
    }
    let url = req.url()?;
    let host = url.host_str().unwrap_or("127.0.0.1");
    let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
    Ok(format!(
        "{}://{host}{port}/admin/oauth/callback",
        url.scheme()
    ))
}

/// `POST /admin/sites/{site}/agents/{id}/calendar/connect` `{"provider": "google"|"graph",
/// "login_hint"?}`: the consent page to send the admin to.
pub async fn oauth_start(
    req: &mut Request,
    env: &Env,
    database: &D1Database,
    site: &str,
    id: &str,
) -> Result<Reply, ApiError> {
    one_agent(database, site, id).await?;
    let v = json_body(req, MAX_ADMIN_BODY).await?;
    let provider = v
        .get("provider")
        .and_then(Value::as_str)
        .and_then(Provider::parse)
        .filter(|p| *p != Provider::Caldav)
        .ok_or_else(|| ApiError::field("provider", "must be google or graph"))?;
    let hint = match v.get("login_hint") {
        None | Some(Value::Null) => None,
        Some(Value::String(h)) if h.len() <= 254 => Some(h.as_str()),
        Some(_) => {
            return Err(ApiError::field(
                "login_hint",
                "must be an email address of at most 254 bytes",
            ))
        }
    };
    let state = crate::auth::hex(&super::super::random::bytes::<16>()?);
    let redirect = redirect_uri(req, env)?;
    let now = db::real_now();
    store::calendars::start_oauth(
        database,
        &state,
        &OAuthStateRow {
            site: site.to_string(),
            agent: id.to_string(),
            provider: provider.as_str().to_string(),
            redirect_uri: redirect.clone(),
            created_at: now,
        },
        now - OAUTH_STATE_MS,
    )
    .await?;
    let url = provider_config(env).authorize_url(provider, &redirect, &state, hint);
    Ok(Reply::json(
        200,
        json!({"redirect_url": url, "state": state}),
    ))
}

/// `GET /admin/oauth/callback?code&state`: reached by the browser after consent, so no bearer
/// token; the one-use `state` (15 minutes) is the proof.
pub async fn oauth_callback(
    req: &Request,
    env: &Env,
    database: &D1Database,
) -> Result<Reply, ApiError> {
    let q = query_map(req)?;
    let state = q.get("state").cloned().unwrap_or_default();
    let row = store::calendars::oauth_state(database, &state)
        .await?
        .ok_or_else(|| ApiError::field("state", "unknown or already used"))?;
    store::calendars::forget_oauth_state(database, &state).await?;
    if db::real_now() - row.created_at > OAUTH_STATE_MS {
        return Err(ApiError::field(
            "state",
            "expired; start the connection again",
        ));
    }
    if let Some(err) = q.get("error") {
        return Err(ApiError::field(
            "error",
            format!(
                "consent refused: {}",
                err.chars().take(64).collect::<String>()
            ),
        ));
    }
    let code = q
        .get("code")
        .filter(|c| !c.is_empty())
        .ok_or_else(|| ApiError::field("code", "is required"))?;
    let provider = Provider::parse(&row.provider)
        .ok_or_else(|| ApiError::Storage("bad provider in oauth_states".into()))?;
    let (tokens, account) = provider_config(env)
        .exchange_code(provider, code, &row.redirect_uri)
        .await?;
    let refresh_token = tokens.refresh_token.unwrap_or_default();
    let sealed = calendar::seal(
        &calendar_key(env)?,
        super::super::random::bytes::<12>()?,
        &calendar::seal_context(&row.site, &row.agent, provider),
        &Credentials::OAuth { refresh_token },
    )?;
    store_connection(database, &row.site, &row.agent, provider, &account, &sealed).await?;
    let body = json!({"connected": true, "site": row.site, "agent": row.agent, "provider": provider.as_str(), "account": account});
    // A browser coming back from the consent page (started in the console) returns to the
    // console's calendar page; API clients get the JSON.
    let browser = header(req, "Accept").is_some_and(|a| a.contains("text/html"));
    Ok(Reply {
        status: if browser { 303 } else { 200 },
        body: Some(body),
        headers: if browser {
            vec![("Location", "/console/#/calendar".to_string())]
        } else {
            Vec::new()
        },
    })
}
