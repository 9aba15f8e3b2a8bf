//! Lead field names and the validators for what visitors type (email, phone, name).

use serde::{Deserialize, Serialize};

/// A lead or company field name, compared without regard to case (`FirstName` = `firstName`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct FieldName(String);

impl FieldName {
    /// Normalises a field name.
    pub fn new(name: &str) -> Self {
        FieldName(name.trim().to_ascii_lowercase())
    }
    /// The normalised name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The longest value a visitor may type into one field; longer answers are re-prompted.
pub const MAX_ANSWER_LEN: usize = 2000;

/// Is this a plausible email address? (RFC 5321 lengths, one `@`, a dotted domain, no spaces.)
pub fn valid_email(s: &str) -> bool {
    if s.len() > 254 || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return false;
    }
    let Some((local, domain)) = s.rsplit_once('@') else {
        return false;
    };
    if local.is_empty() || local.len() > 64 || local.contains('@') {
        return false;
    }
    if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        return false;
    }
    let labels: Vec<&str> = domain.split('.').collect();
    if labels.len() < 2 {
        return false;
    }
    labels.iter().all(|l| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_alphanumeric() || c == '-')
    }) && labels
        .last()
        .is_some_and(|tld| tld.len() >= 2 && !tld.chars().all(|c| c.is_ascii_digit()))
}

/// Is this a plausible phone number? 7 to 15 digits (E.164), optional leading `+`,
/// separators `space - . ( )` and an extension `x123`.
pub fn valid_phone(s: &str) -> bool {
    let main = match s.to_ascii_lowercase().split_once('x') {
        Some((m, ext)) => {
            if ext.trim().is_empty() || !ext.trim().chars().all(|c| c.is_ascii_digit()) {
                return false;
            }
            m.to_string()
        }
        None => s.to_string(),
    };
    let main = main.trim();
    let body = main.strip_prefix('+').unwrap_or(main);
    let mut digits = 0;
    for c in body.chars() {
        match c {
            '0'..='9' => digits += 1,
            ' ' | '-' | '.' | '(' | ')' => {}
            _ => return false,
        }
    }
    (7..=15).contains(&digits)
}

/// Lower-cases an email for deduplication and storage.
pub fn normalise_email(s: &str) -> String {
    s.trim().to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        for ok in ["a@b.co", "first.last+tag@sub.example.com", "ü@exämple.de"] {
            assert!(valid_email(ok), "{ok}");
        }
        for bad in [
            "",
            "a",
            "a@",
            "@b.co",
            "a@b",
            "a@b.",
            "a b@c.com",
            "a@@b.com",
            "a@-b.com",
            "a@b.c",
            ".a@b.com",
            "a..b@c.com",
            "a@b.123",
        ] {
            assert!(!valid_email(bad), "{bad}");
        }
    }

    #[test]
    fn phones() {
        for ok in [
            "+1 (415) 555-0100",
            "020 7946 0958",
            "+31.20.123.4567",
            "5550100 x12",
        ] {
            assert!(valid_phone(ok), "{ok}");
        }
        for bad in [
            "",
            "12345",
            "phone",
            "+1 415 555 0100 0000 0000",
            "555-0100 x",
            "1<script>",
        ] {
            assert!(!valid_phone(bad), "{bad}");
        }
    }
}
