//! The gate's four outboxes as [`Outbox`] kinds (leads, program membership, activities,
//! cookie associations) and the drain that runs them in that order with concurrent workers.

use super::client::{urlencode, Marketo};
use super::deliver::{Call, Deliverer, Outbox, Plan};
use super::setup::load_type_ids;
use crate::days;
use crate::edge::db::real_now as now;
use crate::edge::store::marketo as cache;
use crate::edge::store::outbox::{
    self as store, ActivityClaim, AssocClaim, LeadClaim, MemberClaim,
};
use crate::error::ApiError;
use crate::marketo::mapping;
use crate::marketo::protocol::{self, CallError, RecordOutcome};
use futures_util::future::join_all;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;
use worker::{D1Database, D1PreparedStatement, State};

type Stmts = Result<Vec<D1PreparedStatement>, ApiError>;

fn err_text(e: &CallError) -> String {
    e.text().chars().take(300).collect()
}

/// Runs the outboxes until nothing is left to do or the time is up.
pub struct Drain<'a> {
    pub d: Deliverer<'a>,
}

impl Drain<'_> {
    /// Drains the outbox with up to `max_in_flight` concurrent workers for at most 25 s, then
    /// schedules the next run for the earliest due row.
    pub async fn run(&self, state: &State) -> Result<(), ApiError> {
        let deadline = now() + 25_000;
        let workers = (0..self.d.m.cfg.limits.max_in_flight).map(|_| self.work(deadline));
        for r in join_all(workers).await {
            if let Err(e) = r {
                worker::console_error!("gate worker: {e}");
            }
        }
        self.schedule_next(state).await
    }

    async fn work(&self, deadline: i64) -> Result<(), ApiError> {
        for _ in 0..100_000 {
            if now() >= deadline {
                return Ok(());
            }
            // Leads first, then membership of delivered leads, then their activities.
            // Cookie associations last: one call per lead, so they only use spare calls.
            let did = self.d.deliver(&Leads).await?
                || self.d.deliver(&Memberships).await?
                || self.d.deliver(&Activities).await?
                || self.d.deliver(&Associations).await?;
            if !did {
                return Ok(());
            }
        }
        Ok(())
    }

    async fn schedule_next(&self, state: &State) -> Result<(), ApiError> {
        if let Some(t) = store::next_due(&self.d.database).await? {
            let delay = (t.max(self.d.m.held_until()) - now()).clamp(50, 3_600_000);
            state
                .storage()
                .set_alarm(Duration::from_millis(delay as u64))
                .await?;
        }
        Ok(())
    }
}

/// Lead records (`leads.json` createOrUpdate by email).
pub struct Leads;

impl Outbox for Leads {
    type Claim = LeadClaim;

    async fn claim(
        &self,
        database: &D1Database,
        stamp: i64,
        now: i64,
        limit: i64,
    ) -> Result<Vec<LeadClaim>, ApiError> {
        store::claim_leads(database, stamp, now, limit).await
    }

    async fn plan<'c>(
        &self,
        _m: &Marketo,
        _database: &D1Database,
        claims: &'c [LeadClaim],
    ) -> Result<Plan<'c, LeadClaim>, ApiError> {
        let input: Vec<Value> = claims
            .iter()
            .map(|c| serde_json::from_str(&c.record).unwrap_or_else(|_| json!({})))
            .collect();
        let body = json!({"action": "createOrUpdate", "lookupField": "email", "input": input});
        Ok(Plan {
            calls: vec![Call {
                path: "/rest/v1/leads.json".into(),
                body: Some(body),
                records: claims.iter().collect(),
            }],
            settled: Vec::new(),
        })
    }

    fn count(&self, m: &Marketo, call: &Call<'_, LeadClaim>) {
        let n = call.records.len() as u64;
        let mut st = m.stats.borrow_mut();
        st.lead_calls += 1;
        st.lead_records += n;
        st.max_records_per_lead_call = st.max_records_per_lead_call.max(n);
    }

    fn settle(
        &self,
        m: &Marketo,
        database: &D1Database,
        call: &Call<'_, LeadClaim>,
        answer: Result<Value, CallError>,
    ) -> Stmts {
        let t = now();
        let claimed = &call.records;
        let mut st = Vec::with_capacity(claimed.len() * 2);
        match answer {
            Ok(v) => {
                for (c, o) in claimed
                    .iter()
                    .zip(protocol::record_outcomes(&v, claimed.len()))
                {
                    match o {
                        RecordOutcome::Done(mid) => {
                            m.stats.borrow_mut().delivered += 1;
                            st.push(store::lead_delivered(database, &c.id, mid, t)?);
                        }
                        RecordOutcome::Rejected { code, reason } => {
                            m.stats.borrow_mut().dead += 1;
                            st.extend(store::lead_dead(database, &c.id, &code, &reason, t)?);
                        }
                        RecordOutcome::Missing => {
                            let at = m.record_retry_at(c.attempts + 1);
                            st.push(store::lead_retry(
                                database,
                                &c.id,
                                c.attempts + 1,
                                at,
                                "no result for record",
                            )?);
                        }
                    }
                }
            }
            Err(e) => {
                // The call failed as a whole: one statement puts every record back.
                m.stats.borrow_mut().retries += claimed.len() as u64;
                let ids: Vec<&str> = claimed.iter().map(|c| c.id.as_str()).collect();
                let at = m.retry_at(
                    claimed.iter().map(|c| c.attempts).max().unwrap_or(0) + 1,
                    &e,
                );
                st.push(store::leads_retry(database, &ids, at, &err_text(&e))?);
            }
        }
        Ok(st)
    }
}

/// Program membership of delivered leads, one call per (program, status).
pub struct Memberships;

impl Outbox for Memberships {
    type Claim = MemberClaim;

    async fn claim(
        &self,
        database: &D1Database,
        stamp: i64,
        now: i64,
        limit: i64,
    ) -> Result<Vec<MemberClaim>, ApiError> {
        store::claim_members(database, stamp, now, limit).await
    }

    async fn plan<'c>(
        &self,
        _m: &Marketo,
        database: &D1Database,
        claims: &'c [MemberClaim],
    ) -> Result<Plan<'c, MemberClaim>, ApiError> {
        let programs: HashMap<String, (i64, String)> = cache::site_programs(database)
            .await?
            .into_iter()
            .map(|p| {
                (
                    p.id,
                    (
                        p.program_id,
                        p.program_status.unwrap_or_else(|| "Member".into()),
                    ),
                )
            })
            .collect();
        // A program picked for the dialogue in the console wins over the site's.
        let per_dialogue: HashMap<(String, String), (i64, Option<String>)> =
            cache::dialogue_programs(database)
                .await?
                .into_iter()
                .map(|r| {
                    let captured = serde_json::from_str::<Value>(&r.statuses)
                        .ok()
                        .and_then(|v| {
                            v.get("captured")
                                .and_then(Value::as_str)
                                .map(str::to_string)
                        })
                        .filter(|x| !x.trim().is_empty());
                    ((r.site, r.dialogue), (r.program_id, captured))
                })
                .collect();
        let mut groups: BTreeMap<(i64, String), Vec<&MemberClaim>> = BTreeMap::new();
        let mut settled = Vec::new();
        for c in claims {
            let site_program = programs.get(&c.site);
            let chosen = match per_dialogue.get(&(c.site.clone(), c.dialogue.clone())) {
                Some((program, status)) => Some((
                    *program,
                    status
                        .clone()
                        .or_else(|| site_program.map(|p| p.1.clone()))
                        .unwrap_or_else(|| "Member".into()),
                )),
                None => site_program.cloned(),
            };
            match chosen {
                Some(p) => groups.entry(p).or_default().push(c),
                None => settled.push(store::member_none(database, &c.id)?),
            }
        }
        let calls = groups
            .into_iter()
            .map(|((program, status), members)| {
                let input: Vec<Value> = members
                    .iter()
                    .map(|m| json!({"leadId": m.marketo_id}))
                    .collect();
                Call {
                    path: format!("/rest/v1/programs/{program}/members/status.json"),
                    body: Some(json!({"statusName": status, "input": input})),
                    records: members,
                }
            })
            .collect();
        Ok(Plan { calls, settled })
    }

    fn count(&self, m: &Marketo, _call: &Call<'_, MemberClaim>) {
        m.stats.borrow_mut().member_calls += 1;
    }

    fn settle(
        &self,
        m: &Marketo,
        database: &D1Database,
        call: &Call<'_, MemberClaim>,
        answer: Result<Value, CallError>,
    ) -> Stmts {
        let members = &call.records;
        let mut st = Vec::new();
        match answer {
            Ok(v) => {
                for (c, o) in members
                    .iter()
                    .zip(protocol::record_outcomes(&v, members.len()))
                {
                    match o {
                        RecordOutcome::Done(_) => st.push(store::member_done(database, &c.id)?),
                        RecordOutcome::Rejected { code, reason } => st.extend(store::member_dead(
                            database,
                            &c.id,
                            &c.site,
                            &code,
                            &reason,
                            now(),
                        )?),
                        RecordOutcome::Missing => st.push(store::member_again(
                            database,
                            &c.id,
                            m.record_retry_at(c.attempts + 1),
                        )?),
                    }
                }
            }
            Err(e) => {
                for c in members {
                    st.push(store::member_retry(
                        database,
                        &c.id,
                        m.retry_at(c.attempts + 1, &e),
                        &err_text(&e),
                    )?);
                }
            }
        }
        Ok(st)
    }
}

/// Chat activities (`activities/external.json`) of leads Marketo knows.
pub struct Activities;

impl Outbox for Activities {
    type Claim = ActivityClaim;

    async fn wanted(&self, _m: &Marketo, database: &D1Database) -> Result<bool, ApiError> {
        store::activity_due(database, now()).await
    }

    async fn prepare(&self, m: &Marketo, database: &D1Database) -> bool {
        match load_type_ids(m, database).await {
            Ok(()) => true,
            Err(e) => {
                worker::console_error!("activity types not ready: {e}");
                false
            }
        }
    }

    async fn claim(
        &self,
        database: &D1Database,
        stamp: i64,
        now: i64,
        limit: i64,
    ) -> Result<Vec<ActivityClaim>, ApiError> {
        store::claim_activities(database, stamp, now, limit).await
    }

    async fn plan<'c>(
        &self,
        m: &Marketo,
        _database: &D1Database,
        claims: &'c [ActivityClaim],
    ) -> Result<Plan<'c, ActivityClaim>, ApiError> {
        let ids = m.type_ids.borrow().clone();
        let input: Vec<Value> = claims
            .iter()
            .map(|a| {
                let attrs: Vec<(String, String)> =
                    serde_json::from_str::<Vec<(String, String)>>(&a.attributes)
                        .unwrap_or_default();
                mapping::external_input(
                    a.marketo_id,
                    ids.get(&a.type_api).copied().unwrap_or(0),
                    &a.primary_value,
                    &attrs,
                    &days::iso(a.at),
                )
            })
            .collect();
        Ok(Plan {
            calls: vec![Call {
                path: "/rest/v1/activities/external.json".into(),
                body: Some(json!({"input": input})),
                records: claims.iter().collect(),
            }],
            settled: Vec::new(),
        })
    }

    fn count(&self, m: &Marketo, _call: &Call<'_, ActivityClaim>) {
        m.stats.borrow_mut().activity_calls += 1;
    }

    fn settle(
        &self,
        m: &Marketo,
        database: &D1Database,
        call: &Call<'_, ActivityClaim>,
        answer: Result<Value, CallError>,
    ) -> Stmts {
        let claimed = &call.records;
        let mut st = Vec::new();
        match answer {
            Ok(v) => {
                for (a, o) in claimed
                    .iter()
                    .zip(protocol::record_outcomes(&v, claimed.len()))
                {
                    match o {
                        RecordOutcome::Done(_) => {
                            st.push(store::activity_delivered(database, a.id)?)
                        }
                        RecordOutcome::Rejected { code, reason } => {
                            st.extend(store::activity_dead(database, a.id, &code, &reason, now())?)
                        }
                        RecordOutcome::Missing => st.push(store::activity_again(
                            database,
                            a.id,
                            m.record_retry_at(a.attempts + 1),
                        )?),
                    }
                }
            }
            Err(e) => {
                for a in claimed {
                    st.push(store::activity_retry(
                        database,
                        a.id,
                        m.retry_at(a.attempts + 1, &e),
                        &err_text(&e),
                    )?);
                }
            }
        }
        Ok(st)
    }
}

/// Ties one delivered lead's tracking cookie to it in Marketo (`associate.json`), so the
/// visitor is known by cookie on the next visit; drops the cached "unknown" for that cookie.
pub struct Associations;

impl Outbox for Associations {
    type Claim = AssocClaim;
    const BATCHED: bool = false;

    /// One call per lead: only while most of the day's quota (60%) is left for leads.
    async fn wanted(&self, m: &Marketo, _database: &D1Database) -> Result<bool, ApiError> {
        let used = m.day_calls();
        Ok(u64::from(used) * 10 <= u64::from(m.cfg.limits.daily_quota) * 6)
    }

    async fn claim(
        &self,
        database: &D1Database,
        stamp: i64,
        now: i64,
        _limit: i64,
    ) -> Result<Vec<AssocClaim>, ApiError> {
        store::claim_association(database, stamp, now).await
    }

    async fn plan<'c>(
        &self,
        _m: &Marketo,
        database: &D1Database,
        claims: &'c [AssocClaim],
    ) -> Result<Plan<'c, AssocClaim>, ApiError> {
        let mut plan = Plan {
            calls: Vec::new(),
            settled: Vec::new(),
        };
        for c in claims {
            match (c.marketo_id, c.mkto_trk.as_deref()) {
                (Some(lead), Some(cookie)) => plan.calls.push(Call {
                    path: format!(
                        "/rest/v1/leads/{lead}/associate.json?cookie={}",
                        urlencode(cookie)
                    ),
                    body: None,
                    records: vec![c],
                }),
                _ => plan.settled.push(store::association_none(database, &c.id)?),
            }
        }
        Ok(plan)
    }

    fn count(&self, m: &Marketo, _call: &Call<'_, AssocClaim>) {
        m.stats.borrow_mut().association_calls += 1;
    }

    fn settle(
        &self,
        m: &Marketo,
        database: &D1Database,
        call: &Call<'_, AssocClaim>,
        answer: Result<Value, CallError>,
    ) -> Stmts {
        let mut st = Vec::new();
        for c in &call.records {
            let attempts = c.assoc_attempts + 1;
            match &answer {
                Ok(_) => {
                    st.push(store::association_done(database, &c.id, attempts)?);
                    st.push(cache::cache_forget_cookie(
                        database,
                        c.mkto_trk.as_deref().unwrap_or_default(),
                    )?);
                }
                // 1004 (lead gone), 1012 (cookie refused) and other definite refusals: for a human.
                Err(CallError::Fatal(text)) => {
                    let (code, reason) = text.split_once(' ').unwrap_or((text.as_str(), ""));
                    st.extend(store::association_dead(
                        database,
                        &c.id,
                        &c.site,
                        attempts,
                        text,
                        code,
                        reason,
                        now(),
                    )?);
                }
                Err(e) => st.push(store::association_retry(
                    database,
                    &c.id,
                    attempts,
                    m.retry_at(attempts, e),
                )?),
            }
        }
        Ok(st)
    }
}
