//! The one-time initial sync: every lead's rule fields through Marketo's Bulk Lead Extract,
//! one `createdAt` window (31 days) at a time: create the job, enqueue it, poll its status, read
//! its file in pages (`Range`), cache each lead by email. Its position lives in D1
//! (`marketo_initial_sync`); a page's rows and the new file offset are written in one batch,
//! so a restart resumes exactly where the last stored page ended. Every call goes through the
//! gate's client (window, concurrency, daily quota, backoff); one job at a time, so the
//! subscription's 2 running / 10 queued export jobs are never ours to exhaust, and a run
//! spends at most `MARKETO_BULK_CALLS_PER_RUN` calls, leaving the window to lead delivery.
//! Lead changes meanwhile reach the cache through the incremental sync.

use super::client::Marketo;
use super::lookups::{
    companies_by_name, company_key, company_record_fields, known_fields, rule_fields,
};
use super::protocol::{InitialSyncAnswer, InitialSyncOp};
use crate::days;
use crate::edge::config;
use crate::edge::db::{self, real_now as now};
use crate::edge::store::marketo as store;
use crate::edge::store::marketo_sync::{self as sync_store, SyncRow};
use crate::error::ApiError;
use crate::marketo::bulk::{self, BulkTrouble, JobState};
use crate::marketo::fields;
use crate::marketo::protocol::CallError;
use crate::route_rules::COMPANY_KEY;
use serde_json::{json, Map, Value};
use std::time::Duration;
use worker::{D1Database, Delay, Env, Method};

/// How much one run may do (vars, for tests and big instances).
pub struct Tuning {
    /// Bytes per file read (`MARKETO_BULK_PAGE_BYTES`, default 256 KB: a page's leads are
    /// written in one D1 batch, 25 rows per statement).
    pub page_bytes: i64,
    /// Marketo calls per run (`MARKETO_BULK_CALLS_PER_RUN`, default 30).
    pub calls: i64,
    /// Wall time per run (`MARKETO_BULK_RUN_MS`, default 20 s).
    pub run_ms: i64,
    /// Pause between status polls (`MARKETO_BULK_POLL_MS`, default 2 s).
    pub poll_ms: i64,
}

impl Tuning {
    pub fn from_env(env: &Env) -> Self {
        Tuning {
            page_bytes: config::number(env, "MARKETO_BULK_PAGE_BYTES", 256_000).max(1024),
            calls: config::number(env, "MARKETO_BULK_CALLS_PER_RUN", 30).max(1),
            run_ms: config::number(env, "MARKETO_BULK_RUN_MS", 20_000).max(1000),
            poll_ms: config::number(env, "MARKETO_BULK_POLL_MS", 2_000).max(100),
        }
    }
}

/// Answers one initial-sync request of the gate.
pub async fn handle(
    m: &Marketo,
    database: &D1Database,
    tuning: &Tuning,
    op: InitialSyncOp,
    busy: &std::cell::Cell<bool>,
) -> Result<InitialSyncAnswer, ApiError> {
    let mut conflict = None;
    // A cron step never asks for the describe: no call to Marketo when no sync runs.
    let with_fields = !matches!(op, InitialSyncOp::Step);
    match op {
        InitialSyncOp::Status => {}
        InitialSyncOp::Start {
            since_ms,
            until_ms,
            restart,
        } => {
            let running = sync_store::get(database)
                .await?
                .filter(|r| r.phase != "done" && r.phase != "failed");
            if running.is_some() && !restart {
                conflict =
                    Some("an initial sync is running; send restart: true to start over".into());
            } else if busy.get() {
                // A run holds the row in memory and would write it back over the new one.
                conflict = Some("an initial sync run is in progress; try again in a minute".into());
            } else {
                start(m, database, since_ms, until_ms).await?;
            }
        }
        // One run at a time: a cron tick during a long run only reads the progress.
        InitialSyncOp::Step if !busy.get() => {
            busy.set(true);
            let r = run(m, database, tuning).await;
            busy.set(false);
            r?;
        }
        InitialSyncOp::Step => {}
    }
    let mut answer = status(m, database, with_fields).await?;
    answer.conflict = conflict;
    Ok(answer)
}

/// The company record fields the sites' rules read (`company.*`; empty: none).
async fn company_fields(database: &D1Database) -> Result<Vec<&'static str>, ApiError> {
    let company: Vec<String> = store::trait_fields(database)
        .await?
        .into_iter()
        .flatten()
        .filter_map(|f| f.strip_prefix("company.").map(str::to_string))
        .collect();
    Ok(company_record_fields(&company))
}

async fn start(m: &Marketo, database: &D1Database, since: i64, until: i64) -> Result<(), ApiError> {
    // The lead's company name finds its company record (when a rule reads one).
    let company = if company_fields(database).await?.is_empty() {
        None
    } else {
        Some("company")
    };
    let extra: Vec<&str> = ["id", "email"].into_iter().chain(company).collect();
    let names = rule_fields(m, database, &extra).await?;
    let t = now();
    let row = SyncRow {
        phase: "create".into(),
        since_ms: since,
        until_ms: until,
        window_start_ms: since,
        windows_total: bulk::window_count(since, until),
        windows_done: 0,
        fields: serde_json::to_string(&names)?,
        export_id: None,
        file_size: None,
        file_offset: 0,
        header: None,
        window_rows: 0,
        rows_done: 0,
        rows_skipped: 0,
        bytes_done: 0,
        jobs_created: 0,
        calls: 0,
        errors: 0,
        last_error: None,
        next_at: 0,
        started_at: t,
        updated_at: t,
        finished_at: None,
        companies_done: 0,
        window_companies: 0,
    };
    sync_store::save(database, &row).await
}

/// The progress as the admin and the console show it.
pub async fn status(
    m: &Marketo,
    database: &D1Database,
    with_fields: bool,
) -> Result<InitialSyncAnswer, ApiError> {
    let sync = sync_store::get(database).await?;
    let percent = sync.as_ref().map_or(0.0, |r| {
        if r.phase == "done" {
            return 100.0;
        }
        let within = match (r.phase.as_str(), r.file_size) {
            ("read", Some(size)) if size > 0 => r.file_offset as f64 / size as f64,
            _ => 0.0,
        };
        let p = (r.windows_done as f64 + within) / r.windows_total.max(1) as f64 * 100.0;
        (p * 10.0).round() / 10.0
    });
    let (fields, company_fields, fields_error) = if !with_fields {
        (Vec::new(), Vec::new(), None)
    } else {
        match known_fields(m).await {
            Ok(known) => {
                let mut rule_fields: Vec<String> = store::trait_fields(database)
                    .await?
                    .into_iter()
                    .flatten()
                    .collect();
                rule_fields.sort();
                rule_fields.dedup();
                (
                    fields::report(&rule_fields, &known),
                    fields::report_company(&rule_fields, &known),
                    None,
                )
            }
            Err(e) => (Vec::new(), Vec::new(), Some(e.to_string())),
        }
    };
    let cached_leads = if with_fields {
        sync_store::cached_leads(database).await?
    } else {
        0
    };
    Ok(InitialSyncAnswer {
        sync,
        percent,
        cached_leads,
        fields,
        company_fields,
        fields_error,
        conflict: None,
    })
}

/// What a run does after one step.
enum Next {
    /// Go on with the next step.
    Go,
    /// Stop this run (saved; the next cron tick goes on).
    Pause,
}

/// Runs steps until the sync waits, is done, or the run's calls or time are spent.
async fn run(m: &Marketo, database: &D1Database, tuning: &Tuning) -> Result<(), ApiError> {
    let Some(mut r) = sync_store::get(database).await? else {
        return Ok(());
    };
    let t0 = now();
    if matches!(r.phase.as_str(), "done" | "failed") || t0 < r.next_at {
        return Ok(());
    }
    let start_calls = r.calls;
    for _ in 0..10_000 {
        if r.calls - start_calls >= tuning.calls || now() - t0 >= tuning.run_ms {
            break;
        }
        let step = match r.phase.as_str() {
            "create" => create(m, &mut r).await,
            "enqueue" => enqueue(m, &mut r).await,
            "wait" => wait(m, &mut r, tuning, t0).await,
            "read" => read(m, database, &mut r, tuning).await,
            _ => Ok(Next::Pause),
        };
        r.updated_at = now();
        match step {
            Ok(next) => {
                sync_store::save(database, &r).await?;
                if matches!(next, Next::Pause) {
                    break;
                }
            }
            Err(e) => {
                settle_error(&mut r, &e);
                sync_store::save(database, &r).await?;
                break;
            }
        }
    }
    Ok(())
}

/// Decides what a failed call means for the sync: wait a minute (queue full), until tomorrow
/// (daily export allocation), make a new job (lost), stop for an admin, or retry soon.
fn settle_error(r: &mut SyncRow, e: &CallError) {
    let t = now();
    r.errors += 1;
    r.last_error = Some(e.text().chars().take(300).collect());
    match bulk::trouble(e) {
        BulkTrouble::QueueFull => r.next_at = t + 60_000,
        BulkTrouble::DailyQuota => r.next_at = days::next_day_start(t),
        BulkTrouble::JobLost => restart_window(r),
        BulkTrouble::Stop(_) => r.phase = "failed".into(),
        BulkTrouble::Retry(_) => r.next_at = t + 5_000,
    }
}

/// The window's job is gone: a new job, the window's rows read again (counted once).
fn restart_window(r: &mut SyncRow) {
    r.phase = "create".into();
    r.rows_done -= r.window_rows;
    r.window_rows = 0;
    r.companies_done -= r.window_companies;
    r.window_companies = 0;
    r.export_id = None;
    r.file_size = None;
    r.file_offset = 0;
    r.header = None;
}

fn job_path(r: &SyncRow, what: &str) -> String {
    format!(
        "/bulk/v1/leads/export/{}/{what}.json",
        crate::encode::query_value(r.export_id.as_deref().unwrap_or(""))
    )
}

fn first_result(v: &Value) -> Option<&Value> {
    v.get("result")
        .and_then(Value::as_array)
        .and_then(|a| a.first())
}

async fn create(m: &Marketo, r: &mut SyncRow) -> Result<Next, CallError> {
    let end = bulk::window_end(r.window_start_ms, r.until_ms);
    let names: Vec<String> = serde_json::from_str(&r.fields).unwrap_or_default();
    let body = json!({
        "fields": names,
        "format": "CSV",
        "filter": {"createdAt": {"startAt": days::iso(r.window_start_ms), "endAt": days::iso(end)}},
    });
    r.calls += 1;
    let v = m
        .call(
            Method::Post,
            "/bulk/v1/leads/export/create.json",
            Some(&body),
            None,
        )
        .await?;
    let id = first_result(&v)
        .and_then(|j| j.get("exportId"))
        .and_then(Value::as_str)
        .ok_or_else(|| CallError::Fatal("create export job: no exportId".into()))?;
    r.export_id = Some(id.to_string());
    r.jobs_created += 1;
    r.phase = "enqueue".into();
    Ok(Next::Go)
}

async fn enqueue(m: &Marketo, r: &mut SyncRow) -> Result<Next, CallError> {
    r.calls += 1;
    match m
        .call(Method::Post, &job_path(r, "enqueue"), None, None)
        .await
    {
        Ok(_) => {}
        // Enqueued before a restart lost the answer: its status tells where it is.
        Err(CallError::Fatal(t)) if t.starts_with("1003") => {}
        Err(e) => return Err(e),
    }
    r.phase = "wait".into();
    Ok(Next::Go)
}

async fn wait(m: &Marketo, r: &mut SyncRow, tuning: &Tuning, t0: i64) -> Result<Next, CallError> {
    r.calls += 1;
    let v = m
        .call(Method::Get, &job_path(r, "status"), None, None)
        .await?;
    let job = first_result(&v).cloned().unwrap_or(Value::Null);
    let state = job.get("status").and_then(Value::as_str).unwrap_or("");
    match JobState::parse(state) {
        Some(JobState::Completed) => {
            r.file_size = Some(job.get("fileSize").and_then(Value::as_i64).unwrap_or(0));
            r.file_offset = 0;
            r.phase = "read".into();
        }
        Some(JobState::Created) => r.phase = "enqueue".into(),
        Some(JobState::Gone) => {
            r.errors += 1;
            r.last_error = Some(format!("export job {state}: a new job for the window"));
            restart_window(r);
        }
        Some(JobState::Queued | JobState::Processing) => {
            if now() - t0 + tuning.poll_ms >= tuning.run_ms {
                return Ok(Next::Pause);
            }
            Delay::from(Duration::from_millis(tuning.poll_ms as u64)).await;
        }
        None => return Err(CallError::Fatal(format!("export job status `{state}`"))),
    }
    Ok(Next::Go)
}

/// Reads one page of the file (or finishes the window) and stores it with the new offset.
async fn read(
    m: &Marketo,
    database: &D1Database,
    r: &mut SyncRow,
    tuning: &Tuning,
) -> Result<Next, CallError> {
    let size = r.file_size.unwrap_or(0);
    if r.file_offset >= size {
        finish_window(r);
        return Ok(Next::Go);
    }
    let mut want = tuning.page_bytes;
    let page = loop {
        let last = (r.file_offset + want - 1).min(size - 1);
        r.calls += 1;
        let (text, _total) = m
            .read_file(&job_path(r, "file"), r.file_offset, last)
            .await?;
        let at_eof = r.file_offset + text.len() as i64 >= size || text.is_empty();
        let page = bulk::parse_records(text.as_bytes(), at_eof).map_err(CallError::Fatal)?;
        if page.consumed > 0 || at_eof {
            break page;
        }
        if want >= tuning.page_bytes * 16 {
            return Err(CallError::Fatal(format!(
                "export file: a record longer than {} bytes",
                want
            )));
        }
        want *= 2;
    };
    let mut records = page.records.into_iter();
    let first_header = if r.file_offset == 0 {
        Some(records.next().unwrap_or_default())
    } else {
        None
    };
    let header: Vec<String> = match &first_header {
        Some(h) => h.clone(),
        None => r
            .header
            .as_deref()
            .and_then(|h| serde_json::from_str(h).ok())
            .unwrap_or_default(),
    };
    let records: Vec<Vec<String>> = records.collect();
    // Marketo has no bulk extract for companies: the page's company names are read through
    // the Companies API (300 names a call), before anything of the page is stored, so a
    // restart reads them again with the page.
    let company_col = header.iter().position(|h| h == "company");
    let wanted = match company_col {
        Some(_) => company_fields(database)
            .await
            .map_err(|e| CallError::Transient(e.to_string()))?,
        None => Vec::new(),
    };
    let companies = match company_col.filter(|_| !wanted.is_empty()) {
        Some(col) => {
            let mut names: Vec<String> = records
                .iter()
                .filter_map(|rec| rec.get(col).cloned())
                .collect();
            names.sort_by_key(|n| company_key(n));
            names.dedup_by_key(|n| company_key(n));
            companies_by_name(m, &names, &wanted, &mut r.calls).await?
        }
        None => Default::default(),
    };
    // The page's rows and the new position are stored together, or not at all: `r` changes
    // only once the batch is written (but for the calls counted above).
    let mut next = r.clone();
    if let Some(h) = first_header {
        next.header = Some(serde_json::to_string(&h).unwrap_or_else(|_| "[]".into()));
    }
    let email_col = header.iter().position(|h| h == "email");
    let id_col = header.iter().position(|h| h == "id");
    let t = now();
    let mut leads: Vec<sync_store::CachedLead> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let (mut stored, mut skipped) = (0, 0);
    for rec in records {
        let email = email_col
            .and_then(|i| rec.get(i))
            .map(|e| dynchat_engine::fields::normalise_email(e))
            .filter(|e| !e.is_empty());
        let Some(email) = email else {
            skipped += 1;
            continue;
        };
        let lead_id = id_col.and_then(|i| rec.get(i)).and_then(|v| v.parse().ok());
        let mut obj = Map::new();
        let company = company_col
            .and_then(|i| rec.get(i))
            .and_then(|n| companies.get(&company_key(n)));
        if let Some(c) = company {
            obj.insert(COMPANY_KEY.into(), Value::Object(c.clone()));
            next.companies_done += 1;
            next.window_companies += 1;
        }
        for (name, value) in header.iter().zip(rec) {
            if name != "id" && !value.is_empty() {
                obj.insert(name.clone(), Value::String(value));
            }
        }
        stored += 1;
        // Duplicate leads share an email: the first one of the page is cached.
        if seen.insert(email.clone()) {
            leads.push((email, lead_id, Value::Object(obj).to_string()));
        }
    }
    let mut statements = sync_store::cache_leads(database, &leads, t)
        .map_err(|e| CallError::Transient(e.to_string()))?;
    let consumed = if page.consumed == 0 {
        size - next.file_offset
    } else {
        page.consumed as i64
    };
    next.file_offset += consumed;
    next.bytes_done += consumed;
    next.rows_done += stored;
    next.window_rows += stored;
    next.rows_skipped += skipped;
    next.updated_at = t;
    if next.file_offset >= size {
        finish_window(&mut next);
    }
    statements
        .push(sync_store::put(database, &next).map_err(|e| CallError::Transient(e.to_string()))?);
    db::batch(database, statements)
        .await
        .map_err(|e| CallError::Transient(e.to_string()))?;
    *r = next;
    Ok(Next::Go)
}

/// The window's file is stored: the next window, or done.
fn finish_window(r: &mut SyncRow) {
    let end = bulk::window_end(r.window_start_ms, r.until_ms);
    r.windows_done += 1;
    r.window_start_ms = end + 1000;
    r.export_id = None;
    r.file_size = None;
    r.file_offset = 0;
    r.header = None;
    r.window_rows = 0;
    r.window_companies = 0;
    if r.window_start_ms > r.until_ms || r.windows_done >= r.windows_total {
        r.phase = "done".into();
        r.finished_at = Some(now());
    } else {
        r.phase = "create".into();
    }
}
