//! The site's email-domain blocklist (`email_blocklist` in the site config): which captured
//! emails `POST /leads` refuses. The rule is `dynchat_engine::rules::blocked_by` (an entry blocks
//! its domain and every subdomain, case-insensitively); this adapter reads the JSON config.

use serde_json::Value;

/// The entry of `list` (a JSON array of strings; anything else blocks nothing) that blocks
/// `email`, if any (`dynchat_engine::rules::blocked_by`).
pub fn blocked_by(email: &str, list: &Value) -> Option<String> {
    let entries = list.as_array()?.iter().filter_map(Value::as_str);
    dynchat_engine::rules::blocked_by(email, entries)
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
        assert_eq!(
            dynchat_engine::rules::blocklist_entry("*.Mailinator.com."),
            Some("mailinator.com".into())
        );
        assert_eq!(dynchat_engine::rules::blocklist_entry("a<b>.com"), None);
    }
}
