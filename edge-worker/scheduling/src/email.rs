//! The iMIP invitation / cancellation email: a complete RFC 5322 MIME message.
//!
//! Structure: `multipart/mixed` of (`multipart/alternative` of text, HTML and the
//! `text/calendar; method=...` part) and the `.ics` attachment. Every body is base64, so no
//! content can end a part early; every header value passes through one-line sanitising and
//! RFC 2047 encoding, so CR/LF in a name or subject cannot add a header.
//!
//! The site owner's subject and body templates are plain text with the tokens
//! `{{visitor.name}}`, `{{agent.name}}`, `{{meeting.time}}` (in the visitor's zone) and
//! `{{meeting.link}}`. Nothing from the template or the tokens is inserted as HTML: the HTML
//! part escapes everything, and only the link becomes an anchor (if it is http or https).

use crate::error::SchedulingError;
use crate::ical::{ics, IcsMethod, Meeting, Person};
use crate::slots::label;
use crate::text::{base64_body, fnv1a, header_words, html, single_line};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;

/// Everything the email needs; `now` is its Date header and the ICS DTSTAMP.
#[derive(Debug, Clone)]
pub struct InvitationEmail<'a> {
    pub meeting: &'a Meeting,
    pub method: IcsMethod,
    pub sequence: u32,
    /// The sending address (the site's mail relay identity), shown with this name.
    pub from: &'a Person,
    /// The visitor.
    pub to: &'a Person,
    /// Replies go to the agent, usually.
    pub reply_to: Option<&'a Person>,
    pub subject_template: &'a str,
    pub body_template: &'a str,
    pub visitor_name: &'a str,
    pub agent_name: &'a str,
    pub visitor_tz: Tz,
    pub now: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    VisitorName,
    AgentName,
    MeetingTime,
    MeetingLink,
}

impl Token {
    fn from_name(name: &str) -> Option<Token> {
        match name {
            "visitor.name" => Some(Token::VisitorName),
            "agent.name" => Some(Token::AgentName),
            "meeting.time" => Some(Token::MeetingTime),
            "meeting.link" => Some(Token::MeetingLink),
            _ => None,
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Piece<'t> {
    Literal(&'t str),
    Token(Token),
}

/// Splits a template into literals and known tokens; unknown `{{...}}` stay literal.
fn pieces(template: &str) -> (Vec<Piece<'_>>, Vec<String>) {
    let mut out = Vec::new();
    let mut unknown = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find("{{") {
        let after = &rest[open + 2..];
        let Some(close) = after.find("}}") else {
            break;
        };
        let name = after[..close].trim();
        match Token::from_name(name) {
            Some(t) => {
                if open > 0 {
                    out.push(Piece::Literal(&rest[..open]));
                }
                out.push(Piece::Token(t));
            }
            None => {
                unknown.push(name.to_owned());
                out.push(Piece::Literal(&rest[..open + 2 + close + 2]));
            }
        }
        rest = &after[close + 2..];
    }
    if !rest.is_empty() {
        out.push(Piece::Literal(rest));
    }
    (out, unknown)
}

/// Checks a subject or body template; the error names `field` and the unknown token.
pub fn validate_template(template: &str, field: &str) -> Result<(), SchedulingError> {
    let (_, unknown) = pieces(template);
    match unknown.first() {
        Some(name) => Err(SchedulingError::InvalidSettings {
            field: field.to_owned(),
            message: format!(
                "unknown token {{{{{name}}}}}; known: visitor.name, agent.name, meeting.time, meeting.link"
            ),
        }),
        None => Ok(()),
    }
}

struct Values {
    visitor: String,
    agent: String,
    time: String,
    link: String,
}

impl Values {
    fn get(&self, t: Token) -> &str {
        match t {
            Token::VisitorName => &self.visitor,
            Token::AgentName => &self.agent,
            Token::MeetingTime => &self.time,
            Token::MeetingLink => &self.link,
        }
    }
}

/// Substitutes once, left to right: a value containing `{{...}}` is not expanded again.
fn render_text(template: &str, v: &Values) -> String {
    pieces(template)
        .0
        .iter()
        .map(|p| match p {
            Piece::Literal(s) => *s,
            Piece::Token(t) => v.get(*t),
        })
        .collect()
}

fn is_web_link(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    (lower.starts_with("https://") || lower.starts_with("http://"))
        && !s.chars().any(|c| c.is_whitespace() || c.is_control())
}

fn render_html(template: &str, v: &Values) -> String {
    let mut body = String::new();
    for p in pieces(template).0 {
        match p {
            Piece::Literal(s) => body.push_str(&html(s)),
            Piece::Token(Token::MeetingLink) if is_web_link(&v.link) => {
                let l = html(&v.link);
                body.push_str(&format!("<a href=\"{l}\">{l}</a>"));
            }
            Piece::Token(t) => body.push_str(&html(v.get(t))),
        }
    }
    let paragraphs: Vec<String> = body
        .replace("\r\n", "\n")
        .split("\n\n")
        .filter(|p| !p.trim().is_empty())
        .map(|p| format!("<p>{}</p>", p.trim().replace('\n', "<br>\n")))
        .collect();
    format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"></head><body>\n{}\n</body></html>\n",
        paragraphs.join("\n")
    )
}

/// `Name <addr>` for a header line that starts with `prefix` (e.g. `"To: "`), folding before
/// the address when the line would pass 78 characters.
fn address(prefix: &str, p: &Person) -> String {
    let name = single_line(&p.name);
    if name.is_empty() {
        return format!("{prefix}<{}>\r\n", p.email);
    }
    let words = header_words(&name);
    let last_line = match words.rsplit_once("\r\n") {
        Some((_, last)) => last.len(),
        None => prefix.len() + words.len(),
    };
    let sep = if last_line + 3 + p.email.as_str().len() > 78 {
        "\r\n "
    } else {
        " "
    };
    format!("{prefix}{words}{sep}<{}>\r\n", p.email)
}

/// Keeps only characters allowed in a Message-ID's left part.
fn msg_id_part(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-._".contains(c) {
                c
            } else {
                '.'
            }
        })
        .collect()
}

/// The complete message, CRLF line endings, ready for SMTP `DATA` (after dot-stuffing,
/// which the SMTP sender does) or an HTTP mail API that takes raw MIME.
pub fn invitation_email(e: &InvitationEmail<'_>) -> String {
    let values = Values {
        visitor: single_line(e.visitor_name),
        agent: single_line(e.agent_name),
        time: label(e.meeting.start, e.visitor_tz),
        // The video link when the meeting has one, else the template's location.
        link: single_line(
            e.meeting
                .video
                .as_deref()
                .filter(|v| !v.is_empty())
                .or(e.meeting.location.as_deref())
                .unwrap_or_default(),
        ),
    };
    let subject = render_text(e.subject_template, &values);
    let text = render_text(e.body_template, &values)
        .replace("\r\n", "\n")
        .replace('\n', "\r\n");
    let html_body = render_html(e.body_template, &values).replace('\n', "\r\n");
    let calendar = ics(e.meeting, e.method, e.sequence, e.now);
    let method = e.method.as_str();

    let tag = format!(
        "{:016x}",
        fnv1a(&format!("{}/{}/{}", e.meeting.uid, method, e.sequence))
    );
    let mixed = format!("=_dynchat_mixed_{tag}");
    let alt = format!("=_dynchat_alt_{tag}");

    let mut m = String::new();
    m.push_str(&address("From: ", e.from));
    m.push_str(&address("To: ", e.to));
    if let Some(r) = e.reply_to {
        m.push_str(&address("Reply-To: ", r));
    }
    m.push_str(&format!("Subject: {}\r\n", header_words(&subject)));
    m.push_str(&format!(
        "Date: {}\r\n",
        e.now.format("%a, %d %b %Y %H:%M:%S +0000")
    ));
    m.push_str(&format!(
        "Message-ID: <{}.{}.{}@{}>\r\n",
        msg_id_part(&e.meeting.uid),
        method.to_ascii_lowercase(),
        e.sequence,
        e.from.email.domain()
    ));
    m.push_str("MIME-Version: 1.0\r\n");
    m.push_str(&format!(
        "Content-Type: multipart/mixed; boundary=\"{mixed}\"\r\n\r\n"
    ));
    m.push_str("This is a multi-part message in MIME format.\r\n");

    m.push_str(&format!("--{mixed}\r\n"));
    m.push_str(&format!(
        "Content-Type: multipart/alternative; boundary=\"{alt}\"\r\n\r\n"
    ));
    let part = |m: &mut String, boundary: &str, headers: &str, body: &str| {
        m.push_str(&format!(
            "--{boundary}\r\n{headers}Content-Transfer-Encoding: base64\r\n\r\n"
        ));
        m.push_str(&base64_body(body.as_bytes()));
    };
    part(
        &mut m,
        &alt,
        "Content-Type: text/plain; charset=UTF-8\r\n",
        &text,
    );
    part(
        &mut m,
        &alt,
        "Content-Type: text/html; charset=UTF-8\r\n",
        &html_body,
    );
    part(
        &mut m,
        &alt,
        &format!("Content-Type: text/calendar; method={method}; charset=UTF-8\r\n"),
        &calendar,
    );
    m.push_str(&format!("--{alt}--\r\n"));
    let file = if e.method == IcsMethod::Cancel {
        "cancel.ics"
    } else {
        "invite.ics"
    };
    part(
        &mut m,
        &mixed,
        &format!(
            "Content-Type: application/ics; name=\"{file}\"\r\nContent-Disposition: attachment; filename=\"{file}\"\r\n"
        ),
        &calendar,
    );
    m.push_str(&format!("--{mixed}--\r\n"));
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_split_into_tokens_once() {
        let (p, unknown) = pieces("Hi {{ visitor.name }}, {{lead.x}} {{agent.name}}{{");
        assert_eq!(
            p,
            vec![
                Piece::Literal("Hi "),
                Piece::Token(Token::VisitorName),
                Piece::Literal(", {{lead.x}}"),
                Piece::Literal(" "),
                Piece::Token(Token::AgentName),
                Piece::Literal("{{"),
            ]
        );
        assert_eq!(unknown, vec!["lead.x"]);
        let err = validate_template("{{lead.x}}", "body_template").err();
        assert_eq!(
            err.and_then(|e| e.field().map(String::from)).as_deref(),
            Some("body_template")
        );
        assert!(validate_template("{{meeting.time}} {{meeting.link}}", "body_template").is_ok());
    }
}
