//! Experiments: the variant ids each stored version accepts (`dialogue_versions.variants`) and
//! the per-variant counts of one dialogue's conversations (`events`, `leads`) and meetings
//! (`meetings.variant`).

use crate::edge::db::{self, s};
use crate::error::ApiError;
use crate::experiments::Counts;
use serde::Deserialize;
use std::collections::HashMap;
use worker::D1Database;

#[derive(Deserialize)]
struct ListRow {
    dialogue: String,
    variants: String,
}

/// Dialogue id -> the variant lists of its versions that have an experiment.
pub async fn variant_lists(
    database: &D1Database,
    site: &str,
) -> Result<HashMap<String, Vec<String>>, ApiError> {
    let rows: Vec<ListRow> = db::rows(
        database,
        "SELECT dialogue, variants FROM dialogue_versions WHERE site = ? AND variants != ''",
        &[s(site)],
    )
    .await?;
    let mut out: HashMap<String, Vec<String>> = HashMap::new();
    for r in rows {
        out.entry(r.dialogue).or_default().push(r.variants);
    }
    Ok(out)
}

#[derive(Deserialize)]
struct CountRow {
    variant: String,
    conversations: i64,
    engaged: i64,
    goals: i64,
    leads: i64,
    converted: i64,
}

#[derive(Deserialize)]
struct MeetingRow {
    variant: String,
    meetings: i64,
}

/// Per variant, over the retained events of `dialogue`: conversations (sessions that triggered
/// it in that variant), how many engaged, reached a goal, left a lead (of that session and
/// dialogue), converted (goal or lead); and the meetings booked from `dialogue` that carry the
/// variant (`meetings.variant`, every booked one: also when later cancelled or moved).
pub async fn counts(
    database: &D1Database,
    site: &str,
    dialogue: &str,
) -> Result<HashMap<String, Counts>, ApiError> {
    let rows: Vec<CountRow> = db::rows(
        database,
        "WITH conv AS ( \
           SELECT variant, session, MAX(type = 'engaged') AS engaged, MAX(type = 'goal') AS goal \
           FROM events WHERE site = ?1 AND dialogue = ?2 AND variant IS NOT NULL \
           GROUP BY variant, session HAVING MAX(type = 'triggered') = 1), \
         facts AS ( \
           SELECT c.variant, c.engaged, c.goal, \
             EXISTS (SELECT 1 FROM leads l WHERE l.site = ?1 AND l.session = c.session AND l.dialogue = ?2) AS lead \
           FROM conv c) \
         SELECT variant, COUNT(*) AS conversations, SUM(engaged) AS engaged, SUM(goal) AS goals, SUM(lead) AS leads, \
           SUM(CASE WHEN goal = 1 OR lead = 1 THEN 1 ELSE 0 END) AS converted \
         FROM facts GROUP BY variant",
        &[s(site), s(dialogue)],
    )
    .await?;
    let booked: Vec<MeetingRow> = db::rows(
        database,
        "SELECT variant, COUNT(*) AS meetings FROM meetings \
         WHERE site = ? AND dialogue = ? AND variant IS NOT NULL AND status <> 'pending' GROUP BY variant",
        &[s(site), s(dialogue)],
    )
    .await?;
    let u = |x: i64| u64::try_from(x).unwrap_or(0);
    let mut out: HashMap<String, Counts> = rows
        .into_iter()
        .map(|r| {
            (
                r.variant,
                Counts {
                    conversations: u(r.conversations),
                    engaged: u(r.engaged),
                    converted: u(r.converted),
                    leads: u(r.leads),
                    goals: u(r.goals),
                    meetings: 0,
                },
            )
        })
        .collect();
    for m in booked {
        out.entry(m.variant).or_default().meetings = u(m.meetings);
    }
    Ok(out)
}
