//! dynchat engine: the dialogue format, its compiler, the sans-IO conversation state machine and audience targeting.
//!
//! Architecture Invariant: nothing in this crate does I/O or reads a clock. Time comes in as
//! `Now` (ms since the Unix epoch) and identifiers from the host, so the same inputs give the
//! same outputs natively, in the worker and in the browser (wasm32).

pub mod assets;
pub mod compile;
pub mod cut;
pub mod date;
pub mod diag;
pub mod experiment;
pub mod fields;
pub mod html;
pub mod i18n;
pub mod json;
pub mod launcher;
pub mod letters;
pub mod machine;
pub mod model;
pub mod routing;
pub mod rules;
pub mod simulate;
pub mod spec;
pub mod style;
pub mod targeting;
pub mod textmap;
pub mod tokens;

pub use compile::{compile, compile_with, CompiledFlow, Options};
pub use diag::{Diagnostic, Severity};
pub use machine::{step, Booking, BrowserEvent, Effect, Input, Now, Prompt, Session, Status};
pub use model::{schema_json, Dialogue};
pub use simulate::{parse_answers, simulate, simulate_script, ScriptError, SimOptions};
pub use textmap::TextMap;
