//! Meetings domain in plain Rust: routes, the booking request, ids derived from the
//! idempotency key, why a slot cannot be booked, template rendering and the displayed status.
//!
//! The wasm edge (`edge/meetings/`, `edge/queue_router.rs`, SQL in `edge/store/`) does the I/O
//! around these.

use crate::error::ApiError;
use chrono::{DateTime, Duration, Utc};
use dynchat_scheduling::{AgentSettings, Busy, EmailAddress, Slot};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// Where a booking goes: round robin over a queue, or one named agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Route {
    Queue(String),
    Agent(String),
}

impl Route {
    /// Parses `queue:sales` or `agent:alice`; `field` names the parameter in the error.
    pub fn parse(s: &str, field: &str) -> Result<Route, ApiError> {
        let bad = || ApiError::field(field, "must be queue:<id> or agent:<id>");
        let (kind, id) = s.split_once(':').ok_or_else(bad)?;
        if !crate::validate::valid_id(id) {
            return Err(bad());
        }
        match kind {
            "queue" => Ok(Route::Queue(id.to_string())),
            "agent" => Ok(Route::Agent(id.to_string())),
            _ => Err(bad()),
        }
    }

    /// The canonical text form, also the name of the route's `QueueRouter` object.
    pub fn as_string(&self) -> String {
        match self {
            Route::Queue(q) => format!("queue:{q}"),
            Route::Agent(a) => format!("agent:{a}"),
        }
    }
}

/// A validated `POST /book` body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BookInput {
    pub route: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub tz: String,
    pub email: String,
    pub name: String,
    pub lead: Map<String, Value>,
    pub dialogue: String,
    pub session: String,
    /// The visitor's answers by card id (read by routing rules only).
    #[serde(default)]
    pub answers: std::collections::BTreeMap<String, String>,
    /// The experiment variant the visitor ran (checked against the dialogue's variants).
    #[serde(default)]
    pub variant: Option<String>,
}

fn instant(v: &Value, field: &str) -> Result<DateTime<Utc>, ApiError> {
    let s = v.as_str().ok_or_else(|| {
        ApiError::field(
            field,
            "must be an ISO 8601 instant like 2027-03-01T09:00:00Z",
        )
    })?;
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| {
            ApiError::field(
                field,
                "must be an ISO 8601 instant like 2027-03-01T09:00:00Z",
            )
        })
}

fn short_text(o: &Map<String, Value>, key: &str, max: usize) -> Result<String, ApiError> {
    match o.get(key) {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) if s.chars().count() <= max && !s.chars().any(char::is_control) => {
            Ok(s.clone())
        }
        Some(_) => Err(ApiError::field(
            key,
            format!("must be text of at most {max} characters"),
        )),
    }
}

/// Validates the booking body. Times must be instants and `end` after `start`; `tz` an IANA
/// zone; `lead.email` a usable address; other lead fields short strings.
pub fn book_input(body: &Value) -> Result<BookInput, ApiError> {
    let o = body
        .as_object()
        .ok_or_else(|| ApiError::field("$", "must be an object"))?;
    if let Some(k) = o.keys().find(|k| {
        ![
            "route", "start", "end", "tz", "lead", "dialogue", "session", "hash", "card",
            "answers", "variant",
        ]
        .contains(&k.as_str())
    }) {
        return Err(ApiError::field(
            k.chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect::<String>(),
            "unknown field",
        ));
    }
    let route_text = o
        .get("route")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::field("route", "is required"))?;
    // A rules route stays as sent: the edge resolves it to a queue before booking.
    let route = match crate::route_rules::RulesRef::parse(route_text, "route") {
        Some(r) => r.map(|_| route_text.to_string())?,
        None => Route::parse(route_text, "route")?.as_string(),
    };
    let answers = crate::route_rules::answers(o.get("answers"))?;
    let start = instant(o.get("start").unwrap_or(&Value::Null), "start")?;
    let end = instant(o.get("end").unwrap_or(&Value::Null), "end")?;
    if end <= start {
        return Err(ApiError::field("end", "must be after start"));
    }
    if end - start > Duration::hours(12) {
        return Err(ApiError::field("end", "a meeting lasts at most 12 hours"));
    }
    let tz = o
        .get("tz")
        .and_then(Value::as_str)
        .unwrap_or("UTC")
        .to_string();
    dynchat_scheduling::parse_tz(&tz, "tz").map_err(|e| ApiError::field("tz", e.to_string()))?;
    let lead = o
        .get("lead")
        .and_then(Value::as_object)
        .ok_or_else(|| ApiError::field("lead", "must be an object with an email"))?;
    let fields = crate::route_rules::visitor_lead(lead)?;
    let email_raw = fields
        .get("email")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !dynchat_engine::fields::valid_email(email_raw) {
        return Err(ApiError::field("lead.email", "a valid email is required"));
    }
    let email = dynchat_engine::fields::normalise_email(email_raw);
    EmailAddress::parse(&email, "lead.email")
        .map_err(|e| ApiError::field("lead.email", e.to_string()))?;
    let first = fields
        .get("firstName")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let last = fields
        .get("lastName")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let name = format!("{first} {last}").trim().to_string();
    let dialogue = short_text(o, "dialogue", 64)?;
    let session = short_text(o, "session", 128)?;
    let variant = match o.get("variant") {
        None | Some(Value::Null) => None,
        Some(Value::String(v)) if crate::validate::valid_id(v) && !dialogue.is_empty() => {
            Some(v.clone())
        }
        Some(_) => {
            return Err(ApiError::field(
                "variant",
                "must be a variant id of the booking's dialogue (letters, digits, - and _)",
            ))
        }
    };
    Ok(BookInput {
        route,
        start,
        end,
        tz,
        email,
        name,
        lead: fields,
        dialogue,
        session,
        answers,
        variant,
    })
}

/// A 24-hex digest of the site and the idempotency key: every id of a booking derives from it,
/// so a retry after a crash creates nothing twice.
pub fn key_digest(site: &str, key: &str) -> [u8; 32] {
    Sha256::digest(format!("{site}\0{key}").as_bytes()).into()
}

/// The ids of one booking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookingIds {
    pub meeting: String,
    /// Google client-chosen event id: base32hex, lowercase (`[a-v0-9]`).
    pub google_event: String,
    /// Graph `transactionId` (a GUID-shaped string).
    pub graph_transaction: String,
    /// iCalendar UID, also the CalDAV resource name (`{uid}.ics`).
    pub uid: String,
}

/// Ids derived from the site and the idempotency key.
pub fn booking_ids(site: &str, key: &str) -> BookingIds {
    let d = key_digest(site, key);
    let hex: String = d.iter().map(|b| format!("{b:02x}")).collect();
    const B32HEX: &[u8; 32] = b"0123456789abcdefghijklmnopqrstuv";
    let mut google = String::with_capacity(52);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for b in d.iter().take(20) {
        acc = (acc << 8) | u32::from(*b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            google.push(B32HEX[((acc >> bits) & 31) as usize] as char);
        }
    }
    let meeting = format!("m-{}", &hex[..24]);
    BookingIds {
        uid: format!("{meeting}@dynchat"),
        meeting,
        google_event: format!("dc{google}"),
        graph_transaction: guid(&hex),
    }
}

/// A GUID-shaped id (`8-4-4-4-12`) of the first 32 digits of a hex digest: Graph's
/// `transactionId`.
pub fn guid(hex: &str) -> String {
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// Why a requested slot is not bookable for any agent of the route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlotProblem {
    InPast,
    InsideNotice,
    BeyondHorizon,
    NotASlot,
}

impl SlotProblem {
    /// The 400 the visitor gets.
    pub fn error(self) -> ApiError {
        match self {
            SlotProblem::InPast => ApiError::field("start", "is in the past"),
            SlotProblem::InsideNotice => {
                ApiError::field("start", "is inside the minimum notice before a meeting")
            }
            SlotProblem::BeyondHorizon => ApiError::field(
                "start",
                "is beyond the days on which meetings can be booked",
            ),
            SlotProblem::NotASlot => ApiError::field(
                "start",
                "is not a bookable slot of this route (working hours and meeting length)",
            ),
        }
    }
}

/// Whether a meeting starting at `start` is one of the agent's slots (for their own meeting
/// length) when the calendar is empty: working hours, meeting length, notice and horizon. The
/// calendar itself is checked later, in the router.
pub fn slot_problem(
    agent: &AgentSettings,
    start: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Option<SlotProblem> {
    if start <= now {
        return Some(SlotProblem::InPast);
    }
    if start < now + Duration::minutes(i64::from(agent.min_notice_minutes())) {
        return Some(SlotProblem::InsideNotice);
    }
    if free_slot(agent, &Busy::Known(Vec::new()), start, now).is_some() {
        return None;
    }
    // Past the horizon: the same slot would exist with "now" moved forward.
    let later =
        start - Duration::minutes(i64::from(agent.min_notice_minutes())) - Duration::minutes(1);
    if free_slot(agent, &Busy::Known(Vec::new()), start, later).is_some() {
        return Some(SlotProblem::BeyondHorizon);
    }
    Some(SlotProblem::NotASlot)
}

/// The agent's free slot starting at `start` given `busy` (hours, their own meeting length,
/// buffers, notice): the slot the agent would hold if they get the meeting.
pub fn free_slot(
    agent: &AgentSettings,
    busy: &Busy,
    start: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Option<Slot> {
    dynchat_scheduling::slot_at(agent, busy, start, now)
}

/// Was `start`..`end` offered for this route: is `end` the end of some agent's own slot at
/// `start` (calendars aside)? The offer shows the latest end among the free agents, which is one
/// of these; any other length was never offered.
pub fn offered_end<'a>(
    agents: impl IntoIterator<Item = &'a AgentSettings>,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    now: DateTime<Utc>,
) -> bool {
    agents
        .into_iter()
        .any(|a| free_slot(a, &Busy::Known(Vec::new()), start, now).is_some_and(|s| s.end == end))
}

/// The least severe problem over several agents (the visitor sees the most useful one).
pub fn route_slot_problem<'a>(
    agents: impl IntoIterator<Item = &'a AgentSettings>,
    start: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Option<SlotProblem> {
    let mut worst = None;
    for a in agents {
        match slot_problem(a, start, now) {
            None => return None,
            Some(p) => {
                let rank = |p: SlotProblem| match p {
                    SlotProblem::InPast => 0,
                    SlotProblem::InsideNotice => 1,
                    SlotProblem::BeyondHorizon => 2,
                    SlotProblem::NotASlot => 3,
                };
                worst = Some(match worst {
                    Some(w) if rank(w) >= rank(p) => w,
                    _ => p,
                });
            }
        }
    }
    Some(worst.unwrap_or(SlotProblem::NotASlot))
}

/// Renders the invitation tokens into plain text (for Graph, which mails the event body itself).
pub fn render_template(
    template: &str,
    visitor: &str,
    agent: &str,
    time: &str,
    link: &str,
) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find("{{") {
        let after = &rest[open + 2..];
        let Some(close) = after.find("}}") else { break };
        let value = match after[..close].trim() {
            "visitor.name" => Some(visitor),
            "agent.name" => Some(agent),
            "meeting.time" => Some(time),
            "meeting.link" => Some(link),
            _ => None,
        };
        out.push_str(&rest[..open]);
        match value {
            Some(v) => out.push_str(v),
            None => out.push_str(&rest[open..open + 2 + close + 2]),
        }
        rest = &after[close + 2..];
    }
    out.push_str(rest);
    out
}

/// Invitation texts used when a site has not set its own.
pub const DEFAULT_SUBJECT: &str = "Meeting with {{agent.name}}: {{meeting.time}}";
/// Default invitation body.
pub const DEFAULT_BODY: &str = "Hi {{visitor.name}},\n\nyour meeting with {{agent.name}} is booked for {{meeting.time}}.\n\n{{meeting.link}}\n";
/// Where a meeting's video link comes from: the one rule for bookings and moves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VideoPlan {
    /// Ask the calendar for a meeting (Google Meet, Teams).
    pub ask_provider: bool,
    /// The agent's fixed link: CalDAV's link, and the fallback when the provider made none.
    pub fixed: Option<String>,
}

/// The plan for an agent: nothing when their `video` setting is off; Google and Graph make
/// a meeting; the fixed `video_link` otherwise (and as the fallback).
pub fn video_plan(
    settings: &AgentSettings,
    provider: Option<crate::calendar::Provider>,
) -> VideoPlan {
    use crate::calendar::Provider;
    if !settings.video() {
        return VideoPlan {
            ask_provider: false,
            fixed: None,
        };
    }
    VideoPlan {
        ask_provider: matches!(provider, Some(Provider::Google | Provider::Graph)),
        fixed: settings.video_link().map(str::to_string),
    }
}

impl VideoPlan {
    /// The link of the meeting: the one the provider made, else the fixed one.
    pub fn link(&self, made: Option<String>) -> Option<String> {
        made.or_else(|| self.fixed.clone())
    }
}

/// The line a mail's template gets when the meeting has a video link the template does not
/// already show through `{{meeting.link}}`.
pub fn with_video_line(template: &str, has_video: bool) -> String {
    if has_video && !template.contains("{{meeting.link}}") {
        format!(
            "{}\n\nJoin the video call: {{{{meeting.link}}}}\n",
            template.trim_end()
        )
    } else {
        template.to_string()
    }
}

/// The agent's notification.
pub const NOTIFY_SUBJECT: &str = "New meeting with {{visitor.name}}: {{meeting.time}}";
/// The agent's notification body.
pub const NOTIFY_BODY: &str =
    "{{visitor.name}} booked a meeting with you for {{meeting.time}} through the website chat.\n";
/// The agent's notice of a cancelled meeting (the visitor's or an admin's cancel; the old agent
/// of a reassigned meeting).
pub const AGENT_CANCEL_SUBJECT: &str =
    "Cancelled: meeting with {{visitor.name}} on {{meeting.time}}";
/// The agent's cancellation notice body.
pub const AGENT_CANCEL_BODY: &str =
    "Your meeting with {{visitor.name}} on {{meeting.time}} is cancelled; the time is free again.\n";

/// The status an admin sees: a scheduled meeting that has ended is `completed`.
pub fn shown_status(stored: &str, end_ms: i64, now_ms: i64) -> &str {
    if stored == "scheduled" && end_ms <= now_ms {
        "completed"
    } else {
        stored
    }
}

/// An RFC 3339 UTC instant with seconds.
pub fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Milliseconds since the epoch to an instant.
pub fn from_ms(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn video_plan_per_provider_and_setting() {
        use crate::calendar::Provider;
        let with = |extra: Value| {
            let mut v = json!({"time_zone": "UTC", "working_hours": {"mon": [{"start": "09:00", "end": "17:00"}]}, "meeting_minutes": 30});
            if let (Some(o), Some(e)) = (v.as_object_mut(), extra.as_object()) {
                o.extend(e.clone());
            }
            AgentSettings::from_json(&v.to_string()).expect("valid")
        };
        let plain = with(json!({}));
        assert!(video_plan(&plain, Some(Provider::Google)).ask_provider);
        assert!(video_plan(&plain, Some(Provider::Graph)).ask_provider);
        let caldav = video_plan(&plain, Some(Provider::Caldav));
        assert_eq!((caldav.ask_provider, caldav.link(None)), (false, None));
        let fixed = with(json!({"video_link": "https://zoom.example/j/1"}));
        let p = video_plan(&fixed, Some(Provider::Caldav));
        assert_eq!(p.link(None).as_deref(), Some("https://zoom.example/j/1"));
        let g = video_plan(&fixed, Some(Provider::Google));
        assert_eq!(
            g.link(Some("https://meet.google.com/a-b-c".into()))
                .as_deref(),
            Some("https://meet.google.com/a-b-c")
        );
        let off = with(json!({"video": false, "video_link": "https://zoom.example/j/1"}));
        let p = video_plan(&off, Some(Provider::Google));
        assert_eq!((p.ask_provider, p.link(None)), (false, None));
        assert_eq!(with_video_line("Hi\n", false), "Hi\n");
        assert_eq!(
            with_video_line("Hi\n", true),
            "Hi\n\nJoin the video call: {{meeting.link}}\n"
        );
        assert_eq!(with_video_line(DEFAULT_BODY, true), DEFAULT_BODY);
    }

    #[test]
    fn the_built_in_mail_texts_are_valid_templates() {
        for (text, field) in [
            (DEFAULT_SUBJECT, "subject"),
            (DEFAULT_BODY, "body"),
            (NOTIFY_SUBJECT, "subject"),
            (NOTIFY_BODY, "body"),
            (AGENT_CANCEL_SUBJECT, "subject"),
            (AGENT_CANCEL_BODY, "body"),
        ] {
            let checked = dynchat_scheduling::validate_template(text, field);
            assert!(checked.is_ok(), "{text:?}: {checked:?}");
        }
    }

    fn settings() -> AgentSettings {
        AgentSettings::from_json(&json!({"time_zone": "Europe/Amsterdam", "working_hours": {"mon": [{"start": "09:00", "end": "17:00"}]}, "meeting_minutes": 30, "min_notice_minutes": 120}).to_string()).expect("valid")
    }

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .expect("time")
            .with_timezone(&Utc)
    }

    #[test]
    fn routes_parse_and_print() {
        assert_eq!(
            Route::parse("queue:sales", "route").expect("ok"),
            Route::Queue("sales".into())
        );
        assert_eq!(
            Route::parse("agent:a1", "route").expect("ok").as_string(),
            "agent:a1"
        );
        for bad in ["sales", "team:x", "queue:", "agent:a b"] {
            assert!(Route::parse(bad, "route").is_err(), "{bad}");
        }
    }

    #[test]
    fn book_input_names_the_bad_field() {
        let ok = json!({"route": "queue:sales", "start": "2027-03-01T09:00:00Z", "end": "2027-03-01T09:30:00Z", "tz": "Asia/Kolkata", "lead": {"email": "Ann@Example.com", "firstName": "Ann"}});
        let b = book_input(&ok).expect("valid");
        assert_eq!(b.email, "ann@example.com");
        assert_eq!(b.name, "Ann");
        let cases = [
            ("start", json!("tomorrow")),
            ("end", json!("2027-03-01T08:00:00Z")),
            ("tz", json!("Mars/Base")),
            ("route", json!("sales")),
        ];
        for (field, v) in cases {
            let mut body = ok.clone();
            body[field] = v;
            match book_input(&body) {
                Err(ApiError::BadField { field: f, .. }) => assert_eq!(f, field),
                other => panic!("{field}: {other:?}"),
            }
        }
        let mut body = ok.clone();
        body["lead"]["email"] = json!("not-an-email");
        assert!(
            matches!(book_input(&body), Err(ApiError::BadField { field, .. }) if field == "lead.email")
        );
    }

    #[test]
    fn book_input_carries_the_experiment_variant_of_its_dialogue() {
        let ok = json!({"route": "queue:sales", "start": "2027-03-01T09:00:00Z", "end": "2027-03-01T09:30:00Z", "lead": {"email": "ann@example.com"}, "dialogue": "demo-ab", "variant": "short"});
        assert_eq!(
            book_input(&ok).expect("valid").variant.as_deref(),
            Some("short")
        );
        let mut none = ok.clone();
        none["variant"] = Value::Null;
        assert_eq!(book_input(&none).expect("valid").variant, None);
        let mut no_dialogue = ok.clone();
        no_dialogue["dialogue"] = Value::Null;
        for body in [
            no_dialogue,
            json!({"variant": "a b"}),
            json!({"variant": 7}),
        ] {
            let mut b = ok.clone();
            for (k, v) in body.as_object().into_iter().flatten() {
                b[k] = v.clone();
            }
            match book_input(&b) {
                Err(ApiError::BadField { field, .. }) => assert_eq!(field, "variant", "{b}"),
                other => panic!("{b}: {other:?}"),
            }
        }
    }

    #[test]
    fn ids_are_stable_and_in_each_providers_alphabet() {
        let a = booking_ids("acme", "k-1");
        assert_eq!(a, booking_ids("acme", "k-1"));
        assert_ne!(a.meeting, booking_ids("acme", "k-2").meeting);
        assert!(
            a.google_event.len() >= 5
                && a.google_event
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'v').contains(&b))
        );
        assert_eq!(a.graph_transaction.len(), 36);
        assert!(a.uid.starts_with(&a.meeting));
    }

    #[test]
    fn slot_problems_are_told_apart() {
        let s = settings();
        // Monday 1 March 2027; Amsterdam is UTC+1.
        let now = t("2027-03-01T08:00:00Z");
        assert_eq!(
            slot_problem(&s, t("2027-03-01T07:00:00Z"), now),
            Some(SlotProblem::InPast)
        );
        assert_eq!(
            slot_problem(&s, t("2027-03-01T09:00:00Z"), now),
            Some(SlotProblem::InsideNotice)
        );
        assert_eq!(slot_problem(&s, t("2027-03-01T12:00:00Z"), now), None);
        assert_eq!(
            slot_problem(&s, t("2027-03-01T12:10:00Z"), now),
            Some(SlotProblem::NotASlot)
        );
        assert_eq!(
            slot_problem(&s, t("2027-03-01T17:00:00Z"), now),
            Some(SlotProblem::NotASlot)
        );
        assert_eq!(
            slot_problem(&s, t("2027-05-03T12:00:00Z"), now),
            Some(SlotProblem::BeyondHorizon)
        );
        // Only an offered end books: the agent's own length from the start.
        let start = t("2027-03-01T12:00:00Z");
        assert!(offered_end([&s], start, t("2027-03-01T12:30:00Z"), now));
        assert!(!offered_end([&s], start, t("2027-03-01T12:40:00Z"), now));
        assert!(!offered_end([&s], start, t("2027-03-01T12:15:00Z"), now));
        // The slot the agent would hold lasts their own meeting length from the start.
        assert_eq!(
            free_slot(&s, &Busy::Known(Vec::new()), t("2027-03-01T12:00:00Z"), now),
            Some(Slot {
                start: t("2027-03-01T12:00:00Z"),
                end: t("2027-03-01T12:30:00Z"),
            })
        );
    }

    #[test]
    fn templates_render_known_tokens_only() {
        let r = render_template(
            "Hi {{ visitor.name }}, {{agent.name}} at {{meeting.time}} {{lead.x}} {{",
            "Ann",
            "Bob",
            "Mon 10:00",
            "",
        );
        assert_eq!(r, "Hi Ann, Bob at Mon 10:00 {{lead.x}} {{");
    }

    #[test]
    fn ended_scheduled_meetings_show_completed() {
        assert_eq!(shown_status("scheduled", 10, 11), "completed");
        assert_eq!(shown_status("scheduled", 10, 9), "scheduled");
        assert_eq!(shown_status("no_show", 10, 11), "no_show");
    }
}
