//! `QueueRouter` Durable Object: one per queue (and one per named agent). It serialises every
//! booking and every reorder of its route with an async lock, because a Durable Object's input
//! gate does not hold other requests back while it awaits a fetch (calendar, SMTP). The
//! rotation pointer lives in D1 (`queues.last_agent`) and only this object moves it.

use super::meetings_api::{self, BookJob};
use futures_util::lock::Mutex;
use serde_json::Value;
use worker::{durable_object, Env, Request, Response, State};

#[durable_object]
pub struct QueueRouter {
    env: Env,
    lock: Mutex<()>,
}

impl worker::DurableObject for QueueRouter {
    fn new(_state: State, env: Env) -> Self {
        QueueRouter {
            env,
            lock: Mutex::new(()),
        }
    }

    async fn fetch(&self, mut req: Request) -> worker::Result<Response> {
        let path = req.path();
        let body: Value = match req.json().await {
            Ok(v) => v,
            Err(e) => {
                return Response::from_json(
                    &serde_json::json!({"status": 400, "code": "bad_json", "message": e.to_string()}),
                )
            }
        };
        let _turn = self.lock.lock().await;
        let answer = match path.as_str() {
            "/book" => match serde_json::from_value::<BookJob>(body) {
                Ok(job) => meetings_api::run_book_job(&self.env, job).await,
                Err(e) => {
                    serde_json::json!({"status": 400, "code": "bad_json", "message": e.to_string()})
                }
            },
            "/order" => meetings_api::run_order_job(&self.env, body).await,
            _ => {
                serde_json::json!({"status": 404, "code": "not_found", "message": "unknown router path"})
            }
        };
        Response::from_json(&answer)
    }
}
