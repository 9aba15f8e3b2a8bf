//! `QueueRouter` Durable Object: one per queue (and one per named agent). It serialises every
//! booking and every reorder of its route with an async lock, because a Durable Object's input
//! gate does not hold other requests back while it awaits a fetch (calendar, SMTP). The
//! rotation pointer lives in D1 (`queues.last_agent`) and only this object moves it.
//!
//! Its alarm delivers the mail outbox (invitations, notifications, cancellations): set right
//! after a booking so the visitor's answer never waits for SMTP, and again for the next retry
//! while a message is pending.

use super::meetings::router_protocol::{RouterAnswer, RouterError, RouterReply, RouterRequest};
use super::meetings::{booking, mail_outbox, moving, queues, reassign};
use futures_util::lock::Mutex;
use worker::{durable_object, Env, Request, Response, State};

#[durable_object]
pub struct QueueRouter {
    state: State,
    env: Env,
    lock: Mutex<()>,
    mail: Mutex<()>,
}

impl QueueRouter {
    /// Wakes the alarm `in_ms` from now (an earlier alarm already set is kept).
    async fn wake_in(&self, in_ms: i64) {
        let storage = self.state.storage();
        let now = worker::Date::now().as_millis() as i64;
        let at = now + in_ms.max(0);
        if let Ok(Some(t)) = storage.get_alarm().await {
            if t <= at {
                return;
            }
        }
        if let Err(e) = storage.set_alarm(in_ms.max(0)).await {
            worker::console_error!("router alarm: {e}");
        }
    }
}

impl worker::DurableObject for QueueRouter {
    fn new(state: State, env: Env) -> Self {
        QueueRouter {
            state,
            env,
            lock: Mutex::new(()),
            mail: Mutex::new(()),
        }
    }

    async fn fetch(&self, mut req: Request) -> worker::Result<Response> {
        let request: RouterRequest = match req.json().await {
            Ok(r) => r,
            Err(e) => {
                let reply: RouterReply = Err(RouterError::Failed {
                    message: format!("unreadable router request: {e}"),
                });
                return Response::from_json(&reply);
            }
        };
        let reply: RouterReply = match request {
            RouterRequest::Mail => {
                self.wake_in(0).await;
                Ok(RouterAnswer::MailScheduled)
            }
            RouterRequest::Book(job) => {
                let _turn = self.lock.lock().await;
                booking::run_book_job(&self.env, job).await
            }
            RouterRequest::Order(job) => {
                let _turn = self.lock.lock().await;
                queues::run_order_job(&self.env, job).await
            }
            RouterRequest::Uncount(job) => {
                let _turn = self.lock.lock().await;
                queues::run_uncount_job(&self.env, job).await
            }
            RouterRequest::Move(job) => {
                let _turn = self.lock.lock().await;
                moving::run_move_job(&self.env, job).await
            }
            RouterRequest::Reassign(job) => {
                let _turn = self.lock.lock().await;
                reassign::run_reassign_job(&self.env, job).await
            }
        };
        if let Ok(
            RouterAnswer::Booked { mail: true, .. }
            | RouterAnswer::Moved { mail: true, .. }
            | RouterAnswer::Reassigned { mail: true, .. },
        ) = &reply
        {
            self.wake_in(0).await;
        }
        Response::from_json(&reply)
    }

    async fn alarm(&self) -> worker::Result<Response> {
        let _m = self.mail.lock().await;
        let now = worker::Date::now().as_millis() as i64;
        match mail_outbox::deliver_mail(&self.env).await {
            Ok(Some(next)) => self.wake_in(next - now).await,
            Ok(None) => {}
            Err(e) => {
                worker::console_error!("mail outbox: {e}");
                self.wake_in(30_000).await;
            }
        }
        Response::ok("")
    }
}
