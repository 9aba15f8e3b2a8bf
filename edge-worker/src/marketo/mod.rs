//! Marketo in plain Rust: the gate's limits, the protocol's error classes, record and activity
//! mapping, and the retry policy. The HTTP calls themselves live in `edge::gate`.

pub mod bulk;
pub mod fields;
pub mod limiter;
pub mod mapping;
pub mod protocol;

/// Records per `leads.json` / `external.json` / membership call (Marketo's maximum).
pub const MAX_RECORDS_PER_CALL: usize = 300;

/// Delay before the `attempt`-th retry (1-based): `base * 2^(attempt-1)`, capped at 5 minutes.
pub fn backoff_ms(attempt: u32, base_ms: i64) -> i64 {
    let shift = attempt.saturating_sub(1).min(20);
    base_ms.saturating_mul(1i64 << shift).min(300_000)
}

#[cfg(test)]
mod tests {
    #[test]
    fn backoff_doubles_and_caps() {
        assert_eq!(super::backoff_ms(1, 1000), 1000);
        assert_eq!(super::backoff_ms(3, 1000), 4000);
        assert_eq!(super::backoff_ms(40, 1000), 300_000);
    }
}
