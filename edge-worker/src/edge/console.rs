//! The console's backend under `/admin/console`: sign-in (rate limited per IP + account), sessions
//! in D1 behind an HttpOnly cookie, CSRF (double submit + Origin) on every write, accounts, the
//! Marketo connection (secret encrypted, never returned) and per-dialogue Marketo programs.
//! `principal` / `require_admin` are also what `/admin/*` uses to accept a console session.

use super::db::{self, n, on, os, s};
use super::http::{header, json_body, Reply};
use crate::auth::{self, Denied, Principal, Role};
use crate::error::ApiError;
use crate::validate;
use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde::Deserialize;
use serde_json::{json, Value};
use worker::{D1Database, Env, Fetch, Method, Request, RequestInit};

const MAX_BODY: usize = 16 * 1024;

/// Random bytes from the runtime's CSPRNG (`crypto.getRandomValues`).
fn random_bytes<const N: usize>() -> Result<[u8; N], ApiError> {
    let crypto = js_sys::Reflect::get(&js_sys::global(), &"crypto".into())
        .map_err(|_| ApiError::Config("no crypto".into()))?;
    let f: js_sys::Function = js_sys::Reflect::get(&crypto, &"getRandomValues".into())
        .map_err(|_| ApiError::Config("no getRandomValues".into()))?
        .into();
    let arr = js_sys::Uint8Array::new_with_length(N as u32);
    f.call1(&crypto, &arr)
        .map_err(|_| ApiError::Config("getRandomValues failed".into()))?;
    let mut out = [0u8; N];
    arr.copy_to(&mut out);
    Ok(out)
}

fn random_token() -> Result<String, ApiError> {
    Ok(auth::hex(&random_bytes::<32>()?))
}

fn denied(d: Denied) -> ApiError {
    match d {
        Denied::AdminOnly => ApiError::Forbidden("admins only".into()),
        Denied::OtherAgent => ApiError::Forbidden("another agent's data".into()),
    }
}

/// The setup bearer token (`ADMIN_TOKEN`), compared in constant time: the one check every admin path uses.
pub(super) fn bearer_ok(req: &Request, env: &Env) -> bool {
    let want = super::config::string(env, "ADMIN_TOKEN", "");
    let got = header(req, "Authorization").unwrap_or_default();
    let got = got.strip_prefix("Bearer ").unwrap_or("");
    !want.is_empty() && auth::constant_time_eq(got.as_bytes(), want.as_bytes())
}

fn own_origin(req: &Request) -> Result<String, ApiError> {
    Ok(req.url()?.origin().ascii_serialization())
}

#[derive(Deserialize)]
struct SessionRow {
    account_id: String,
    csrf: String,
    email: String,
    name: String,
    role: String,
    agent_id: Option<String>,
}

/// A signed-in account with its session's CSRF token.
struct Session {
    principal: Principal,
    name: String,
    csrf: String,
}

async fn session(
    req: &Request,
    database: &D1Database,
    now: i64,
) -> Result<Option<Session>, ApiError> {
    let cookies = header(req, "Cookie");
    let Some(token) = auth::cookie(cookies.as_deref(), auth::SESSION_COOKIE) else {
        return Ok(None);
    };
    let row: Option<SessionRow> = db::first(
        database,
        "SELECT s.account_id, s.csrf, a.email, a.name, a.role, a.agent_id FROM console_sessions s JOIN accounts a ON a.id = s.account_id WHERE s.token_digest = ? AND s.expires_at > ?",
        &[s(&auth::token_digest(token)), n(now)],
    )
    .await?;
    Ok(row.and_then(|r| {
        let role = Role::parse(&r.role)?;
        Some(Session {
            principal: Principal::Account {
                id: r.account_id,
                email: r.email,
                role,
                agent_id: r.agent_id,
            },
            name: r.name,
            csrf: r.csrf,
        })
    }))
}

/// Who is calling `/admin/*` or `/admin/console/*`: the bearer token, or a console session whose
/// writes carry a valid CSRF token from the console's own origin. 401 without either; 403 for a
/// session write that fails the CSRF / Origin check (a cross-site form post lands here).
pub async fn principal(req: &Request, env: &Env, method: &Method) -> Result<Principal, ApiError> {
    if bearer_ok(req, env) {
        return Ok(Principal::Token);
    }
    let database = db::database(env)?;
    let now = db::real_now();
    let sess = session(req, &database, now)
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

/// The gate of the admin-only API: the bearer token or an admin session (see [`principal`]).
pub async fn require_admin(
    req: &Request,
    env: &Env,
    method: &Method,
) -> Result<Principal, ApiError> {
    let p = principal(req, env, method).await?;
    p.require_admin().map_err(denied)?;
    Ok(p)
}

/// Routes `/admin/console/...`.
pub async fn route(
    req: &mut Request,
    env: &Env,
    method: Method,
    rest: &[&str],
) -> Result<Reply, ApiError> {
    let database = db::database(env)?;
    if let (Method::Post, ["login"]) = (&method, rest) {
        return login(req, env, &database).await;
    }
    let p = principal(req, env, &method).await?;
    match (method, rest) {
        (Method::Get, ["me"]) => me(req, &database).await,
        (Method::Post, ["logout"]) => logout(req, &database).await,
        (Method::Get, ["accounts"]) => {
            p.require_admin().map_err(denied)?;
            list_accounts(&database).await
        }
        (Method::Post, ["accounts"]) => {
            p.require_admin().map_err(denied)?;
            upsert_account(req, &database).await
        }
        (Method::Get, ["agents", agent, "meetings"]) => {
            p.may_access_agent(agent).map_err(denied)?;
            agent_meetings(&database, agent).await
        }
        (Method::Get, ["marketo"]) => {
            p.require_admin().map_err(denied)?;
            get_marketo(env, &database).await
        }
        (Method::Put, ["marketo"]) => {
            p.require_admin().map_err(denied)?;
            put_marketo(req, env, &database).await
        }
        (Method::Post, ["marketo", "test"]) => {
            p.require_admin().map_err(denied)?;
            test_marketo(env, &database).await
        }
        (Method::Get, ["sites", site, "dialogues", id, "marketo"]) => {
            p.require_admin().map_err(denied)?;
            get_dialogue_marketo(&database, site, id).await
        }
        (Method::Put, ["sites", site, "dialogues", id, "marketo"]) => {
            p.require_admin().map_err(denied)?;
            put_dialogue_marketo(req, &database, site, id).await
        }
        _ => Err(ApiError::NotFound("console path".into())),
    }
}

#[derive(Deserialize)]
struct AccountRow {
    id: String,
    email: String,
    name: String,
    role: String,
    agent_id: Option<String>,
    password_hash: String,
}

#[derive(Deserialize)]
struct WindowRow {
    window_start: i64,
    failures: i64,
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
    let window: Option<WindowRow> = db::first(
        database,
        "SELECT window_start, failures FROM login_attempts WHERE key = ?",
        &[s(&key)],
    )
    .await?;
    let window = window.map(|w| (w.window_start, w.failures));
    if let Err(retry_after_s) = auth::login_allowed(window, now) {
        return Err(ApiError::RateLimited { retry_after_s });
    }
    let account: Option<AccountRow> = db::first(
        database,
        "SELECT id, email, name, role, agent_id, password_hash FROM accounts WHERE email = ?",
        &[s(&email)],
    )
    .await?;
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
            db::exec(
                database,
                "INSERT INTO login_attempts (key, window_start, failures) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET window_start = excluded.window_start, failures = excluded.failures",
                &[s(&key), n(start), n(failures)],
            )
            .await?;
            return Err(ApiError::Unauthorized);
        }
    };
    let token = random_token()?;
    let csrf = random_token()?;
    let ttl = auth::SESSION_TTL_MS;
    let _ = env;
    db::batch(
        database,
        vec![
            db::stmt(database, "DELETE FROM login_attempts WHERE key = ?", &[s(&key)])?,
            db::stmt(database, "DELETE FROM console_sessions WHERE expires_at <= ?", &[n(now)])?,
            db::stmt(database, "INSERT INTO console_sessions (token_digest, account_id, csrf, created_at, expires_at) VALUES (?, ?, ?, ?, ?)", &[s(&auth::token_digest(&token)), s(&account.id), s(&csrf), n(now), n(now + ttl)])?,
        ],
    )
    .await?;
    Ok(Reply::json(200, json!({"account": {"email": account.email, "name": account.name, "role": account.role, "agent_id": account.agent_id}, "csrf": csrf}))
        .header("Set-Cookie", auth::session_cookie(&token, ttl / 1000))
        .header("Set-Cookie", auth::csrf_cookie(&csrf, ttl / 1000)))
}

async fn me(req: &Request, database: &D1Database) -> Result<Reply, ApiError> {
    // Only sessions have a "me"; the bearer token is not an account.
    let sess = session(req, database, db::real_now())
        .await?
        .ok_or(ApiError::Unauthorized)?;
    let Principal::Account {
        email,
        role,
        agent_id,
        ..
    } = sess.principal
    else {
        return Err(ApiError::Unauthorized);
    };
    Ok(Reply::json(
        200,
        json!({"account": {"email": email, "name": sess.name, "role": role.as_str(), "agent_id": agent_id}, "csrf": sess.csrf}),
    ))
}

async fn logout(req: &Request, database: &D1Database) -> Result<Reply, ApiError> {
    let cookies = header(req, "Cookie");
    if let Some(token) = auth::cookie(cookies.as_deref(), auth::SESSION_COOKIE) {
        db::exec(
            database,
            "DELETE FROM console_sessions WHERE token_digest = ?",
            &[s(&auth::token_digest(token))],
        )
        .await?;
    }
    Ok(Reply::empty(204)
        .header("Set-Cookie", auth::session_cookie("", 0))
        .header("Set-Cookie", auth::csrf_cookie("", 0)))
}

#[derive(Deserialize, serde::Serialize)]
struct AccountView {
    email: String,
    name: String,
    role: String,
    agent_id: Option<String>,
}

async fn list_accounts(database: &D1Database) -> Result<Reply, ApiError> {
    let rows: Vec<AccountView> = db::rows(
        database,
        "SELECT email, name, role, agent_id FROM accounts ORDER BY role, email",
        &[],
    )
    .await?;
    Ok(Reply::json(200, json!({"accounts": rows})))
}

#[derive(Deserialize)]
struct IdRow {
    id: String,
}

/// `POST /admin/console/accounts {"email","password","role","name","agent_id"}`: creates the
/// account or, for an existing email, replaces its name, role, agent and password (and signs
/// its sessions out).
async fn upsert_account(req: &mut Request, database: &D1Database) -> Result<Reply, ApiError> {
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
    let name = v
        .get("name")
        .and_then(Value::as_str)
        .filter(|x| x.len() <= 120)
        .unwrap_or(&email)
        .to_string();
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
    let salt = random_bytes::<16>()?;
    let hash = auth::hash_password(password, &salt, auth::PBKDF2_ITERATIONS);
    let now = db::real_now();
    let existing: Option<IdRow> = db::first(
        database,
        "SELECT id FROM accounts WHERE email = ?",
        &[s(&email)],
    )
    .await?;
    let (id, status) = match existing {
        Some(r) => (r.id, 200),
        None => (random_token()?[..24].to_string(), 201),
    };
    db::batch(
        database,
        vec![
            db::stmt(
                database,
                "INSERT INTO accounts (id, email, name, role, agent_id, password_hash, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) \
                 ON CONFLICT(email) DO UPDATE SET name = excluded.name, role = excluded.role, agent_id = excluded.agent_id, password_hash = excluded.password_hash, updated_at = excluded.updated_at",
                &[s(&id), s(&email), s(&name), s(role.as_str()), os(agent_id.as_deref()), s(&hash), n(now), n(now)],
            )?,
            db::stmt(database, "DELETE FROM console_sessions WHERE account_id = ?", &[s(&id)])?,
        ],
    )
    .await?;
    Ok(Reply::json(
        status,
        json!({"email": email, "name": name, "role": role.as_str(), "agent_id": agent_id}),
    ))
}

/// `GET /admin/console/agents/{agent}/meetings`: one agent's meetings (admins: any agent;
/// agents: only their own). Reads the meetings table of the meetings work.
async fn agent_meetings(database: &D1Database, agent: &str) -> Result<Reply, ApiError> {
    let rows: Vec<Value> = db::rows(
        database,
        "SELECT id, site, agent, lead_email, lead_name, dialogue, start_ms, end_ms, tz, status FROM meetings WHERE agent = ? ORDER BY start_ms DESC LIMIT 500",
        &[s(agent)],
    )
    .await?;
    Ok(Reply::json(200, json!({"agent": agent, "meetings": rows})))
}

fn console_key(env: &Env) -> Result<Aes256Gcm, ApiError> {
    let raw = super::config::string(env, "CONSOLE_KEY", "");
    let bytes = B64
        .decode(raw.trim())
        .ok()
        .filter(|b| b.len() == 32)
        .ok_or_else(|| ApiError::Config("CONSOLE_KEY must be 32 bytes, base64".into()))?;
    Aes256Gcm::new_from_slice(&bytes).map_err(|_| ApiError::Config("CONSOLE_KEY".into()))
}

fn encrypt(env: &Env, plain: &str) -> Result<String, ApiError> {
    let cipher = console_key(env)?;
    let nonce = random_bytes::<12>()?;
    let ct = cipher
        .encrypt(Nonce::from_slice(&nonce), plain.as_bytes())
        .map_err(|_| ApiError::Config("encrypt".into()))?;
    let mut out = nonce.to_vec();
    out.extend(ct);
    Ok(B64.encode(out))
}

pub(crate) fn decrypt(env: &Env, stored: &str) -> Result<String, ApiError> {
    let cipher = console_key(env)?;
    let raw = B64
        .decode(stored)
        .map_err(|_| ApiError::Config("stored secret is not base64".into()))?;
    if raw.len() < 13 {
        return Err(ApiError::Config("stored secret is too short".into()));
    }
    let (nonce, ct) = raw.split_at(12);
    let plain = cipher
        .decrypt(Nonce::from_slice(nonce), ct)
        .map_err(|_| ApiError::Config("stored secret does not decrypt with CONSOLE_KEY".into()))?;
    String::from_utf8(plain).map_err(|_| ApiError::Config("stored secret is not text".into()))
}

#[derive(Deserialize)]
struct MarketoRow {
    endpoint: String,
    client_id: String,
    secret: Option<String>,
    tested_at: Option<i64>,
    test_ok: Option<i64>,
    test_message: Option<String>,
    updated_at: i64,
}

async fn marketo_row(database: &D1Database) -> Result<Option<MarketoRow>, ApiError> {
    db::first(database, "SELECT endpoint, client_id, secret, tested_at, test_ok, test_message, updated_at FROM marketo_connection WHERE id = 1", &[]).await
}

/// `GET /admin/console/marketo`: the connection without its secret (only whether one is set),
/// the last test, and the gate's sync state.
async fn get_marketo(env: &Env, database: &D1Database) -> Result<Reply, ApiError> {
    let row = marketo_row(database).await?;
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
        Some(x) => Some(encrypt(env, x)?),
        None => None,
    };
    let now = db::real_now();
    db::exec(
        database,
        "INSERT INTO marketo_connection (id, endpoint, client_id, secret, updated_at) VALUES (1, ?, ?, ?, ?) \
         ON CONFLICT(id) DO UPDATE SET endpoint = excluded.endpoint, client_id = excluded.client_id, secret = COALESCE(excluded.secret, marketo_connection.secret), updated_at = excluded.updated_at",
        &[s(&endpoint), s(client_id), os(secret.as_deref()), n(now)],
    )
    .await?;
    get_marketo(env, database).await
}

fn urlencode(x: &str) -> String {
    x.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `POST /admin/console/marketo/test`: asks the stored endpoint for an OAuth token with the
/// stored credentials and records the outcome.
async fn test_marketo(env: &Env, database: &D1Database) -> Result<Reply, ApiError> {
    let row = marketo_row(database)
        .await?
        .ok_or_else(|| ApiError::field("endpoint", "no Marketo connection saved yet"))?;
    let secret = match row.secret.as_deref() {
        Some(x) => decrypt(env, x)?,
        None => return Err(ApiError::field("client_secret", "no secret saved yet")),
    };
    let url = format!(
        "{}/identity/oauth/token?grant_type=client_credentials&client_id={}&client_secret={}",
        row.endpoint,
        urlencode(&row.client_id),
        urlencode(&secret)
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
    db::exec(
        database,
        "UPDATE marketo_connection SET tested_at = ?, test_ok = ?, test_message = ? WHERE id = 1",
        &[n(now), n(i64::from(ok)), s(&message)],
    )
    .await?;
    Ok(Reply::json(
        200,
        json!({"ok": ok, "message": message, "at": now}),
    ))
}

#[derive(Deserialize)]
struct DialogueMarketoRow {
    program_id: Option<i64>,
    statuses: String,
}

async fn get_dialogue_marketo(
    database: &D1Database,
    site: &str,
    id: &str,
) -> Result<Reply, ApiError> {
    let r: Option<DialogueMarketoRow> = db::first(
        database,
        "SELECT program_id, statuses FROM dialogue_marketo WHERE site = ? AND dialogue = ?",
        &[s(site), s(id)],
    )
    .await?;
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
    db::exec(
        database,
        "INSERT INTO dialogue_marketo (site, dialogue, program_id, statuses, updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT(site, dialogue) DO UPDATE SET program_id = excluded.program_id, statuses = excluded.statuses, updated_at = excluded.updated_at",
        &[s(site), s(id), on(program_id), s(&Value::Object(statuses).to_string()), n(now)],
    )
    .await?;
    get_dialogue_marketo(database, site, id).await
}
