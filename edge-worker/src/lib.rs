//! dynchat edge worker: the public API, D1 storage, the Marketo forwarder and sync, metrics.
//!
//! Layers: `edge` (wasm32 only) parses HTTP, talks to D1 / Queues / Durable Objects and calls
//! the plain-Rust domain modules below, which have native unit tests (`cargo test -p dynchat-worker`).

pub mod auth;
pub mod blocklist;
pub mod bundle;
pub mod calendar;
pub mod cors;
pub mod csp;
pub mod days;
pub mod encode;
pub mod error;
pub mod experiments;
pub mod install;
pub mod mail;
pub mod marketo;
pub mod meeting_requests;
pub mod meetings;
pub mod metrics;
pub mod queue_options;
pub mod ratelimit;
pub mod route_rules;
pub mod secrets;
pub mod site_settings;
pub mod validate;
pub mod visitor_links;
pub mod widget_files;

#[cfg(target_arch = "wasm32")]
mod edge;

pub use error::ApiError;
