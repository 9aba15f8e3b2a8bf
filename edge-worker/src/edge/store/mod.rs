//! D1 statements grouped by the tables they touch, so the modules that decide what to do hold
//! no SQL. Each file names its tables.

pub mod marketo;
pub mod outbox;
