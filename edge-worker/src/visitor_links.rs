//! The visitor's reschedule and cancel links, in plain Rust: signed, expiring, single-purpose
//! tokens, and the small server-rendered pages they open.
//!
//! A token is `<purpose>.<meeting id>.<sequence>.<expiry, s since the epoch>.<HMAC>`, the
//! HMAC-SHA256 (key `LINK_KEY`) over the site, the purpose and those fields. It is refused
//! when malformed, when the signature does not match (any change, or another site), after its
//! expiry (the meeting's start), and, checked against the stored meeting by the edge, when the
//! meeting's `sequence` moved on (a reschedule issues new links) or it is no longer scheduled:
//! so a link works once. A cancel link never reschedules and the other way round.
//!
//! The pages are plain HTML with every value escaped, no script and no inline style (served
//! with a `default-src 'none'` policy); the actions are form POSTs to the page itself.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use dynchat_scheduling::escape_html as escape;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// What a link may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Cancel,
    Reschedule,
}

impl Purpose {
    fn tag(self) -> &'static str {
        match self {
            Purpose::Cancel => "c",
            Purpose::Reschedule => "r",
        }
    }
}

/// A verified token's claims.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    pub purpose: Purpose,
    pub meeting: String,
    pub sequence: i64,
    pub expires_s: i64,
}

/// Why a token is refused (each a clear page, never a stack trace).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Not a token at all.
    Malformed,
    /// Signed by someone else, or changed.
    Tampered,
    Expired,
}

impl Refusal {
    /// The page's HTTP status and text.
    pub fn page(self) -> (u16, &'static str, &'static str) {
        match self {
            Refusal::Malformed => (
                400,
                "This link is not valid",
                "The link is incomplete or damaged. Please use the link from your invitation email.",
            ),
            Refusal::Tampered => (
                400,
                "This link is not valid",
                "The link was changed or was not issued for this meeting.",
            ),
            Refusal::Expired => (
                410,
                "This link has expired",
                "The meeting has already started, so it can no longer be changed here. Please reply to your invitation email.",
            ),
        }
    }
}

/// The signing key: 64 hex digits.
#[derive(Clone)]
pub struct LinkKey([u8; 32]);

impl LinkKey {
    pub fn from_hex(s: &str) -> Option<LinkKey> {
        let s = s.trim();
        if s.len() != 64 {
            return None;
        }
        let mut out = [0u8; 32];
        for (i, o) in out.iter_mut().enumerate() {
            *o = u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()?;
        }
        Some(LinkKey(out))
    }

    fn mac(&self, site: &str, body: &str) -> Hmac<Sha256> {
        // new_from_slice accepts any key length; a 32-byte key cannot fail.
        let mut m = <Hmac<Sha256> as Mac>::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        m.update(b"dynchat visitor link v1\0");
        m.update(site.as_bytes());
        m.update(b"\0");
        m.update(body.as_bytes());
        m
    }
}

fn plain_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// A link token for `site`.
pub fn sign(key: &LinkKey, site: &str, c: &Claim) -> String {
    let body = format!(
        "{}.{}.{}.{}",
        c.purpose.tag(),
        c.meeting,
        c.sequence,
        c.expires_s
    );
    let tag = URL_SAFE_NO_PAD.encode(key.mac(site, &body).finalize().into_bytes());
    format!("{body}.{tag}")
}

/// Checks a token for `site` at `now_s`.
pub fn verify(key: &LinkKey, site: &str, token: &str, now_s: i64) -> Result<Claim, Refusal> {
    if token.len() > 300 {
        return Err(Refusal::Malformed);
    }
    let parts: Vec<&str> = token.split('.').collect();
    let [purpose, meeting, sequence, expires, tag] = parts[..] else {
        return Err(Refusal::Malformed);
    };
    let purpose = match purpose {
        "c" => Purpose::Cancel,
        "r" => Purpose::Reschedule,
        _ => return Err(Refusal::Malformed),
    };
    let (Some(sequence), Some(expires_s)) = (
        sequence.parse::<i64>().ok().filter(|s| *s >= 0),
        expires.parse::<i64>().ok(),
    ) else {
        return Err(Refusal::Malformed);
    };
    if !plain_id(meeting) {
        return Err(Refusal::Malformed);
    }
    let tag = URL_SAFE_NO_PAD
        .decode(tag)
        .map_err(|_| Refusal::Malformed)?;
    let body = &token[..token.len() - parts[4].len() - 1];
    key.mac(site, body)
        .verify_slice(&tag)
        .map_err(|_| Refusal::Tampered)?;
    if now_s >= expires_s {
        return Err(Refusal::Expired);
    }
    Ok(Claim {
        purpose,
        meeting: meeting.to_string(),
        sequence,
        expires_s,
    })
}

/// The two links of a meeting at `sequence`, valid until its start.
pub fn links(
    key: &LinkKey,
    base_url: &str,
    site: &str,
    meeting: &str,
    sequence: i64,
    start_s: i64,
) -> (String, String) {
    let url = |purpose| {
        let t = sign(
            key,
            site,
            &Claim {
                purpose,
                meeting: meeting.to_string(),
                sequence,
                expires_s: start_s,
            },
        );
        format!("{}/meeting/{site}?t={t}", base_url.trim_end_matches('/'))
    };
    (url(Purpose::Reschedule), url(Purpose::Cancel))
}

/// The link page's policy: nothing loads (no script, no style, no image), forms post only to
/// the page itself, never framed.
pub const PAGE_POLICY: &str =
    "default-src 'none'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// The headers of every link page (`no-referrer`: the token is in the URL).
pub fn page_headers() -> [(&'static str, &'static str); 5] {
    [
        ("Content-Security-Policy", PAGE_POLICY),
        ("X-Frame-Options", "DENY"),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "no-referrer"),
        ("Cache-Control", "no-store"),
    ]
}

/// The lines added to the visitor's invitation text.
pub fn mail_text(reschedule: &str, cancel: &str) -> String {
    format!("\n\nNeed another time? Reschedule: {reschedule}\nCannot make it? Cancel: {cancel}\n")
}

/// A whole page; `body` is already HTML (built from escaped parts).
pub fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<meta name=\"robots\" content=\"noindex\"><title>{t}</title></head>\
<body><main><h1>{t}</h1>\n{body}\n</main></body></html>\n",
        t = escape(title)
    )
}

/// A page with one paragraph of text.
pub fn message_page(title: &str, text: &str) -> String {
    page(title, &format!("<p>{}</p>", escape(text)))
}

/// What the pages say about the meeting.
pub struct Shown<'a> {
    pub agent: &'a str,
    /// The meeting's time in the visitor's zone.
    pub time: &'a str,
}

/// The cancel page: the meeting and one button.
pub fn cancel_page(m: &Shown<'_>, token: &str) -> String {
    page(
        "Cancel your meeting",
        &format!(
            "<p>Your meeting with {} on {}.</p>\
<form method=\"post\"><input type=\"hidden\" name=\"t\" value=\"{}\">\
<button type=\"submit\">Cancel the meeting</button></form>",
            escape(m.agent),
            escape(m.time),
            escape(token)
        ),
    )
}

/// The reschedule page: the meeting and the free times (ISO start, label) in one list box, so two
/// weeks of times stay one short page.
pub fn reschedule_page(m: &Shown<'_>, token: &str, slots: &[(String, String)]) -> String {
    if slots.is_empty() {
        return page(
            "Reschedule your meeting",
            &format!(
                "<p>Your meeting with {} on {}.</p><p>No other time is free at the moment. Please reply to your invitation email.</p>",
                escape(m.agent),
                escape(m.time)
            ),
        );
    }
    let mut options = String::new();
    for (start, label) in slots {
        options.push_str(&format!(
            "<option value=\"{}\">{}</option>",
            escape(start),
            escape(label)
        ));
    }
    let options = format!(
        "<p><label for=\"start\">New time</label><br><select id=\"start\" name=\"start\" required>{options}</select></p>"
    );
    page(
        "Reschedule your meeting",
        &format!(
            "<p>Your meeting with {} is on {}. Pick a new time:</p>\
<form method=\"post\"><input type=\"hidden\" name=\"t\" value=\"{}\">{options}\
<button type=\"submit\">Move the meeting</button></form>",
            escape(m.agent),
            escape(m.time),
            escape(token)
        ),
    )
}

/// The fields of a form POST (`application/x-www-form-urlencoded`), at most `max` of them.
pub fn form_fields(body: &str, max: usize) -> Vec<(String, String)> {
    body.split('&')
        .filter(|p| !p.is_empty())
        .take(max)
        .filter_map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            let dec = |s: &str| {
                percent_encoding::percent_decode_str(&s.replace('+', " "))
                    .decode_utf8()
                    .ok()
                    .map(|c| c.into_owned())
            };
            Some((dec(k)?, dec(v)?))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> LinkKey {
        LinkKey::from_hex(&"ab".repeat(32)).expect("key")
    }

    fn claim(purpose: Purpose) -> Claim {
        Claim {
            purpose,
            meeting: "m-0123456789abcdef01234567".into(),
            sequence: 0,
            expires_s: 2_000_000_000,
        }
    }

    #[test]
    fn a_signed_link_verifies_for_its_site_until_it_expires() {
        let t = sign(&key(), "mt", &claim(Purpose::Reschedule));
        assert_eq!(
            verify(&key(), "mt", &t, 1_900_000_000),
            Ok(claim(Purpose::Reschedule))
        );
        assert_eq!(
            verify(&key(), "mt", &t, 2_000_000_000),
            Err(Refusal::Expired)
        );
        assert_eq!(
            verify(&key(), "other", &t, 1_900_000_000),
            Err(Refusal::Tampered),
            "a link of another site"
        );
        let other_key = LinkKey::from_hex(&"cd".repeat(32)).expect("key");
        assert_eq!(
            verify(&other_key, "mt", &t, 1_900_000_000),
            Err(Refusal::Tampered)
        );
    }

    #[test]
    fn any_change_to_a_token_is_refused() {
        let t = sign(&key(), "mt", &claim(Purpose::Cancel));
        // The purpose, the meeting, the sequence, the expiry: each changed breaks the HMAC.
        for (from, to) in [
            ("c.", "r."),
            ("m-0", "m-1"),
            (".0.", ".1."),
            ("2000000000", "2100000000"),
        ] {
            let changed = t.replacen(from, to, 1);
            assert_ne!(changed, t);
            assert_eq!(
                verify(&key(), "mt", &changed, 1_900_000_000),
                Err(Refusal::Tampered),
                "{from} -> {to}"
            );
        }
        let mut flipped = t.clone();
        let last = flipped
            .pop()
            .map_or('A', |c| if c == 'A' { 'B' } else { 'A' });
        flipped.push(last);
        assert_ne!(
            verify(&key(), "mt", &flipped, 1_900_000_000).map(|_| ()),
            Ok(())
        );
        for garbage in [
            "",
            "x",
            "c.m.0.1",
            "c.m.0.1.!!",
            "z.m-1.0.5.AAAA",
            "c.m 1.0.5.AAAA",
            "c.m-1.-1.5.AAAA",
            &"a".repeat(400),
        ] {
            assert_eq!(
                verify(&key(), "mt", garbage, 0),
                Err(Refusal::Malformed),
                "{garbage}"
            );
        }
    }

    #[test]
    fn links_carry_their_purpose_and_pages_escape_everything() {
        let (r, c) = links(&key(), "https://w.example/", "mt", "m-1", 3, 2_000_000_000);
        assert!(
            r.starts_with("https://w.example/meeting/mt?t=r.m-1.3.2000000000."),
            "{r}"
        );
        assert!(
            c.starts_with("https://w.example/meeting/mt?t=c.m-1.3.2000000000."),
            "{c}"
        );
        let shown = Shown {
            agent: "<script>alert(1)</script>",
            time: "Mon \"9\" & 'ten'",
        };
        let html = cancel_page(&shown, "c.m-1.0.1.x\"y");
        assert!(!html.contains("<script>"), "{html}");
        assert!(
            html.contains("&lt;script&gt;") && html.contains("&quot;9&quot; &amp; &#39;ten&#39;")
        );
        assert!(html.contains("value=\"c.m-1.0.1.x&quot;y\""));
        let html = reschedule_page(
            &shown,
            "t",
            &[("2030-01-01T09:00:00Z".into(), "<b>".into())],
        );
        assert!(html.contains("&lt;b&gt;") && !html.contains("<b>"));
        assert!(!html.contains("style") && !html.contains("<script"));
    }

    #[test]
    fn form_fields_decode() {
        assert_eq!(
            form_fields("t=r.m-1.0.5.a%2Bb&start=2030-01-01T09%3A00%3A00Z&x=a+b", 10),
            vec![
                ("t".to_string(), "r.m-1.0.5.a+b".to_string()),
                ("start".to_string(), "2030-01-01T09:00:00Z".to_string()),
                ("x".to_string(), "a b".to_string()),
            ]
        );
        assert_eq!(form_fields("a=1&b=2&c=3", 2).len(), 2);
    }
}
