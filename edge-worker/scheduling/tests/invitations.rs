//! Invitations: ICS and MIME output parsed back by a small independent reader, field by field.

use chrono::{DateTime, Utc};
use dynchat_scheduling::{
    caldav_resource, ics, invitation_email, EmailAddress, IcsMethod, InvitationEmail, Meeting,
    Person,
};
use std::collections::BTreeMap;

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .unwrap_or_else(|e| panic!("bad test time {s}: {e}"))
        .with_timezone(&Utc)
}

fn person(name: &str, email: &str) -> Person {
    Person {
        name: name.into(),
        email: EmailAddress::parse(email, "email").unwrap_or_else(|e| panic!("{e}")),
    }
}

fn meeting() -> Meeting {
    Meeting {
        uid: "m-42@dynchat.example.com".into(),
        summary: "Demo: pricing, plans; and \\ more — with an extremely long title that needs folding, surely".into(),
        description: "Line one\nLine two, with comma; and semicolon\r\nLine three".into(),
        location: Some("https://meet.example.com/abc?x=1&y=2".into()),
        video: None,
        start: utc("2027-03-01T09:00:00Z"),
        end: utc("2027-03-01T09:30:00Z"),
        organizer: person("Ann Agent", "ann@sales.example.com"),
        attendees: vec![person("Zoë \"Zed\" Visitor, CEO", "zoe@visitor.example.org")],
    }
}

// ---- an independent, deliberately simple iCalendar reader ----

struct Line {
    name: String,
    params: BTreeMap<String, String>,
    value: String,
}

fn read_ics(text: &str) -> Vec<Line> {
    assert!(text.ends_with("\r\n"), "ends with CRLF");
    assert!(!text.replace("\r\n", "").contains('\n'), "bare LF");
    assert!(!text.replace("\r\n", "").contains('\r'), "bare CR");
    for physical in text.split("\r\n") {
        assert!(physical.len() <= 75, "line over 75 octets: {physical:?}");
    }
    let unfolded = text.replace("\r\n ", "");
    unfolded
        .split("\r\n")
        .filter(|l| !l.is_empty())
        .map(|l| {
            // Split name;params from value at the first colon outside quotes.
            let mut in_quotes = false;
            let mut colon = None;
            for (i, c) in l.char_indices() {
                match c {
                    '"' => in_quotes = !in_quotes,
                    ':' if !in_quotes => {
                        colon = Some(i);
                        break;
                    }
                    _ => {}
                }
            }
            let colon = colon.unwrap_or_else(|| panic!("no colon in {l:?}"));
            let (head, value) = (&l[..colon], &l[colon + 1..]);
            let mut parts = head.split(';');
            let name = parts.next().unwrap_or_default().to_owned();
            let params = parts
                .map(|p| {
                    let (k, v) = p
                        .split_once('=')
                        .unwrap_or_else(|| panic!("bad param {p:?}"));
                    (k.to_owned(), v.trim_matches('"').to_owned())
                })
                .collect();
            Line {
                name,
                params,
                value: value.to_owned(),
            }
        })
        .collect()
}

fn unescape(v: &str) -> String {
    let mut out = String::new();
    let mut chars = v.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n') | Some('N') => out.push('\n'),
                Some(other) => out.push(other),
                None => panic!("dangling backslash"),
            }
        } else {
            assert!(c != ',' && c != ';', "unescaped {c} in TEXT {v:?}");
            out.push(c);
        }
    }
    out
}

fn one<'a>(lines: &'a [Line], name: &str) -> &'a Line {
    let found: Vec<&Line> = lines.iter().filter(|l| l.name == name).collect();
    assert_eq!(found.len(), 1, "exactly one {name}");
    found[0]
}

#[test]
fn request_and_cancel_calendar_objects() {
    let m = meeting();
    let now = utc("2027-02-20T12:00:00Z");
    let req = read_ics(&ics(&m, IcsMethod::Request, 0, now));
    let names: Vec<&str> = req.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names.first(), Some(&"BEGIN"));
    assert_eq!(one(&req, "METHOD").value, "REQUEST");
    assert_eq!(one(&req, "UID").value, "m-42@dynchat.example.com");
    assert_eq!(one(&req, "DTSTAMP").value, "20270220T120000Z");
    assert_eq!(one(&req, "DTSTART").value, "20270301T090000Z");
    assert_eq!(one(&req, "DTEND").value, "20270301T093000Z");
    assert_eq!(one(&req, "SEQUENCE").value, "0");
    assert_eq!(one(&req, "STATUS").value, "CONFIRMED");
    assert_eq!(unescape(&one(&req, "SUMMARY").value), m.summary);
    assert_eq!(
        unescape(&one(&req, "DESCRIPTION").value),
        "Line one\nLine two, with comma; and semicolon\nLine three"
    );
    assert_eq!(
        unescape(&one(&req, "LOCATION").value),
        "https://meet.example.com/abc?x=1&y=2"
    );
    let org = one(&req, "ORGANIZER");
    assert_eq!(org.value, "mailto:ann@sales.example.com");
    assert_eq!(org.params.get("CN").map(String::as_str), Some("Ann Agent"));
    let att = one(&req, "ATTENDEE");
    assert_eq!(att.value, "mailto:zoe@visitor.example.org");
    assert_eq!(att.params.get("RSVP").map(String::as_str), Some("TRUE"));
    assert_eq!(
        att.params.get("CN").map(String::as_str),
        Some("Zoë 'Zed' Visitor, CEO")
    );
    assert!(
        !att.params.contains_key("SCHEDULE-AGENT"),
        "not in iTIP messages"
    );
    assert_eq!(req.iter().filter(|l| l.name == "BEGIN").count(), 2);

    let cancel = read_ics(&ics(&m, IcsMethod::Cancel, 1, now));
    assert_eq!(one(&cancel, "METHOD").value, "CANCEL");
    assert_eq!(
        one(&cancel, "UID").value,
        one(&req, "UID").value,
        "same UID"
    );
    assert_eq!(one(&cancel, "SEQUENCE").value, "1");
    assert_eq!(one(&cancel, "STATUS").value, "CANCELLED");

    let stored = read_ics(&caldav_resource(&m, 0, now));
    assert!(
        stored.iter().all(|l| l.name != "METHOD"),
        "no METHOD in a CalDAV resource"
    );
    assert_eq!(
        one(&stored, "ATTENDEE")
            .params
            .get("SCHEDULE-AGENT")
            .map(String::as_str),
        Some("CLIENT")
    );
    // Deterministic: same inputs, same bytes.
    assert_eq!(
        ics(&m, IcsMethod::Request, 0, now),
        ics(&m, IcsMethod::Request, 0, now)
    );
}

#[test]
fn a_video_link_is_the_location_the_url_and_a_description_line() {
    let now = utc("2027-02-01T08:00:00Z");
    let mut m = meeting();
    m.video = Some("https://meet.google.com/abc-defg-hij".into());
    for text in [
        ics(&m, IcsMethod::Request, 0, now),
        caldav_resource(&m, 0, now),
    ] {
        let lines = read_ics(&text);
        assert_eq!(
            one(&lines, "LOCATION").value,
            "https://meet.google.com/abc-defg-hij"
        );
        assert_eq!(
            one(&lines, "URL").value,
            "https://meet.google.com/abc-defg-hij"
        );
        assert_eq!(
            one(&lines, "X-GOOGLE-CONFERENCE").value,
            "https://meet.google.com/abc-defg-hij"
        );
        let d = unescape(&one(&lines, "DESCRIPTION").value);
        assert!(d.starts_with("Line one\n"), "{d}");
        assert!(
            d.ends_with("Join the video call: https://meet.google.com/abc-defg-hij\n"),
            "{d}"
        );
    }
    // Another provider's link: no Google property; without a link, none of them.
    m.video = Some("https://teams.microsoft.com/l/meetup-join/x".into());
    let lines = read_ics(&ics(&m, IcsMethod::Request, 0, now));
    assert!(lines.iter().all(|l| l.name != "X-GOOGLE-CONFERENCE"));
    assert_eq!(
        one(&lines, "URL").value,
        "https://teams.microsoft.com/l/meetup-join/x"
    );
    m.video = None;
    let lines = read_ics(&ics(&m, IcsMethod::Request, 0, now));
    assert!(lines.iter().all(|l| l.name != "URL"));
    assert_eq!(
        one(&lines, "LOCATION").value,
        "https://meet.example.com/abc?x=1&y=2"
    );
}

#[test]
fn injection_through_text_cannot_add_properties() {
    let mut m = meeting();
    m.summary = "Hi\r\nATTENDEE:mailto:evil@x.org\r\nEND:VEVENT".into();
    m.attendees[0].name = "Eve\"\r\nATTENDEE:mailto:evil@x.org;X=\"".into();
    let lines = read_ics(&ics(&m, IcsMethod::Request, 0, utc("2027-02-20T12:00:00Z")));
    assert_eq!(lines.iter().filter(|l| l.name == "ATTENDEE").count(), 1);
    assert_eq!(lines.iter().filter(|l| l.name == "END").count(), 2);
    assert_eq!(
        unescape(&one(&lines, "SUMMARY").value),
        "Hi\nATTENDEE:mailto:evil@x.org\nEND:VEVENT"
    );
}

// ---- an independent, deliberately simple MIME reader ----

fn b64_decode(s: &str) -> Vec<u8> {
    let val = |c: u8| -> u32 {
        match c {
            b'A'..=b'Z' => u32::from(c - b'A'),
            b'a'..=b'z' => u32::from(c - b'a') + 26,
            b'0'..=b'9' => u32::from(c - b'0') + 52,
            b'+' => 62,
            b'/' => 63,
            _ => panic!("not base64: {c}"),
        }
    };
    let clean: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    assert_eq!(clean.len() % 4, 0, "base64 length");
    let mut out = Vec::new();
    for q in clean.chunks(4) {
        let pad = q.iter().filter(|b| **b == b'=').count();
        let n = q
            .iter()
            .take(4 - pad)
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (val(*b) << (18 - 6 * i)));
        out.push((n >> 16) as u8);
        if pad < 2 {
            out.push((n >> 8) as u8);
        }
        if pad < 1 {
            out.push(n as u8);
        }
    }
    out
}

struct Part {
    headers: Vec<(String, String)>,
    body: String,
}

impl Part {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

fn read_part(raw: &str) -> Part {
    let (head, body) = raw
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("no blank line after headers"));
    let unfolded = head.replace("\r\n ", " ").replace("\r\n\t", " ");
    let headers = unfolded
        .split("\r\n")
        .map(|l| {
            let (n, v) = l
                .split_once(':')
                .unwrap_or_else(|| panic!("not a header: {l:?}"));
            assert!(!n.contains(' '), "header name with a space: {n:?}");
            (n.to_owned(), v.trim().to_owned())
        })
        .collect();
    Part {
        headers,
        body: body.to_owned(),
    }
}

fn boundary(content_type: &str) -> String {
    let b = content_type
        .split("boundary=\"")
        .nth(1)
        .unwrap_or_else(|| panic!("no boundary in {content_type}"));
    b.split('"').next().unwrap_or_default().to_owned()
}

fn children(p: &Part) -> Vec<Part> {
    let b = boundary(p.header("Content-Type").unwrap_or_default());
    let close = format!("--{b}--\r\n");
    assert!(p.body.contains(&close), "closing boundary");
    let inner = p.body.split(&close).next().unwrap_or_default();
    inner
        .split(&format!("--{b}\r\n"))
        .skip(1)
        .map(read_part)
        .collect()
}

fn decoded(p: &Part) -> String {
    assert_eq!(p.header("Content-Transfer-Encoding"), Some("base64"));
    String::from_utf8(b64_decode(&p.body)).unwrap_or_else(|e| panic!("not UTF-8: {e}"))
}

/// RFC 2047 `=?UTF-8?B?..?=` words (or plain text) back to a string.
fn decode_words(v: &str) -> String {
    if !v.starts_with("=?") {
        return v.to_owned();
    }
    let mut bytes = Vec::new();
    for w in v.split_whitespace() {
        let inner = w
            .strip_prefix("=?UTF-8?B?")
            .and_then(|w| w.strip_suffix("?="))
            .unwrap_or_else(|| panic!("bad word {w}"));
        bytes.extend(b64_decode(inner));
    }
    String::from_utf8(bytes).unwrap_or_default()
}

fn email(
    visitor_name: &str,
    subject: &str,
    body: &str,
    method: IcsMethod,
    sequence: u32,
) -> String {
    let m = meeting();
    let from = person("Ann Agent via Acme", "meetings@acme.example.com");
    let to = person(visitor_name, "zoe@visitor.example.org");
    let reply = person("Ann Agent", "ann@sales.example.com");
    invitation_email(&InvitationEmail {
        meeting: &m,
        method,
        sequence,
        from: &from,
        to: &to,
        reply_to: Some(&reply),
        subject_template: subject,
        body_template: body,
        visitor_name,
        agent_name: "Ann <b>Agent</b>",
        visitor_tz: chrono_tz::Asia::Kolkata,
        now: utc("2027-02-20T12:00:00Z"),
    })
}

const BODY: &str = "Hello {{visitor.name}},\n\n{{agent.name}} will meet you on {{meeting.time}}.\nJoin: {{meeting.link}}\n\nUnknown {{lead.x}} stays.";

#[test]
fn invitation_email_structure_and_tokens() {
    let raw = email(
        "Zoë <script>alert(1)</script> {{agent.name}}",
        "Your demo with {{agent.name}}",
        BODY,
        IcsMethod::Request,
        0,
    );
    assert!(!raw.replace("\r\n", "").contains('\n'), "bare LF");
    for line in raw.split("\r\n") {
        assert!(line.len() <= 78, "line over 78: {line:?}");
        assert!(line.is_ascii(), "8-bit line: {line:?}");
    }
    let msg = read_part(&raw);
    let names: Vec<&str> = msg.headers.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "From",
            "To",
            "Reply-To",
            "Subject",
            "Date",
            "Message-ID",
            "MIME-Version",
            "Content-Type"
        ]
    );
    assert_eq!(msg.header("Date"), Some("Sat, 20 Feb 2027 12:00:00 +0000"));
    assert_eq!(
        msg.header("Message-ID"),
        Some("<m-42.dynchat.example.com.request.0@acme.example.com>")
    );
    assert_eq!(
        decode_words(msg.header("Subject").unwrap_or_default()),
        "Your demo with Ann <b>Agent</b>"
    );
    let to = msg.header("To").unwrap_or_default();
    assert!(to.ends_with("<zoe@visitor.example.org>"), "{to}");
    assert_eq!(
        decode_words(to.trim_end_matches("<zoe@visitor.example.org>").trim()),
        "Zoë <script>alert(1)</script> {{agent.name}}"
    );
    assert!(msg
        .header("Content-Type")
        .unwrap_or_default()
        .starts_with("multipart/mixed;"));

    let top = children(&msg);
    assert_eq!(top.len(), 2);
    assert!(top[0]
        .header("Content-Type")
        .unwrap_or_default()
        .starts_with("multipart/alternative;"));
    let alt = children(&top[0]);
    let types: Vec<&str> = alt
        .iter()
        .map(|p| p.header("Content-Type").unwrap_or_default())
        .collect();
    assert_eq!(
        types,
        [
            "text/plain; charset=UTF-8",
            "text/html; charset=UTF-8",
            "text/calendar; method=REQUEST; charset=UTF-8"
        ]
    );

    let text = decoded(&alt[0]);
    // Tokens replaced once: the visitor's "{{agent.name}}" is not expanded again.
    assert!(
        text.starts_with("Hello Zoë <script>alert(1)</script> {{agent.name}},\r\n\r\n"),
        "{text}"
    );
    assert!(
        text.contains(
            "Ann <b>Agent</b> will meet you on Mon 1 Mar 2027, 14:30 (Asia/Kolkata).\r\n"
        ),
        "{text}"
    );
    assert!(text.contains("Join: https://meet.example.com/abc?x=1&y=2"));
    assert!(text.contains("Unknown {{lead.x}} stays."));

    let html = decoded(&alt[1]);
    assert!(!html.contains("<script>"), "{html}");
    assert!(!html.contains("<b>"), "{html}");
    assert!(html.contains("Zoë &lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(html.contains(
        "Ann &lt;b&gt;Agent&lt;/b&gt; will meet you on Mon 1 Mar 2027, 14:30 (Asia/Kolkata).<br>"
    ));
    assert!(html.contains("<a href=\"https://meet.example.com/abc?x=1&amp;y=2\">https://meet.example.com/abc?x=1&amp;y=2</a>"));

    let cal = decoded(&alt[2]);
    let lines = read_ics(&cal);
    assert_eq!(one(&lines, "METHOD").value, "REQUEST");
    assert_eq!(one(&lines, "UID").value, "m-42@dynchat.example.com");

    let attachment = &top[1];
    assert_eq!(
        attachment.header("Content-Type"),
        Some("application/ics; name=\"invite.ics\"")
    );
    assert_eq!(
        attachment.header("Content-Disposition"),
        Some("attachment; filename=\"invite.ics\"")
    );
    assert_eq!(
        decoded(attachment),
        cal,
        "the attachment is the same calendar object"
    );
}

#[test]
fn cancellation_email_has_same_uid_and_higher_sequence() {
    let raw = email(
        "Zoë",
        "Cancelled: demo",
        "Sorry {{visitor.name}}.",
        IcsMethod::Cancel,
        1,
    );
    let msg = read_part(&raw);
    let top = children(&msg);
    let alt = children(&top[0]);
    assert_eq!(
        alt[2].header("Content-Type"),
        Some("text/calendar; method=CANCEL; charset=UTF-8")
    );
    let lines = read_ics(&decoded(&alt[2]));
    assert_eq!(one(&lines, "METHOD").value, "CANCEL");
    assert_eq!(one(&lines, "UID").value, "m-42@dynchat.example.com");
    assert_eq!(one(&lines, "SEQUENCE").value, "1");
    assert_eq!(
        top[1].header("Content-Disposition"),
        Some("attachment; filename=\"cancel.ics\"")
    );
    assert_ne!(
        boundary(msg.header("Content-Type").unwrap_or_default()),
        boundary(top[0].header("Content-Type").unwrap_or_default())
    );
}

#[test]
fn header_injection_through_names_and_subject_is_impossible() {
    let evil = "Zoë\r\nBcc: victim@x.org\r\nX-Injected: 1";
    for (name, subject) in [
        (evil, "Plain"),
        ("Zoë", evil),
        (evil, "Meet {{visitor.name}}\nBcc: a@b.c"),
    ] {
        let raw = email(name, subject, BODY, IcsMethod::Request, 0);
        let msg = read_part(&raw);
        let names: Vec<&str> = msg.headers.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "From",
                "To",
                "Reply-To",
                "Subject",
                "Date",
                "Message-ID",
                "MIME-Version",
                "Content-Type"
            ],
            "{name:?} / {subject:?}"
        );
        assert!(!raw.contains("\r\nBcc:") && !raw.contains("\r\nX-Injected:"));
        let s = decode_words(msg.header("Subject").unwrap_or_default());
        assert!(!s.contains('\r') && !s.contains('\n'), "{s:?}");
    }
    // Addresses themselves are validated before they get here.
    for bad in [
        "a@b.c\r\nBcc: x@y.z",
        "a b@c.d",
        "<a@b.c>",
        "a@b.c,d@e.f",
        "no-at-sign",
        "a@@b.c",
        "a@.b",
    ] {
        assert!(
            EmailAddress::parse(bad, "lead.email").is_err(),
            "{bad:?} accepted"
        );
    }
    assert!(EmailAddress::parse(" ok@example.com ", "lead.email").is_ok());
}
