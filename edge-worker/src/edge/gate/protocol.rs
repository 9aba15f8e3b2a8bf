//! The typed client of the `MarketoGate` Durable Object: what callers may ask (`GateRequest`),
//! what the gate answers, and the functions the rest of the worker calls instead of building
//! requests by hand.

use crate::edge::store::marketo_sync::SyncRow;
use crate::error::ApiError;
use crate::marketo::fields::FieldReport;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use worker::{Env, Method, Request, RequestInit};

/// One request to the gate; sent as the JSON body of a POST to the single instance.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum GateRequest {
    /// Drain the outbox soon (idempotent). Answer: [`Kicked`].
    Kick,
    /// Look a lead up by cookie or email. Answer: [`LookupAnswer`].
    Lookup(LookupQuery),
    /// Create, complete and approve the custom activity types. Answer: [`SetupAnswer`].
    Setup,
    /// Pull lead changes into the trait cache. Answer: [`SyncAnswer`].
    Sync,
    /// The gate's counters. Answer: [`GateStats`].
    Stats,
    /// The one-time initial sync through Bulk Lead Extract. Answer: [`InitialSyncAnswer`].
    InitialSync(InitialSyncOp),
    /// The connected instance's lead field names (describe). Answer: [`DescribeAnswer`].
    Describe,
}

/// The lead describe's field names; `connected` false (and no names) when no Marketo
/// connection is configured.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct DescribeAnswer {
    pub connected: bool,
    pub fields: Vec<String>,
}

/// What to do with the initial sync.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "do", rename_all = "snake_case")]
pub enum InitialSyncOp {
    /// Start it over `since_ms..until_ms` (`restart`: also when one is running).
    Start {
        since_ms: i64,
        until_ms: i64,
        restart: bool,
    },
    /// Run it on for a bounded time and number of calls (the cron does this every minute).
    Step,
    /// Read its progress.
    Status,
}

/// The initial sync's progress, and how the rules' lead fields map to the instance's.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InitialSyncAnswer {
    /// None: never started.
    pub sync: Option<SyncRow>,
    /// 0..=100, by windows and bytes of the current window's file.
    pub percent: f64,
    /// Known leads cached by email (synced or looked up).
    pub cached_leads: i64,
    /// The rules' `lead.*` fields against Marketo's describe.
    pub fields: Vec<FieldReport>,
    /// The rules' `company.*` fields: company record, lead record, or the problem.
    #[serde(default)]
    pub company_fields: Vec<FieldReport>,
    /// The describe could not be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fields_error: Option<String>,
    /// `Start` refused: one is running.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conflict: Option<String>,
}

/// How a lookup finds the lead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LookupBy {
    /// The Munchkin tracking cookie.
    Cookie,
    Email,
}

impl LookupBy {
    /// Marketo's `filterType`.
    pub fn filter_type(self) -> &'static str {
        match self {
            LookupBy::Cookie => "cookies",
            LookupBy::Email => "email",
        }
    }
}

/// A trait lookup: the lead's `fields` (unknown names are dropped) and, through the lead's
/// company name, the company record's `company_fields`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LookupQuery {
    pub by: LookupBy,
    pub value: String,
    #[serde(default)]
    pub fields: Vec<String>,
    #[serde(default)]
    pub company_fields: Vec<String>,
    /// `activity.<type>` names (engine's `ACTIVITY_TYPES`) whose last time to read.
    #[serde(default)]
    pub activity: Vec<String>,
}

/// The lead found (`id` none when Marketo does not know it), its fields and its company's.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct LookupAnswer {
    pub id: Option<i64>,
    pub fields: Map<String, Value>,
    pub company: Map<String, Value>,
    /// The last time (ms) of each asked activity the lead had in the last 90 days; `None` when
    /// none was asked or the activities could not be read (nothing to cache then).
    #[serde(default)]
    pub activity: Option<Map<String, Value>>,
}

/// The answer to a kick.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Kicked {
    pub ok: bool,
}

/// One custom activity type after setup.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TypeReport {
    #[serde(rename = "apiName")]
    pub api_name: String,
    pub id: i64,
    pub status: Value,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SetupAnswer {
    pub types: Vec<TypeReport>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SyncAnswer {
    pub changed_fields: u64,
}

/// Counters shown by `GET /admin/marketo/gate` and the bench.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct Counters {
    pub calls: u64,
    pub token_calls: u64,
    pub lead_calls: u64,
    pub lead_records: u64,
    pub max_records_per_lead_call: u64,
    pub member_calls: u64,
    pub activity_calls: u64,
    pub association_calls: u64,
    pub lookups: u64,
    pub company_lookups: u64,
    pub delivered: u64,
    pub dead: u64,
    pub retries: u64,
    pub seen_606: u64,
    pub seen_615: u64,
    pub seen_607: u64,
    pub errors: BTreeMap<String, u64>,
    pub peak_window: u32,
    pub peak_in_flight: u32,
}

/// The counters with the limiter's current state.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GateStats {
    #[serde(flatten)]
    pub counters: Counters,
    pub window_budget: u32,
    pub window_calls: u32,
    pub in_flight: u32,
    pub day_calls: u32,
}

/// Sends a request to the single `MarketoGate` instance and reads its typed answer; a gate
/// error keeps its meaning (502: Marketo failed; anything else: a storage problem).
pub async fn ask<T: DeserializeOwned>(env: &Env, request: &GateRequest) -> Result<T, ApiError> {
    let ns = env
        .durable_object("MARKETO_GATE")
        .map_err(|e| ApiError::Config(e.to_string()))?;
    let stub = ns.id_from_name("marketo")?.get_stub()?;
    let body = serde_json::to_string(request).map_err(|e| ApiError::Storage(e.to_string()))?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post).with_body(Some(body.into()));
    let req = Request::new_with_init("https://gate/", &init)?;
    let mut resp = stub.fetch_with_request(req).await?;
    let status = resp.status_code();
    let v: Value = resp.json().await.unwrap_or(Value::Null);
    if status >= 400 {
        let msg = v
            .pointer("/error/message")
            .and_then(Value::as_str)
            .unwrap_or("gate error")
            .to_string();
        return Err(if status == 502 {
            ApiError::Upstream(msg)
        } else {
            ApiError::Storage(msg)
        });
    }
    serde_json::from_value(v).map_err(|e| ApiError::Storage(format!("gate answer: {e}")))
}

/// Asks the gate to drain the outbox soon (idempotent).
pub async fn kick(env: &Env) -> Result<(), ApiError> {
    ask::<Kicked>(env, &GateRequest::Kick).await.map(|_| ())
}

/// Looks a lead up in Marketo (through the gate's limits).
pub async fn lookup(env: &Env, query: LookupQuery) -> Result<LookupAnswer, ApiError> {
    ask(env, &GateRequest::Lookup(query)).await
}

/// Runs the setup of the custom activity types.
pub async fn setup(env: &Env) -> Result<SetupAnswer, ApiError> {
    ask(env, &GateRequest::Setup).await
}

/// Runs the incremental lead-change sync.
pub async fn sync(env: &Env) -> Result<SyncAnswer, ApiError> {
    ask(env, &GateRequest::Sync).await
}

/// Starts, steps or reads the initial sync.
pub async fn initial_sync(env: &Env, op: InitialSyncOp) -> Result<InitialSyncAnswer, ApiError> {
    ask(env, &GateRequest::InitialSync(op)).await
}

/// The connected instance's lead field names (one describe per gate instance and connection).
pub async fn describe(env: &Env) -> Result<DescribeAnswer, ApiError> {
    ask(env, &GateRequest::Describe).await
}

/// The gate's counters and limiter state.
pub async fn stats(env: &Env) -> Result<GateStats, ApiError> {
    ask(env, &GateRequest::Stats).await
}
