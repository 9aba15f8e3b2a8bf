//! Resolves a route before slots are computed or a booking is run: `queue:` and `agent:` routes
//! as they are; `rules:<dialogue>/<card>` by the card's rules in the site's published version
//! of that dialogue, over the visitor's facts (their lead fields and answers, then what Marketo
//! knows by their email through the trusted traits path), into a queue and, for account
//! routing, the lead's owner when they are an agent of that queue.

use super::super::api::known_fields;
use super::super::site::Site;
use super::super::store::dialogues;
use super::agents::{rotation_agents, route_rotation};
use crate::error::ApiError;
use crate::meetings::Route;
use crate::route_rules::{self, Routed, RulesRef};
use dynchat_scheduling::routing::{CompileRouting, QueueAgent, DEFAULT_OWNER_FIELD};
use dynchat_scheduling::AgentId;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use worker::{D1Database, Env};

/// What routing reads about the visitor.
pub struct Visitor<'a> {
    /// Their email (normalised), the key of Marketo's record; `None`: nothing is looked up.
    pub email: Option<&'a str>,
    /// The lead fields they sent.
    pub lead: &'a Map<String, Value>,
    pub answers: &'a BTreeMap<String, String>,
}

/// A route ready for the rotation, and how rules chose it (`None` for a named route).
pub struct Resolved {
    pub route: Route,
    pub routed: Option<Routed>,
}

/// Resolves the route text `text` (the parameter `field`) for `visitor`.
pub async fn resolve(
    env: &Env,
    database: &D1Database,
    site: &Site,
    text: &str,
    field: &str,
    visitor: &Visitor<'_>,
) -> Result<Resolved, ApiError> {
    let Some(rules_ref) = RulesRef::parse(text, field) else {
        return Ok(Resolved {
            route: Route::parse(text, field)?,
            routed: None,
        });
    };
    let rules_ref = rules_ref?;
    if !site.dialogue_ids.contains(&rules_ref.dialogue) {
        return Err(ApiError::field(
            field,
            "names no published dialogue of this site",
        ));
    }
    let published = dialogues::published(database, &site.id).await?;
    let json = published
        .iter()
        .find(|p| p.dialogue == rules_ref.dialogue)
        .map(|p| p.json.as_str())
        .ok_or_else(|| ApiError::field(field, "names no published dialogue of this site"))?;
    let rules = route_rules::card_rules(json, &rules_ref.card, field)?;
    // Checked when the dialogue was published; a failure here is ours, not the visitor's.
    let compiled = rules.compile("route").map_err(|d| {
        ApiError::Storage(format!(
            "routing rules of {text}: {}",
            d.first().map(|d| d.message.as_str()).unwrap_or("invalid")
        ))
    })?;
    let known = match visitor.email {
        Some(email) => known_fields(env, database, site, "email", email).await?.1,
        None => Map::new(),
    };
    let owner_field = rules.owner_field.as_deref().unwrap_or(DEFAULT_OWNER_FIELD);
    let facts = route_rules::facts(visitor.lead, &known, visitor.answers, owner_field);
    // The queue first; then its agents, among whom the lead's owner is looked for.
    let queue = compiled.route(&facts, &|_| Vec::new()).queue;
    let route = Route::Queue(queue.clone());
    let rotation = route_rotation(database, &site.id, &route).await?;
    let agents: Vec<QueueAgent> = rotation_agents(database, &site.id, &rotation)
        .await?
        .into_iter()
        .map(|a| QueueAgent {
            agent: AgentId(a.id),
            email: a.email,
        })
        .collect();
    let decision = compiled.route(&facts, &|q| {
        if q == queue {
            agents.clone()
        } else {
            Vec::new()
        }
    });
    Ok(Resolved {
        route,
        routed: Some(Routed::new(&rules_ref, &decision)),
    })
}
