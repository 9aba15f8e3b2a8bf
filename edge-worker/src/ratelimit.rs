//! Fixed-window request counters for the per-site and per-IP limits (state lives in the
//! `RateLimiter` Durable Object, one per site, so counts are consistent across isolates
//! without a D1 write per request), and the leases an isolate holds so that a busy sender does
//! not cost a Durable Object call per request.
//!
//! A lease is a few requests of the current window that the object has already counted and
//! handed to one isolate: the isolate admits them without asking again. Leased requests are
//! counted when granted, so leases never let more through than the limits; requests an isolate
//! leased but did not use are lost for that window (at most [`Leases::cap`] per sender and
//! isolate, 1/20 of the smaller limit), so the effective limit can be that much stricter.

use std::collections::HashMap;

/// Limits for one site, per minute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub site_per_minute: u32,
    pub ip_per_minute: u32,
}

/// Counters of the current one-minute window.
#[derive(Debug, Default)]
pub struct Counters {
    window: i64,
    site: u32,
    per_ip: HashMap<String, u32>,
}

const WINDOW_MS: i64 = 60_000;
const MAX_TRACKED_IPS: usize = 100_000;

/// The end of the window `now_ms` falls in (milliseconds since the epoch).
pub fn window_end(now_ms: i64) -> i64 {
    (now_ms.div_euclid(WINDOW_MS) + 1) * WINDOW_MS
}

impl Counters {
    /// Counts up to `want` requests (at least one) of `ip` in the current window and answers how
    /// many were granted; `Err(retry_after_s)` when not even one fits (then nothing is counted).
    pub fn take(&mut self, ip: &str, limits: Limits, now_ms: i64, want: u32) -> Result<u32, u32> {
        let window = now_ms.div_euclid(WINDOW_MS);
        if window != self.window {
            self.window = window;
            self.site = 0;
            self.per_ip.clear();
        }
        let retry = (((window + 1) * WINDOW_MS - now_ms + 999) / 1000).max(1) as u32;
        let n = self.per_ip.get(ip).copied().unwrap_or(0);
        let granted = want
            .max(1)
            .min(limits.site_per_minute.saturating_sub(self.site))
            .min(limits.ip_per_minute.saturating_sub(n));
        if granted == 0 {
            return Err(retry);
        }
        if self.per_ip.len() < MAX_TRACKED_IPS || self.per_ip.contains_key(ip) {
            self.per_ip.insert(ip.to_string(), n + granted);
        }
        self.site += granted;
        Ok(granted)
    }
}

/// What one isolate holds for one sender of one site.
#[derive(Debug, Clone, Copy)]
struct Lease {
    limits: Limits,
    window_end: i64,
    spare: u32,
    next_want: u32,
    /// The object refused this sender in this window: refuse here until it ends.
    refused: bool,
}

/// An isolate's leases, keyed by (site, ip).
#[derive(Debug, Default)]
pub struct Leases {
    held: HashMap<(String, String), Lease>,
}

/// Senders an isolate keeps leases for before it forgets them all.
const MAX_LEASES: usize = 10_000;

impl Leases {
    /// The most requests one lease may carry under these limits: 1/20 of the smaller limit, at
    /// most 32, at least 1 (so a small limit is counted exactly, request by request).
    pub fn cap(limits: Limits) -> u32 {
        (limits.site_per_minute.min(limits.ip_per_minute) / 20).clamp(1, 32)
    }

    /// Admits one request from a lease this isolate holds; `false` when it must ask the object.
    pub fn spend(&mut self, site: &str, ip: &str, limits: Limits, now_ms: i64) -> bool {
        match self.held.get_mut(&(site.to_string(), ip.to_string())) {
            Some(l) if l.limits == limits && now_ms < l.window_end && l.spare > 0 => {
                l.spare -= 1;
                true
            }
            _ => false,
        }
    }

    /// How many requests to ask the object for: one at first, doubling while the sender keeps
    /// using up its leases within a window, up to [`Leases::cap`].
    pub fn want(&self, site: &str, ip: &str, limits: Limits, now_ms: i64) -> u32 {
        let cap = Self::cap(limits);
        match self.held.get(&(site.to_string(), ip.to_string())) {
            Some(l) if l.limits == limits && now_ms < l.window_end => l.next_want.min(cap),
            _ => 1,
        }
    }

    /// Records what the object granted (one of them is the request being admitted now).
    pub fn granted(&mut self, site: &str, ip: &str, limits: Limits, now_ms: i64, granted: u32) {
        if self.held.len() >= MAX_LEASES {
            self.held.clear();
        }
        let want = self.want(site, ip, limits, now_ms);
        self.held.insert(
            (site.to_string(), ip.to_string()),
            Lease {
                limits,
                window_end: window_end(now_ms),
                spare: granted.saturating_sub(1),
                next_want: want.saturating_mul(2).min(Self::cap(limits)),
                refused: false,
            },
        );
    }

    /// Records that the object refused the sender: nothing will fit before the window ends.
    pub fn refused(&mut self, site: &str, ip: &str, limits: Limits, now_ms: i64) {
        if self.held.len() >= MAX_LEASES {
            self.held.clear();
        }
        self.held.insert(
            (site.to_string(), ip.to_string()),
            Lease {
                limits,
                window_end: window_end(now_ms),
                spare: 0,
                next_want: 1,
                refused: true,
            },
        );
    }

    /// `Some(retry_after_s)` when the object already refused this sender in this window.
    pub fn still_refused(&self, site: &str, ip: &str, limits: Limits, now_ms: i64) -> Option<u32> {
        match self.held.get(&(site.to_string(), ip.to_string())) {
            Some(l) if l.refused && l.limits == limits && now_ms < l.window_end => {
                Some((((l.window_end - now_ms) + 999) / 1000).max(1) as u32)
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_limit_then_site_limit_then_new_window() {
        let l = Limits {
            site_per_minute: 5,
            ip_per_minute: 3,
        };
        let mut c = Counters::default();
        let t = 1_000_000 * 60_000 + 10_000;
        for _ in 0..3 {
            assert!(c.take("a", l, t, 1).is_ok());
        }
        assert_eq!(c.take("a", l, t, 1), Err(50));
        assert!(c.take("b", l, t, 1).is_ok());
        assert!(c.take("b", l, t, 1).is_ok());
        assert!(c.take("c", l, t, 1).is_err(), "site limit of 5 reached");
        assert!(c.take("a", l, t + 60_000, 1).is_ok(), "next window resets");
    }

    #[test]
    fn take_grants_what_fits_and_counts_it() {
        let l = Limits {
            site_per_minute: 10,
            ip_per_minute: 6,
        };
        let mut c = Counters::default();
        let t = 1_000_000 * 60_000;
        assert_eq!(c.take("a", l, t, 4), Ok(4));
        assert_eq!(c.take("a", l, t, 4), Ok(2), "the ip has 2 left");
        assert_eq!(c.take("a", l, t, 4), Err(60));
        assert_eq!(c.take("b", l, t, 0), Ok(1), "a request is at least one");
        assert_eq!(c.take("b", l, t, 9), Ok(3), "the site has 3 left");
        assert!(c.take("c", l, t, 1).is_err());
    }

    /// Many isolates with leases never admit more than the limits in a window, and a single
    /// isolate admits exactly the limit.
    #[test]
    fn leases_never_exceed_the_limits() {
        for (site_limit, ip_limit, isolates) in
            [(5, 3, 1), (600, 600, 1), (6000, 600, 4), (100, 1000, 3)]
        {
            let l = Limits {
                site_per_minute: site_limit,
                ip_per_minute: ip_limit,
            };
            let t0 = 7 * 60_000;
            let mut object = Counters::default();
            let mut leases: Vec<Leases> = (0..isolates).map(|_| Leases::default()).collect();
            let (mut admitted, mut calls) = (0u32, 0u32);
            for i in 0..(2 * site_limit.max(ip_limit)) {
                let now = t0 + i64::from(i % 50_000);
                let iso = &mut leases[(i as usize) % isolates];
                if iso.spend("s", "ip", l, now) {
                    admitted += 1;
                    continue;
                }
                let want = iso.want("s", "ip", l, now);
                if iso.still_refused("s", "ip", l, now).is_some() {
                    continue;
                }
                match object.take("ip", l, now, want) {
                    Ok(g) => {
                        calls += 1;
                        iso.granted("s", "ip", l, now, g);
                        admitted += 1;
                    }
                    Err(_) => iso.refused("s", "ip", l, now),
                }
            }
            let limit = site_limit.min(ip_limit);
            assert!(admitted <= limit, "{admitted} > {limit}");
            if isolates == 1 {
                assert_eq!(admitted, limit, "one isolate uses every leased request");
            }
            if limit >= 600 {
                assert!(
                    calls < limit / 8,
                    "{calls} granting object calls for {limit} requests"
                );
            }
        }
    }

    #[test]
    fn a_lease_ends_with_its_window_or_when_the_limits_change() {
        let l = Limits {
            site_per_minute: 6000,
            ip_per_minute: 600,
        };
        let mut leases = Leases::default();
        let t = 3 * 60_000 + 59_000;
        leases.granted("s", "ip", l, t, 5);
        assert!(leases.spend("s", "ip", l, t));
        assert!(!leases.spend("s", "other", l, t));
        let stricter = Limits {
            ip_per_minute: 10,
            ..l
        };
        assert!(!leases.spend("s", "ip", stricter, t));
        assert!(!leases.spend("s", "ip", l, t + 1_000), "next window");
        assert_eq!(leases.want("s", "ip", l, t + 1_000), 1);
        assert_eq!(Leases::cap(stricter), 1);
        leases.refused("s", "ip", l, t);
        assert_eq!(leases.still_refused("s", "ip", l, t), Some(1));
        assert!(!leases.spend("s", "ip", l, t));
        assert_eq!(leases.still_refused("s", "ip", l, t + 1_000), None);
        assert_eq!(leases.still_refused("s", "ip", stricter, t), None);
    }
}
