//! Meetings at the edge, in layers: the public `slots` and `book` endpoints, the booking job
//! and queue reorders the route's `QueueRouter` runs (spoken to through a typed client), the
//! mail outbox, calendar connections and the admin API. SQL lives in `edge/store`.
//!
//! Layers, each importing only from the layers above it (never sideways or up):
//! 1. `query`, `config`, `router_protocol` (the typed `QueueRouter` requests and answers);
//! 2. `router_client`, `agents`, `replay`;
//! 3. `mail_outbox`, `routing` (a route resolved, routing rules included);
//! 4. `invitation`;
//! 5. `changed` (the tail a move and a reassignment share: the visitor's update, the agent's
//!    notice, the Marketo activity, one batch);
//! 6. `public`, `booking`, `queues`, `connect`, `records`, `moving` (a visitor's reschedule),
//!    `requests` (the no-slot fallback: preferred times, the queue told by mail);
//! 7. `visitor` (the visitor's link page), `reassign` (an admin gives a queue meeting to another
//!    agent of the queue, through the queue's router; reuses the move's event making);
//! 8. `admin` (the `/admin` route table).

pub mod admin;
pub mod agents;
pub mod booking;
pub mod changed;
pub mod config;
pub mod connect;
pub mod invitation;
pub mod mail_outbox;
pub mod moving;
pub mod public;
pub mod query;
pub mod queues;
pub mod reassign;
pub mod records;
pub mod replay;
pub mod requests;
pub mod router_client;
pub mod router_protocol;
pub mod routing;
pub mod visitor;
