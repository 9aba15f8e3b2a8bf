//! The meetings part of `/admin/...`: the route table (bearer token or console session), the
//! agents (list, view, create/update, delete) and the invitation template; calendars, queues
//! and records have their own modules.

use super::super::db;
use super::super::reply::{json_body, Reply};
use super::super::store::{self, agents::AgentWrite, meetings::TemplateRow};
use super::agents::{all_agents, one_agent, settings_of, Agent};
use super::connect::{delete_calendar, oauth_callback, oauth_start, put_caldav};
use super::invitation::{template, template_texts};
use super::mail_outbox::list_outbox;
use super::queues::{
    get_queue, get_queue_template, join_default_queue, list_queues, put_queue, put_queue_template,
    set_order,
};
use super::records::{assignments, cancel_meeting, list_meetings, no_show};
use super::router_protocol::{OrderJob, RouterAnswer};
use crate::error::ApiError;
use dynchat_scheduling::EmailAddress;
use serde_json::{json, Value};
use std::collections::HashMap;
use worker::{D1Database, Env, Method, Request};

const MAX_ADMIN_BODY: usize = 64 * 1024;

/// Whether an `/admin/...` path (after `admin`) belongs to the meetings API.
pub fn owns(rest: &[&str]) -> bool {
    matches!(
        rest,
        ["oauth", "callback"]
            | [
                "sites",
                _,
                "agents"
                    | "queues"
                    | "assignments"
                    | "meetings"
                    | "meeting-template"
                    | "mail-outbox"
                    | "meeting-requests"
                    | "default-queue",
                ..
            ]
    )
}

/// Routes the meetings part of `/admin/...`; `rest` is the path after `admin`. The router lets
/// the OAuth callback through unauthenticated (its `state` is single-use and signed) and every
/// other path only after its admin guard.
pub async fn admin(
    req: &mut Request,
    env: &Env,
    method: Method,
    rest: &[&str],
) -> Result<Reply, ApiError> {
    let database = db::database(env)?;
    if let ["oauth", "callback"] = rest {
        let r = oauth_callback(req, env, &database).await?;
        // A calendar connected through consent puts the agent into the default queue too.
        let who = r.body.as_ref().and_then(|b| {
            Some((
                b.get("site")?.as_str()?.to_string(),
                b.get("agent")?.as_str()?.to_string(),
            ))
        });
        if let Some((site, agent)) = who {
            join_default_queue(env, &database, &site, &agent).await?;
        }
        return Ok(r);
    }
    // Everything else: the router's guard has already admitted the token or an admin session.
    match (method, rest) {
        (Method::Get, ["sites", site, "agents"]) => list_agents(&database, site).await,
        (Method::Put, ["sites", site, "agents", id]) => {
            put_agent(req, env, &database, site, id).await
        }
        (Method::Get, ["sites", site, "agents", id]) => get_agent(&database, site, id).await,
        (Method::Delete, ["sites", site, "agents", id]) => {
            delete_agent(env, &database, site, id).await
        }
        (Method::Put, ["sites", site, "agents", id, "calendar"]) => {
            put_caldav(req, env, &database, site, id).await?;
            join_default_queue(env, &database, site, id).await?;
            get_agent(&database, site, id).await
        }
        (Method::Delete, ["sites", site, "agents", id, "calendar"]) => {
            delete_calendar(&database, site, id).await
        }
        (Method::Post, ["sites", site, "agents", id, "calendar", "connect"]) => {
            oauth_start(req, env, &database, site, id).await
        }
        (Method::Get, ["sites", site, "queues"]) => list_queues(&database, site).await,
        (Method::Get, ["sites", site, "queues", id]) => get_queue(&database, site, id).await,
        (Method::Get, ["sites", site, "queues", id, "request-notify"]) => {
            super::requests::notify(&database, (site, id), None).await
        }
        (Method::Put, ["sites", site, "queues", id, "request-notify"]) => {
            let body = json_body(req, MAX_ADMIN_BODY).await?;
            super::requests::notify(&database, (site, id), Some(body)).await
        }
        (Method::Put, ["sites", site, "queues", id]) => {
            put_queue(req, env, &database, site, id).await
        }
        (Method::Get, ["sites", site, "queues", id, "template"]) => {
            get_queue_template(&database, site, id).await
        }
        (Method::Put, ["sites", site, "queues", id, "template"]) => {
            put_queue_template(req, &database, site, id, false).await
        }
        (Method::Delete, ["sites", site, "queues", id, "template"]) => {
            put_queue_template(req, &database, site, id, true).await
        }
        (Method::Get, ["sites", site, "assignments"]) => assignments(req, &database, site).await,
        (Method::Get, ["sites", site, "mail-outbox"]) => list_outbox(req, &database, site).await,
        (Method::Get, ["sites", site, "meeting-requests"]) => {
            super::requests::list(&database, site).await
        }
        (Method::Get, ["sites", site, "meetings"]) => {
            list_meetings(req, env, &database, site).await
        }
        (Method::Post, ["sites", site, "meetings", id, "cancel"]) => {
            cancel_meeting(env, &database, site, id).await
        }
        (Method::Post, ["sites", site, "meetings", id, "reassign"]) => {
            super::reassign::reassign_route(req, env, &database, site, id).await
        }
        (Method::Post, ["sites", site, "meetings", id, "no-show"]) => {
            no_show(env, &database, site, id).await
        }
        (Method::Put, ["sites", site, "meeting-template"]) => {
            put_template(req, &database, site).await
        }
        (Method::Get, ["sites", site, "default-queue"]) => {
            require_site(&database, site).await?;
            let q = store::invites::default_queue(&database, site).await?;
            Ok(Reply::json(200, json!({"default_queue": q})))
        }
        (Method::Put, ["sites", site, "default-queue"]) => {
            put_default_queue(req, &database, site).await
        }
        (Method::Get, ["sites", site, "meeting-template"]) => {
            let t = template(&database, site).await?;
            Ok(Reply::json(
                200,
                json!({"subject": t.subject, "body": t.body, "location": t.location}),
            ))
        }
        _ => Err(ApiError::NotFound("admin path".into())),
    }
}

async fn require_site(database: &D1Database, site: &str) -> Result<(), ApiError> {
    if store::agents::site_exists(database, site).await? {
        Ok(())
    } else {
        Err(ApiError::NotFound("site".into()))
    }
}

fn agent_json(a: &Agent, queues: &[String]) -> Value {
    json!({
        "id": a.id, "name": a.name, "email": a.email, "settings": a.settings, "location": a.location,
        "calendar": a.provider.map(|p| json!({"provider": p.as_str(), "account": a.account, "state": a.state, "reason": a.reason})),
        "in_rotation": a.state == "connected",
        "queues": queues,
    })
}

/// For each agent, the queues they are in (by queue id).
async fn agent_queues(
    database: &D1Database,
    site: &str,
) -> Result<HashMap<String, Vec<String>>, ApiError> {
    let mut out: HashMap<String, Vec<String>> = HashMap::new();
    for q in store::queues::of_site(database, site).await? {
        for a in serde_json::from_str::<Vec<String>>(&q.agents).unwrap_or_default() {
            out.entry(a).or_default().push(q.id.clone());
        }
    }
    Ok(out)
}

async fn list_agents(database: &D1Database, site: &str) -> Result<Reply, ApiError> {
    let agents = all_agents(database, site).await?;
    let queues = agent_queues(database, site).await?;
    let list: Vec<Value> = agents
        .iter()
        .map(|a| agent_json(a, queues.get(&a.id).map(Vec::as_slice).unwrap_or(&[])))
        .collect();
    Ok(Reply::json(200, json!({"agents": list})))
}

async fn get_agent(database: &D1Database, site: &str, id: &str) -> Result<Reply, ApiError> {
    let a = one_agent(database, site, id).await?;
    let queues = agent_queues(database, site).await?;
    Ok(Reply::json(
        200,
        agent_json(&a, queues.get(id).map(Vec::as_slice).unwrap_or(&[])),
    ))
}

async fn put_agent(
    req: &mut Request,
    env: &Env,
    database: &D1Database,
    site: &str,
    id: &str,
) -> Result<Reply, ApiError> {
    require_site(database, site).await?;
    if !crate::validate::valid_id(id) {
        return Err(ApiError::field(
            "id",
            "must be 1-64 letters, digits, '-' or '_'",
        ));
    }
    let v = json_body(req, MAX_ADMIN_BODY).await?;
    let o = v
        .as_object()
        .ok_or_else(|| ApiError::field("$", "must be an object"))?;
    if let Some(k) = o
        .keys()
        .find(|k| !["name", "email", "settings", "location"].contains(&k.as_str()))
    {
        return Err(ApiError::field(
            k.chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect::<String>(),
            "unknown field",
        ));
    }
    let name = o
        .get("name")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|n| !n.is_empty() && n.chars().count() <= 100)
        .ok_or_else(|| ApiError::field("name", "is required (at most 100 characters)"))?;
    let email = o.get("email").and_then(Value::as_str).unwrap_or_default();
    let email =
        EmailAddress::parse(email, "email").map_err(|e| ApiError::field("email", e.to_string()))?;
    let settings = settings_of(&v)?;
    let location = match o.get("location") {
        None | Some(Value::Null) => None,
        Some(Value::String(l)) if l.chars().count() <= 200 && !l.contains(['\r', '\n']) => {
            Some(l.trim()).filter(|l| !l.is_empty())
        }
        Some(_) => {
            return Err(ApiError::field(
                "location",
                "must be one line of text of at most 200 characters",
            ))
        }
    };
    let now = db::now(env, database).await?;
    store::agents::upsert(
        database,
        &AgentWrite {
            site,
            id,
            name,
            email: email.as_str(),
            settings: &serde_json::to_string(&settings)?,
            location,
            now,
        },
    )
    .await?;
    get_agent(database, site, id).await
}

/// Takes the agent out of every queue (through each queue's router), then deletes them and
/// their calendar connection.
async fn delete_agent(
    env: &Env,
    database: &D1Database,
    site: &str,
    id: &str,
) -> Result<Reply, ApiError> {
    for q in store::queues::of_site(database, site).await? {
        let order: Vec<String> = serde_json::from_str(&q.agents).unwrap_or_default();
        if order.iter().any(|a| a == id) {
            let rest: Vec<String> = order.into_iter().filter(|a| a != id).collect();
            let job = OrderJob {
                site: site.to_string(),
                queue: q.id.clone(),
                agents: rest,
                name: None,
                weights: None,
                fairness: None,
            };
            if !matches!(set_order(env, job).await?, Ok(RouterAnswer::Queue { .. })) {
                return Err(ApiError::Storage(format!("queue {} not updated", q.id)));
            }
        }
    }
    store::agents::delete(database, site, id).await?;
    Ok(Reply::json(200, json!({"agent": id, "deleted": true})))
}

async fn put_template(
    req: &mut Request,
    database: &D1Database,
    site: &str,
) -> Result<Reply, ApiError> {
    require_site(database, site).await?;
    let v = json_body(req, MAX_ADMIN_BODY).await?;
    let (subject, body) = template_texts(&v)?;
    let location = match v.get("location") {
        None | Some(Value::Null) => None,
        Some(Value::String(l)) if l.len() <= 1000 => Some(l.as_str()),
        Some(_) => {
            return Err(ApiError::field(
                "location",
                "must be text of at most 1,000 bytes",
            ))
        }
    };
    store::meetings::put_template(
        database,
        site,
        &TemplateRow {
            subject: subject.clone(),
            body: body.clone(),
            location: location.map(str::to_string),
        },
        db::real_now(),
    )
    .await?;
    Ok(Reply::json(
        200,
        json!({"subject": subject, "body": body, "location": location}),
    ))
}

/// `PUT /admin/sites/{site}/default-queue {"default_queue": "sales" | null}`: the queue an agent
/// joins (at the end) when they connect a calendar.
async fn put_default_queue(
    req: &mut Request,
    database: &D1Database,
    site: &str,
) -> Result<Reply, ApiError> {
    require_site(database, site).await?;
    let v = json_body(req, MAX_ADMIN_BODY).await?;
    let queue = match v.get("default_queue") {
        Some(Value::Null) => None,
        Some(Value::String(q)) if store::queues::get(database, site, q).await?.is_some() => {
            Some(q.as_str())
        }
        _ => {
            return Err(ApiError::field(
                "default_queue",
                "must be the id of a queue of this site, or null",
            ))
        }
    };
    store::invites::set_default_queue(database, site, queue).await?;
    Ok(Reply::json(200, json!({"default_queue": queue})))
}
