//! The store layer: every SQL statement of the edge, grouped by the tables it touches (each file
//! names its tables). Handlers and Durable Objects call these functions; they hold no SQL.

pub mod accounts;
pub mod agenda;
pub mod agents;
pub mod calendars;
pub mod dead_letters;
pub mod dialogues;
pub mod events;
pub mod experiments;
pub mod install;
pub mod invites;
pub mod leads;
pub mod mail;
pub mod marketo;
pub mod marketo_settings;
pub mod marketo_sync;
pub mod meeting_activity;
pub mod meeting_requests;
pub mod meetings;
pub mod outbox;
pub mod queue_templates;
pub mod queues;
pub mod reports;
pub mod sites;
pub mod traits_cache;
