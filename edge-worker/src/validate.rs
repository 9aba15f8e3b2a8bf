//! Strict validation of request bodies: every rejection names the offending field as a JSON path.
//!
//! Ids are restricted to a safe alphabet, so nothing visitor-controlled that could act as markup
//! ever reaches an id column; free text (answers, names) is kept as data, verbatim.

use crate::error::ApiError;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// Largest accepted body of a public POST, in bytes.
pub const MAX_BODY: usize = 64 * 1024;
/// Most events in one batch.
pub const MAX_EVENTS: usize = 100;
/// Bytes of one answer, field value or transcript line: the most an answer the engine accepts
/// can take (its limit is in characters).
const MAX_VALUE: usize = dynchat_engine::fields::MAX_ANSWER_BYTES;
const MAX_FIELDS: usize = 100;
const MAX_TRANSCRIPT: usize = dynchat_engine::fields::LEAD_TRANSCRIPT_LINES;

/// What the widget reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    Triggered,
    Engaged,
    Completed,
    Dropped,
    Answer,
    Goal,
    DocumentOpened,
    Closed,
}

impl EventKind {
    /// Parses the wire name.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "triggered" => EventKind::Triggered,
            "engaged" => EventKind::Engaged,
            "completed" => EventKind::Completed,
            "dropped" => EventKind::Dropped,
            "answer" => EventKind::Answer,
            "goal" => EventKind::Goal,
            "document_opened" => EventKind::DocumentOpened,
            "closed" => EventKind::Closed,
            _ => return None,
        })
    }

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Triggered => "triggered",
            EventKind::Engaged => "engaged",
            EventKind::Completed => "completed",
            EventKind::Dropped => "dropped",
            EventKind::Answer => "answer",
            EventKind::Goal => "goal",
            EventKind::DocumentOpened => "document_opened",
            EventKind::Closed => "closed",
        }
    }
}

/// One validated event.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub kind: EventKind,
    pub dialogue: String,
    pub hash: Option<String>,
    pub card: Option<String>,
    pub value: Option<String>,
    /// The experiment variant the visitor runs (checked against the dialogue's variants).
    pub variant: Option<String>,
    /// Client time (ms); informative only, the server's clock decides the day.
    pub at: i64,
}

/// A validated `POST /events` body.
#[derive(Debug, Clone, PartialEq)]
pub struct EventBatch {
    pub visitor: String,
    pub session: String,
    pub events: Vec<Event>,
}

/// Who said a transcript line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Speaker {
    Bot,
    Visitor,
}

/// A validated `POST /leads` body.
#[derive(Debug, Clone, PartialEq)]
pub struct LeadRequest {
    pub visitor: String,
    pub session: String,
    pub dialogue: String,
    pub hash: Option<String>,
    /// The experiment variant the visitor ran (checked against the dialogue's variants).
    pub variant: Option<String>,
    /// Marketo API field name -> value; always contains a valid, normalised `email`.
    pub fields: BTreeMap<String, String>,
    pub answers: BTreeMap<String, String>,
    pub overwrite: Vec<String>,
    pub transcript: Vec<(Speaker, String)>,
    pub mkto_trk: Option<String>,
}

impl LeadRequest {
    /// The normalised email.
    pub fn email(&self) -> &str {
        self.fields.get("email").map(String::as_str).unwrap_or("")
    }
}

/// A validated `POST /traits` body.
#[derive(Debug, Clone, PartialEq)]
pub struct TraitsRequest {
    pub mkto_trk: Option<String>,
    pub email: Option<String>,
    /// Requested fields as `lead.X` / `company.X` (bare names mean `lead.`).
    pub fields: Vec<String>,
}

/// Parses JSON text, mapping syntax errors to 400 `bad_json`.
pub fn parse_json(body: &[u8]) -> Result<Value, ApiError> {
    if body.len() > MAX_BODY {
        return Err(ApiError::TooLarge { limit: MAX_BODY });
    }
    serde_json::from_slice(body).map_err(ApiError::from)
}

/// True for `application/json` with optional parameters.
pub fn is_json_content_type(ct: Option<&str>) -> bool {
    ct.map(|c| {
        c.split(';')
            .next()
            .unwrap_or("")
            .trim()
            .eq_ignore_ascii_case("application/json")
    })
    .unwrap_or(false)
}

/// An id: 1..=64 of `[A-Za-z0-9_-]` (dialogue, card, site ids; visitor/session uuids).
pub fn valid_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The `Idempotency-Key` header of a write (`None` when absent): 8..=128 printable ASCII
/// characters, no spaces.
pub fn idempotency_key(header: Option<&str>) -> Result<String, ApiError> {
    let key = header.unwrap_or_default();
    if !(8..=128).contains(&key.len()) || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ApiError::field(
            "Idempotency-Key",
            "header of 8-128 printable characters is required",
        ));
    }
    Ok(key.to_string())
}

/// A Marketo API field name: a letter then letters, digits, `_`, at most 64.
pub fn valid_field_name(s: &str) -> bool {
    let mut it = s.chars();
    matches!(it.next(), Some(c) if c.is_ascii_alphabetic())
        && s.len() <= 64
        && it.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A content hash: 8..=64 lowercase hex digits.
pub fn valid_hash(s: &str) -> bool {
    (8..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn object<'a>(v: &'a Value, path: &str) -> Result<&'a Map<String, Value>, ApiError> {
    v.as_object().ok_or_else(|| {
        ApiError::field(
            if path.is_empty() { "$" } else { path },
            "must be an object",
        )
    })
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn reject_unknown(o: &Map<String, Value>, path: &str, known: &[&str]) -> Result<(), ApiError> {
    match o.keys().find(|k| !known.contains(&k.as_str())) {
        Some(k) => Err(ApiError::field(
            join(path, &truncate(k, 64)),
            "unknown field",
        )),
        None => Ok(()),
    }
}

fn truncate(s: &str, n: usize) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .take(n)
        .collect()
}

/// Free text: no control characters except newline and tab, at most `max` bytes.
fn text(v: &Value, path: &str, max: usize) -> Result<String, ApiError> {
    let s = v
        .as_str()
        .ok_or_else(|| ApiError::field(path, "must be a string"))?;
    if s.len() > max {
        return Err(ApiError::field(path, format!("longer than {max} bytes")));
    }
    if s.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(ApiError::field(path, "contains control characters"));
    }
    Ok(s.to_string())
}

fn id_at(o: &Map<String, Value>, path: &str, key: &str) -> Result<String, ApiError> {
    let p = join(path, key);
    let s = o
        .get(key)
        .ok_or_else(|| ApiError::field(&p, "is required"))?;
    let s = s
        .as_str()
        .ok_or_else(|| ApiError::field(&p, "must be a string"))?;
    if !valid_id(s) {
        return Err(ApiError::field(
            &p,
            "must be 1-64 letters, digits, '-' or '_'",
        ));
    }
    Ok(s.to_string())
}

fn opt_id_at(o: &Map<String, Value>, path: &str, key: &str) -> Result<Option<String>, ApiError> {
    match o.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(_) => id_at(o, path, key).map(Some),
    }
}

fn opt_hash_at(o: &Map<String, Value>, path: &str, key: &str) -> Result<Option<String>, ApiError> {
    let p = join(path, key);
    match o.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if valid_hash(s) => Ok(Some(s.clone())),
        Some(_) => Err(ApiError::field(p, "must be a content hash (hex)")),
    }
}

fn tracking_cookie(v: &Value, path: &str) -> Result<String, ApiError> {
    let s = text(v, path, 256)?;
    if s.is_empty() || !s.chars().all(|c| c.is_ascii_graphic()) {
        return Err(ApiError::field(
            path,
            "must be a Marketo tracking cookie value",
        ));
    }
    Ok(s)
}

/// Validates an events batch.
pub fn events(v: &Value) -> Result<EventBatch, ApiError> {
    let o = object(v, "")?;
    reject_unknown(o, "", &["visitor", "session", "events"])?;
    let visitor = id_at(o, "", "visitor")?;
    let session = id_at(o, "", "session")?;
    let list = o
        .get("events")
        .ok_or_else(|| ApiError::field("events", "is required"))?;
    let list = list
        .as_array()
        .ok_or_else(|| ApiError::field("events", "must be an array"))?;
    if list.is_empty() {
        return Err(ApiError::field("events", "must not be empty"));
    }
    if list.len() > MAX_EVENTS {
        return Err(ApiError::field(
            "events",
            format!("at most {MAX_EVENTS} events per batch"),
        ));
    }
    let mut events = Vec::with_capacity(list.len());
    for (i, e) in list.iter().enumerate() {
        let path = format!("events[{i}]");
        let eo = object(e, &path)?;
        reject_unknown(
            eo,
            &path,
            &["type", "dialogue", "hash", "card", "value", "variant", "at"],
        )?;
        let tp = join(&path, "type");
        let kind = eo
            .get("type")
            .ok_or_else(|| ApiError::field(&tp, "is required"))?
            .as_str()
            .and_then(EventKind::parse)
            .ok_or_else(|| ApiError::field(&tp, "must be one of triggered, engaged, completed, dropped, answer, goal, document_opened, closed"))?;
        let dialogue = id_at(eo, &path, "dialogue")?;
        let hash = opt_hash_at(eo, &path, "hash")?;
        let card = opt_id_at(eo, &path, "card")?;
        let variant = opt_id_at(eo, &path, "variant")?;
        let value = match eo.get("value") {
            None | Some(Value::Null) => None,
            Some(v) => Some(text(v, &join(&path, "value"), MAX_VALUE)?),
        };
        let ap = join(&path, "at");
        let at = eo
            .get("at")
            .ok_or_else(|| ApiError::field(&ap, "is required"))?
            .as_i64()
            .filter(|t| (0..=253_402_300_799_000).contains(t))
            .ok_or_else(|| ApiError::field(&ap, "must be a time in ms since the epoch"))?;
        events.push(Event {
            kind,
            dialogue,
            hash,
            card,
            value,
            variant,
            at,
        });
    }
    Ok(EventBatch {
        visitor,
        session,
        events,
    })
}

fn string_map(
    v: Option<&Value>,
    path: &str,
    key_ok: fn(&str) -> bool,
    key_rule: &str,
) -> Result<BTreeMap<String, String>, ApiError> {
    let mut out = BTreeMap::new();
    let Some(v) = v else { return Ok(out) };
    let o = object(v, path)?;
    if o.len() > MAX_FIELDS {
        return Err(ApiError::field(
            path,
            format!("at most {MAX_FIELDS} entries"),
        ));
    }
    for (k, val) in o {
        if !key_ok(k) {
            return Err(ApiError::field(
                format!("{path}.{}", truncate(k, 64)),
                format!("name must be {key_rule}"),
            ));
        }
        let p = format!("{path}.{k}");
        let s = match val {
            Value::String(_) => text(val, &p, MAX_VALUE)?,
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            _ => return Err(ApiError::field(p, "must be a string, number or boolean")),
        };
        out.insert(k.clone(), s);
    }
    Ok(out)
}

/// Validates a lead capture.
pub fn lead(v: &Value) -> Result<LeadRequest, ApiError> {
    let o = object(v, "")?;
    reject_unknown(
        o,
        "",
        &[
            "visitor",
            "session",
            "dialogue",
            "hash",
            "variant",
            "fields",
            "answers",
            "overwrite",
            "transcript",
            "mkto_trk",
        ],
    )?;
    let visitor = id_at(o, "", "visitor")?;
    let session = id_at(o, "", "session")?;
    let dialogue = id_at(o, "", "dialogue")?;
    let hash = opt_hash_at(o, "", "hash")?;
    let variant = opt_id_at(o, "", "variant")?;
    let mut fields = string_map(
        o.get("fields"),
        "fields",
        valid_field_name,
        "a Marketo API field name",
    )?;
    let email = fields.get("email").cloned().unwrap_or_default();
    if email.is_empty() {
        return Err(ApiError::field("fields.email", "is required"));
    }
    let email = dynchat_engine::fields::normalise_email(&email);
    if !dynchat_engine::fields::valid_email(&email) {
        return Err(ApiError::field(
            "fields.email",
            "is not a valid email address",
        ));
    }
    fields.insert("email".into(), email);
    let answers = string_map(o.get("answers"), "answers", valid_id, "a card id")?;
    let mut overwrite = Vec::new();
    if let Some(ov) = o.get("overwrite") {
        let list = ov
            .as_array()
            .ok_or_else(|| ApiError::field("overwrite", "must be an array"))?;
        for (i, f) in list.iter().enumerate() {
            match f.as_str() {
                Some(s) if valid_field_name(s) => overwrite.push(s.to_string()),
                _ => {
                    return Err(ApiError::field(
                        format!("overwrite[{i}]"),
                        "must be a field name",
                    ))
                }
            }
        }
    }
    let mut transcript = Vec::new();
    if let Some(t) = o.get("transcript") {
        let list = t
            .as_array()
            .ok_or_else(|| ApiError::field("transcript", "must be an array"))?;
        if list.len() > MAX_TRANSCRIPT {
            return Err(ApiError::field(
                "transcript",
                format!("at most {MAX_TRANSCRIPT} lines"),
            ));
        }
        for (i, line) in list.iter().enumerate() {
            let p = format!("transcript[{i}]");
            let pair = line
                .as_array()
                .filter(|a| a.len() == 2)
                .ok_or_else(|| ApiError::field(&p, "must be [speaker, text]"))?;
            let who = match pair[0].as_str() {
                Some("bot") => Speaker::Bot,
                Some("visitor") => Speaker::Visitor,
                _ => {
                    return Err(ApiError::field(
                        format!("{p}[0]"),
                        "must be \"bot\" or \"visitor\"",
                    ))
                }
            };
            transcript.push((who, text(&pair[1], &format!("{p}[1]"), MAX_VALUE)?));
        }
    }
    let mkto_trk = match o.get("mkto_trk") {
        None | Some(Value::Null) => None,
        Some(v) => Some(tracking_cookie(v, "mkto_trk")?),
    };
    Ok(LeadRequest {
        visitor,
        session,
        dialogue,
        hash,
        variant,
        fields,
        answers,
        overwrite,
        transcript,
        mkto_trk,
    })
}

/// Validates a traits lookup.
pub fn traits(v: &Value) -> Result<TraitsRequest, ApiError> {
    let o = object(v, "")?;
    reject_unknown(o, "", &["mkto_trk", "email", "fields"])?;
    let mkto_trk = match o.get("mkto_trk") {
        None | Some(Value::Null) => None,
        Some(v) => Some(tracking_cookie(v, "mkto_trk")?),
    };
    let email = match o.get("email") {
        None | Some(Value::Null) => None,
        Some(v) => {
            let s = dynchat_engine::fields::normalise_email(&text(v, "email", 254)?);
            if !dynchat_engine::fields::valid_email(&s) {
                return Err(ApiError::field("email", "is not a valid email address"));
            }
            Some(s)
        }
    };
    if mkto_trk.is_none() && email.is_none() {
        return Err(ApiError::field("mkto_trk", "mkto_trk or email is required"));
    }
    let list = o
        .get("fields")
        .ok_or_else(|| ApiError::field("fields", "is required"))?;
    let list = list
        .as_array()
        .ok_or_else(|| ApiError::field("fields", "must be an array"))?;
    if list.len() > MAX_FIELDS {
        return Err(ApiError::field(
            "fields",
            format!("at most {MAX_FIELDS} fields"),
        ));
    }
    let mut fields = Vec::new();
    for (i, f) in list.iter().enumerate() {
        let s = f.as_str().unwrap_or("");
        let (ns, name) = match s.split_once('.') {
            Some((ns @ ("lead" | "company" | "activity"), name)) => (ns, name),
            Some(_) => ("", ""),
            None => ("lead", s),
        };
        if ns.is_empty() || !valid_field_name(name) {
            return Err(ApiError::field(
                format!("fields[{i}]"),
                "must be a field name, `lead.<name>`, `company.<name>` or `activity.<type>`",
            ));
        }
        fields.push(format!("{ns}.{name}"));
    }
    Ok(TraitsRequest {
        mkto_trk,
        email,
        fields,
    })
}

/// An embed origin: `scheme://host[:port]`, no path.
pub fn valid_origin(s: &str) -> bool {
    let rest = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"));
    match rest {
        Some(r) => {
            !r.is_empty()
                && r.len() <= 253
                && r.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == ':')
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ev(n: usize) -> Value {
        let e: Vec<Value> = (0..n)
            .map(|i| json!({"type":"triggered","dialogue":"d1","at":1764000000000i64 + i as i64}))
            .collect();
        json!({"visitor":"v-1","session":"s-1","events":e})
    }

    #[test]
    fn accepts_a_good_batch() {
        let b = events(&ev(3)).unwrap();
        assert_eq!(b.events.len(), 3);
        assert_eq!(b.events[0].kind, EventKind::Triggered);
    }

    #[test]
    fn names_the_bad_event_field() {
        let mut v = ev(5);
        v["events"][3]["type"] = json!("<script>");
        assert_eq!(events(&v).unwrap_err(), ApiError::field("events[3].type", "must be one of triggered, engaged, completed, dropped, answer, goal, document_opened, closed"));
        let mut v = ev(2);
        v["events"][1]["at"] = json!("yesterday");
        match events(&v).unwrap_err() {
            ApiError::BadField { field, .. } => assert_eq!(field, "events[1].at"),
            e => panic!("{e:?}"),
        }
    }

    #[test]
    fn rejects_too_many_events_and_unknown_fields() {
        assert!(
            matches!(events(&ev(101)), Err(ApiError::BadField { field, .. }) if field == "events")
        );
        assert!(events(&ev(100)).is_ok());
        let mut v = ev(1);
        v["extra"] = json!(1);
        assert!(matches!(events(&v), Err(ApiError::BadField { field, .. }) if field == "extra"));
        let v = json!({"visitor":"<img src=x>","session":"s","events":[]});
        assert!(matches!(events(&v), Err(ApiError::BadField { field, .. }) if field == "visitor"));
    }

    #[test]
    fn lead_requires_a_valid_email_and_keeps_text_verbatim() {
        let v = json!({"visitor":"v","session":"s","dialogue":"d","fields":{"email":" Ann@Example.COM ","firstName":"<script>alert(1)</script>"},
            "answers":{"q1":"yes"},"transcript":[["bot","Hi"],["visitor","yo"]],"overwrite":["phone"]});
        let l = lead(&v).unwrap();
        assert_eq!(l.email(), "ann@example.com");
        assert_eq!(l.fields["firstName"], "<script>alert(1)</script>");
        assert_eq!(l.transcript.len(), 2);
        let bad = json!({"visitor":"v","session":"s","dialogue":"d","fields":{"email":"nope"}});
        assert!(
            matches!(lead(&bad), Err(ApiError::BadField { field, .. }) if field == "fields.email")
        );
        let bad = json!({"visitor":"v","session":"s","dialogue":"d","fields":{"email":"a@b.co","<x>":"1"}});
        assert!(matches!(lead(&bad), Err(ApiError::BadField { field, .. }) if field == "fields.x"));
        let bad = json!({"visitor":"v","session":"s","dialogue":"d","fields":{"email":"a@b.co"},"transcript":[["admin","x"]]});
        assert!(
            matches!(lead(&bad), Err(ApiError::BadField { field, .. }) if field == "transcript[0][0]")
        );
    }

    #[test]
    fn traits_normalise_field_names() {
        let t = traits(&json!({"mkto_trk":"id:123-ABC-456&token:_mch-x","fields":["firstName","company.industry"]})).unwrap();
        assert_eq!(t.fields, vec!["lead.firstName", "company.industry"]);
        assert!(traits(&json!({"fields":[]})).is_err());
        assert!(traits(&json!({"email":"a@b.co","fields":["page.url"]})).is_err());
    }

    #[test]
    fn traits_take_activity_fields() {
        let t = traits(&json!({"email":"a@b.co","fields":["activity.filled_out_form"]}));
        assert_eq!(
            t.map(|t| t.fields).ok(),
            Some(vec!["activity.filled_out_form".to_string()])
        );
        assert!(traits(&json!({"email":"a@b.co","fields":["activity.a-b"]})).is_err());
    }

    #[test]
    fn content_types_and_origins() {
        assert!(is_json_content_type(Some(
            "application/json; charset=utf-8"
        )));
        assert!(!is_json_content_type(Some("text/plain")));
        assert!(!is_json_content_type(None));
        assert!(valid_origin("http://127.0.0.1:8080"));
        assert!(!valid_origin("http://a.com/path"));
        assert!(!valid_origin("javascript:alert(1)"));
    }

    #[test]
    fn oversized_body_is_413() {
        let big = vec![b' '; MAX_BODY + 1];
        assert_eq!(parse_json(&big).unwrap_err().status(), 413);
    }

    #[test]
    fn idempotency_key_is_8_to_128_printable_characters() {
        assert_eq!(
            idempotency_key(Some("key-0001")),
            Ok("key-0001".to_string())
        );
        assert!(idempotency_key(Some("k".repeat(128).as_str())).is_ok());
        for bad in [
            None,
            Some(""),
            Some("short"),
            Some("has space1"),
            Some("tab\tkey12"),
        ] {
            let e = idempotency_key(bad).unwrap_err();
            assert_eq!(e.status(), 400, "{bad:?}");
            assert_eq!(e.body()["error"]["field"], "Idempotency-Key");
        }
        assert!(idempotency_key(Some("k".repeat(129).as_str())).is_err());
        assert!(idempotency_key(Some("clé-0001-é")).is_err());
    }
}
