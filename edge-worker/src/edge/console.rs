//! The console's backend under `/admin/console`: sign-in (rate limited per IP + account), sessions
//! in D1 behind an HttpOnly cookie, CSRF (double submit + Origin) on every write, accounts, the
//! Marketo connection (secret encrypted, never returned) and per-dialogue Marketo programs.
//! `principal` / `require_admin` are also what `/admin/*` uses to accept a console session.

use super::guard::{self, denied};
use super::reply::{header, json_body, Reply};
use super::store::{accounts, agenda, marketo_settings, sites};
use super::{db, keys, random};
use crate::auth::{self, Principal, Role, Sites};
use crate::error::ApiError;
use crate::validate;
use serde_json::{json, Value};
use worker::{D1Database, Env, Fetch, Method, Request, RequestInit};

const MAX_BODY: usize = 16 * 1024;

/// `POST /admin/console/login`: the one console path without a principal.
pub async fn login_route(req: &mut Request, env: &Env) -> Result<Reply, ApiError> {
    let database = db::database(env)?;
    login(req, env, &database).await
}

/// Routes `/admin/console/...` for a caller the router has identified (`p`).
pub async fn route(
    req: &mut Request,
    env: &Env,
    database: &D1Database,
    p: Principal,
    method: Method,
    rest: &[&str],
) -> Result<Reply, ApiError> {
    match (method, rest) {
        (Method::Get, ["me"]) => me(req, database).await,
        (Method::Post, ["logout"]) => logout(req, database).await,
        (Method::Get, ["accounts"]) => {
            p.require_admin().map_err(denied)?;
            list_accounts(database, &p).await
        }
        (Method::Post, ["accounts"]) => {
            p.require_admin().map_err(denied)?;
            upsert_account(req, database, &p).await
        }
        (Method::Put, ["accounts", "sites"]) => {
            p.require_admin().map_err(denied)?;
            put_account_sites(req, database, &p).await
        }
        (Method::Post, ["sites", site, "agents", agent, "invite"]) => {
            p.require_admin().map_err(denied)?;
            super::invites::invite(req, env, database, &p, site, agent).await
        }
        (Method::Get, ["sites", site, "agents", agent]) => {
            p.may_access_agent(agent).map_err(denied)?;
            super::invites::own_agent(database, site, agent).await
        }
        (Method::Put, ["sites", site, "agents", agent, "settings"]) => {
            p.may_access_agent(agent).map_err(denied)?;
            super::invites::own_settings(req, env, database, site, agent).await
        }
        (Method::Put, ["sites", site, "agents", agent, "calendar"]) => {
            p.may_access_agent(agent).map_err(denied)?;
            super::invites::own_caldav(req, env, database, site, agent).await
        }
        (Method::Post, ["sites", site, "agents", agent, "calendar", "connect"]) => {
            p.may_access_agent(agent).map_err(denied)?;
            super::invites::own_oauth(req, env, database, site, agent).await
        }
        (Method::Get, ["sites", site, "agents", agent, "meetings"]) => {
            p.may_access_agent(agent).map_err(denied)?;
            agent_meetings(database, site, agent).await
        }
        (Method::Get, ["marketo"]) => {
            p.require_admin().map_err(denied)?;
            p.require_all_sites().map_err(denied)?;
            get_marketo(env, database).await
        }
        (Method::Put, ["marketo"]) => {
            p.require_admin().map_err(denied)?;
            p.require_all_sites().map_err(denied)?;
            put_marketo(req, env, database).await
        }
        (Method::Get, ["marketo", "initial-sync"]) => {
            p.require_admin().map_err(denied)?;
            super::sync_admin::status(env).await
        }
        (Method::Post, ["marketo", "initial-sync"]) => {
            p.require_admin().map_err(denied)?;
            super::sync_admin::start(req, env).await
        }
        (Method::Post, ["marketo", "test"]) => {
            p.require_admin().map_err(denied)?;
            p.require_all_sites().map_err(denied)?;
            test_marketo(env, database).await
        }
        (Method::Get, ["sites", site, "dialogues", id, "marketo"]) => {
            p.require_admin().map_err(denied)?;
            get_dialogue_marketo(database, site, id).await
        }
        (Method::Put, ["sites", site, "dialogues", id, "marketo"]) => {
            p.require_admin().map_err(denied)?;
            put_dialogue_marketo(req, database, site, id).await
        }
        _ => Err(ApiError::NotFound("console path".into())),
    }
}

fn client_ip(req: &Request) -> String {
    header(req, "CF-Connecting-IP")
        .or_else(|| header(req, "X-Real-IP"))
        .unwrap_or_else(|| "unknown".into())
}

fn str_field<'a>(v: &'a Value, k: &str, max: usize) -> Result<&'a str, ApiError> {
    v.get(k)
        .and_then(Value::as_str)
        .filter(|x| !x.is_empty() && x.len() <= max)
        .ok_or_else(|| ApiError::field(k, format!("is required (at most {max} characters)")))
}

/// `POST /admin/console/login {"email","password"}`. Five failures per (IP, account) in 15
/// minutes lock that pair with 429 + `Retry-After`; a success clears the counter.
async fn login(req: &mut Request, env: &Env, database: &D1Database) -> Result<Reply, ApiError> {
    let v = json_body(req, MAX_BODY).await?;
    let email = str_field(&v, "email", 254)?.trim().to_ascii_lowercase();
    let password = str_field(&v, "password", auth::PASSWORD_LEN.1)?;
    let now = db::real_now();
    let key = auth::login_key(&client_ip(req), &email);
    let window = accounts::login_window(database, &key).await?;
    if let Err(retry_after_s) = auth::login_allowed(window, now) {
        return Err(ApiError::RateLimited { retry_after_s });
    }
    let account = accounts::by_email(database, &email).await?;
    // Unknown accounts cost the same PBKDF2 work, so timing does not reveal which emails exist.
    let dummy =
        "pbkdf2-sha256$100000$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    let ok = auth::verify_password(
        password,
        account
            .as_ref()
            .map(|a| a.password_hash.as_str())
            .unwrap_or(dummy),
    );
    let account = match account {
        Some(a) if ok => a,
        _ => {
            let (start, failures) = auth::login_failed(window, now);
            accounts::set_login_window(database, &key, start, failures).await?;
            return Err(ApiError::Unauthorized);
        }
    };
    let token = random::token()?;
    let csrf = random::token()?;
    let ttl = auth::SESSION_TTL_MS;
    let _ = env;
    accounts::create_session(
        database,
        &accounts::NewSession {
            login_key: &key,
            token_digest: &auth::token_digest(&token),
            account_id: &account.id,
            csrf: &csrf,
            now,
            expires_at: now + ttl,
        },
    )
    .await?;
    Ok(Reply::json(200, json!({"account": {"email": account.email, "name": account.name, "role": account.role, "agent_id": account.agent_id, "sites": sites_json(account.all_sites, account.sites.as_deref())}, "csrf": csrf}))
        .header("Set-Cookie", auth::session_cookie(&token, ttl / 1000))
        .header("Set-Cookie", auth::csrf_cookie(&csrf, ttl / 1000)))
}

async fn me(req: &Request, database: &D1Database) -> Result<Reply, ApiError> {
    // Only sessions have a "me"; the bearer token is not an account.
    let sess = guard::session(req, database, db::real_now())
        .await?
        .ok_or(ApiError::Unauthorized)?;
    let Principal::Account {
        email,
        role,
        agent_id,
        sites,
        ..
    } = sess.principal
    else {
        return Err(ApiError::Unauthorized);
    };
    Ok(Reply::json(
        200,
        json!({"account": {"email": email, "name": sess.name, "role": role.as_str(), "agent_id": agent_id, "sites": match sites { Sites::All => Value::Null, Sites::Only(v) => json!(v) }}, "csrf": sess.csrf}),
    ))
}

async fn logout(req: &Request, database: &D1Database) -> Result<Reply, ApiError> {
    let cookies = header(req, "Cookie");
    if let Some(token) = auth::cookie(cookies.as_deref(), auth::SESSION_COOKIE) {
        accounts::delete_session(database, &auth::token_digest(token)).await?;
    }
    Ok(Reply::empty(204)
        .header("Set-Cookie", auth::session_cookie("", 0))
        .header("Set-Cookie", auth::csrf_cookie("", 0)))
}

/// An account's sites as the API shows them: `null` for every site, else the list.
fn sites_json(all_sites: i64, list: Option<&str>) -> Value {
    match Sites::from_row(all_sites, list) {
        Sites::All => Value::Null,
        Sites::Only(v) => json!(v),
    }
}

/// The accounts the caller may see: all for an account of every site, else the accounts of
/// some sites that share one of the caller's.
async fn list_accounts(database: &D1Database, p: &Principal) -> Result<Reply, ApiError> {
    let mine = p.sites();
    let rows: Vec<Value> = accounts::list(database)
        .await?
        .into_iter()
        .filter(|a| match (&mine, Sites::from_row(a.all_sites, a.sites.as_deref())) {
            (Sites::All, _) => true,
            (Sites::Only(_), Sites::All) => false,
            (Sites::Only(_), Sites::Only(theirs)) => theirs.iter().any(|s| mine.contains(s)),
        })
        .map(|a| json!({"email": a.email, "name": a.name, "role": a.role, "agent_id": a.agent_id, "sites": sites_json(a.all_sites, a.sites.as_deref())}))
        .collect();
    Ok(Reply::json(200, json!({"accounts": rows})))
}

/// The `sites` of an account body: absent or null for every site, else existing site ids.
async fn sites_field(database: &D1Database, v: &Value) -> Result<Sites, ApiError> {
    let list = match v.get("sites") {
        None | Some(Value::Null) => return Ok(Sites::All),
        Some(Value::Array(a)) if a.len() <= 100 => a,
        Some(_) => {
            return Err(ApiError::field(
                "sites",
                "must be a list of site ids (or null for every site)",
            ))
        }
    };
    let mut out = Vec::new();
    for (i, x) in list.iter().enumerate() {
        let id = x
            .as_str()
            .filter(|s| validate::valid_id(s))
            .ok_or_else(|| ApiError::field(format!("sites[{i}]"), "must be a site id"))?;
        if !sites::exists(database, id).await? {
            return Err(ApiError::field(format!("sites[{i}]"), "no such site"));
        }
        out.push(id.to_string());
    }
    out.sort();
    out.dedup();
    Ok(Sites::Only(out))
}

/// `POST /admin/console/accounts {"email","password","role","name","agent_id","sites"}`: creates
/// the account or, for an existing email, replaces its name, role, agent, password and sites
/// (and signs its sessions out). `sites` absent or null: every site. An account of some sites
/// may only hand out its own sites and only change accounts within them.
async fn upsert_account(
    req: &mut Request,
    database: &D1Database,
    p: &Principal,
) -> Result<Reply, ApiError> {
    let v = json_body(req, MAX_BODY).await?;
    let email = str_field(&v, "email", 254)?.trim().to_ascii_lowercase();
    if !dynchat_engine::fields::valid_email(&email) {
        return Err(ApiError::field("email", "must be an email address"));
    }
    let password = str_field(&v, "password", auth::PASSWORD_LEN.1)?;
    if let Some(problem) = auth::password_problem(&email, password) {
        return Err(ApiError::field("password", problem));
    }
    let role = Role::parse(v.get("role").and_then(Value::as_str).unwrap_or(""))
        .ok_or_else(|| ApiError::field("role", "must be admin or agent"))?;
    let name = match v.get("name") {
        None | Some(Value::Null) => email.clone(),
        Some(Value::String(x)) if x.len() <= 120 => x.clone(),
        Some(_) => return Err(ApiError::field("name", "must be text of at most 120 bytes")),
    };
    let agent_id = match v.get("agent_id") {
        None | Some(Value::Null) => None,
        Some(Value::String(a)) if validate::valid_id(a) => Some(a.clone()),
        _ => {
            return Err(ApiError::field(
                "agent_id",
                "must be an agent id (letters, digits, '-', '_')",
            ))
        }
    };
    if role == Role::Agent && agent_id.is_none() {
        return Err(ApiError::field(
            "agent_id",
            "is required for an agent account",
        ));
    }
    let member_of = sites_field(database, &v).await?;
    let mine = p.sites();
    if !mine.covers(&member_of) {
        return Err(ApiError::Forbidden(
            "an account may only give the sites it has itself".into(),
        ));
    }
    let existing = accounts::existing(database, &email).await?;
    if let Some(x) = &existing {
        if !mine.covers(&Sites::from_row(x.all_sites, x.sites.as_deref())) {
            return Err(ApiError::Forbidden(
                "that account has sites this account does not have".into(),
            ));
        }
    }
    let salt = random::bytes::<16>()?;
    let hash = auth::hash_password(password, &salt, auth::PBKDF2_ITERATIONS);
    let now = db::real_now();
    let (id, status) = match existing {
        Some(x) => (x.id, 200),
        None => (random::token()?[..24].to_string(), 201),
    };
    accounts::upsert(
        database,
        &accounts::Upsert {
            id: &id,
            email: &email,
            name: &name,
            role: role.as_str(),
            agent_id: agent_id.as_deref(),
            password_hash: &hash,
            sites: match &member_of {
                Sites::All => None,
                Sites::Only(v) => Some(v),
            },
            now,
        },
    )
    .await?;
    let sites = match member_of {
        Sites::All => Value::Null,
        Sites::Only(v) => json!(v),
    };
    Ok(Reply::json(
        status,
        json!({"email": email, "name": name, "role": role.as_str(), "agent_id": agent_id, "sites": sites}),
    ))
}

/// `PUT /admin/console/accounts/sites {"email", "sites": [..] | null}`: gives or takes sites of
/// an existing account without touching its password. The same limits as creating one: an
/// account of some sites may only give its own sites and only change accounts within them.
async fn put_account_sites(
    req: &mut Request,
    database: &D1Database,
    p: &Principal,
) -> Result<Reply, ApiError> {
    let v = json_body(req, MAX_BODY).await?;
    let email = str_field(&v, "email", 254)?.trim().to_ascii_lowercase();
    let x = accounts::existing(database, &email)
        .await?
        .ok_or_else(|| ApiError::field("email", "no account with this email"))?;
    let member_of = sites_field(database, &v).await?;
    let mine = p.sites();
    if !mine.covers(&member_of) || !mine.covers(&Sites::from_row(x.all_sites, x.sites.as_deref())) {
        return Err(ApiError::Forbidden(
            "an account may only give the sites it has itself".into(),
        ));
    }
    let list = match &member_of {
        Sites::All => None,
        Sites::Only(v) => Some(v.as_slice()),
    };
    accounts::set_sites(database, &x.id, list, db::real_now()).await?;
    Ok(Reply::json(
        200,
        json!({"email": email, "sites": list.map(|l| json!(l)).unwrap_or(Value::Null)}),
    ))
}

/// `GET /admin/console/agents/{agent}/meetings`: one agent's meetings (admins: any agent;
/// agents: only their own). Reads the meetings table of the meetings work.
async fn agent_meetings(database: &D1Database, site: &str, agent: &str) -> Result<Reply, ApiError> {
    let rows = agenda::agent_meetings(database, site, agent).await?;
    Ok(Reply::json(
        200,
        json!({"site": site, "agent": agent, "meetings": rows}),
    ))
}

/// `GET /admin/console/marketo`: the connection without its secret (only whether one is set),
/// the last test, and the gate's sync state.
async fn get_marketo(env: &Env, database: &D1Database) -> Result<Reply, ApiError> {
    let row = marketo_settings::connection(database).await?;
    let gate = super::gate::stats(env)
        .await
        .map(|v| json!(v))
        .unwrap_or_else(|e| json!({"error": e.to_string()}));
    let conn = match row {
        Some(r) => {
            json!({"endpoint": r.endpoint, "client_id": r.client_id, "secret_set": r.secret.is_some(), "updated_at": r.updated_at,
                          "last_test": r.tested_at.map(|t| json!({"at": t, "ok": r.test_ok == Some(1), "message": r.test_message}))})
        }
        None => Value::Null,
    };
    Ok(Reply::json(200, json!({"connection": conn, "gate": gate})))
}

/// `PUT /admin/console/marketo {"endpoint","client_id","client_secret"?}`: an absent or empty
/// secret keeps the stored one.
async fn put_marketo(
    req: &mut Request,
    env: &Env,
    database: &D1Database,
) -> Result<Reply, ApiError> {
    let v = json_body(req, MAX_BODY).await?;
    let endpoint = str_field(&v, "endpoint", 300)?
        .trim_end_matches('/')
        .to_string();
    if !(endpoint.starts_with("https://")
        || endpoint.starts_with("http://127.0.0.1")
        || endpoint.starts_with("http://localhost"))
        || auth::origin_of(&endpoint).is_none()
    {
        return Err(ApiError::field(
            "endpoint",
            "must be an https URL such as https://123-ABC-456.mktorest.com",
        ));
    }
    let client_id = str_field(&v, "client_id", 200)?;
    let secret = match v
        .get("client_secret")
        .and_then(Value::as_str)
        .filter(|x| !x.is_empty())
    {
        Some(x) if x.len() > 200 => return Err(ApiError::field("client_secret", "is too long")),
        Some(x) => Some(keys::seal_marketo_secret(env, x)?),
        None => None,
    };
    let now = db::real_now();
    marketo_settings::save_connection(database, &endpoint, client_id, secret.as_deref(), now)
        .await?;
    get_marketo(env, database).await
}

/// `POST /admin/console/marketo/test`: asks the stored endpoint for an OAuth token with the
/// stored credentials and records the outcome.
async fn test_marketo(env: &Env, database: &D1Database) -> Result<Reply, ApiError> {
    let row = marketo_settings::connection(database)
        .await?
        .ok_or_else(|| ApiError::field("endpoint", "no Marketo connection saved yet"))?;
    let secret = match row.secret.as_deref() {
        Some(x) => keys::open_marketo_secret(env, x)?,
        None => return Err(ApiError::field("client_secret", "no secret saved yet")),
    };
    let url = format!(
        "{}/identity/oauth/token?grant_type=client_credentials&client_id={}&client_secret={}",
        row.endpoint,
        crate::encode::query_value(&row.client_id),
        crate::encode::query_value(&secret)
    );
    let mut init = RequestInit::new();
    init.with_method(Method::Get);
    let (ok, message) = match Request::new_with_init(&url, &init) {
        Ok(r) => match Fetch::Request(r).send().await {
            Ok(mut resp) => {
                let status = resp.status_code();
                let body: Value = resp.json().await.unwrap_or(Value::Null);
                if status == 200 && body.get("access_token").and_then(Value::as_str).is_some() {
                    (true, "token received".to_string())
                } else {
                    let why = body
                        .get("error_description")
                        .or_else(|| body.pointer("/errors/0/message"))
                        .and_then(Value::as_str)
                        .unwrap_or("no access_token in the answer");
                    (false, format!("HTTP {status}: {why}"))
                }
            }
            Err(e) => (false, format!("network: {e}")),
        },
        Err(e) => (false, format!("bad URL: {e}")),
    };
    let now = db::real_now();
    marketo_settings::record_test(database, ok, &message, now).await?;
    Ok(Reply::json(
        200,
        json!({"ok": ok, "message": message, "at": now}),
    ))
}

async fn get_dialogue_marketo(
    database: &D1Database,
    site: &str,
    id: &str,
) -> Result<Reply, ApiError> {
    let r = marketo_settings::dialogue(database, site, id).await?;
    let (program_id, statuses) = r
        .map(|r| {
            (
                r.program_id,
                serde_json::from_str::<Value>(&r.statuses).unwrap_or(Value::Null),
            )
        })
        .unwrap_or((None, json!({})));
    Ok(Reply::json(
        200,
        json!({"site": site, "dialogue": id, "program_id": program_id, "statuses": statuses}),
    ))
}

/// `PUT .../dialogues/{id}/marketo {"program_id": 1001, "statuses": {"engaged": "..", "captured": "..", "meeting": ".."}}`.
async fn put_dialogue_marketo(
    req: &mut Request,
    database: &D1Database,
    site: &str,
    id: &str,
) -> Result<Reply, ApiError> {
    if !validate::valid_id(site) || !validate::valid_id(id) {
        return Err(ApiError::NotFound("dialogue".into()));
    }
    let v = json_body(req, MAX_BODY).await?;
    let program_id = match v.get("program_id") {
        None | Some(Value::Null) => None,
        Some(x) => Some(
            x.as_i64()
                .filter(|p| *p > 0)
                .ok_or_else(|| ApiError::field("program_id", "must be a positive integer"))?,
        ),
    };
    let mut statuses = serde_json::Map::new();
    if let Some(o) = v.get("statuses").and_then(Value::as_object) {
        for (k, x) in o {
            if !["engaged", "captured", "meeting"].contains(&k.as_str()) {
                return Err(ApiError::field(
                    format!(
                        "statuses.{}",
                        k.chars()
                            .filter(|c| c.is_ascii_alphanumeric())
                            .collect::<String>()
                    ),
                    "must be engaged, captured or meeting",
                ));
            }
            let t = x.as_str().filter(|t| t.len() <= 100).ok_or_else(|| {
                ApiError::field(format!("statuses.{k}"), "must be a program status name")
            })?;
            if !t.is_empty() {
                statuses.insert(k.clone(), json!(t));
            }
        }
    }
    let now = db::real_now();
    let statuses = Value::Object(statuses).to_string();
    marketo_settings::save_dialogue(database, site, id, program_id, &statuses, now).await?;
    get_dialogue_marketo(database, site, id).await
}
