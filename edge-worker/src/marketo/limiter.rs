//! The Marketo gate's limits: a sliding window of call starts, a cap on calls in flight and a
//! daily quota, so that 606 (rate), 615 (concurrency) and 607 (quota) never happen.
//!
//! A call is counted from before its request leaves until its answer is back, which contains
//! the interval Marketo counts, so the peer never sees more than we allow ourselves.

use std::collections::VecDeque;

/// Configuration of the limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Length of the sliding window (Marketo: 20 s).
    pub window_ms: i64,
    /// Calls allowed per window (Marketo: 100).
    pub window_calls: u32,
    /// Calls of the window kept unused as a safety margin.
    pub safety_calls: u32,
    /// Calls in flight at once (Marketo: 10).
    pub max_in_flight: u32,
    /// Calls per UTC day (Marketo default: 50,000); a small margin is kept.
    pub daily_quota: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            window_ms: 20_000,
            window_calls: 100,
            safety_calls: 10,
            max_in_flight: 10,
            daily_quota: 50_000,
        }
    }
}

/// Why a call may not start now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    /// Try again in this many ms (window or concurrency).
    For(i64),
    /// Daily quota spent: hold until this time (ms).
    Until(i64),
}

/// Mutable limiter state (one per gate).
#[derive(Debug, Clone)]
pub struct Limiter {
    pub limits: Limits,
    starts: VecDeque<i64>,
    in_flight: u32,
    day: i64,
    day_calls: u32,
    hold_until: i64,
    /// Peak of calls in any window, for the bench report.
    pub peak_window: u32,
    /// Peak of calls in flight.
    pub peak_in_flight: u32,
}

impl Limiter {
    /// A fresh limiter; `day_calls` restores the quota count of `day` after a restart.
    pub fn new(limits: Limits, day: i64, day_calls: u32) -> Self {
        Limiter {
            limits,
            starts: VecDeque::new(),
            in_flight: 0,
            day,
            day_calls,
            hold_until: 0,
            peak_window: 0,
            peak_in_flight: 0,
        }
    }

    fn budget(&self) -> u32 {
        self.limits
            .window_calls
            .saturating_sub(self.limits.safety_calls)
            .max(1)
    }

    fn quota_budget(&self) -> u32 {
        // Keep 1% (at least 1 call) of the daily quota for lookups made by hand.
        self.limits
            .daily_quota
            .saturating_sub((self.limits.daily_quota / 100).max(1))
            .max(1)
    }

    /// Reserves a call slot at `now`, or says how long to wait.
    pub fn try_start(&mut self, now: i64) -> Result<(), Wait> {
        let day = crate::days::day_number(now);
        if day != self.day {
            self.day = day;
            self.day_calls = 0;
        }
        if now < self.hold_until {
            return Err(Wait::Until(self.hold_until));
        }
        if self.day_calls >= self.quota_budget() {
            self.hold_until = crate::days::next_day_start(now);
            return Err(Wait::Until(self.hold_until));
        }
        while let Some(&t) = self.starts.front() {
            if t + self.limits.window_ms <= now {
                self.starts.pop_front();
            } else {
                break;
            }
        }
        if self.in_flight >= self.limits.max_in_flight {
            return Err(Wait::For(50));
        }
        if self.starts.len() as u32 >= self.budget() {
            let oldest = self.starts.front().copied().unwrap_or(now);
            return Err(Wait::For((oldest + self.limits.window_ms - now).max(1)));
        }
        self.starts.push_back(now);
        self.in_flight += 1;
        self.day_calls += 1;
        self.peak_window = self.peak_window.max(self.starts.len() as u32);
        self.peak_in_flight = self.peak_in_flight.max(self.in_flight);
        Ok(())
    }

    /// Releases a slot when the answer (or a timeout) is back.
    pub fn finish(&mut self) {
        self.in_flight = self.in_flight.saturating_sub(1);
    }

    /// Gives back a slot reserved at `started` that was not used for a call after all.
    pub fn cancel(&mut self, started: i64) {
        if let Some(pos) = self.starts.iter().rposition(|t| *t == started) {
            self.starts.remove(pos);
            self.in_flight = self.in_flight.saturating_sub(1);
            self.day_calls = self.day_calls.saturating_sub(1);
        }
    }

    /// Marketo said 607: hold everything until the next UTC day.
    pub fn quota_exhausted(&mut self, now: i64) {
        self.hold_until = crate::days::next_day_start(now);
    }

    /// Calls made today (persisted by the gate so a restart keeps counting).
    pub fn day_calls(&self) -> (i64, u32) {
        (self.day, self.day_calls)
    }

    /// Calls in flight now.
    pub fn in_flight(&self) -> u32 {
        self.in_flight
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lim() -> Limits {
        Limits {
            window_ms: 20_000,
            window_calls: 100,
            safety_calls: 10,
            max_in_flight: 10,
            daily_quota: 50_000,
        }
    }

    #[test]
    fn never_more_than_the_window_allows() {
        let mut l = Limiter::new(lim(), 0, 0);
        let mut t = 0;
        let mut started = Vec::new();
        // Calls that finish instantly: only the window limits them.
        for _ in 0..1000 {
            match l.try_start(t) {
                Ok(()) => {
                    started.push(t);
                    l.finish();
                }
                Err(Wait::For(ms)) => t += ms,
                Err(Wait::Until(_)) => panic!("quota"),
            }
        }
        for (i, s) in started.iter().enumerate() {
            let in_window = started[i..].iter().take_while(|x| **x < s + 20_000).count();
            assert!(
                in_window <= 90,
                "{in_window} calls in a window starting at {s}"
            );
        }
        assert_eq!(l.peak_window, 90);
    }

    #[test]
    fn caps_in_flight() {
        let mut l = Limiter::new(lim(), 0, 0);
        for _ in 0..10 {
            l.try_start(5).unwrap();
        }
        assert_eq!(l.try_start(5), Err(Wait::For(50)));
        l.finish();
        assert!(l.try_start(6).is_ok());
    }

    #[test]
    fn cancel_gives_the_slot_back() {
        let mut l = Limiter::new(
            Limits {
                window_calls: 2,
                safety_calls: 0,
                ..lim()
            },
            0,
            0,
        );
        l.try_start(1).unwrap();
        l.try_start(2).unwrap();
        l.finish();
        l.finish();
        assert!(matches!(l.try_start(3), Err(Wait::For(_))));
        l.cancel(2);
        assert!(l.try_start(3).is_ok());
        assert_eq!(l.day_calls().1, 2);
    }

    #[test]
    fn daily_quota_holds_until_midnight_and_resets() {
        let mut l = Limiter::new(
            Limits {
                daily_quota: 101,
                ..lim()
            },
            0,
            100,
        );
        assert!(matches!(l.try_start(1000), Err(Wait::Until(86_400_000))));
        let mut l = Limiter::new(lim(), 0, 0);
        l.quota_exhausted(1000);
        assert_eq!(l.try_start(2000), Err(Wait::Until(86_400_000)));
        assert!(l.try_start(86_400_000).is_ok());
    }
}
