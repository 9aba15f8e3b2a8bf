//! iCalendar objects for a meeting: iTIP REQUEST / CANCEL for email, and the CalDAV resource.
//!
//! Every line is folded at 75 octets and ended with CRLF; TEXT values are escaped; times are
//! UTC. The UID is the caller's and must stay the same for the life of the meeting; a change
//! or a cancellation carries a higher SEQUENCE.

use crate::ids::EmailAddress;
use crate::text::{fold_ics_line, ics_param, ics_text};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A named address: an agent, a visitor, the sender.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    pub name: String,
    pub email: EmailAddress,
}

/// What the invitation describes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meeting {
    /// Stable for the meeting's whole life, e.g. `m-01HX...@dynchat.example.com`.
    pub uid: String,
    pub summary: String,
    pub description: String,
    /// Where to meet (the site's template location).
    pub location: Option<String>,
    /// The meeting's video link (Google Meet, Teams or the agent's fixed link): written as
    /// `LOCATION` (instead of the template's), `URL` and, for a Meet link, the
    /// `X-GOOGLE-CONFERENCE` Google's own invitations carry; the description gets a
    /// "Join the video call" line, which every client shows.
    pub video: Option<String>,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// The agent, whose calendar holds the event.
    pub organizer: Person,
    /// The visitor (and anyone else invited).
    pub attendees: Vec<Person>,
}

/// The iTIP method of an emailed calendar object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IcsMethod {
    Request,
    Cancel,
}

impl IcsMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            IcsMethod::Request => "REQUEST",
            IcsMethod::Cancel => "CANCEL",
        }
    }
}

/// Where the object goes, which decides METHOD and SCHEDULE-AGENT.
#[derive(Clone, Copy)]
enum Target {
    Email(IcsMethod),
    /// Stored with PUT: no METHOD (RFC 4791 4.1), and SCHEDULE-AGENT=CLIENT so the server
    /// does not send invitations of its own (RFC 6638 7.1): the product sends them.
    Caldav,
}

fn utc_stamp(t: DateTime<Utc>) -> String {
    t.format("%Y%m%dT%H%M%SZ").to_string()
}

fn write(meeting: &Meeting, target: Target, sequence: u32, now: DateTime<Utc>) -> String {
    let cancelled = matches!(target, Target::Email(IcsMethod::Cancel));
    let mut lines: Vec<String> = vec![
        "BEGIN:VCALENDAR".into(),
        "VERSION:2.0".into(),
        "PRODID:-//dynchat//scheduling//EN".into(),
        "CALSCALE:GREGORIAN".into(),
    ];
    if let Target::Email(method) = target {
        lines.push(format!("METHOD:{}", method.as_str()));
    }
    lines.extend([
        "BEGIN:VEVENT".into(),
        format!("UID:{}", ics_text(&meeting.uid)),
        format!("DTSTAMP:{}", utc_stamp(now)),
        format!("SEQUENCE:{sequence}"),
        format!(
            "STATUS:{}",
            if cancelled { "CANCELLED" } else { "CONFIRMED" }
        ),
        format!("DTSTART:{}", utc_stamp(meeting.start)),
        format!("DTEND:{}", utc_stamp(meeting.end)),
        format!("SUMMARY:{}", ics_text(&meeting.summary)),
    ]);
    let video = meeting.video.as_deref().filter(|l| !l.is_empty());
    let description = match video {
        Some(v) if !meeting.description.contains(v) => format!(
            "{}\n\nJoin the video call: {v}\n",
            meeting.description.trim_end()
        )
        .trim_start()
        .to_string(),
        _ => meeting.description.clone(),
    };
    if !description.is_empty() {
        lines.push(format!("DESCRIPTION:{}", ics_text(&description)));
    }
    let location = video.or(meeting.location.as_deref().filter(|l| !l.is_empty()));
    if let Some(location) = location {
        lines.push(format!("LOCATION:{}", ics_text(location)));
    }
    if let Some(v) = video {
        lines.push(format!("URL:{v}"));
        if v.starts_with("https://meet.google.com/") {
            lines.push(format!("X-GOOGLE-CONFERENCE:{v}"));
        }
    }
    lines.push(format!(
        "ORGANIZER;CN={}:mailto:{}",
        ics_param(&meeting.organizer.name),
        meeting.organizer.email
    ));
    let agent = if matches!(target, Target::Caldav) {
        ";SCHEDULE-AGENT=CLIENT"
    } else {
        ""
    };
    for a in &meeting.attendees {
        lines.push(format!(
            "ATTENDEE;CN={};CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE{agent}:mailto:{}",
            ics_param(&a.name),
            a.email
        ));
    }
    lines.push("TRANSP:OPAQUE".into());
    lines.push("END:VEVENT".into());
    lines.push("END:VCALENDAR".into());
    let mut out = String::new();
    for l in &lines {
        fold_ics_line(l, &mut out);
    }
    out
}

/// The calendar object for an invitation email (iMIP): `METHOD:REQUEST` with
/// `STATUS:CONFIRMED`, or `METHOD:CANCEL` with `STATUS:CANCELLED`; `now` is the DTSTAMP.
pub fn ics(meeting: &Meeting, method: IcsMethod, sequence: u32, now: DateTime<Utc>) -> String {
    write(meeting, Target::Email(method), sequence, now)
}

/// The calendar object to `PUT` into the agent's CalDAV calendar (no METHOD; attendees
/// marked `SCHEDULE-AGENT=CLIENT`).
pub fn caldav_resource(meeting: &Meeting, sequence: u32, now: DateTime<Utc>) -> String {
    write(meeting, Target::Caldav, sequence, now)
}
