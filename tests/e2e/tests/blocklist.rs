//! The site's email-domain blocklist (`email_blocklist` in the site config, edited in the
//! console's Configuration page) against the real worker: `POST /v1/sites/{site}/leads` refuses a
//! blocked domain or any of its subdomains, case-insensitively, with 422 naming `fields.email`,
//! and stores nothing; other domains (look-alikes too) are accepted.

use dynchat_e2e::{demo_dialogue, serial, site_settings, Answer, Worker};
use serde_json::{json, Value};

const SITE: &str = "blk";

fn lead(w: &Worker, key: &str, hash: &str, email: &str) -> Answer {
    let body = json!({"visitor": format!("v-{key}"), "session": format!("s-{key}"), "dialogue": "demo", "hash": hash,
                      "fields": {"email": email, "firstName": "Ann"}, "answers": {"interest": "pricing"},
                      "transcript": [["bot", "Your email?"], ["visitor", email]]});
    w.post(
        &format!("/v1/sites/{SITE}/leads"),
        &body,
        &[("Idempotency-Key", &format!("lead-key-{key}"))],
    )
}

fn stored_emails(w: &Worker) -> Vec<String> {
    let a = w.admin("GET", &format!("/admin/sites/{SITE}/leads"), None);
    assert_eq!(a.status, 200, "{}", a.body);
    let v = a.json();
    let rows = v["leads"].as_array().cloned().unwrap_or_default();
    rows.iter()
        .map(|r| r["email"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn blocked_email_domains_are_refused_with_422_and_nothing_is_stored() {
    let _g = serial();
    let w = Worker::start("blocklist", None, &[]);
    let mut settings = site_settings(None);
    settings["config"]["email_blocklist"] =
        json!(["mailinator.com", " Example.ORG ", "@temp-mail.test"]);
    let published = w.site(SITE, settings.clone(), &[&demo_dialogue("demo")]);
    let hash = published[0].1.clone();

    for (key, email) in [
        ("b1", "ann@mailinator.com"),
        ("b2", "ann@eu.MAILINATOR.com"),
        ("b3", "ANN@Example.org"),
        ("b4", "ann@a.b.example.org"),
        ("b5", "ann@temp-mail.test"),
    ] {
        let a = lead(&w, key, &hash, email);
        assert_eq!(a.status, 422, "{email}: {}", a.body);
        let e: Value = a.json();
        assert_eq!(e["error"]["field"], "fields.email", "{}", a.body);
        assert_eq!(e["error"]["code"], "refused_field", "{}", a.body);
        assert!(
            e["error"]["message"]
                .as_str()
                .unwrap_or_default()
                .contains("work email"),
            "{}",
            a.body
        );
        assert!(a
            .header("content-type")
            .unwrap_or_default()
            .starts_with("application/json"));
    }
    // Look-alikes and other domains pass.
    for (key, email) in [
        ("ok1", "ann@notmailinator.com"),
        ("ok2", "ann@mailinator.com.acme.test"),
        ("ok3", "ann@acme.test"),
    ] {
        let a = lead(&w, key, &hash, email);
        assert_eq!(a.status, 201, "{email}: {}", a.body);
    }
    let mut stored = stored_emails(&w);
    stored.sort();
    assert_eq!(
        stored,
        vec![
            "ann@acme.test",
            "ann@mailinator.com.acme.test",
            "ann@notmailinator.com"
        ],
        "only the accepted leads are stored"
    );

    // The refusal held nothing back: once the domain is off the list, the same key is a new lead.
    settings["config"]["email_blocklist"] = json!([" Example.ORG "]);
    let a = w.admin("PUT", &format!("/admin/sites/{SITE}"), Some(&settings));
    assert_eq!(a.status, 200, "{}", a.body);
    let again = lead(&w, "b1", &hash, "ann@mailinator.com");
    assert_eq!(again.status, 201, "{}", again.body);
    assert_eq!(lead(&w, "b3", &hash, "ANN@Example.org").status, 422);
    assert_eq!(stored_emails(&w).len(), 4);
}
