//! The store layer: every SQL statement of the edge, one module per table group. Handlers and
//! Durable Objects call these functions; they never write SQL themselves.

pub mod accounts;
pub mod agenda;
pub mod dead_letters;
pub mod dialogues;
pub mod events;
pub mod leads;
pub mod marketo_settings;
pub mod reports;
pub mod sites;
pub mod traits_cache;
