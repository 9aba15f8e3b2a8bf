//! dynchat's pure scheduling core: agent settings, slots across time zones and DST, round robin, free/busy parsing and invitations.
//!
//! Architecture invariant: this crate does no I/O and reads no clock. Every function that needs
//! "now" takes it as an argument, so the same inputs give the same outputs natively and in wasm32.
//!
//! Code map, in the order data flows through a booking:
//! - [`settings`]: an agent's zone, working hours (a night shift such as 22:00-02:00 belongs to
//!   the day it starts), meeting length, buffers, notice, horizon (calendar days in the agent's
//!   zone, today included: see [`AgentSettingsInput::horizon_days`]).
//! - [`freebusy`]: request bodies for Google, Microsoft Graph and CalDAV, and parsers of their
//!   answers into [`Busy`] (a calendar that failed is [`Busy::Unknown`], never free).
//! - [`slots`](mod@slots): bookable slots of one agent or of a queue, in UTC (ends in real time), and labels
//!   in the visitor's zone; a queue offers each start once, each agent free for their own length.
//! - [`rotation`]: round-robin assignment of a start that records why each skipped agent was
//!   skipped; the caller asks each agent with [`slot_at`].
//! - [`fair`]: weights, fairness options and the versioned rotation state the queue stores
//!   (virtual-time counters; equal weights give exactly the plain order).
//! - [`routing`]: which queue a visitor's meeting goes to (rules on lead, company and answers;
//!   the lead's owner first).
//! - [`ical`] and [`email`]: the iCalendar object and the iMIP invitation / cancellation email.

pub mod email;
pub mod error;
pub mod fair;
pub mod freebusy;
pub mod ical;
mod ical_read;
pub mod ids;
pub mod rotation;
pub mod routing;
pub mod settings;
pub mod slots;
mod text;

pub use email::{invitation_email, validate_template, InvitationEmail};
pub use error::SchedulingError;
pub use fair::{AgentTurns, Fairness, Outcome, RotationState};
pub use freebusy::caldav::{
    caldav_calendar_query, caldav_freebusy_query, parse_caldav_events, parse_caldav_freebusy,
};
pub use freebusy::google::{google_calendar_busy, google_freebusy_request, parse_google_freebusy};
pub use freebusy::graph::{
    graph_schedule_requests, merge_graph_answers, parse_graph_schedule, GraphScheduleRequest,
    GraphStatus,
};
pub use ical::{caldav_resource, ics, IcsMethod, Meeting, Person};
pub use ids::{AgentId, EmailAddress};
pub use rotation::{
    assign, Assigning, Assignment, Availability, Reason, Rotation, SkipReason, Skipped,
};
pub use settings::{check_video_link, AgentSettings, AgentSettingsInput, TimeRange, WeeklyHours};
pub use slots::{label, parse_tz, queue_slots, slot_at, slots, Busy, Interval, QueueSlot, Slot};
pub use text::html as escape_html;
