//! Meetings at the edge, in layers: the public `slots` and `book` endpoints, the booking job
//! and queue reorders the route's `QueueRouter` runs (spoken to through a typed client), the
//! mail outbox, calendar connections and the admin API. SQL lives in `edge/store`.
//!
//! Lower modules first; each imports only modules above it in this list:
//! `query`, `config`, `router_protocol` -> `router_client`, `agents`, `replay` -> `mail_outbox`
//! -> `invitation` -> `public`, `booking`, `queues`, `connect`, `records` -> `admin`.

pub mod admin;
pub mod agents;
pub mod booking;
pub mod config;
pub mod connect;
pub mod invitation;
pub mod mail_outbox;
pub mod public;
pub mod query;
pub mod queues;
pub mod records;
pub mod replay;
pub mod router_client;
pub mod router_protocol;
