//! The D1 statements of the worker, one file per group of tables; the logic modules above hold
//! no SQL. Each function binds its arguments and maps rows to plain structs.

pub mod agents;
pub mod calendars;
pub mod mail;
pub mod meeting_activity;
pub mod meetings;
pub mod queues;
