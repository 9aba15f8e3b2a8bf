//! Console accounts and sessions, the plain-Rust part: password hashing (PBKDF2-HMAC-SHA256),
//! roles and who may touch what, cookies, CSRF (double submit + Origin) and the login limiter.
//! The edge (`edge/console.rs`) does the I/O: D1, randomness, the clock.
//!
//! Architecture Invariant: nothing here reads a clock or a random source; callers pass them in,
//! so every decision has a native test.

use base64::engine::general_purpose::STANDARD_NO_PAD as B64;
use base64::Engine;
use sha2::{Digest, Sha256};

/// PBKDF2 iterations for new hashes (the Workers runtime's WebCrypto caps PBKDF2 at 100 000;
/// we run it in Rust, so the floor of the requirement is also our setting).
pub const PBKDF2_ITERATIONS: u32 = 100_000;
/// Hashes with fewer iterations than this are refused outright.
pub const MIN_ITERATIONS: u32 = 100_000;
/// Session cookie name (HttpOnly).
pub const SESSION_COOKIE: &str = "dynchat_session";
/// CSRF cookie name (readable by the console, sent back in [`CSRF_HEADER`]).
pub const CSRF_COOKIE: &str = "dynchat_csrf";
/// The header carrying the CSRF token on state-changing requests.
pub const CSRF_HEADER: &str = "X-CSRF-Token";
/// Absolute session lifetime.
pub const SESSION_TTL_MS: i64 = 12 * 3600 * 1000;
/// Failed logins allowed per (IP, account) in one window.
pub const LOGIN_MAX_FAILURES: i64 = 5;
/// The login limiter's window.
pub const LOGIN_WINDOW_MS: i64 = 15 * 60 * 1000;
/// Shortest and longest accepted password.
pub const PASSWORD_LEN: (usize, usize) = (10, 256);

/// What a console account may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Everything: dialogues, configuration, reports, Marketo, accounts, every agent.
    Admin,
    /// Only their own agent record: calendar connection, queue membership view, own meetings.
    Agent,
}

impl Role {
    /// Parses `admin` / `agent`.
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "admin" => Some(Role::Admin),
            "agent" => Some(Role::Agent),
            _ => None,
        }
    }

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Agent => "agent",
        }
    }
}

/// The sites an account may see and change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sites {
    /// Every site, also the ones created later (owners; accounts from before sites had members).
    All,
    /// Only these sites.
    Only(Vec<String>),
}

impl Sites {
    /// Whether `site` is one of them.
    pub fn contains(&self, site: &str) -> bool {
        match self {
            Sites::All => true,
            Sites::Only(list) => list.iter().any(|s| s == site),
        }
    }

    /// From the stored `all_sites` flag and the space-separated member list.
    pub fn from_row(all_sites: i64, list: Option<&str>) -> Sites {
        if all_sites != 0 {
            return Sites::All;
        }
        let mut v: Vec<String> = list
            .unwrap_or("")
            .split_ascii_whitespace()
            .map(str::to_string)
            .collect();
        v.sort();
        v.dedup();
        Sites::Only(v)
    }

    /// Whether every site of `other` is one of these (an account may only hand out its own).
    pub fn covers(&self, other: &Sites) -> bool {
        match (self, other) {
            (Sites::All, _) => true,
            (Sites::Only(_), Sites::All) => false,
            (Sites::Only(_), Sites::Only(o)) => o.iter().all(|s| self.contains(s)),
        }
    }
}

/// Who is calling: the setup bearer token, or a signed-in console account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// The `ADMIN_TOKEN` bearer (setup scripts, `cargo xtask`): admin rights, no CSRF (no cookie).
    Token,
    /// A console session.
    Account {
        id: String,
        email: String,
        role: Role,
        agent_id: Option<String>,
        /// The sites this account belongs to.
        sites: Sites,
    },
}

/// Why a principal may not do something.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denied {
    /// The action needs an admin.
    AdminOnly,
    /// An agent asked for another agent's data.
    OtherAgent,
    /// The site is not one of the account's sites.
    OtherSite,
    /// The action concerns every site (the Marketo connection, the outbox, the test clock):
    /// only the bearer token and accounts of all sites may do it.
    AllSitesOnly,
}

impl Principal {
    /// True for the bearer token and admin accounts.
    pub fn is_admin(&self) -> bool {
        matches!(
            self,
            Principal::Token
                | Principal::Account {
                    role: Role::Admin,
                    ..
                }
        )
    }

    /// Admin-only actions.
    pub fn require_admin(&self) -> Result<(), Denied> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(Denied::AdminOnly)
        }
    }

    /// The sites this principal may see (the bearer token: all).
    pub fn sites(&self) -> Sites {
        match self {
            Principal::Token => Sites::All,
            Principal::Account { sites, .. } => sites.clone(),
        }
    }

    /// Anything under `/admin/sites/{site}/...`: only the account's own sites.
    pub fn may_access_site(&self, site: &str) -> Result<(), Denied> {
        match self {
            Principal::Account { sites, .. } if !sites.contains(site) => Err(Denied::OtherSite),
            _ => Ok(()),
        }
    }

    /// Actions that concern every site at once.
    pub fn require_all_sites(&self) -> Result<(), Denied> {
        match self.sites() {
            Sites::All => Ok(()),
            Sites::Only(_) => Err(Denied::AllSitesOnly),
        }
    }

    /// Reading or changing the data of agent `agent`: admins always, agents only their own.
    pub fn may_access_agent(&self, agent: &str) -> Result<(), Denied> {
        match self {
            p if p.is_admin() => Ok(()),
            Principal::Account {
                agent_id: Some(own),
                ..
            } if own == agent => Ok(()),
            _ => Err(Denied::OtherAgent),
        }
    }
}

/// `pbkdf2-sha256$<iterations>$<salt b64>$<hash b64>`.
pub fn hash_password(password: &str, salt: &[u8], iterations: u32) -> String {
    let mut out = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<Sha256>(password.as_bytes(), salt, iterations, &mut out);
    format!(
        "pbkdf2-sha256${iterations}${}${}",
        B64.encode(salt),
        B64.encode(out)
    )
}

/// Checks a password against a stored hash in constant time over the derived bytes. A malformed
/// or weak stored hash never verifies.
pub fn verify_password(password: &str, stored: &str) -> bool {
    let parts: Vec<&str> = stored.split('$').collect();
    let [scheme, iterations, salt, hash] = parts.as_slice() else {
        return false;
    };
    let Ok(iterations) = iterations.parse::<u32>() else {
        return false;
    };
    if *scheme != "pbkdf2-sha256" || iterations < MIN_ITERATIONS {
        return false;
    }
    let (Ok(salt), Ok(expected)) = (B64.decode(salt), B64.decode(hash)) else {
        return false;
    };
    if salt.len() < 16 || expected.len() != 32 {
        return false;
    }
    let mut out = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<Sha256>(password.as_bytes(), &salt, iterations, &mut out);
    constant_time_eq(&out, &expected)
}

/// Equality whose time does not depend on where the inputs differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.ct_eq(b).into()
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What the database stores for a session token (never the token itself).
pub fn token_digest(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// The login limiter's key for an (IP, account) pair; the email is normalised.
pub fn login_key(ip: &str, email: &str) -> String {
    token_digest(&format!(
        "login\u{0}{ip}\u{0}{}",
        email.trim().to_ascii_lowercase()
    ))
}

/// The login limiter's decision from the stored window (`window_start`, `failures`).
/// `Err(retry_after_s)` when the pair is locked.
pub fn login_allowed(window: Option<(i64, i64)>, now: i64) -> Result<(), u32> {
    match window {
        Some((start, failures))
            if now - start < LOGIN_WINDOW_MS && failures >= LOGIN_MAX_FAILURES =>
        {
            let left = (start + LOGIN_WINDOW_MS - now).max(1000);
            Err(u32::try_from((left + 999) / 1000).unwrap_or(u32::MAX))
        }
        _ => Ok(()),
    }
}

/// The window after one more failure: a new window when the old one has expired.
pub fn login_failed(window: Option<(i64, i64)>, now: i64) -> (i64, i64) {
    match window {
        Some((start, failures)) if now - start < LOGIN_WINDOW_MS => (start, failures + 1),
        _ => (now, 1),
    }
}

/// A cookie value from a `Cookie` header.
pub fn cookie<'a>(header: Option<&'a str>, name: &str) -> Option<&'a str> {
    header?
        .split(';')
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// `Set-Cookie` for the session: HttpOnly, Secure, SameSite=Strict, Path=/.
pub fn session_cookie(token: &str, max_age_s: i64) -> String {
    format!(
        "{SESSION_COOKIE}={token}; HttpOnly; Secure; SameSite=Strict; Path=/; Max-Age={max_age_s}"
    )
}

/// `Set-Cookie` for the CSRF token: readable by the console's script, otherwise as strict.
pub fn csrf_cookie(token: &str, max_age_s: i64) -> String {
    format!("{CSRF_COOKIE}={token}; Secure; SameSite=Strict; Path=/; Max-Age={max_age_s}")
}

/// Whether a method changes state (and so needs the CSRF token and a same-origin `Origin`).
pub fn is_state_changing(method: &str) -> bool {
    !matches!(method, "GET" | "HEAD" | "OPTIONS")
}

/// The CSRF decision for a cookie-authenticated, state-changing request: the `Origin` (or, when
/// a browser sends none, the `Referer`'s origin) must be the console's own origin, and the
/// header token must equal both the CSRF cookie (double submit) and the session's token.
pub fn csrf_ok(
    own_origin: &str,
    origin: Option<&str>,
    referer: Option<&str>,
    header: Option<&str>,
    cookie_token: Option<&str>,
    session_token: &str,
) -> bool {
    let from = match (origin, referer) {
        (Some(o), _) if o != "null" => Some(o.trim_end_matches('/').to_string()),
        (_, Some(r)) => origin_of(r),
        _ => None,
    };
    let same_origin =
        from.is_some_and(|o| o.eq_ignore_ascii_case(own_origin.trim_end_matches('/')));
    let (Some(h), Some(c)) = (header, cookie_token) else {
        return false;
    };
    same_origin
        && !session_token.is_empty()
        && constant_time_eq(h.as_bytes(), c.as_bytes())
        && constant_time_eq(h.as_bytes(), session_token.as_bytes())
}

/// `scheme://host[:port]` of a URL.
pub fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let host = rest.split(['/', '?', '#']).next()?;
    if host.is_empty() {
        return None;
    }
    Some(format!("{scheme}://{host}"))
}

/// A new password is 10-256 characters and not the email itself.
pub fn password_problem(email: &str, password: &str) -> Option<&'static str> {
    let n = password.chars().count();
    if n < PASSWORD_LEN.0 {
        Some("must be at least 10 characters")
    } else if n > PASSWORD_LEN.1 {
        Some("must be at most 256 characters")
    } else if password.eq_ignore_ascii_case(email) {
        Some("must not be the email address")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_verifies_only_the_right_password_and_uses_the_salt() {
        let salt = [7u8; 16];
        let h = hash_password("demo-admin-pass", &salt, PBKDF2_ITERATIONS);
        assert!(h.starts_with("pbkdf2-sha256$100000$"));
        assert!(verify_password("demo-admin-pass", &h));
        assert!(!verify_password("demo-admin-pasS", &h));
        assert_ne!(
            h,
            hash_password("demo-admin-pass", &[8u8; 16], PBKDF2_ITERATIONS)
        );
    }

    #[test]
    fn pbkdf2_matches_the_rfc_7914_vector() {
        // RFC 7914 section 11: PBKDF2-HMAC-SHA256("passwd", "salt", 1, 64); first 32 bytes.
        let mut out = [0u8; 32];
        pbkdf2::pbkdf2_hmac::<Sha256>(b"passwd", b"salt", 1, &mut out);
        assert_eq!(
            hex(&out),
            "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"
        );
    }

    #[test]
    fn weak_or_malformed_hashes_never_verify() {
        let weak = hash_password("pw-1234567890", &[1u8; 16], 1000);
        assert!(!verify_password("pw-1234567890", &weak));
        for bad in [
            "",
            "pbkdf2-sha256$x$y$z",
            "md5$100000$AAAA$BBBB",
            "pbkdf2-sha256$100000$!!$!!",
        ] {
            assert!(!verify_password("x", bad), "{bad}");
        }
    }

    #[test]
    fn roles_admin_only_and_own_agent() {
        let admin = Principal::Account {
            id: "a".into(),
            email: "a@x".into(),
            role: Role::Admin,
            agent_id: None,
            sites: Sites::All,
        };
        let alex = Principal::Account {
            id: "b".into(),
            email: "b@x".into(),
            role: Role::Agent,
            agent_id: Some("alex".into()),
            sites: Sites::All,
        };
        let nobody = Principal::Account {
            id: "c".into(),
            email: "c@x".into(),
            role: Role::Agent,
            agent_id: None,
            sites: Sites::All,
        };
        assert!(Principal::Token.require_admin().is_ok());
        assert!(admin.require_admin().is_ok());
        assert_eq!(alex.require_admin(), Err(Denied::AdminOnly));
        assert!(admin.may_access_agent("alex").is_ok());
        assert!(alex.may_access_agent("alex").is_ok());
        assert_eq!(alex.may_access_agent("sam"), Err(Denied::OtherAgent));
        assert_eq!(nobody.may_access_agent("alex"), Err(Denied::OtherAgent));
    }

    #[test]
    fn accounts_of_some_sites_reach_only_those() {
        let acme = Principal::Account {
            id: "a".into(),
            email: "a@x".into(),
            role: Role::Admin,
            agent_id: None,
            sites: Sites::from_row(0, Some("acme")),
        };
        let owner = Principal::Account {
            id: "o".into(),
            email: "o@x".into(),
            role: Role::Admin,
            agent_id: None,
            sites: Sites::from_row(1, None),
        };
        assert!(acme.may_access_site("acme").is_ok());
        assert_eq!(acme.may_access_site("globex"), Err(Denied::OtherSite));
        assert_eq!(acme.may_access_site("acm"), Err(Denied::OtherSite));
        assert_eq!(acme.require_all_sites(), Err(Denied::AllSitesOnly));
        assert!(owner.may_access_site("globex").is_ok());
        assert!(owner.require_all_sites().is_ok());
        assert!(Principal::Token.may_access_site("globex").is_ok());
        assert!(Principal::Token.require_all_sites().is_ok());
        // No member rows and not all sites: nothing.
        assert_eq!(Sites::from_row(0, None), Sites::Only(vec![]));
        assert!(!Sites::from_row(0, None).contains("acme"));
        let two = Sites::from_row(0, Some("globex acme acme"));
        assert_eq!(two, Sites::Only(vec!["acme".into(), "globex".into()]));
        assert!(two.covers(&Sites::Only(vec!["acme".into()])));
        assert!(!acme.sites().covers(&two));
        assert!(!acme.sites().covers(&Sites::All));
        assert!(Sites::All.covers(&two));
    }

    #[test]
    fn login_limiter_locks_after_five_failures_until_the_window_ends() {
        let mut w = None;
        for i in 0..LOGIN_MAX_FAILURES {
            assert!(login_allowed(w, 1000 + i).is_ok());
            w = Some(login_failed(w, 1000 + i));
        }
        assert_eq!(login_allowed(w, 2000), Err(899));
        assert!(login_allowed(w, 1000 + LOGIN_WINDOW_MS).is_ok());
        assert_eq!(
            login_failed(w, 1000 + LOGIN_WINDOW_MS),
            (1000 + LOGIN_WINDOW_MS, 1)
        );
        assert_ne!(
            login_key("1.2.3.4", "A@x.com"),
            login_key("1.2.3.5", "a@x.com")
        );
        assert_eq!(
            login_key("1.2.3.4", " A@x.com"),
            login_key("1.2.3.4", "a@x.com")
        );
    }

    #[test]
    fn csrf_needs_same_origin_and_matching_tokens() {
        let own = "http://127.0.0.1:8787";
        assert!(csrf_ok(own, Some(own), None, Some("t1"), Some("t1"), "t1"));
        assert!(csrf_ok(
            own,
            None,
            Some("http://127.0.0.1:8787/console/"),
            Some("t1"),
            Some("t1"),
            "t1"
        ));
        // cross-site form post: foreign origin, no header
        assert!(!csrf_ok(
            own,
            Some("http://127.0.0.1:9999"),
            None,
            None,
            Some("t1"),
            "t1"
        ));
        assert!(!csrf_ok(
            own,
            Some("http://evil.example"),
            None,
            Some("t1"),
            Some("t1"),
            "t1"
        ));
        assert!(!csrf_ok(own, None, None, Some("t1"), Some("t1"), "t1"));
        assert!(!csrf_ok(own, Some(own), None, Some("t1"), Some("t2"), "t1"));
        assert!(!csrf_ok(own, Some(own), None, Some("t2"), Some("t2"), "t1"));
        assert!(!csrf_ok(
            own,
            Some("null"),
            None,
            Some("t1"),
            Some("t1"),
            "t1"
        ));
    }

    #[test]
    fn cookies_parse_and_carry_the_required_attributes() {
        let h = Some("a=1; dynchat_session=abc; dynchat_csrf=def");
        assert_eq!(cookie(h, SESSION_COOKIE), Some("abc"));
        assert_eq!(cookie(h, CSRF_COOKIE), Some("def"));
        assert_eq!(cookie(h, "x"), None);
        let c = session_cookie("abc", 60);
        for attr in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/"] {
            assert!(c.contains(attr), "{c}");
        }
        assert!(!csrf_cookie("x", 60).contains("HttpOnly"));
    }

    #[test]
    fn password_rules() {
        assert!(password_problem("a@b.c", "short").is_some());
        assert!(password_problem("longer@b.c", "LONGER@b.c").is_some());
        assert!(password_problem("a@b.c", "demo-admin-pass").is_none());
    }
}
