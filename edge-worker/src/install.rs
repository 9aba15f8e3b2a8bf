//! The installation check, the plain-Rust part: which page origin a bundle request names, how
//! often the edge may write it down (the bundle is the hot path), and the report the console
//! shows per site ("seen on https://... at ...", "not allowed", "no request yet").
//! The edge (`edge/install.rs`) does the I/O.

use serde::{Deserialize, Serialize};

/// An isolate writes one origin of one site at most this often.
pub const RECORD_EVERY_MS: i64 = 5 * 60 * 1000;
/// Rows kept per site for origins that are not allowed (any page can request a bundle).
pub const MAX_UNLISTED_ORIGINS: i64 = 20;
/// Origins an isolate remembers before it forgets them all (bounds its memory).
pub const MAX_REMEMBERED: usize = 1000;

/// The page origin of a bundle request: its `Origin` header, else the origin of its `Referer`;
/// lower-case, without a trailing slash, and only when it is a plain http(s) origin.
pub fn page_origin(origin: Option<&str>, referer: Option<&str>) -> Option<String> {
    let raw = match origin.filter(|o| !o.is_empty() && *o != "null") {
        Some(o) => o.to_string(),
        None => crate::auth::origin_of(referer?)?,
    };
    let o = raw.trim_end_matches('/').to_ascii_lowercase();
    crate::validate::valid_origin(&o).then_some(o)
}

/// Whether an isolate that last wrote this origin at `last` (ms) writes it again at `now`.
pub fn due(last: Option<i64>, now: i64) -> bool {
    last.is_none_or(|t| now - t >= RECORD_EVERY_MS || now < t)
}

/// One stored row of `install_seen`.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
pub struct Seen {
    pub origin: String,
    /// Whether the origin was allowed when it was last seen.
    pub allowed: i64,
    pub first_at: i64,
    pub last_at: i64,
}

/// What the console shows for one origin.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// An allowed origin that has requested the bundle: installed there.
    Seen,
    /// An allowed origin with no request yet.
    NoRequestYet,
    /// A page on this origin loaded the tag, but the origin is not in the allowed list: the
    /// widget cannot read the bundle there.
    NotAllowed,
}

/// One line of the report.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Line {
    pub origin: String,
    pub state: State,
    pub first_at: Option<i64>,
    pub last_at: Option<i64>,
}

/// The report: `installed` when an allowed origin has been seen; allowed origins first (in the
/// site's order), then the others that requested the bundle, newest first.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Report {
    pub installed: bool,
    pub origins: Vec<Line>,
}

/// Builds the report from the site's allowed origins *now* and the stored rows.
pub fn report(allowed: &[String], seen: &[Seen]) -> Report {
    let norm = |o: &str| o.trim_end_matches('/').to_ascii_lowercase();
    let allowed: Vec<String> = allowed.iter().map(|o| norm(o)).collect();
    let mut origins = Vec::new();
    for a in &allowed {
        let row = seen.iter().find(|s| s.origin == *a);
        origins.push(Line {
            origin: a.clone(),
            state: if row.is_some() {
                State::Seen
            } else {
                State::NoRequestYet
            },
            first_at: row.map(|r| r.first_at),
            last_at: row.map(|r| r.last_at),
        });
    }
    let mut others: Vec<&Seen> = seen
        .iter()
        .filter(|s| !allowed.contains(&s.origin))
        .collect();
    others.sort_by_key(|s| std::cmp::Reverse(s.last_at));
    origins.extend(others.into_iter().map(|s| Line {
        origin: s.origin.clone(),
        state: State::NotAllowed,
        first_at: Some(s.first_at),
        last_at: Some(s.last_at),
    }));
    Report {
        installed: origins.iter().any(|l| l.state == State::Seen),
        origins,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_origin_comes_from_origin_then_referer_and_must_be_plain() {
        let o = |a, b| page_origin(a, b);
        assert_eq!(
            o(Some("HTTPS://Shop.Example.com/"), None).as_deref(),
            Some("https://shop.example.com")
        );
        assert_eq!(
            o(None, Some("http://127.0.0.1:8080/pricing?x=1")).as_deref(),
            Some("http://127.0.0.1:8080")
        );
        assert_eq!(
            o(Some("null"), Some("https://a.example/x")).as_deref(),
            Some("https://a.example")
        );
        assert_eq!(o(None, None), None);
        assert_eq!(o(Some("file://"), None), None);
        assert_eq!(o(Some("https://a.example/<script>"), None), None);
        assert_eq!(o(None, Some("not a url")), None);
    }

    #[test]
    fn an_origin_is_written_once_per_window() {
        assert!(due(None, 0));
        assert!(!due(Some(1_000), 1_000 + RECORD_EVERY_MS - 1));
        assert!(due(Some(1_000), 1_000 + RECORD_EVERY_MS));
        // A clock that went back never silences an origin.
        assert!(due(Some(5_000), 4_000));
    }

    #[test]
    fn the_report_names_seen_waiting_and_not_allowed_origins() {
        let seen = vec![
            Seen {
                origin: "https://www.globex.example".into(),
                allowed: 1,
                first_at: 10,
                last_at: 20,
            },
            Seen {
                origin: "https://evil.example".into(),
                allowed: 0,
                first_at: 5,
                last_at: 30,
            },
            Seen {
                origin: "https://old.example".into(),
                allowed: 1,
                first_at: 1,
                last_at: 2,
            },
        ];
        let allowed = vec![
            "https://www.globex.example/".to_string(),
            "https://shop.globex.example".to_string(),
        ];
        let r = report(&allowed, &seen);
        assert!(r.installed);
        let states: Vec<(&str, &State)> = r
            .origins
            .iter()
            .map(|l| (l.origin.as_str(), &l.state))
            .collect();
        assert_eq!(
            states,
            vec![
                ("https://www.globex.example", &State::Seen),
                ("https://shop.globex.example", &State::NoRequestYet),
                ("https://evil.example", &State::NotAllowed),
                // Allowed once, removed from the list since: not allowed now.
                ("https://old.example", &State::NotAllowed),
            ]
        );
        assert_eq!(r.origins[0].first_at, Some(10));
        assert_eq!(r.origins[1].last_at, None);
        let none = report(&allowed, &seen[1..2]);
        assert!(!none.installed);
    }
}
