//! The store layer: every SQL statement of the edge, one module per table group. Handlers and
//! Durable Objects call these functions; they never write SQL themselves.

pub mod accounts;
pub mod agenda;
pub mod leads;
pub mod marketo_settings;
