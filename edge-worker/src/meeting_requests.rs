//! The no-slot fallback (issue 15): when no offered time fits, the visitor leaves preferred
//! times (free text, optionally some days) and the queue is told by mail. Plain Rust here:
//! the strict body of `POST /v1/sites/{site}/meetings/requests` (a 400 names the field, a
//! limit is never a cut) and the queue's notice as an RFC 5322 message for the mail outbox.

use crate::error::ApiError;
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// The largest body the endpoint reads (a bigger one is a 413).
pub const MAX_REQUEST_BODY: usize = 16 * 1024;
/// The preferred times, as the visitor wrote them: 1 to 1,000 characters.
pub const MAX_PREFERRED: usize = 1_000;
/// At most this many days may be chosen.
pub const MAX_DAYS: usize = 14;
/// An answer's value in the notice is cut to this many characters (then `…`).
pub const MAIL_ANSWER_CHARS: usize = 200;

/// Why the visitor leaves preferred times.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// No free time in the horizon.
    NoSlots,
    /// Times were offered, none fits.
    NoneFit,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::NoSlots => "no_slots",
            Reason::NoneFit => "none_fit",
        }
    }
}

/// A checked request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestInput {
    /// As sent (`queue:<id>`, `agent:<id>` or a `rules:` route; resolved by the edge).
    pub route: String,
    pub email: String,
    pub name: String,
    pub preferred: String,
    /// Distinct days, sorted.
    pub days: Vec<NaiveDate>,
    pub tz: String,
    pub reason: Reason,
    pub session: String,
    pub dialogue: String,
    /// The lead fields a `rules:` route reads (as `/book` carries them).
    pub lead: Map<String, Value>,
    /// The answers a `rules:` route reads: card id -> text (as `/book` carries them).
    pub answers: BTreeMap<String, String>,
}

const FIELDS: [&str; 11] = [
    "route",
    "email",
    "name",
    "preferred",
    "days",
    "tz",
    "reason",
    "session",
    "dialogue",
    "lead",
    "answers",
];

fn text<'a>(o: &'a serde_json::Map<String, Value>, field: &str) -> Result<&'a str, ApiError> {
    match o.get(field) {
        None | Some(Value::Null) => Ok(""),
        Some(Value::String(s)) => Ok(s.as_str()),
        Some(_) => Err(ApiError::field(field, "must be a string")),
    }
}

/// A short single-line text: at most `max` characters, no control characters.
fn short<'a>(
    o: &'a serde_json::Map<String, Value>,
    field: &str,
    max: usize,
) -> Result<&'a str, ApiError> {
    let v = text(o, field)?.trim();
    if v.chars().count() > max {
        return Err(ApiError::field(field, format!("at most {max} characters")));
    }
    if v.chars().any(char::is_control) {
        return Err(ApiError::field(field, "must be one line of text"));
    }
    Ok(v)
}

/// Validates the body.
pub fn request_input(body: &Value) -> Result<RequestInput, ApiError> {
    let o = body
        .as_object()
        .ok_or_else(|| ApiError::field("$", "must be an object"))?;
    if let Some(k) = o.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        return Err(ApiError::field(
            k.chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
                .take(64)
                .collect::<String>(),
            "unknown field",
        ));
    }
    let route = short(o, "route", 200)?;
    if route.is_empty() {
        return Err(ApiError::field("route", "is required"));
    }
    let route = match crate::route_rules::RulesRef::parse(route, "route") {
        Some(r) => r.map(|_| route.to_string())?,
        None => crate::meetings::Route::parse(route, "route")?.as_string(),
    };
    let email = short(o, "email", 254)?;
    if email.is_empty() {
        return Err(ApiError::field("email", "is required"));
    }
    let email = dynchat_scheduling::EmailAddress::parse(email, "email")
        .map_err(|e| ApiError::field("email", e.to_string()))?
        .to_string();
    let name = short(o, "name", 200)?.to_string();
    let preferred = text(o, "preferred")?.trim();
    if preferred.is_empty() {
        return Err(ApiError::field(
            "preferred",
            "is required: the times that would suit",
        ));
    }
    if preferred.chars().count() > MAX_PREFERRED {
        return Err(ApiError::field(
            "preferred",
            format!("at most {MAX_PREFERRED} characters"),
        ));
    }
    if preferred
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return Err(ApiError::field("preferred", "must be plain text"));
    }
    let days = days(o.get("days"))?;
    let tz = match short(o, "tz", 64)? {
        "" => "UTC",
        tz => tz,
    };
    dynchat_scheduling::parse_tz(tz, "tz").map_err(|e| ApiError::field("tz", e.to_string()))?;
    let reason = match text(o, "reason")? {
        "" | "no_slots" => Reason::NoSlots,
        "none_fit" => Reason::NoneFit,
        _ => return Err(ApiError::field("reason", "must be no_slots or none_fit")),
    };
    // The facts a rules route reads, checked as `/book` checks them.
    let answers = crate::route_rules::answers(o.get("answers"))?;
    let lead = match o.get("lead") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(l)) => crate::route_rules::visitor_lead(l)?,
        Some(_) => {
            return Err(ApiError::field(
                "lead",
                "must be an object of field to text",
            ))
        }
    };
    Ok(RequestInput {
        route,
        email,
        name,
        preferred: preferred.replace("\r\n", "\n"),
        days,
        tz: tz.to_string(),
        reason,
        session: short(o, "session", 100)?.to_string(),
        dialogue: short(o, "dialogue", 100)?.to_string(),
        lead,
        answers,
    })
}

fn days(v: Option<&Value>) -> Result<Vec<NaiveDate>, ApiError> {
    let list = match v {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(a)) => a,
        Some(_) => {
            return Err(ApiError::field(
                "days",
                "must be a list of YYYY-MM-DD dates",
            ))
        }
    };
    if list.len() > MAX_DAYS {
        return Err(ApiError::field("days", format!("at most {MAX_DAYS} days")));
    }
    let mut out = Vec::new();
    for (i, d) in list.iter().enumerate() {
        let day = d
            .as_str()
            .filter(|s| s.len() == 10)
            .and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
            .ok_or_else(|| ApiError::field(format!("days[{i}]"), "must be a YYYY-MM-DD date"))?;
        out.push(day);
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

/// What the queue's notice says.
pub struct RequestMail<'a> {
    pub id: &'a str,
    pub from: &'a str,
    pub to: &'a str,
    pub site: &'a str,
    pub queue: &'a str,
    pub input: &'a RequestInput,
    pub now: DateTime<Utc>,
}

/// One line of text: control characters (CR, LF...) become spaces.
fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// A header value: ASCII as is, anything else as an RFC 2047 encoded word.
fn header_text(s: &str) -> String {
    let s = one_line(s);
    if s.is_ascii() {
        return s;
    }
    use base64::Engine as _;
    format!(
        "=?UTF-8?B?{}?=",
        base64::engine::general_purpose::STANDARD.encode(s.as_bytes())
    )
}

/// The queue's notice (plain text, `Reply-To` the visitor), CRLF line ends.
pub fn request_message(m: &RequestMail<'_>) -> String {
    let i = m.input;
    let who = if i.name.is_empty() {
        i.email.clone()
    } else {
        format!("{} <{}>", i.name, i.email)
    };
    let why = match i.reason {
        Reason::NoSlots => "no free time was offered",
        Reason::NoneFit => "none of the offered times fit",
    };
    let days = if i.days.is_empty() {
        String::new()
    } else {
        let list: Vec<String> = i
            .days
            .iter()
            .map(|d| d.format("%a %Y-%m-%d").to_string())
            .collect();
        format!("Days: {}\n", list.join(", "))
    };
    let quoted: String = i
        .preferred
        .lines()
        .map(|l| format!("> {}\n", one_line(l)))
        .collect();
    let answers = answer_lines(&i.answers);
    let body = format!(
        "{who} asked for a meeting through the website chat of {site}, but {why}.\n\nPreferred times (their words, time zone {tz}):\n{quoted}{days}{answers}\nQueue: {queue}\nReply to this mail to propose a time.\n",
        who = one_line(&who),
        site = one_line(m.site),
        tz = one_line(&i.tz),
        queue = one_line(m.queue),
    );
    let domain = m.from.rsplit('@').next().unwrap_or("dynchat.invalid");
    let subject = format!("Meeting request from {}: no time fit", i.name_or_email());
    format!(
        "From: <{from}>\r\nTo: <{to}>\r\nReply-To: <{reply}>\r\nSubject: {subject}\r\nDate: {date}\r\nMessage-ID: <request.{id}.{rcpt}@{domain}>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{body}",
        from = one_line(m.from),
        to = one_line(m.to),
        reply = one_line(&i.email),
        subject = header_text(&subject),
        date = m.now.format("%a, %d %b %Y %H:%M:%S +0000"),
        id = m.id.chars().filter(char::is_ascii_alphanumeric).collect::<String>(),
        rcpt = m.to.chars().filter(char::is_ascii_alphanumeric).collect::<String>(),
        body = body.replace('\n', "\r\n"),
    )
}

/// The visitor's answers for the notice: `Answers:` and one `card: value` line each (card
/// order), every value on one line and cut to `MAIL_ANSWER_CHARS`; empty without answers.
/// The text is plain: nothing in it is read as a template.
fn answer_lines(answers: &BTreeMap<String, String>) -> String {
    if answers.is_empty() {
        return String::new();
    }
    let mut out = String::from("Answers:\n");
    for (card, value) in answers {
        let value = one_line(value.trim());
        let mut cut: String = value.chars().take(MAIL_ANSWER_CHARS).collect();
        if value.chars().count() > MAIL_ANSWER_CHARS {
            cut.push('…');
        }
        out.push_str(&format!("  {}: {}\n", one_line(card), cut));
    }
    out
}

impl RequestInput {
    /// The visitor's name, else their address.
    pub fn name_or_email(&self) -> &str {
        if self.name.is_empty() {
            &self.email
        } else {
            &self.name
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn field_of(body: Value) -> String {
        match request_input(&body) {
            Err(ApiError::BadField { field, .. }) => field,
            other => panic!("expected a field error, got {other:?}"),
        }
    }

    fn good() -> Value {
        json!({"route": "queue:sales", "email": "Vera@Example.com", "name": "Vera",
               "preferred": "Tuesday mornings\r\nor Friday after 3 pm", "days": ["2030-01-08", "2030-01-04", "2030-01-08"],
               "tz": "Europe/Berlin", "reason": "none_fit", "session": "s-1"})
    }

    #[test]
    fn a_good_request_is_normalised() {
        let i = request_input(&good()).expect("valid");
        assert_eq!(i.route, "queue:sales");
        assert_eq!(i.preferred, "Tuesday mornings\nor Friday after 3 pm");
        assert_eq!(
            i.days.iter().map(|d| d.to_string()).collect::<Vec<_>>(),
            ["2030-01-04", "2030-01-08"]
        );
        assert_eq!(i.reason, Reason::NoneFit);
        let bare = request_input(
            &json!({"route": "queue:sales", "email": "a@b.example", "preferred": "any"}),
        )
        .expect("valid");
        assert_eq!((bare.tz.as_str(), bare.reason), ("UTC", Reason::NoSlots));
    }

    #[test]
    fn bad_fields_are_named() {
        let with = |k: &str, v: Value| {
            let mut b = good();
            b[k] = v;
            field_of(b)
        };
        assert_eq!(field_of(json!([1])), "$");
        assert_eq!(with("route", json!("")), "route");
        assert_eq!(with("route", json!("nowhere")), "route");
        assert_eq!(with("email", json!("not-an-address")), "email");
        assert_eq!(with("email", json!(7)), "email");
        assert_eq!(with("preferred", json!("   ")), "preferred");
        assert_eq!(with("preferred", json!("x".repeat(1001))), "preferred");
        assert_eq!(with("preferred", json!("a\u{0}b")), "preferred");
        assert_eq!(with("name", json!("a\nBcc: x@y.z")), "name");
        assert_eq!(with("name", json!("n".repeat(201))), "name");
        assert_eq!(with("days", json!("monday")), "days");
        assert_eq!(with("days", json!(["2030-02-30"])), "days[0]");
        assert_eq!(with("days", json!(["2030-01-01", 5])), "days[1]");
        assert_eq!(with("days", json!(vec!["2030-01-01"; 15])), "days");
        assert_eq!(with("tz", json!("Mars/Olympus")), "tz");
        assert_eq!(with("reason", json!("bored")), "reason");
        assert_eq!(with("extra<script>", json!(1)), "extrascript");
        // Exactly at the limits: accepted.
        let mut b = good();
        b["preferred"] = json!("é".repeat(1000));
        b["days"] = json!((1..=14)
            .map(|d| format!("2030-01-{d:02}"))
            .collect::<Vec<_>>());
        assert!(request_input(&b).is_ok());
    }

    #[test]
    fn a_rules_route_carries_the_lead_and_answers_checked_like_book() {
        let mut b = good();
        b["route"] = json!("rules:routed/book");
        b["answers"] = json!({"region": "dach"});
        b["lead"] = json!({"country": "AT", "email": "vera@example.com", "phone": null});
        let i = request_input(&b).expect("valid");
        assert_eq!(i.route, "rules:routed/book");
        assert_eq!(i.answers.get("region").map(String::as_str), Some("dach"));
        assert_eq!(i.lead.get("country"), Some(&json!("AT")));
        assert!(!i.lead.contains_key("phone"), "null: left out");
        let bare = request_input(&good()).expect("valid");
        assert!(bare.answers.is_empty() && bare.lead.is_empty());
        let with = |k: &str, v: Value| {
            let mut b = good();
            b[k] = v;
            field_of(b)
        };
        assert_eq!(with("answers", json!(["dach"])), "answers");
        assert_eq!(with("answers", json!("dach")), "answers");
        assert_eq!(with("answers", json!({"a b": "x"})), "answers");
        assert_eq!(with("answers", json!({"region": 7})), "answers.region");
        assert_eq!(
            with("answers", json!({"region": "x".repeat(501)})),
            "answers.region"
        );
        let many: serde_json::Map<String, Value> =
            (0..65).map(|n| (format!("c{n}"), json!("x"))).collect();
        assert_eq!(with("answers", Value::Object(many)), "answers");
        assert_eq!(with("lead", json!("AT")), "lead");
        assert_eq!(with("lead", json!([1])), "lead");
        assert_eq!(with("lead", json!({"country": 7})), "lead.country");
        assert_eq!(
            with("lead", json!({"country": "x".repeat(256)})),
            "lead.country"
        );
        assert_eq!(with("lead", json!({"bad name": "x"})), "lead.badname");
        // Exactly at the limits: accepted.
        let mut b = good();
        let full: serde_json::Map<String, Value> = (0..64)
            .map(|n| (format!("c{n}"), json!("é".repeat(500))))
            .collect();
        b["answers"] = Value::Object(full);
        b["lead"] = json!({"country": "x".repeat(255)});
        assert!(request_input(&b).is_ok());
    }

    #[test]
    fn the_notice_quotes_the_visitor_and_cannot_inject_headers() {
        let mut b = good();
        b["name"] = json!("Vëra");
        b["preferred"] = json!("Tue 9-11\nBcc: evil@x.test");
        let i = request_input(&b).expect("valid");
        let m = request_message(&RequestMail {
            id: "r-abc",
            from: "meetings@dynchat.test",
            to: "agent1@agents.test",
            site: "acme",
            queue: "sales",
            input: &i,
            now: DateTime::from_timestamp(1_700_000_000, 0).expect("t"),
        });
        let (head, body) = m.split_once("\r\n\r\n").expect("head and body");
        assert!(
            head.contains("\r\nReply-To: <Vera@Example.com>\r\n"),
            "{head}"
        );
        assert!(head.contains("Subject: =?UTF-8?B?"), "{head}");
        assert!(!head.contains("Bcc"), "{head}");
        assert!(
            body.contains("\r\n> Tue 9-11\r\n> Bcc: evil@x.test\r\n"),
            "{body}"
        );
        assert!(
            body.contains("Days: Fri 2030-01-04, Tue 2030-01-08\r\n"),
            "{body}"
        );
        assert!(body.contains("none of the offered times fit"), "{body}");
        assert!(!body.replace("\r\n", "").contains('\n'), "CRLF only");
    }

    #[test]
    fn the_notice_lists_the_answers_one_line_each_cut_and_uninterpreted() {
        let mut b = good();
        b["route"] = json!("rules:routed/book");
        b["answers"] = json!({"region": "dach", "topic": "{{agent.name}}"});
        let mut i = request_input(&b).expect("valid");
        // Past the body's checks too (a 5,000-character value is a 400 there): the notice
        // still keeps every value on one line and short.
        i.answers
            .insert("note".into(), "line one\r\nBcc: evil@x.test".into());
        i.answers.insert("long".into(), "x".repeat(5_000));
        let m = request_message(&RequestMail {
            id: "r-abc",
            from: "meetings@dynchat.test",
            to: "agent1@agents.test",
            site: "acme",
            queue: "dach",
            input: &i,
            now: DateTime::from_timestamp(1_700_000_000, 0).expect("t"),
        });
        let (head, body) = m.split_once("\r\n\r\n").expect("head and body");
        assert!(!head.contains("Bcc"), "{head}");
        let long = format!("  long: {}…\r\n", "x".repeat(MAIL_ANSWER_CHARS));
        let expected = format!(
            "Answers:\r\n{long}  note: line one  Bcc: evil@x.test\r\n  region: dach\r\n  topic: {{{{agent.name}}}}\r\n"
        );
        assert!(body.contains(&expected), "{body}");
        assert!(!body.contains(&"x".repeat(MAIL_ANSWER_CHARS + 1)), "cut");
        assert!(
            !body.replace("\r\n", "").contains(['\n', '\r']),
            "CRLF only"
        );
        // Without answers: no Answers block.
        let plain = request_input(&good()).expect("valid");
        let m = request_message(&RequestMail {
            input: &plain,
            id: "r-abc",
            from: "meetings@dynchat.test",
            to: "agent1@agents.test",
            site: "acme",
            queue: "sales",
            now: DateTime::from_timestamp(1_700_000_000, 0).expect("t"),
        });
        assert!(!m.contains("Answers:"), "{m}");
    }
}
