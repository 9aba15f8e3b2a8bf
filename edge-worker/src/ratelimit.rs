//! Fixed-window request counters for the per-site and per-IP limits (state lives in the
//! `RateLimiter` Durable Object, one per site, so counts are consistent across isolates
//! without a D1 write per request).

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

impl Counters {
    /// Counts one request; `Err(retry_after_s)` when a limit is reached (then nothing is counted).
    pub fn hit(&mut self, ip: &str, limits: Limits, now_ms: i64) -> Result<(), u32> {
        let window = now_ms.div_euclid(WINDOW_MS);
        if window != self.window {
            self.window = window;
            self.site = 0;
            self.per_ip.clear();
        }
        let retry = (((window + 1) * WINDOW_MS - now_ms + 999) / 1000).max(1) as u32;
        if self.site >= limits.site_per_minute {
            return Err(retry);
        }
        let n = self.per_ip.get(ip).copied().unwrap_or(0);
        if n >= limits.ip_per_minute {
            return Err(retry);
        }
        if self.per_ip.len() < MAX_TRACKED_IPS || self.per_ip.contains_key(ip) {
            self.per_ip.insert(ip.to_string(), n + 1);
        }
        self.site += 1;
        Ok(())
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
            assert!(c.hit("a", l, t).is_ok());
        }
        assert_eq!(c.hit("a", l, t), Err(50));
        assert!(c.hit("b", l, t).is_ok());
        assert!(c.hit("b", l, t).is_ok());
        assert!(c.hit("c", l, t).is_err(), "site limit of 5 reached");
        assert!(c.hit("a", l, t + 60_000).is_ok(), "next window resets");
    }
}
