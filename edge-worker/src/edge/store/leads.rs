//! The lead outbox's SQL on the capture path: everything `POST /leads` reads in one D1 batch,
//! and everything it writes (lead, rollup, activities) in a second one.

use crate::edge::db::{self, n, os, s};
use crate::error::ApiError;
use serde::Deserialize;
use worker::{D1Database, D1PreparedStatement};

/// A lead already stored under an Idempotency-Key.
#[derive(Deserialize, Debug)]
pub struct Stored {
    pub id: String,
    pub body_hash: String,
}

/// An earlier event of the lead's session that may become a Marketo activity.
#[derive(Deserialize)]
pub struct EarlierEvent {
    #[serde(rename = "type")]
    pub kind: String,
    pub dialogue: String,
    pub value: Option<String>,
    pub variant: Option<String>,
    pub at: i64,
}

#[derive(Deserialize)]
struct JsonRow {
    json: String,
}

#[derive(Deserialize)]
struct FieldsRow {
    fields: String,
}

#[derive(Deserialize)]
struct ValueRow {
    value: String,
}

/// What the capture path needs to know before it writes, read in one round trip. Whether the
/// Idempotency-Key is taken is not read here: the write batch finds out in the same
/// transaction that inserts (see [`write`]), which a read before it could not.
pub struct Reads {
    /// The dialogue version's JSON (the one named by `hash`, else the published one), when it
    /// was asked for; `Some(None)` when asked for and not found.
    pub version_json: Option<Option<String>>,
    /// Marketo's known fields for this email (sync cache), as JSON text.
    pub known_fields: Option<String>,
    /// `settings.clock_override` when the clock may be driven (tests).
    pub clock_override: Option<i64>,
    /// The session's earlier completed / dropped / goal / document events (at most 200).
    pub earlier: Vec<EarlierEvent>,
}

/// The keys of one capture.
pub struct Keys<'a> {
    pub site: &'a str,
    pub dialogue: &'a str,
    pub hash: Option<&'a str>,
    pub email: &'a str,
    pub session: &'a str,
}

/// What to read besides the always-read rows.
pub struct Wanted {
    /// The version's JSON (not needed when the caller has its answer fields cached).
    pub version: bool,
    /// `settings.clock_override` (only when the clock may be driven).
    pub clock: bool,
}

/// One D1 batch of two to four reads.
pub async fn read(database: &D1Database, k: &Keys<'_>, want: Wanted) -> Result<Reads, ApiError> {
    let mut st = vec![
        db::stmt(
            database,
            "SELECT fields FROM marketo_cache WHERE key_type = 'email' AND key = ? AND lead_id IS NOT NULL",
            &[s(k.email)],
        )?,
        db::stmt(
            database,
            "SELECT type, dialogue, value, variant, at FROM events WHERE site = ? AND session = ? AND type IN ('completed', 'dropped', 'goal', 'document_opened') LIMIT 200",
            &[s(k.site), s(k.session)],
        )?,
    ];
    if want.version {
        st.push(match k.hash {
            Some(h) => db::stmt(database, "SELECT json FROM dialogue_versions WHERE site = ? AND hash = ? AND dialogue = ?", &[s(k.site), s(h), s(k.dialogue)])?,
            None => db::stmt(database, "SELECT v.json FROM published p JOIN dialogue_versions v ON v.site = p.site AND v.hash = p.hash WHERE p.site = ? AND p.dialogue = ?", &[s(k.site), s(k.dialogue)])?,
        });
    }
    if want.clock {
        st.push(db::stmt(
            database,
            "SELECT value FROM settings WHERE key = 'clock_override'",
            &[],
        )?);
    }
    let res = database.batch(st).await?;
    let mut res = res.iter();
    let (Some(known), Some(earlier)) = (res.next(), res.next()) else {
        return Err(ApiError::Storage("short D1 batch answer".into()));
    };
    let version_json = match (want.version, want.version.then(|| res.next()).flatten()) {
        (false, _) => None,
        (true, Some(r)) => Some(r.results::<JsonRow>()?.into_iter().next().map(|r| r.json)),
        (true, None) => return Err(ApiError::Storage("short D1 batch answer".into())),
    };
    let clock_override = match res.next() {
        Some(r) => r
            .results::<ValueRow>()?
            .into_iter()
            .next()
            .and_then(|v| v.value.parse().ok()),
        None => None,
    };
    Ok(Reads {
        version_json,
        known_fields: known
            .results::<FieldsRow>()?
            .into_iter()
            .next()
            .map(|r| r.fields),
        clock_override,
        earlier: earlier.results::<EarlierEvent>()?,
    })
}

/// A lead ready for the outbox.
pub struct NewLead<'a> {
    pub id: &'a str,
    pub site: &'a str,
    pub idem_key: &'a str,
    pub body_hash: &'a str,
    pub visitor: &'a str,
    pub session: &'a str,
    pub dialogue: &'a str,
    pub hash: Option<&'a str>,
    pub variant: Option<&'a str>,
    pub email: &'a str,
    pub record: &'a str,
    pub transcript: &'a str,
    pub mkto_trk: Option<&'a str>,
    pub now: i64,
    pub day: i64,
}

#[derive(Deserialize)]
struct OutcomeRow {
    id: String,
    body_hash: String,
    inserted: i64,
}

/// What the write did.
#[derive(Debug)]
pub enum Written {
    /// This request stored the lead (with its rollup and activities).
    Inserted,
    /// Another request with the same key stored it first.
    Existing(Stored),
}

/// One D1 batch (one transaction): the lead, whether it was new, its `captured` rollup (only
/// when this request inserted it) and the activities of the session's earlier events (only for
/// the body that owns the key; duplicates are ignored by the table's unique key).
pub async fn write(
    database: &D1Database,
    l: &NewLead<'_>,
    activities: Vec<D1PreparedStatement>,
) -> Result<Written, ApiError> {
    let mut st = vec![
        db::stmt(
            database,
            "INSERT INTO leads (id, site, idem_key, body_hash, visitor, session, dialogue, hash, variant, email, record, transcript, mkto_trk, status, member_status, created_at, next_attempt_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'queued', 'pending', ?, 0) ON CONFLICT DO NOTHING",
            &[s(l.id), s(l.site), s(l.idem_key), s(l.body_hash), s(l.visitor), s(l.session), s(l.dialogue), os(l.hash), os(l.variant), s(l.email), s(l.record), s(l.transcript), os(l.mkto_trk), n(l.now)],
        )?,
        // changes() still counts the INSERT above: a SELECT does not reset it.
        db::stmt(
            database,
            "SELECT id, body_hash, changes() AS inserted FROM leads WHERE site = ? AND idem_key = ?",
            &[s(l.site), s(l.idem_key)],
        )?,
        db::stmt(
            database,
            "INSERT INTO metrics_daily (site, dialogue, day, captured) SELECT ?, ?, ?, 1 WHERE changes() = 1 \
             ON CONFLICT(site, dialogue, day) DO UPDATE SET captured = captured + excluded.captured",
            &[s(l.site), s(l.dialogue), n(l.day)],
        )?,
    ];
    st.extend(activities);
    let res = database.batch(st).await?;
    let row = res
        .get(1)
        .map(|r| r.results::<OutcomeRow>())
        .transpose()?
        .and_then(|v| v.into_iter().next())
        .ok_or_else(|| ApiError::Storage("lead vanished".into()))?;
    Ok(
        if row.inserted == 1 && row.id == l.id && row.body_hash == l.body_hash {
            Written::Inserted
        } else {
            Written::Existing(Stored {
                id: row.id,
                body_hash: row.body_hash,
            })
        },
    )
}

/// An activity of a lead, stored only while the lead row with this body exists (so a request
/// that lost the Idempotency-Key race with another body adds nothing).
pub fn activity_of_new_lead(
    database: &D1Database,
    l: &NewLead<'_>,
    type_api: &str,
    primary: &str,
    attributes: &str,
    at: i64,
) -> Result<D1PreparedStatement, ApiError> {
    db::stmt(
        database,
        "INSERT OR IGNORE INTO activities (site, lead_id, type_api, primary_value, attributes, at) \
         SELECT ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM leads WHERE id = ? AND body_hash = ?)",
        &[s(l.site), s(l.id), s(type_api), s(primary), s(attributes), n(at), s(l.id), s(l.body_hash)],
    )
}
