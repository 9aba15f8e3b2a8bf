//! Queues: the admin's list, view and update (`/admin/sites/{site}/queues[/{id}]`: order, name,
//! weights, fairness options), and the update itself, run by the queue's `QueueRouter` so it
//! never interleaves with a booking; a queue's own invitation texts (`queues/{id}/template`).

use super::super::db;
use super::super::reply::{json_body, Reply};
use super::super::store::{self, queues::QueueWrite};
use super::agents::queue_state;
use super::invitation::{template_for, template_texts};
use super::router_client;
use super::router_protocol::{
    OrderJob, QueueView, RouterAnswer, RouterError, RouterReply, RouterRequest, UncountJob,
};
use crate::error::ApiError;
use crate::meetings::Route;
use dynchat_scheduling::{AgentId, Outcome, RotationState};
use serde_json::{json, Value};
use worker::{D1Database, Env, Request};

const MAX_ADMIN_BODY: usize = 64 * 1024;

/// A queue as the admin API shows it.
pub fn queue_view(id: &str, name: &str, r: &RotationState) -> QueueView {
    QueueView {
        id: id.to_string(),
        name: name.to_string(),
        agents: r.agents.iter().map(|a| a.agent.clone()).collect(),
        last_agent: r.last.clone(),
        next_in_line: r.next_in_line().cloned(),
        weights: r
            .agents
            .iter()
            .map(|a| (a.agent.clone(), a.weight))
            .collect(),
        fairness: r.fairness,
    }
}

/// Replaces a queue's order (and weights, fairness options), serialised with bookings by the
/// queue's router: whoever was next in line among the agents still present stays next, and a
/// newcomer starts at the fair point.
pub async fn run_order_job(env: &Env, job: OrderJob) -> RouterReply {
    order_job(env, job).await.map_err(RouterError::from)
}

async fn order_job(env: &Env, job: OrderJob) -> Result<RouterAnswer, ApiError> {
    let database = db::database(env)?;
    let (site, queue) = (job.site.as_str(), job.queue.as_str());
    let now = db::real_now();
    let (mut rotation, old_name) = match store::queues::get(&database, site, queue).await? {
        Some(q) => (queue_state(&q)?, q.name),
        None => (RotationState::default(), queue.to_string()),
    };
    rotation.set_agents(job.agents.into_iter().map(AgentId).collect());
    if let Some(weights) = job.weights {
        let all: Vec<(AgentId, u32)> = rotation
            .agents
            .iter()
            .map(|a| {
                (
                    a.agent.clone(),
                    weights.get(&a.agent.0).copied().unwrap_or(1),
                )
            })
            .collect();
        rotation
            .set_weights(&all)
            .map_err(|e| ApiError::field("weights", e.to_string()))?;
    }
    if let Some(fairness) = job.fairness {
        rotation.fairness = fairness;
    }
    let agents: Vec<&str> = rotation.agents.iter().map(|a| a.agent.0.as_str()).collect();
    let name = job.name.as_deref().unwrap_or(&old_name);
    store::queues::upsert(
        &database,
        &QueueWrite {
            site,
            id: queue,
            name,
            agents: &serde_json::to_string(&agents)?,
            last_agent: rotation.last.as_ref().map(|a| a.0.as_str()),
            rotation: &rotation.to_json(),
            now,
        },
    )
    .await?;
    Ok(RouterAnswer::Queue {
        queue: queue_view(queue, name, &rotation),
    })
}

/// Takes a cancelled or no-show meeting back from the queue's rotation when the queue's
/// fairness options say it does not count; run by the queue's router.
pub async fn run_uncount_job(env: &Env, job: UncountJob) -> RouterReply {
    uncount_job(env, job).await.map_err(RouterError::from)
}

async fn uncount_job(env: &Env, job: UncountJob) -> Result<RouterAnswer, ApiError> {
    let database = db::database(env)?;
    let Some(row) = store::queues::get(&database, &job.site, &job.queue).await? else {
        return Ok(RouterAnswer::Uncounted { taken_back: false });
    };
    let mut rotation = queue_state(&row)?;
    let taken_back = rotation.uncount(&AgentId(job.agent), job.outcome);
    if taken_back {
        let st = store::queues::set_rotation(
            &database,
            &job.site,
            &job.queue,
            rotation.last.as_ref().map(|a| a.0.as_str()),
            &rotation.to_json(),
        )?;
        db::batch(&database, vec![st]).await?;
    }
    Ok(RouterAnswer::Uncounted { taken_back })
}

/// Tells a queue meeting's router that the meeting was cancelled or not attended (a meeting
/// booked with one named agent has no rotation). A failure is logged, not returned: the
/// meeting's own change already happened.
pub async fn uncount_meeting(env: &Env, site: &str, route: &Route, agent: &str, outcome: Outcome) {
    let Route::Queue(queue) = route else {
        return;
    };
    let job = UncountJob {
        site: site.to_string(),
        queue: queue.clone(),
        agent: agent.to_string(),
        outcome,
    };
    match router_client::call(env, site, route, &RouterRequest::Uncount(job)).await {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => worker::console_error!("queue {queue}: uncount failed: {e:?}"),
        Err(e) => worker::console_error!("queue {queue}: uncount failed: {e}"),
    }
}

/// Asks the queue's router to set its order; the queue as it is then.
pub async fn set_order(env: &Env, job: OrderJob) -> Result<RouterReply, ApiError> {
    let route = Route::Queue(job.queue.clone());
    let site = job.site.clone();
    router_client::call(env, &site, &route, &RouterRequest::Order(job)).await
}

/// `GET /admin/sites/{site}/queues`.
pub async fn list_queues(database: &D1Database, site: &str) -> Result<Reply, ApiError> {
    let list = store::queues::of_site(database, site)
        .await?
        .iter()
        .map(|q| Ok(queue_view(&q.id, &q.name, &queue_state(q)?)))
        .collect::<Result<Vec<QueueView>, ApiError>>()?;
    Ok(Reply::json(200, json!({"queues": list})))
}

/// `GET /admin/sites/{site}/queues/{id}`.
pub async fn get_queue(database: &D1Database, site: &str, id: &str) -> Result<Reply, ApiError> {
    let q = store::queues::get(database, site, id)
        .await?
        .ok_or_else(|| ApiError::NotFound("queue".into()))?;
    Ok(Reply::json(
        200,
        serde_json::to_value(queue_view(&q.id, &q.name, &queue_state(&q)?))?,
    ))
}

/// `PUT /admin/sites/{site}/queues/{id}`
/// `{"agents": [...], "name"?, "weights"?: {"agent": 1..=100}, "fairness"?: {"count_cancelled"?:
/// bool, "count_no_show"?: bool}}`.
pub async fn put_queue(
    req: &mut Request,
    env: &Env,
    database: &D1Database,
    site: &str,
    id: &str,
) -> Result<Reply, ApiError> {
    if !store::agents::site_exists(database, site).await? {
        return Err(ApiError::NotFound("site".into()));
    }
    if !crate::validate::valid_id(id) {
        return Err(ApiError::field(
            "id",
            "must be 1-64 letters, digits, '-' or '_'",
        ));
    }
    let v = json_body(req, MAX_ADMIN_BODY).await?;
    let list = v.get("agents").and_then(Value::as_array).ok_or_else(|| {
        ApiError::field("agents", "must be an array of agent ids in rotation order")
    })?;
    let known = store::agents::ids(database, site).await?;
    let mut agents = Vec::new();
    for (i, a) in list.iter().enumerate() {
        match a.as_str() {
            Some(a) if known.iter().any(|k| k == a) => {
                if agents.iter().any(|x: &String| x == a) {
                    return Err(ApiError::field(format!("agents[{i}]"), "is listed twice"));
                }
                agents.push(a.to_string());
            }
            _ => {
                return Err(ApiError::field(
                    format!("agents[{i}]"),
                    "is not an agent of this site",
                ))
            }
        }
    }
    let name = match v.get("name") {
        None | Some(Value::Null) => None,
        Some(Value::String(n)) if n.chars().count() <= 100 => Some(n.clone()),
        Some(_) => {
            return Err(ApiError::field(
                "name",
                "must be text of at most 100 characters",
            ))
        }
    };
    let weights = crate::queue_options::weights(&v, &agents)?;
    let fairness = crate::queue_options::fairness(&v)?;
    let job = OrderJob {
        site: site.to_string(),
        queue: id.to_string(),
        agents,
        name,
        weights,
        fairness,
    };
    match set_order(env, job).await? {
        Ok(RouterAnswer::Queue { queue }) => Ok(Reply::json(200, serde_json::to_value(queue)?)),
        Ok(_) => Err(ApiError::Storage("queue update failed".into())),
        Err(RouterError::Conflict { message } | RouterError::Failed { message }) => {
            Err(ApiError::Storage(message))
        }
        Err(RouterError::SlotTaken { .. } | RouterError::Busy) => {
            Err(ApiError::Storage("queue update failed".into()))
        }
    }
}

/// Puts an agent who just connected a calendar at the end of the site's default queue (the
/// site setting `default_queue`), through the queue's router, and notes it in the assignment
/// log (outcome `joined`). Nothing happens without a default queue, for an agent already in
/// it, or when the queue does not exist (yet). Answers the queue's id when the agent joined.
pub async fn join_default_queue(
    env: &Env,
    database: &D1Database,
    site: &str,
    agent: &str,
) -> Result<Option<String>, ApiError> {
    let Some(queue) = store::invites::default_queue(database, site).await? else {
        return Ok(None);
    };
    let Some(row) = store::queues::get(database, site, &queue).await? else {
        return Ok(None);
    };
    let mut agents: Vec<String> = serde_json::from_str(&row.agents).unwrap_or_default();
    if agents.iter().any(|a| a == agent) {
        return Ok(None);
    }
    agents.push(agent.to_string());
    let position = agents.len();
    let job = OrderJob {
        site: site.to_string(),
        queue: queue.clone(),
        agents,
        name: None,
        weights: None,
        fairness: None,
    };
    let view = match set_order(env, job).await? {
        Ok(RouterAnswer::Queue { queue }) => queue,
        _ => return Err(ApiError::Storage(format!("queue {queue} not updated"))),
    };
    let now = db::real_now();
    let reason = json!({"joined": "calendar connected", "position": position}).to_string();
    let st = store::meetings::log_assignment(
        database,
        &store::meetings::LogWrite {
            site,
            route: &format!("queue:{queue}"),
            meeting: None,
            slot_start: now,
            slot_end: now,
            next_in_line: view.next_in_line.as_ref().map(|a| a.0.as_str()),
            chosen: Some(agent),
            skipped: "[]",
            reason: &reason,
            outcome: "joined",
            routed: None,
            at: now,
        },
    )?;
    db::batch(database, vec![st]).await?;
    Ok(Some(queue))
}

/// `GET /admin/sites/{site}/queues/{id}/template`: the invitation texts the queue's meetings
/// get (`own`: the queue's own, else the site's).
pub async fn get_queue_template(
    database: &D1Database,
    site: &str,
    id: &str,
) -> Result<Reply, ApiError> {
    require_queue(database, site, id).await?;
    let own = store::queue_templates::get(database, site, id).await?;
    let t = template_for(database, site, &format!("queue:{id}")).await?;
    Ok(Reply::json(
        200,
        json!({"queue": id, "subject": t.subject, "body": t.body, "own": own.is_some()}),
    ))
}

/// `PUT /admin/sites/{site}/queues/{id}/template {"subject", "body"}` (the site template's
/// tokens; 400 naming the field); `DELETE` gives the queue the site's texts again.
pub async fn put_queue_template(
    req: &mut Request,
    database: &D1Database,
    site: &str,
    id: &str,
    delete: bool,
) -> Result<Reply, ApiError> {
    require_queue(database, site, id).await?;
    if delete {
        store::queue_templates::delete(database, site, id).await?;
    } else {
        let v = json_body(req, MAX_ADMIN_BODY).await?;
        let (subject, body) = template_texts(&v)?;
        let row = store::queue_templates::QueueTemplateRow { subject, body };
        store::queue_templates::put(database, site, id, &row, db::real_now()).await?;
    }
    get_queue_template(database, site, id).await
}

async fn require_queue(database: &D1Database, site: &str, id: &str) -> Result<(), ApiError> {
    match store::queues::get(database, site, id).await? {
        Some(_) => Ok(()),
        None => Err(ApiError::NotFound("queue".into())),
    }
}
