//! Agent invitations and an agent's own page ("My calendar") under `/admin/console`:
//! an admin invites an agent by email (a single-use set-password link, valid 72 h, stored as
//! its SHA-256, sent through the mail outbox); the agent sets a password with it
//! (`POST /admin/console/invite/accept`, no session); a signed-in agent sees and changes their
//! own record, hours and calendar connection (which puts them into the site's default queue).

use super::meetings::agents::settings_of;
use super::meetings::connect::{oauth_start, put_caldav};
use super::meetings::mail_outbox::kick_mail;
use super::meetings::queues::join_default_queue;
use super::reply::{json_body, Reply};
use super::store::{self, accounts, agents::AgentRow, invites};
use super::{db, random};
use crate::auth::{self, Principal, Sites};
use crate::error::ApiError;
use crate::mail::invite::{invite_link, invite_message, InviteMail, INVITE_TTL_MS};
use crate::meetings::Route;
use serde_json::{json, Value};
use worker::{D1Database, Env, Request};

const MAX_BODY: usize = 16 * 1024;

/// The password hash of an invited account that has not set one: no password verifies.
const NO_PASSWORD: &str = "invited";

async fn agent_row(database: &D1Database, site: &str, id: &str) -> Result<AgentRow, ApiError> {
    store::agents::of_site(database, site)
        .await?
        .into_iter()
        .find(|a| a.id == id)
        .ok_or_else(|| ApiError::NotFound("agent".into()))
}

/// `POST /admin/console/sites/{site}/agents/{agent}/invite`: creates (or re-binds) the agent's
/// console account for this site, stores a new set-password link and queues its mail.
pub async fn invite(
    req: &Request,
    env: &Env,
    database: &D1Database,
    p: &Principal,
    site: &str,
    agent: &str,
) -> Result<Reply, ApiError> {
    let a = agent_row(database, site, agent).await?;
    let email = a.email.trim().to_ascii_lowercase();
    let existing = accounts::by_email(database, &email).await?;
    let (id, hash, sites) = match existing {
        Some(x) if x.role != "agent" => {
            return Err(ApiError::Conflict(
                "that email belongs to an admin account".into(),
            ))
        }
        Some(x) => {
            let sites = match Sites::from_row(x.all_sites, x.sites.as_deref()) {
                Sites::All => Sites::All,
                Sites::Only(mut v) => {
                    if !v.iter().any(|s| s == site) {
                        v.push(site.to_string());
                    }
                    Sites::Only(v)
                }
            };
            (x.id, x.password_hash, sites)
        }
        None => (
            random::token()?[..24].to_string(),
            NO_PASSWORD.to_string(),
            Sites::Only(vec![site.to_string()]),
        ),
    };
    if !p.sites().covers(&sites) {
        return Err(ApiError::Forbidden(
            "that account has sites this account does not have".into(),
        ));
    }
    let now = db::now(env, database).await?;
    accounts::upsert(
        database,
        &accounts::Upsert {
            id: &id,
            email: &email,
            name: &a.name,
            role: "agent",
            agent_id: Some(agent),
            password_hash: &hash,
            sites: match &sites {
                Sites::All => None,
                Sites::Only(v) => Some(v),
            },
            now,
        },
    )
    .await?;
    let token = random::token()?;
    let digest = auth::token_digest(&token);
    let expires_at = now + INVITE_TTL_MS;
    let from = super::meetings::config::mail_from(env);
    let origin = req.url()?.origin().ascii_serialization();
    let message = invite_message(&InviteMail {
        from: &from,
        to: &email,
        agent_name: &a.name,
        site,
        link: &invite_link(&origin, &token),
        now,
        id: &digest[..16],
    });
    let statements = vec![
        invites::insert(
            database,
            &invites::InviteWrite {
                token_digest: &digest,
                account_id: &id,
                site,
                agent_id: agent,
                now,
                expires_at,
            },
        )?,
        store::mail::queue(
            database,
            &store::mail::MailWrite {
                id: &format!("invite:{}", &digest[..16]),
                site,
                meeting: &format!("invite:{agent}"),
                kind: "invite",
                from: &from,
                rcpt: &email,
                subject: "You are invited to the dynchat console",
                message: &message,
                now: db::real_now(),
            },
        )?,
    ];
    db::batch(database, statements).await?;
    kick_mail(env, site, &Route::Agent(agent.to_string())).await;
    Ok(Reply::json(
        201,
        json!({"invited": email, "agent": agent, "site": site, "expires_at": expires_at}),
    ))
}

/// `POST /admin/console/invite/accept {"token", "password"}` (no session): sets the invited
/// account's password once. A bad password keeps the link usable; a used, expired or unknown
/// link is a 400 naming `token`.
pub async fn accept(req: &mut Request, env: &Env) -> Result<Reply, ApiError> {
    let database = db::database(env)?;
    let v = json_body(req, MAX_BODY).await?;
    let token = v
        .get("token")
        .and_then(Value::as_str)
        .filter(|t| t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()))
        .ok_or_else(|| ApiError::field("token", "must be the 64-character token of the link"))?;
    let password = v
        .get("password")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::field("password", "is required"))?;
    let digest = auth::token_digest(token);
    let row = invites::by_digest(&database, &digest)
        .await?
        .ok_or_else(|| ApiError::field("token", "is not a link we sent"))?;
    let now = db::now(env, &database).await?;
    if row.used_at.is_some() {
        return Err(ApiError::field(
            "token",
            "was already used; ask for a new invitation",
        ));
    }
    if row.expires_at <= now {
        return Err(ApiError::field(
            "token",
            "has expired (links are valid for 72 hours); ask for a new invitation",
        ));
    }
    if let Some(problem) = auth::password_problem(&row.email, password) {
        return Err(ApiError::field("password", problem));
    }
    if !invites::take(&database, &digest, now).await? {
        return Err(ApiError::field("token", "was already used or has expired"));
    }
    let salt = random::bytes::<16>()?;
    let hash = auth::hash_password(password, &salt, auth::PBKDF2_ITERATIONS);
    invites::set_password(&database, &row.account_id, &hash, db::real_now()).await?;
    Ok(Reply::json(
        200,
        json!({"email": row.email, "password_set": true}),
    ))
}

fn agent_view(a: &AgentRow, site: &str, queues: &[String]) -> Value {
    json!({
        "site": site, "id": a.id, "name": a.name, "email": a.email,
        "settings": serde_json::from_str::<Value>(&a.settings).unwrap_or(Value::Null),
        "calendar": a.provider.as_ref().map(|p| json!({"provider": p, "account": a.account, "state": a.state, "reason": a.reason})),
        "queues": queues,
    })
}

/// `GET /admin/console/sites/{site}/agents/{agent}`: the agent's own record, calendar
/// connection (never its secret) and the queues they are in.
pub async fn own_agent(database: &D1Database, site: &str, agent: &str) -> Result<Reply, ApiError> {
    let a = agent_row(database, site, agent).await?;
    let queues: Vec<String> = store::queues::of_site(database, site)
        .await?
        .into_iter()
        .filter(|q| {
            serde_json::from_str::<Vec<String>>(&q.agents)
                .unwrap_or_default()
                .iter()
                .any(|x| x == agent)
        })
        .map(|q| q.id)
        .collect();
    Ok(Reply::json(200, agent_view(&a, site, &queues)))
}

/// `PUT /admin/console/sites/{site}/agents/{agent}/settings {"settings": {...}}`: the agent's
/// own hours, meeting length, buffers, notice and horizon (400 naming the field).
pub async fn own_settings(
    req: &mut Request,
    env: &Env,
    database: &D1Database,
    site: &str,
    agent: &str,
) -> Result<Reply, ApiError> {
    let a = agent_row(database, site, agent).await?;
    let v = json_body(req, MAX_BODY).await?;
    let settings = settings_of(&v)?;
    store::agents::upsert(
        database,
        &store::agents::AgentWrite {
            site,
            id: agent,
            name: &a.name,
            email: &a.email,
            settings: &serde_json::to_string(&settings)?,
            location: a.location.as_deref(),
            now: db::now(env, database).await?,
        },
    )
    .await?;
    own_agent(database, site, agent).await
}

/// `PUT /admin/console/sites/{site}/agents/{agent}/calendar` (CalDAV) for the agent
/// themselves: stores the connection, then puts them at the end of the default queue.
pub async fn own_caldav(
    req: &mut Request,
    env: &Env,
    database: &D1Database,
    site: &str,
    agent: &str,
) -> Result<Reply, ApiError> {
    put_caldav(req, env, database, site, agent).await?;
    join_default_queue(env, database, site, agent).await?;
    own_agent(database, site, agent).await
}

/// `POST /admin/console/sites/{site}/agents/{agent}/calendar/connect {"provider"}`: Google or
/// Microsoft 365 consent for the agent themselves (the callback joins the default queue).
pub async fn own_oauth(
    req: &mut Request,
    env: &Env,
    database: &D1Database,
    site: &str,
    agent: &str,
) -> Result<Reply, ApiError> {
    oauth_start(req, env, database, site, agent).await
}
