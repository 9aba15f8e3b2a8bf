//! The shared rules' test tables: email addresses, the email-domain blocklist, text on the brand colour.

use dynchat_engine::rules::{
    blocked_by, blocklist_entry, email_domain, email_problem, text_on_brand, valid_email,
};

#[test]
fn email_addresses() {
    let long_local = format!("{}@example.com", "a".repeat(65));
    let long = format!("a@{}.com", "b".repeat(250));
    let long_label = format!("a@{}.com", "b".repeat(64));
    let ok_label = format!("a@{}.com", "b".repeat(63));
    let table: &[(&str, bool)] = &[
        ("a@b.co", true),
        ("first.last+tag@sub.example.com", true),
        ("O'Brien_x-y@Example.COM", true),
        ("ann@xn--exmple-cua.de", true),
        ("a@b-c.io", true),
        (&ok_label, true),
        // ASCII only: our SMTP sender does not speak SMTPUTF8; IDNs go in punycode.
        ("ü@exämple.de", false),
        ("ann@exämple.de", false),
        ("ännchen@example.de", false),
        ("", false),
        ("a", false),
        ("a@", false),
        ("@b.co", false),
        ("a@b", false),
        ("a@b.", false),
        ("a b@c.com", false),
        (" a@b.co", false),
        ("a@b.co\r\nBcc: x@y.z", false),
        ("a@@b.com", false),
        ("a@b@c.com", false),
        ("a@-b.com", false),
        ("a@b-.com", false),
        ("a@b.c", false),
        ("a@.b", false),
        ("a@b..co", false),
        (".a@b.com", false),
        ("a.@b.com", false),
        ("a..b@c.com", false),
        ("a@b.123", false),
        ("a@b_c.com", false),
        ("<a@b.co>", false),
        ("a@b.co,d@e.fr", false),
        ("\"a\"@b.co", false),
        ("a;b@c.co", false),
        // Only RFC 5322 dot-atom characters in the local part: markup never passes.
        ("\"><svg/onload=x()>@example.com", false),
        ("<svg/onload=x()>@example.com", false),
        ("x)@example.com", false),
        ("a b@example.com", false),
        ("a\tb@example.com", false),
        ("!#$%&'*+-/=?^_`{|}~@example.com", true),
        (&long_local, false),
        (&long, false),
        (&long_label, false),
    ];
    for (s, want) in table {
        assert_eq!(valid_email(s), *want, "{s:?}");
        assert_eq!(email_problem(s).is_none(), *want, "{s:?}");
        // The old path keeps working for existing callers.
        assert_eq!(dynchat_engine::fields::valid_email(s), *want, "{s:?}");
    }
    assert_eq!(email_problem("ü@x.de"), Some("must be ASCII"));
    assert_eq!(email_problem("no-at-sign"), Some("must contain @"));
}

/// Marketo's own email check (the `email` field type of the protocol-faithful peer,
/// `tests/peers/marketo_peer.py` EMAIL_RE): every address we accept, Marketo accepts, so a lead
/// never dies in Marketo (error 1003) for an address the widget let through.
#[test]
fn every_address_we_accept_marketo_accepts() {
    let marketo =
        regex_lite::Regex::new(r#"^[^@\s,;<>"]+@[^@\s,;<>"]+\.[^@\s,;<>".]{2,}$"#).expect("regex");
    let mut checked = 0;
    for b in 0x20u8..0x7f {
        let c = char::from(b);
        for s in [
            format!("a{c}b@example.com"),
            format!("{c}@example.com"),
            format!("a@ex{c}ample.com"),
            format!("a@example.c{c}m"),
        ] {
            if valid_email(&s) {
                checked += 1;
                assert!(marketo.is_match(&s), "{s:?} passes our rule, not Marketo's");
            }
        }
    }
    assert!(checked > 100);
}

#[test]
fn email_domain_blocklist() {
    let list = [
        "mailinator.com",
        " Example.ORG ",
        "@gmail.com",
        "*.temp.example",
        "",
        "  ",
        "exa mple.org",
        "a<b>.com",
    ];
    // (email, the entry that blocks it)
    let table: &[(&str, Option<&str>)] = &[
        ("ann@mailinator.com", Some("mailinator.com")),
        ("ann@MAILINATOR.COM", Some("mailinator.com")),
        ("ann@eu.mailinator.com", Some("mailinator.com")),
        ("ann@a.b.Example.org", Some("example.org")),
        ("ann@example.org.", Some("example.org")),
        ("ann@gmail.com.", Some("gmail.com")),
        ("ann@x.temp.example", Some("temp.example")),
        ("ann@temp.example", Some("temp.example")),
        (" ann@gmail.com ", Some("gmail.com")),
        ("ann@notmailinator.com", None),
        ("ann@mailinator.com.evil.example", None),
        ("mailinator.com@acme.example", None),
        ("mailinator.com", None),
        ("ann@acme.example", None),
        ("no-at-sign", None),
        ("exa mple.org@x.example", None),
        ("ann@", None),
    ];
    for (email, want) in table {
        assert_eq!(
            blocked_by(email, list).as_deref(),
            *want,
            "{email:?} against {list:?}"
        );
    }
    assert_eq!(blocked_by("ann@mailinator.com", []), None);
    assert_eq!(
        blocklist_entry("*.Mailinator.com."),
        Some("mailinator.com".into())
    );
    // Every leading `@`, `*.` and `.` and every trailing `.` goes, however many.
    assert_eq!(
        blocklist_entry("@@*.*..x.Example.."),
        Some("x.example".into())
    );
    assert_eq!(blocklist_entry("@.*.x.example"), None);
    assert_eq!(blocklist_entry("a<b>.com"), None);
    assert_eq!(blocklist_entry(" . "), None);
    assert_eq!(
        email_domain("Ann@EU.Example.org."),
        Some("eu.example.org".into())
    );
    assert_eq!(email_domain("ann@"), None);
}

#[test]
fn text_on_the_brand_colour() {
    // The widget (engine/web style.rs `brand`) and the console's preview (console `mock`) both
    // call `text_on_brand`, so they give these answers too: the higher WCAG contrast ratio wins.
    let table: &[(&str, Option<&str>)] = &[
        ("#3b82f6", Some("#111827")),
        ("#ef4444", Some("#111827")),
        ("#f97316", Some("#111827")),
        ("#1d4ed8", Some("#ffffff")),
        ("#ffffff", Some("#111827")),
        ("#000000", Some("#ffffff")),
        ("#ffdd00", Some("#111827")),
        ("#7c3aed", Some("#ffffff")),
        ("#b91c1c", Some("#ffffff")),
        ("#000", Some("#ffffff")),
        ("#fff", Some("#111827")),
        ("#FFF", Some("#111827")),
        (" #1D4ED8 ", Some("#ffffff")),
        ("", None),
        ("red", None),
        ("#12", None),
        ("#1234", None),
        ("#gggggg", None),
        ("1d4ed8", None),
        ("#1d4ed8;}", None),
        ("#ffé", None),
    ];
    for (bg, want) in table {
        assert_eq!(text_on_brand(bg), *want, "{bg:?}");
    }
}

/// `text_on_brand` gives, for every 8-bit colour, the answer of WCAG's formula with `powf`
/// (the rule no longer calls `powf`, so that the browser's module carries no `pow`).
#[test]
fn text_on_brand_matches_the_powf_formula_for_every_colour() {
    fn channel(c: u8) -> f64 {
        let c = f64::from(c) / 255.0;
        if c <= 0.039_28 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    }
    let lin: Vec<f64> = (0..=255).map(channel).collect();
    let luminance =
        |r: usize, g: usize, b: usize| 0.2126 * lin[r] + 0.7152 * lin[g] + 0.0722 * lin[b];
    let ratio = |a: f64, b: f64| {
        let (hi, lo) = if a > b { (a, b) } else { (b, a) };
        (hi + 0.05) / (lo + 0.05)
    };
    let dark = luminance(17, 24, 39);
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut text = *b"#000000";
    let (mut light, mut darks) = (0u32, 0u32);
    for r in 0..256 {
        for g in 0..256 {
            for b in 0..256 {
                let l = luminance(r, g, b);
                let want = if ratio(l, 1.0) >= ratio(l, dark) {
                    light += 1;
                    "#ffffff"
                } else {
                    darks += 1;
                    "#111827"
                };
                for (i, v) in [r, g, b].into_iter().enumerate() {
                    text[1 + 2 * i] = HEX[v >> 4];
                    text[2 + 2 * i] = HEX[v & 15];
                }
                let hex = std::str::from_utf8(&text).expect("ASCII");
                assert_eq!(text_on_brand(hex), Some(want), "{hex}");
            }
        }
    }
    assert!(light > 0 && darks > 0);
}

/// A lead carries the most recent transcript lines that fit the worker's limits, with room for a
/// marker, and never loses the lead for the conversation's length.
#[test]
fn transcript_cut_keeps_the_latest_lines_that_fit() {
    use dynchat_engine::fields::{transcript_cut, LEAD_TRANSCRIPT_BYTES, LEAD_TRANSCRIPT_LINES};
    assert_eq!(transcript_cut(&[]), 0);
    assert_eq!(
        transcript_cut(&[10; LEAD_TRANSCRIPT_LINES]),
        0,
        "exactly the limit fits"
    );
    let many = vec![10; 1_200];
    let first = transcript_cut(&many);
    assert_eq!(
        many.len() - first,
        LEAD_TRANSCRIPT_LINES - 1,
        "one line left for the marker"
    );
    // Long lines: the byte budget decides.
    let long = vec![4_000; 20];
    let first = transcript_cut(&long);
    let kept: usize = long[first..].iter().sum();
    assert!(
        kept <= LEAD_TRANSCRIPT_BYTES - 64 && first > 0,
        "{first} {kept}"
    );
    assert!(kept + 4_000 > LEAD_TRANSCRIPT_BYTES - 64, "as many as fit");
    // A single line over the budget is left out (the marker says so); the lead still goes.
    assert_eq!(transcript_cut(&[LEAD_TRANSCRIPT_BYTES + 1]), 1);
}
