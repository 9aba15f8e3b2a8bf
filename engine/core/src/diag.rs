//! Diagnostics: a JSON path, a stable code and a human message for every problem found in a dialogue.

use serde::{Deserialize, Serialize};
use std::fmt;

/// How bad a finding is: errors block publishing, warnings do not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// The dialogue cannot be compiled.
    Error,
    /// Worth fixing; the dialogue still runs.
    Warning,
}

/// One finding about a dialogue file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnostic {
    /// JSON path of the offending value, e.g. `$.cards[2].next`.
    pub path: String,
    /// Stable machine-readable code, e.g. `unknown_card`.
    pub code: String,
    /// What is wrong and how to fix it.
    pub message: String,
    /// Error or warning.
    pub severity: Severity,
}

impl Diagnostic {
    /// An error at `path`.
    pub fn error(path: impl Into<String>, code: &str, message: impl Into<String>) -> Self {
        Diagnostic {
            path: path.into(),
            code: code.to_string(),
            message: message.into(),
            severity: Severity::Error,
        }
    }
    /// A warning at `path`.
    pub fn warning(path: impl Into<String>, code: &str, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(path, code, message)
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{sev}[{}] at {}: {}", self.code, self.path, self.message)
    }
}
