//! `QueueRouter` Durable Object: a placeholder. The meetings work fills it with the per-queue
//! round-robin pointer and slot holds; until then it answers 501 to everything.

use worker::{durable_object, Env, Request, Response, State};

#[durable_object]
pub struct QueueRouter {
    _state: State,
}

impl worker::DurableObject for QueueRouter {
    fn new(state: State, _env: Env) -> Self {
        QueueRouter { _state: state }
    }

    async fn fetch(&self, _req: Request) -> worker::Result<Response> {
        Response::error("QueueRouter is not implemented yet (meetings work)", 501)
    }
}
