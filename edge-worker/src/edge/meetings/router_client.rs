//! The typed client of a route's `QueueRouter` Durable Object (one object per queue, one per
//! named agent).

use super::router_protocol::{RouterReply, RouterRequest};
use crate::error::ApiError;
use crate::meetings::Route;
use worker::{Env, Method, Request, RequestInit};

/// Sends a request to the route's router and reads its reply. `Err` only when the object
/// could not be reached or answered something unreadable.
pub async fn call(
    env: &Env,
    site: &str,
    route: &Route,
    request: &RouterRequest,
) -> Result<RouterReply, ApiError> {
    let ns = env
        .durable_object("QUEUE_ROUTER")
        .map_err(|e| ApiError::Config(e.to_string()))?;
    let stub = ns
        .id_from_name(&format!("{site}/{}", route.as_string()))?
        .get_stub()?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_body(Some(serde_json::to_string(request)?.into()));
    let req = Request::new_with_init("https://queue-router/", &init)?;
    let mut resp = stub.fetch_with_request(req).await?;
    resp.json::<RouterReply>()
        .await
        .map_err(|e| ApiError::Storage(format!("router answer: {e}")))
}
