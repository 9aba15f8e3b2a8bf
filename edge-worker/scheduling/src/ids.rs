//! Newtypes for identifiers and validated email addresses.

use crate::error::SchedulingError;
use serde::{Deserialize, Serialize};
use std::fmt;

/// An agent's identifier, as stored by the worker.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AgentId(pub String);

impl AgentId {
    pub fn new(id: impl Into<String>) -> Self {
        AgentId(id.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AgentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for AgentId {
    fn from(s: &str) -> Self {
        AgentId(s.to_owned())
    }
}

/// An email address that is safe to put in a mail header and in an iCalendar `mailto:` URI:
/// ASCII `local@domain`, no spaces, no control characters, no characters with meaning in
/// headers or URIs (`<>()[]\,;:"`), at most 254 octets.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EmailAddress(String);

impl EmailAddress {
    /// Validates `raw`; `field` names it in the error.
    pub fn parse(raw: &str, field: &str) -> Result<Self, SchedulingError> {
        let err = |message: &str| SchedulingError::InvalidEmail {
            field: field.to_owned(),
            message: message.to_owned(),
        };
        let s = raw.trim();
        if s.is_empty() || s.len() > 254 {
            return Err(err("must be 1 to 254 characters"));
        }
        if !s.is_ascii() {
            return Err(err("must be ASCII"));
        }
        if s.bytes()
            .any(|b| b.is_ascii_control() || b == b' ' || b"<>()[]\\,;:\"".contains(&b))
        {
            return Err(err("contains a character not allowed in an address"));
        }
        let Some((local, domain)) = s.split_once('@') else {
            return Err(err("must contain @"));
        };
        if local.is_empty() || domain.is_empty() || domain.contains('@') {
            return Err(err("must be local@domain"));
        }
        if domain.starts_with('.') || domain.ends_with('.') || domain.contains("..") {
            return Err(err("domain is malformed"));
        }
        Ok(EmailAddress(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The part after `@`, used to build Message-IDs and UIDs.
    pub fn domain(&self) -> &str {
        self.0.rsplit('@').next().unwrap_or_default()
    }
}

impl TryFrom<String> for EmailAddress {
    type Error = SchedulingError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        EmailAddress::parse(&s, "email")
    }
}

impl From<EmailAddress> for String {
    fn from(e: EmailAddress) -> String {
        e.0
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
