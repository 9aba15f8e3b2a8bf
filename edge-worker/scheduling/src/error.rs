//! The crate's one error enum and its mapping to HTTP status codes.

use std::fmt;

/// Everything that can go wrong in the scheduling core.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SchedulingError {
    /// Agent settings failed validation; `field` is a JSON path such as `working_hours.mon[1].end`.
    InvalidSettings { field: String, message: String },
    /// A string is not an IANA time zone name.
    InvalidTimeZone { field: String, value: String },
    /// A string is not a usable email address.
    InvalidEmail { field: String, message: String },
    /// A stored rotation state could not be read (bad JSON or an unknown version).
    InvalidRotation { message: String },
    /// A calendar provider answered with a body this crate cannot read.
    ProviderResponse {
        provider: &'static str,
        message: String,
    },
}

impl SchedulingError {
    /// The HTTP status a server should answer with: the only place where this mapping lives.
    pub fn http_status(&self) -> u16 {
        match self {
            SchedulingError::InvalidSettings { .. }
            | SchedulingError::InvalidTimeZone { .. }
            | SchedulingError::InvalidEmail { .. } => 400,
            SchedulingError::ProviderResponse { .. } => 502,
            SchedulingError::InvalidRotation { .. } => 500,
        }
    }

    /// The field (JSON path) a validation error is about, if any.
    pub fn field(&self) -> Option<&str> {
        match self {
            SchedulingError::InvalidSettings { field, .. }
            | SchedulingError::InvalidTimeZone { field, .. }
            | SchedulingError::InvalidEmail { field, .. } => Some(field),
            SchedulingError::ProviderResponse { .. } | SchedulingError::InvalidRotation { .. } => {
                None
            }
        }
    }

    pub(crate) fn settings(field: impl Into<String>, message: impl Into<String>) -> Self {
        SchedulingError::InvalidSettings {
            field: field.into(),
            message: message.into(),
        }
    }

    pub(crate) fn provider(provider: &'static str, message: impl Into<String>) -> Self {
        SchedulingError::ProviderResponse {
            provider,
            message: message.into(),
        }
    }
}

impl fmt::Display for SchedulingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SchedulingError::InvalidSettings { field, message } => write!(f, "{field}: {message}"),
            SchedulingError::InvalidTimeZone { field, value } => {
                write!(f, "{field}: {value:?} is not an IANA time zone")
            }
            SchedulingError::InvalidEmail { field, message } => write!(f, "{field}: {message}"),
            SchedulingError::InvalidRotation { message } => {
                write!(f, "unreadable rotation state: {message}")
            }
            SchedulingError::ProviderResponse { provider, message } => {
                write!(f, "unreadable {provider} response: {message}")
            }
        }
    }
}

impl std::error::Error for SchedulingError {}
