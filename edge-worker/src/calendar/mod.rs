//! Calendar providers: Google Calendar, Microsoft Graph and CalDAV behind one trait.
//!
//! Plain Rust here (native tests): providers, stored credentials and their encryption
//! (AES-256-GCM, key from the `CALENDAR_KEY` secret), provider request bodies. The fetch-based
//! clients and the OAuth token exchange are in `client` (wasm32 only). Every base URL comes
//! from configuration, so tests point them at the local peers.

#[cfg(target_arch = "wasm32")]
pub mod client;
#[cfg(target_arch = "wasm32")]
mod events;

use crate::error::ApiError;
use crate::secrets;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// Which kind of calendar an agent connected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Provider {
    Google,
    Graph,
    Caldav,
}

impl Provider {
    pub fn parse(s: &str) -> Option<Provider> {
        match s {
            "google" => Some(Provider::Google),
            "graph" | "microsoft" => Some(Provider::Graph),
            "caldav" => Some(Provider::Caldav),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Google => "google",
            Provider::Graph => "graph",
            Provider::Caldav => "caldav",
        }
    }

    /// Graph mails the attendees itself; for the others dynchat sends the iMIP invitation.
    pub fn sends_invitations(self) -> bool {
        self == Provider::Graph
    }
}

/// What is stored encrypted for a connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Credentials {
    /// Google or Graph: the long-lived refresh token.
    OAuth { refresh_token: String },
    /// CalDAV: HTTP Basic credentials for the collection URL.
    Basic { username: String, password: String },
}

/// The 32-byte key: 64 hex digits, or any other text hashed with SHA-256.
pub fn key_from_secret(secret: &str) -> Result<[u8; 32], ApiError> {
    Ok(*secrets::Key::from_hex_or_text("CALENDAR_KEY", secret)?.bytes())
}

/// Encrypts credentials, bound to `context` (site/agent/provider) as associated data, so a
/// ciphertext copied to another row does not decrypt ([`crate::secrets`]).
pub fn seal(
    key: &[u8; 32],
    nonce: [u8; 12],
    context: &str,
    creds: &Credentials,
) -> Result<String, ApiError> {
    let plain = serde_json::to_vec(creds)?;
    secrets::seal(&secrets::Key::from_bytes(*key), nonce, context, &plain)
}

/// Decrypts what [`seal`] wrote; a wrong key, context or a tampered value is an error.
pub fn open(key: &[u8; 32], context: &str, sealed: &str) -> Result<Credentials, ApiError> {
    let plain = secrets::open(
        &secrets::Key::from_bytes(*key),
        context,
        sealed,
        "credentials (CALENDAR_KEY)",
    )?;
    serde_json::from_slice(&plain).map_err(ApiError::from)
}

/// The associated data of a connection's ciphertext.
pub fn seal_context(site: &str, agent: &str, provider: Provider) -> String {
    format!("dynchat/{site}/{agent}/{}", provider.as_str())
}

/// Percent-encoding for query strings and form bodies (see [`crate::encode`]).
pub fn urlencode(s: &str) -> String {
    crate::encode::query_value(s)
}

/// `a=1&b=2` with every value encoded.
pub fn form(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", urlencode(k), urlencode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Everything a provider needs to create an event.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub summary: String,
    /// Plain text body (Graph mails it; Google and CalDAV keep it as the description).
    pub description: String,
    pub location: Option<String>,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub attendee_email: String,
    pub attendee_name: String,
    pub organizer_email: String,
    pub organizer_name: String,
    pub google_event_id: String,
    pub graph_transaction_id: String,
    pub uid: String,
    /// Ask the provider for a video meeting: Google Meet through conference data, Teams
    /// through Graph's online-meeting flag. CalDAV cannot make one (the agent's fixed link
    /// is the `video_link`).
    pub video: bool,
    /// A video link known beforehand (the agent's fixed link): written into the CalDAV
    /// resource (`LOCATION`, `URL`).
    pub video_link: Option<String>,
    /// The iCalendar `SEQUENCE` of the CalDAV resource: 0 for a booking, the meeting's
    /// sequence for an event made again by a move (the same as the visitor's update mail).
    pub sequence: u32,
}

/// The event a provider made, and the video link it made for it (if any).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Created {
    pub id: String,
    pub video: Option<String>,
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Body of Google's `events.insert` with the client-chosen id (a retry gets 409 `duplicate`).
pub fn google_event_body(e: &NewEvent) -> Value {
    let mut v = json!({
        "id": e.google_event_id,
        "summary": e.summary,
        "description": e.description,
        "start": {"dateTime": rfc3339(e.start), "timeZone": "UTC"},
        "end": {"dateTime": rfc3339(e.end), "timeZone": "UTC"},
        "attendees": [{"email": e.attendee_email, "displayName": e.attendee_name}],
        "iCalUID": e.uid,
    });
    if let Some(l) = &e.location {
        v["location"] = json!(l);
    }
    if e.video {
        // Honoured only with `conferenceDataVersion=1` on the request (Google ignores it
        // otherwise); the request id is the event id, so a retry asks for the same meeting.
        v["conferenceData"] = json!({"createRequest": {
            "requestId": e.google_event_id,
            "conferenceSolutionKey": {"type": "hangoutsMeet"},
        }});
    }
    v
}

/// Body of Google's `events.patch` moving an event: only its times (the conference stays).
pub fn google_move_body(start: DateTime<Utc>, end: DateTime<Utc>) -> Value {
    json!({
        "start": {"dateTime": rfc3339(start), "timeZone": "UTC"},
        "end": {"dateTime": rfc3339(end), "timeZone": "UTC"},
    })
}

/// Body of Graph's `PATCH /me/events/{id}` moving an event (the online meeting stays).
pub fn graph_move_body(start: DateTime<Utc>, end: DateTime<Utc>) -> Value {
    let naive = |t: DateTime<Utc>| t.format("%Y-%m-%dT%H:%M:%S").to_string();
    json!({
        "start": {"dateTime": naive(start), "timeZone": "UTC"},
        "end": {"dateTime": naive(end), "timeZone": "UTC"},
    })
}

/// A link we pass on to visitors: an `https://` URL without spaces or markup characters.
fn usable_link(s: &str) -> Option<String> {
    dynchat_scheduling::check_video_link("video", s)
        .ok()
        .map(|()| s.to_string())
}

/// The video link of a Google event: the `video` entry point of its conference data (a
/// conference still `pending` has none yet), else `hangoutLink`.
pub fn google_video_link(event: &Value) -> Option<String> {
    let entry = event
        .pointer("/conferenceData/entryPoints")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find(|p| p.get("entryPointType").and_then(Value::as_str) == Some("video"))
        .and_then(|p| p.get("uri"))
        .and_then(Value::as_str);
    entry
        .or_else(|| event.get("hangoutLink").and_then(Value::as_str))
        .and_then(usable_link)
}

/// The Teams link of a Graph event (`onlineMeeting.joinUrl`).
pub fn graph_video_link(event: &Value) -> Option<String> {
    event
        .pointer("/onlineMeeting/joinUrl")
        .and_then(Value::as_str)
        .and_then(usable_link)
}

/// Body of Graph's `POST /me/events` with `transactionId` (a retry returns the same event).
pub fn graph_event_body(e: &NewEvent) -> Value {
    let naive = |t: DateTime<Utc>| t.format("%Y-%m-%dT%H:%M:%S").to_string();
    let mut v = json!({
        "subject": e.summary,
        "body": {"contentType": "text", "content": e.description},
        "start": {"dateTime": naive(e.start), "timeZone": "UTC"},
        "end": {"dateTime": naive(e.end), "timeZone": "UTC"},
        "attendees": [{"emailAddress": {"address": e.attendee_email, "name": e.attendee_name}, "type": "required"}],
        "transactionId": e.graph_transaction_id,
        "showAs": "busy",
    });
    if let Some(l) = &e.location {
        v["location"] = json!({"displayName": l});
    }
    if e.video {
        v["isOnlineMeeting"] = json!(true);
        v["onlineMeetingProvider"] = json!("teamsForBusiness");
    }
    v
}

/// The CalDAV resource of event `e` (iCalendar `REQUEST` form, `SEQUENCE` the event's), stamped
/// `now`; an address that is not one is the error.
pub fn caldav_body(e: &NewEvent, now: DateTime<Utc>) -> Result<String, String> {
    let person = |name: &str, email: &str| {
        dynchat_scheduling::EmailAddress::parse(email, "email")
            .map(|email| dynchat_scheduling::Person {
                name: name.to_string(),
                email,
            })
            .map_err(|e| e.to_string())
    };
    let meeting = dynchat_scheduling::Meeting {
        uid: e.uid.clone(),
        summary: e.summary.clone(),
        description: e.description.clone(),
        location: e.location.clone(),
        video: e.video_link.clone(),
        start: e.start,
        end: e.end,
        organizer: person(&e.organizer_name, &e.organizer_email)?,
        attendees: vec![person(&e.attendee_name, &e.attendee_email)?],
    };
    Ok(dynchat_scheduling::caldav_resource(
        &meeting, e.sequence, now,
    ))
}

/// The error code of an OAuth token endpoint's JSON answer (`invalid_grant`, ...).
pub fn oauth_error(body: &str) -> Option<String> {
    serde_json::from_str::<Value>(body)
        .ok()?
        .get("error")?
        .as_str()
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;

    #[test]
    fn credentials_round_trip_and_resist_tampering() {
        let key =
            key_from_secret("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
                .expect("key");
        let c = Credentials::OAuth {
            refresh_token: "1//rt-alice".into(),
        };
        let ctx = seal_context("acme", "alice", Provider::Google);
        let sealed = seal(&key, [7; 12], &ctx, &c).expect("seal");
        assert!(!sealed.contains("rt-alice"));
        assert_eq!(open(&key, &ctx, &sealed).expect("open"), c);
        // Another row, another key, a flipped byte: all refused.
        assert!(open(
            &key,
            &seal_context("acme", "bob", Provider::Google),
            &sealed
        )
        .is_err());
        assert!(open(&key_from_secret("other").expect("key"), &ctx, &sealed).is_err());
        let mut raw = base64::engine::general_purpose::STANDARD
            .decode(&sealed)
            .expect("b64");
        raw[20] ^= 1;
        assert!(open(
            &key,
            &ctx,
            &base64::engine::general_purpose::STANDARD.encode(raw)
        )
        .is_err());
        assert!(key_from_secret("  ").is_err());
    }

    #[test]
    fn video_links_are_read_from_the_provider_answers() {
        let g = json!({"hangoutLink": "https://meet.google.com/aaa-bbbb-ccc",
            "conferenceData": {"entryPoints": [
                {"entryPointType": "phone", "uri": "tel:+1-555"},
                {"entryPointType": "video", "uri": "https://meet.google.com/xyz-abcd-efg"}]}});
        assert_eq!(
            google_video_link(&g).as_deref(),
            Some("https://meet.google.com/xyz-abcd-efg")
        );
        let only_hangout = json!({"hangoutLink": "https://meet.google.com/aaa-bbbb-ccc"});
        assert_eq!(
            google_video_link(&only_hangout).as_deref(),
            Some("https://meet.google.com/aaa-bbbb-ccc")
        );
        let pending =
            json!({"conferenceData": {"createRequest": {"status": {"statusCode": "pending"}}}});
        assert_eq!(google_video_link(&pending), None);
        let hostile = json!({"hangoutLink": "javascript:alert(1)"});
        assert_eq!(google_video_link(&hostile), None);
        let m = json!({"isOnlineMeeting": true, "onlineMeeting": {"joinUrl": "https://teams.microsoft.com/l/meetup-join/19%3ameeting"}});
        assert_eq!(
            graph_video_link(&m).as_deref(),
            Some("https://teams.microsoft.com/l/meetup-join/19%3ameeting")
        );
        assert_eq!(graph_video_link(&json!({"onlineMeeting": null})), None);
        let t = DateTime::parse_from_rfc3339("2027-03-01T09:00:00Z")
            .expect("t")
            .with_timezone(&Utc);
        let b = google_move_body(t, t + chrono::Duration::minutes(30));
        assert_eq!(b["end"]["dateTime"], "2027-03-01T09:30:00Z");
        assert!(b.get("conferenceData").is_none());
        assert_eq!(
            graph_move_body(t, t)["start"]["dateTime"],
            "2027-03-01T09:00:00"
        );
    }

    #[test]
    fn form_encoding_escapes_reserved_characters() {
        assert_eq!(
            form(&[("a", "x y&z"), ("r", "http://h/p?q=1")]),
            "a=x%20y%26z&r=http%3A%2F%2Fh%2Fp%3Fq%3D1"
        );
    }

    #[test]
    fn event_bodies_carry_the_idempotency_ids() {
        let t = DateTime::parse_from_rfc3339("2027-03-01T09:00:00Z")
            .expect("t")
            .with_timezone(&Utc);
        let e = NewEvent {
            summary: "S".into(),
            description: "D".into(),
            location: None,
            start: t,
            end: t + chrono::Duration::minutes(30),
            attendee_email: "ann@example.com".into(),
            attendee_name: "Ann".into(),
            organizer_email: "bob@example.com".into(),
            organizer_name: "Bob".into(),
            google_event_id: "dcabc".into(),
            graph_transaction_id: "tx".into(),
            uid: "m-1@dynchat".into(),
            video: false,
            video_link: None,
            sequence: 0,
        };
        let ics = caldav_body(&e, t).expect("caldav body");
        assert!(ics.contains("\r\nSEQUENCE:0\r\n"), "{ics}");
        let moved = caldav_body(
            &NewEvent {
                sequence: 2,
                ..e.clone()
            },
            t,
        )
        .expect("moved body");
        assert!(moved.contains("\r\nSEQUENCE:2\r\n"), "{moved}");
        let g = google_event_body(&e);
        assert!(g.get("conferenceData").is_none());
        assert!(graph_event_body(&e).get("isOnlineMeeting").is_none());
        let g = google_event_body(&NewEvent {
            video: true,
            ..e.clone()
        });
        assert_eq!(g["conferenceData"]["createRequest"]["requestId"], "dcabc");
        assert_eq!(
            g["conferenceData"]["createRequest"]["conferenceSolutionKey"]["type"],
            "hangoutsMeet"
        );
        let m = graph_event_body(&NewEvent {
            video: true,
            ..e.clone()
        });
        assert_eq!(m["isOnlineMeeting"], true);
        assert_eq!(m["onlineMeetingProvider"], "teamsForBusiness");
        assert_eq!(g["id"], "dcabc");
        assert_eq!(g["start"]["dateTime"], "2027-03-01T09:00:00Z");
        let m = graph_event_body(&e);
        assert_eq!(m["transactionId"], "tx");
        assert_eq!(m["end"]["dateTime"], "2027-03-01T09:30:00");
        assert_eq!(
            oauth_error(r#"{"error":"invalid_grant"}"#).as_deref(),
            Some("invalid_grant")
        );
    }
}
