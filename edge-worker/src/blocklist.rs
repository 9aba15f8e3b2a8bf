//! The site's email-domain blocklist (`email_blocklist` in the site config): which captured
//! emails `POST /leads` refuses. An entry blocks its domain and every subdomain, case-insensitively.

use serde_json::Value;

/// Normalises one blocklist entry: trimmed, lower-case, without a leading `@`, `*.` or `.` and
/// without a trailing `.`; `None` when nothing that looks like a domain is left.
pub fn entry(raw: &str) -> Option<String> {
    let e = raw.trim().to_ascii_lowercase();
    let e = e.trim_start_matches('@').trim_start_matches("*.");
    let e = e.trim_start_matches('.').trim_end_matches('.');
    let ok = !e.is_empty()
        && e.len() <= 253
        && e.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
    ok.then(|| e.to_string())
}

/// The domain of an email (after the last `@`), lower-case, without a trailing `.`.
pub fn domain(email: &str) -> Option<String> {
    let (_, d) = email.trim().rsplit_once('@')?;
    let d = d.trim_end_matches('.').to_ascii_lowercase();
    (!d.is_empty()).then_some(d)
}

/// The entry of `list` (a JSON array of strings; anything else blocks nothing) that blocks
/// `email`, if any: the email's domain equals the entry or ends with `.` + entry.
pub fn blocked_by(email: &str, list: &Value) -> Option<String> {
    let d = domain(email)?;
    list.as_array()?
        .iter()
        .filter_map(Value::as_str)
        .filter_map(entry)
        .find(|e| d == *e || d.strip_suffix(e.as_str()).is_some_and(|p| p.ends_with('.')))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn domain_and_subdomains_are_blocked_case_insensitively() {
        let list = json!([
            "mailinator.com",
            " Example.ORG ",
            "@gmail.com",
            "*.temp.example"
        ]);
        for e in [
            "ann@mailinator.com",
            "ann@MAILINATOR.COM",
            "ann@eu.mailinator.com",
            "ann@a.b.Example.org",
            "ann@gmail.com.",
            "ann@x.temp.example",
            "ann@temp.example",
        ] {
            assert!(blocked_by(e, &list).is_some(), "{e} must be blocked");
        }
        assert_eq!(
            blocked_by("ann@eu.mailinator.com", &list).as_deref(),
            Some("mailinator.com")
        );
    }

    #[test]
    fn look_alike_domains_and_bad_lists_block_nothing() {
        let list = json!(["mailinator.com", "", "  ", 42, "exa mple.org"]);
        for e in [
            "ann@notmailinator.com",
            "ann@mailinator.com.evil.example",
            "mailinator.com@acme.example",
            "ann@acme.example",
            "no-at-sign",
            "exa mple.org@x.example",
        ] {
            assert_eq!(blocked_by(e, &list), None, "{e} must pass");
        }
        assert_eq!(
            blocked_by("ann@mailinator.com", &json!("mailinator.com")),
            None
        );
        assert_eq!(blocked_by("ann@mailinator.com", &Value::Null), None);
        assert_eq!(entry("*.Mailinator.com."), Some("mailinator.com".into()));
        assert_eq!(entry("a<b>.com"), None);
    }
}
