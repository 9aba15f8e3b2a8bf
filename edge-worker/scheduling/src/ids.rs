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
/// the product's one email rule, `dynchat_engine::rules::valid_email` (ASCII `local@domain`, no
/// spaces, no control characters, no characters with meaning in headers or URIs (`<>()[]\,;:"`),
/// at most 254 octets, a dotted domain), applied after trimming.
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
        if let Some(problem) = dynchat_engine::rules::email_problem(s) {
            return Err(err(problem));
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
