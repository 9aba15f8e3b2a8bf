//! Console accounts, their sessions and the sign-in failure windows.

use crate::edge::db::{self, n, os, s};
use crate::error::ApiError;
use serde::{Deserialize, Serialize};
use worker::D1Database;

/// A valid session joined with its account.
#[derive(Deserialize)]
pub struct SessionRow {
    pub account_id: String,
    pub csrf: String,
    pub email: String,
    pub name: String,
    pub role: String,
    pub agent_id: Option<String>,
    /// 1: every site; else the members of `sites`.
    pub all_sites: i64,
    /// The account's sites, space-separated (site ids have no spaces).
    pub sites: Option<String>,
}

/// The session with this token digest, unless expired at `now`.
pub async fn session(
    database: &D1Database,
    token_digest: &str,
    now: i64,
) -> Result<Option<SessionRow>, ApiError> {
    db::first(
        database,
        "SELECT s.account_id, s.csrf, a.email, a.name, a.role, a.agent_id, a.all_sites, (SELECT group_concat(m.site, ' ') FROM account_sites m WHERE m.account_id = a.id) AS sites FROM console_sessions s JOIN accounts a ON a.id = s.account_id WHERE s.token_digest = ? AND s.expires_at > ?",
        &[s(token_digest), n(now)],
    )
    .await
}

/// An account with its password hash (sign-in only).
#[derive(Deserialize)]
pub struct AccountRow {
    pub id: String,
    pub email: String,
    pub name: String,
    pub role: String,
    pub agent_id: Option<String>,
    pub password_hash: String,
    pub all_sites: i64,
    pub sites: Option<String>,
}

/// The account of a (lower-case) email.
pub async fn by_email(database: &D1Database, email: &str) -> Result<Option<AccountRow>, ApiError> {
    db::first(
        database,
        "SELECT a.id, a.email, a.name, a.role, a.agent_id, a.password_hash, a.all_sites, (SELECT group_concat(m.site, ' ') FROM account_sites m WHERE m.account_id = a.id) AS sites FROM accounts a WHERE a.email = ?",
        &[s(email)],
    )
    .await
}

#[derive(Deserialize)]
struct WindowRow {
    window_start: i64,
    failures: i64,
}

/// The failure window `(start, failures)` of a sign-in key (IP + account).
pub async fn login_window(
    database: &D1Database,
    key: &str,
) -> Result<Option<(i64, i64)>, ApiError> {
    let w: Option<WindowRow> = db::first(
        database,
        "SELECT window_start, failures FROM login_attempts WHERE key = ?",
        &[s(key)],
    )
    .await?;
    Ok(w.map(|w| (w.window_start, w.failures)))
}

/// Records a failed sign-in.
pub async fn set_login_window(
    database: &D1Database,
    key: &str,
    start: i64,
    failures: i64,
) -> Result<(), ApiError> {
    db::exec(
        database,
        "INSERT INTO login_attempts (key, window_start, failures) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET window_start = excluded.window_start, failures = excluded.failures",
        &[s(key), n(start), n(failures)],
    )
    .await?;
    Ok(())
}

/// Adds a site to an account of some sites (the account that created it).
pub async fn add_site(database: &D1Database, account_id: &str, site: &str) -> Result<(), ApiError> {
    db::exec(
        database,
        "INSERT INTO account_sites (account_id, site) VALUES (?, ?) ON CONFLICT DO NOTHING",
        &[s(account_id), s(site)],
    )
    .await?;
    Ok(())
}

/// A new session (one batch: clears the key's failures and expired sessions).
pub struct NewSession<'a> {
    pub login_key: &'a str,
    pub token_digest: &'a str,
    pub account_id: &'a str,
    pub csrf: &'a str,
    pub now: i64,
    pub expires_at: i64,
}

/// Stores a session after a successful sign-in.
pub async fn create_session(database: &D1Database, x: &NewSession<'_>) -> Result<(), ApiError> {
    db::batch(
        database,
        vec![
            db::stmt(database, "DELETE FROM login_attempts WHERE key = ?", &[s(x.login_key)])?,
            db::stmt(database, "DELETE FROM console_sessions WHERE expires_at <= ?", &[n(x.now)])?,
            db::stmt(database, "INSERT INTO console_sessions (token_digest, account_id, csrf, created_at, expires_at) VALUES (?, ?, ?, ?, ?)", &[s(x.token_digest), s(x.account_id), s(x.csrf), n(x.now), n(x.expires_at)])?,
        ],
    )
    .await
}

/// Signs one session out.
pub async fn delete_session(database: &D1Database, token_digest: &str) -> Result<(), ApiError> {
    db::exec(
        database,
        "DELETE FROM console_sessions WHERE token_digest = ?",
        &[s(token_digest)],
    )
    .await?;
    Ok(())
}

/// An account as the console lists it (`all_sites` / `sites` as stored).
#[derive(Deserialize, Serialize)]
pub struct AccountView {
    pub email: String,
    pub name: String,
    pub role: String,
    pub agent_id: Option<String>,
    pub all_sites: i64,
    pub sites: Option<String>,
}

/// Every account with its sites, admins first.
pub async fn list(database: &D1Database) -> Result<Vec<AccountView>, ApiError> {
    db::rows(
        database,
        "SELECT a.email, a.name, a.role, a.agent_id, a.all_sites, (SELECT group_concat(m.site, ' ') FROM account_sites m WHERE m.account_id = a.id) AS sites FROM accounts a ORDER BY a.role, a.email",
        &[],
    )
    .await
}

/// An existing account's id and sites.
#[derive(Deserialize)]
pub struct Existing {
    pub id: String,
    pub all_sites: i64,
    pub sites: Option<String>,
}

/// The id and sites of the account with this email.
pub async fn existing(database: &D1Database, email: &str) -> Result<Option<Existing>, ApiError> {
    db::first(
        database,
        "SELECT a.id, a.all_sites, (SELECT group_concat(m.site, ' ') FROM account_sites m WHERE m.account_id = a.id) AS sites FROM accounts a WHERE a.email = ?",
        &[s(email)],
    )
    .await
}

/// An account to create or replace.
pub struct Upsert<'a> {
    pub id: &'a str,
    pub email: &'a str,
    pub name: &'a str,
    pub role: &'a str,
    pub agent_id: Option<&'a str>,
    pub password_hash: &'a str,
    /// `None`: every site; else exactly these.
    pub sites: Option<&'a [String]>,
    pub now: i64,
}

/// Creates the account or replaces name, role, agent, password and sites; signs its sessions out.
pub async fn upsert(database: &D1Database, a: &Upsert<'_>) -> Result<(), ApiError> {
    let all = i64::from(a.sites.is_none());
    let mut statements = vec![
        db::stmt(
            database,
            "INSERT INTO accounts (id, email, name, role, agent_id, password_hash, all_sites, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT(email) DO UPDATE SET name = excluded.name, role = excluded.role, agent_id = excluded.agent_id, password_hash = excluded.password_hash, all_sites = excluded.all_sites, updated_at = excluded.updated_at",
            &[s(a.id), s(a.email), s(a.name), s(a.role), os(a.agent_id), s(a.password_hash), n(all), n(a.now), n(a.now)],
        )?,
        db::stmt(database, "DELETE FROM console_sessions WHERE account_id = ?", &[s(a.id)])?,
        db::stmt(database, "DELETE FROM account_sites WHERE account_id = ?", &[s(a.id)])?,
    ];
    for site in a.sites.unwrap_or_default() {
        statements.push(db::stmt(
            database,
            "INSERT INTO account_sites (account_id, site) VALUES (?, ?)",
            &[s(a.id), s(site)],
        )?);
    }
    db::batch(database, statements).await
}

/// Replaces an account's sites (`None`: every site); its sessions see the change at once.
pub async fn set_sites(
    database: &D1Database,
    account_id: &str,
    sites: Option<&[String]>,
    now: i64,
) -> Result<(), ApiError> {
    let mut statements = vec![
        db::stmt(
            database,
            "UPDATE accounts SET all_sites = ?, updated_at = ? WHERE id = ?",
            &[n(i64::from(sites.is_none())), n(now), s(account_id)],
        )?,
        db::stmt(
            database,
            "DELETE FROM account_sites WHERE account_id = ?",
            &[s(account_id)],
        )?,
    ];
    for site in sites.unwrap_or_default() {
        statements.push(db::stmt(
            database,
            "INSERT INTO account_sites (account_id, site) VALUES (?, ?)",
            &[s(account_id), s(site)],
        )?);
    }
    db::batch(database, statements).await
}
