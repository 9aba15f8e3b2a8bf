//! One generic delivery step for every kind of outbox record ([`Outbox`]). The step owns
//! every rule the kinds share: a token before any slot, the call slot (window, concurrency,
//! daily quota, gate-wide pause), batches of up to 300 with one single-record probe while
//! calls keep failing, leases on the claimed rows, and one D1 batch with every outcome.

use super::client::Marketo;
use crate::edge::db::{self, real_now as now};
use crate::error::ApiError;
use crate::marketo::protocol::CallError;
use serde_json::Value;
use std::cell::Cell;
use worker::{D1Database, D1PreparedStatement, Method};

/// One Marketo call planned for some of the claimed records.
pub struct Call<'c, C> {
    pub path: String,
    pub body: Option<Value>,
    pub records: Vec<&'c C>,
}

/// The calls for a claim, and the statements for records that need none.
pub struct Plan<'c, C> {
    pub calls: Vec<Call<'c, C>>,
    pub settled: Vec<D1PreparedStatement>,
}

/// One kind of outbox record: how it is claimed, sent and recorded.
pub trait Outbox {
    type Claim;
    /// Claims come in batches (up to 300; one record while probing), else one at a time.
    const BATCHED: bool = true;
    /// Checked before anything else: whether this kind may use a call now.
    async fn wanted(&self, _m: &Marketo, _database: &D1Database) -> Result<bool, ApiError> {
        Ok(true)
    }
    /// Run once a token is ready, before a slot is taken; `false` skips this kind.
    async fn prepare(&self, _m: &Marketo, _database: &D1Database) -> bool {
        true
    }
    /// Leases up to `limit` due records until `stamp`.
    async fn claim(
        &self,
        database: &D1Database,
        stamp: i64,
        now: i64,
        limit: i64,
    ) -> Result<Vec<Self::Claim>, ApiError>;
    /// The calls that deliver the claimed records.
    async fn plan<'c>(
        &self,
        m: &Marketo,
        database: &D1Database,
        claims: &'c [Self::Claim],
    ) -> Result<Plan<'c, Self::Claim>, ApiError>;
    /// Counts a call about to be sent.
    fn count(&self, m: &Marketo, call: &Call<'_, Self::Claim>);
    /// The statements recording a call's answer for its records.
    fn settle(
        &self,
        m: &Marketo,
        database: &D1Database,
        call: &Call<'_, Self::Claim>,
        answer: Result<Value, CallError>,
    ) -> Result<Vec<D1PreparedStatement>, ApiError>;
}

/// The gate's outbox worker: the client, D1 and the lease stamps.
pub struct Deliverer<'a> {
    pub m: &'a Marketo,
    pub database: D1Database,
    pub claim_seq: &'a Cell<i64>,
}

impl Deliverer<'_> {
    fn next_claim(&self) -> i64 {
        let seq = self.claim_seq.get() + 1;
        self.claim_seq.set(seq);
        now() + self.m.cfg.lease_ms + seq % 1000
    }

    /// Takes a slot, claims due records of one kind, sends them, records each outcome.
    /// `Ok(false)`: nothing was done (nothing due, or no call may be made now).
    pub async fn deliver<K: Outbox>(&self, kind: &K) -> Result<bool, ApiError> {
        let (m, database) = (self.m, &self.database);
        if !kind.wanted(m, database).await? || !m.ready().await {
            return Ok(false);
        }
        if !kind.prepare(m, database).await {
            return Ok(false);
        }
        let Ok(slot) = m.acquire().await else {
            return Ok(false);
        };
        let (limit, _probe) = if K::BATCHED {
            m.batch_limit().await
        } else {
            (1, None)
        };
        let stamp = self.next_claim();
        let claimed = kind.claim(database, stamp, now(), limit).await?;
        if claimed.is_empty() {
            return Ok(false);
        }
        let plan = kind.plan(m, database, &claimed).await?;
        let mut st = plan.settled;
        // The first call uses the slot taken above; any further one waits for its own.
        let mut held = Some(slot);
        for call in &plan.calls {
            kind.count(m, call);
            let answer = m
                .call(Method::Post, &call.path, call.body.as_ref(), held.take())
                .await;
            st.extend(kind.settle(m, database, call, answer)?);
        }
        drop(held);
        db::batch(database, st).await?;
        Ok(true)
    }
}
