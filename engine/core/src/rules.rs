//! Rules the worker, the widget and the console all apply: which email addresses we accept,
//! which email domains a site's blocklist refuses, which text colour is readable on the brand
//! colour, and how long the bot's name may be.
//!
//! Each rule lives here once; callers never re-implement it (the tables in `tests/rules.rs` pin them).

/// RFC 5322 `atext` besides letters and digits: with `.` between them, the only characters of a
/// local part we accept (a dot-atom: no quoted strings, no comments, no markup such as `<`, `"`, `(`).
const ATEXT_SYMBOLS: &[u8] = b"!#$%&'*+-/=?^_`{|}~";

fn atext(b: u8) -> bool {
    b.is_ascii_alphanumeric() || crate::cut::has(ATEXT_SYMBOLS, b)
}

/// Why `s` is not an email address we accept, or `None` when it is one (see [`valid_email`]).
///
/// The reasons are short sentences for an API error message (`"{field}: {reason}"`).
pub fn email_problem(s: &str) -> Option<&'static str> {
    if s.is_empty() || s.len() > 254 {
        return Some("must be 1 to 254 characters");
    }
    if !s.is_ascii() {
        return Some("must be ASCII");
    }
    if s.bytes().any(|b| !(atext(b) || b == b'.' || b == b'@')) {
        return Some("contains a character not allowed in an address");
    }
    // Bytes from here on (the address is ASCII): no string slicing, so no panic path that formats
    // a `char` (the browser's chat module would otherwise carry `core::fmt`'s `char` tables).
    let b = s.as_bytes();
    let Some(at) = b.iter().position(|&c| c == b'@') else {
        return Some("must contain @");
    };
    let (local, domain) = (&b[..at], &b[at + 1..]);
    if local.is_empty() || domain.is_empty() || crate::cut::has(domain, b'@') {
        return Some("must be local@domain");
    }
    if local.len() > 64
        || local.first() == Some(&b'.')
        || local.last() == Some(&b'.')
        || local.windows(2).any(|w| w == b"..")
    {
        return Some("local part is malformed");
    }
    let mut labels = 0;
    let mut tld: &[u8] = &[];
    for label in domain.split(|&c| c == b'.') {
        labels += 1;
        let ok = !label.is_empty()
            && label.len() <= 63
            && label.first() != Some(&b'-')
            && label.last() != Some(&b'-')
            && label
                .iter()
                .all(|c| c.is_ascii_alphanumeric() || *c == b'-');
        if !ok {
            return Some("domain is malformed");
        }
        tld = label;
    }
    if labels < 2 || tld.len() < 2 || tld.iter().all(u8::is_ascii_digit) {
        return Some("domain is malformed");
    }
    None
}

/// Is `s` an email address we accept? ONE decision for the whole product: the widget's email
/// capture, the worker's `/leads`, `/book` and admin endpoints, and the scheduling crate's
/// `EmailAddress` (which goes into mail headers and iCalendar `mailto:` URIs) all call this.
///
/// Decision: **ASCII-only addresses.** Our SMTP sender does not speak SMTPUTF8, so an address with
/// non-ASCII characters could pass lead capture and then fail after the calendar event exists.
/// Internationalised domains must be given in punycode (`ann@xn--exmple-cua.de`); non-ASCII
/// local parts are refused.
///
/// Accepted: at most 254 octets; exactly one `@`; a local part of 1 to 64 characters that is an
/// RFC 5322 dot-atom (letters, digits and ``!#$%&'*+-/=?^_`{|}~``, with single dots between them:
/// no leading, trailing or double `.`; no quoted strings, spaces or `<>()[]\,;:"`); a domain of
/// at least two dot-separated labels of 1 to 63 letters, digits and `-` (not first or last),
/// whose last label has at least two characters and is not all digits. Everything accepted here
/// Marketo accepts too (`tests/rules.rs` checks it against Marketo's rule).
/// No trimming: callers trim before asking.
pub fn valid_email(s: &str) -> bool {
    email_problem(s).is_none()
}

/// Normalises one entry of a site's `email_blocklist`: trimmed, lower-case, without a leading
/// `@`, `*.` or `.` and without a trailing `.`; `None` when nothing that looks like a domain is left.
pub fn blocklist_entry(raw: &str) -> Option<String> {
    // `strip_prefix` / `strip_suffix` with a `&str` compare bytes; `trim_start_matches("*.")`
    // would bring the two-way string searcher into the browser's chat module.
    let e = strip_all(raw.trim(), "@");
    let e = strip_end_all(strip_all(strip_all(e, "*."), "."), ".");
    let ok = !e.is_empty()
        && e.len() <= 253
        && e.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
    ok.then(|| e.to_ascii_lowercase())
}

/// `s` without its leading `p`s (`trim_start_matches`, by `strip_prefix` with a `&str`, which
/// compares bytes: the generic char searcher is its own code in the browser's chat module).
fn strip_all<'s>(mut s: &'s str, p: &str) -> &'s str {
    while let Some(rest) = s.strip_prefix(p) {
        s = rest;
    }
    s
}

/// `s` without its trailing `p`s (`trim_end_matches`, by `strip_suffix` with a `&str`).
fn strip_end_all<'s>(mut s: &'s str, p: &str) -> &'s str {
    while let Some(rest) = s.strip_suffix(p) {
        s = rest;
    }
    s
}

/// The domain of an email (after the last `@`), lower-case, without a trailing `.`.
pub fn email_domain(email: &str) -> Option<String> {
    let (_, d) = crate::cut::cut_last(email.trim(), b'@')?;
    let d = strip_end_all(d, ".").to_ascii_lowercase();
    (!d.is_empty()).then_some(d)
}

/// The (normalised) entry of `list` that blocks `email`, if any: the email's domain equals the
/// entry or is a subdomain of it (ends with `.` + entry), case-insensitively. Entries that
/// [`blocklist_entry`] rejects block nothing; so does an email without `@`.
pub fn blocked_by<'a>(email: &str, list: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let d = email_domain(email)?;
    list.into_iter()
        .filter_map(blocklist_entry)
        .find(|e| d == *e || d.strip_suffix(e.as_str()).is_some_and(|p| p.ends_with('.')))
}

/// The most characters of the bot's name: the worker refuses a longer one
/// (400 naming `config.bot_name`); the widget shows at most this many of whatever it is given.
pub const MAX_BOT_NAME_CHARS: usize = 60;

/// Text colour on a light brand colour (Tailwind gray-900).
pub const TEXT_DARK: &str = "#111827";
/// Text colour on a dark brand colour.
pub const TEXT_LIGHT: &str = "#ffffff";

/// `#rgb` or `#rrggbb` (surrounding spaces ignored) as 0-255 channels.
fn hex_rgb(s: &str) -> Option<[f64; 3]> {
    let h = s.trim().strip_prefix('#')?.as_bytes();
    let digit = |i: usize| -> Option<u8> {
        let c = *h.get(i)?;
        (c as char).to_digit(16).map(|d| d as u8)
    };
    let mut rgb = [0.0; 3];
    for (i, ch) in rgb.iter_mut().enumerate() {
        let v = match h.len() {
            3 => digit(i)? * 17,
            6 => digit(2 * i)? * 16 + digit(2 * i + 1)?,
            _ => return None,
        };
        *ch = f64::from(v);
    }
    Some(rgb)
}

/// WCAG 2 relative luminance of 0-255 sRGB channels.
fn luminance([r, g, b]: [f64; 3]) -> f64 {
    let ch = |c: f64| {
        let c = c / 255.0;
        if c <= 0.039_28 {
            c / 12.92
        } else {
            pow_2_4((c + 0.055) / 1.055)
        }
    };
    0.2126 * ch(r) + 0.7152 * ch(g) + 0.0722 * ch(b)
}

/// `x^2.4` for `x` in (0, 1]: `x² · (x²)^(1/5)`, the fifth root by Newton's method, so that the
/// browser's module carries no `pow` (libm's is 2.2 KB of wasm). Within a few units in the last
/// place of `powf`; `text_on_brand` gives `powf`'s answer for every 8-bit colour (tests/rules.rs).
fn pow_2_4(x: f64) -> f64 {
    let a = x * x;
    // From above (y = 1 >= a^(1/5)) Newton's steps fall monotonically to the root; stop when
    // they no longer fall (at most a few dozen steps for a >= 0.007, the smallest used here).
    let mut y = 1.0_f64;
    for _ in 0..64 {
        let y4 = (y * y) * (y * y);
        let next = (4.0 * y + a / y4) / 5.0;
        if next >= y {
            break;
        }
        y = next;
    }
    a * y
}

/// WCAG contrast ratio of two luminances.
fn ratio(a: f64, b: f64) -> f64 {
    let (hi, lo) = if a > b { (a, b) } else { (b, a) };
    (hi + 0.05) / (lo + 0.05)
}

/// The text colour to put on the brand colour `bg_hex` (`#rgb` / `#rrggbb`): [`TEXT_LIGHT`] or
/// [`TEXT_DARK`], whichever has the higher WCAG contrast ratio against it (white on a tie);
/// `None` when `bg_hex` is not such a colour. The widget's header, launcher and buttons and the
/// console's preview of them both use this.
pub fn text_on_brand(bg_hex: &str) -> Option<&'static str> {
    let l = luminance(hex_rgb(bg_hex)?);
    let dark = luminance([17.0, 24.0, 39.0]);
    Some(if ratio(l, 1.0) >= ratio(l, dark) {
        TEXT_LIGHT
    } else {
        TEXT_DARK
    })
}

/// A dialogue, card, variant, queue or agent id: 1-64 ASCII letters, digits, `-` or `_`.
pub fn valid_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}
