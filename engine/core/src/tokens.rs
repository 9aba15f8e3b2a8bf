//! Text templates: `{{lead.FirstName:there}}`, `{{answer.q1:}}`, `{{meeting.time}}`, parsed once at compile time.

use crate::fields::FieldName;
use serde::{Deserialize, Serialize};

/// Where a token's value comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum TokenSource {
    /// A lead field (known or captured in this conversation).
    Lead(FieldName),
    /// A company field.
    Company(FieldName),
    /// The answer given on a card (index into the compiled flow).
    Answer(u16),
    /// The booked meeting's agent name.
    MeetingAgent,
    /// The booked meeting's time, as the host formatted it for the visitor.
    MeetingTime,
}

/// One piece of a template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Segment {
    /// Literal text.
    Text(String),
    /// A substitution with an optional default.
    Token {
        /// Value source.
        source: TokenSource,
        /// Used when the value is unknown or empty.
        default: Option<String>,
    },
}

/// A parsed template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Template(pub Vec<Segment>);

/// A problem found while parsing a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenError {
    /// `{{` without `}}`.
    Unclosed,
    /// A token with no `:default`.
    MissingDefault(String),
    /// `{{something.x}}` with an unknown namespace.
    UnknownNamespace(String),
    /// `{{answer.x}}` naming no card.
    UnknownCard(String),
    /// `{{lead.}}` and the like.
    Empty,
}

/// A token as written, before card ids are resolved.
pub struct RawToken<'a> {
    /// Text before the first `.`.
    pub namespace: &'a str,
    /// Text after the first `.`.
    pub name: &'a str,
    /// Text after the first `:`, trimmed.
    pub default: Option<&'a str>,
}

/// Splits a template into literal text and raw tokens; `resolve` turns each raw token into a segment.
pub fn parse<F>(text: &str, mut resolve: F) -> Result<Template, TokenError>
where
    F: FnMut(RawToken<'_>) -> Result<Segment, TokenError>,
{
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find("{{") {
        if open > 0 {
            out.push(Segment::Text(rest[..open].to_string()));
        }
        let after = &rest[open + 2..];
        let close = after.find("}}").ok_or(TokenError::Unclosed)?;
        let inner = after[..close].trim();
        // `{{ lead.firstname : there }}`: the spaces around the default are layout, not text.
        let (path, default) = match inner.split_once(':') {
            Some((p, d)) => (p.trim(), Some(d.trim())),
            None => (inner, None),
        };
        let (namespace, name) = path.split_once('.').unwrap_or((path, ""));
        if name.is_empty() {
            return Err(TokenError::Empty);
        }
        out.push(resolve(RawToken {
            namespace,
            name,
            default,
        })?);
        rest = &after[close + 2..];
    }
    if !rest.is_empty() {
        out.push(Segment::Text(rest.to_string()));
    }
    Ok(Template(out))
}

/// The characters the widget's markdown subset gives a meaning to (`**bold**`, `[label](url)`),
/// and `\` itself, which makes the next one of them literal.
pub const MARKDOWN_SPECIALS: &[char] = &['\\', '*', '[', ']', '(', ')'];

/// Makes a value literal text for the markdown subset: a `\` before each of [`MARKDOWN_SPECIALS`].
/// What a visitor typed or a lead field holds is data, never markup.
pub fn escape_markdown(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    push_escaped(&mut out, v);
    out
}

/// Appends `v` escaped as [`escape_markdown`] does.
fn push_escaped(out: &mut String, v: &str) {
    for c in v.chars() {
        if MARKDOWN_SPECIALS.contains(&c) {
            out.push('\\');
        }
        out.push(c);
    }
}

/// Undoes [`escape_markdown`]: the text as a visitor reads it in the bubble (the transcript a
/// lead carries to Marketo holds this, not the escapes).
pub fn unescape_markdown(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    let mut chars = v.chars().peekable();
    while let Some(c) = chars.next() {
        match chars.peek() {
            Some(&n) if c == '\\' && MARKDOWN_SPECIALS.contains(&n) => {
                out.push(n);
                chars.next();
            }
            _ => out.push(c),
        }
    }
    out
}

impl Template {
    /// Renders with a lookup for each token source; a missing or empty value takes the default.
    ///
    /// Markdown applies only to what the author wrote: a looked-up value (a visitor's answer, a
    /// lead or company field, the meeting) is escaped with [`escape_markdown`]; the author's text
    /// and defaults are kept as written.
    pub fn render<'v, F>(&self, lookup: F) -> String
    where
        F: Fn(&TokenSource) -> Option<&'v str>,
    {
        let mut s = String::new();
        for seg in &self.0 {
            match seg {
                Segment::Text(t) => s.push_str(t),
                Segment::Token { source, default } => {
                    match lookup(source).filter(|v| !v.trim().is_empty()) {
                        Some(v) => push_escaped(&mut s, v),
                        None => s.push_str(default.as_deref().unwrap_or("")),
                    }
                }
            }
        }
        s
    }
}
