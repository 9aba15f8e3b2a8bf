//! `ln`, `exp` and `sqrt` from core arithmetic only, so assignment and statistics give the same
//! bits on every platform (the browser's wasm, the worker, the CLI) and need no libm.
//!
//! Accuracy: relative error below 1e-14 on the ranges used here (tested against std).

const LN_2: f64 = core::f64::consts::LN_2;

/// Natural logarithm of a positive finite `x` (NaN for `x <= 0` or NaN, `x` for +inf).
pub fn ln(x: f64) -> f64 {
    if x.is_nan() || x <= 0.0 {
        return f64::NAN;
    }
    if x.is_infinite() {
        return x;
    }
    // x = m * 2^e with m in [1, 2); subnormals are scaled up first.
    let (mut bits, mut e) = (x.to_bits(), 0i64);
    if (bits >> 52) & 0x7ff == 0 {
        bits = (x * (1u64 << 54) as f64).to_bits();
        e -= 54;
    }
    e += ((bits >> 52) & 0x7ff) as i64 - 1023;
    let mut m = f64::from_bits((bits & ((1u64 << 52) - 1)) | (1023u64 << 52));
    // Keep m in [sqrt(1/2), sqrt(2)) so the series argument stays below 0.172.
    if m > core::f64::consts::SQRT_2 {
        m /= 2.0;
        e += 1;
    }
    // ln(m) = 2 atanh(s), s = (m - 1) / (m + 1).
    let s = (m - 1.0) / (m + 1.0);
    let s2 = s * s;
    let mut term = s;
    let mut sum = 0.0;
    let mut k = 1.0;
    for _ in 0..14 {
        sum += term / k;
        term *= s2;
        k += 2.0;
    }
    2.0 * sum + e as f64 * LN_2
}

/// `e^x` (0 below -745, +inf above 709.8).
pub fn exp(x: f64) -> f64 {
    if x.is_nan() {
        return x;
    }
    if x > 709.78 {
        return f64::INFINITY;
    }
    if x < -745.2 {
        return 0.0;
    }
    // x = k ln2 + r, |r| <= ln2 / 2; e^r by its Taylor series.
    let k = (x / LN_2 + if x < 0.0 { -0.5 } else { 0.5 }) as i64;
    // ln 2 split in two (fdlibm's constants) so `k * LN2_HI` is exact and r keeps its bits.
    const LN2_HI: f64 = 6.931_471_803_691_238e-1;
    const LN2_LO: f64 = 1.908_214_929_270_587_7e-10;
    let r = (x - k as f64 * LN2_HI) - k as f64 * LN2_LO;
    let mut term = 1.0;
    let mut sum = 1.0;
    for n in 1..=20 {
        term *= r / f64::from(n);
        sum += term;
    }
    // Scale by 2^k in two steps so neither factor overflows or flushes early.
    let half = k / 2;
    sum * pow2(half) * pow2(k - half)
}

fn pow2(k: i64) -> f64 {
    if k < -1022 {
        return f64::from_bits(1u64 << (k + 1074).max(0));
    }
    f64::from_bits(((k + 1023) as u64) << 52)
}

/// Square root of a non-negative `x` (NaN below 0), by Newton's method from a bit-level guess.
pub fn sqrt(x: f64) -> f64 {
    if x.is_nan() || x < 0.0 {
        return f64::NAN;
    }
    if x == 0.0 || x.is_infinite() {
        return x;
    }
    let mut y = f64::from_bits((x.to_bits() >> 1) + (1023u64 << 51));
    for _ in 0..8 {
        y = 0.5 * (y + x / y);
    }
    y
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-14 * b.abs().max(1e-300)
    }

    #[test]
    fn ln_matches_std() {
        let mut x = 1e-300f64;
        while x < 1e300 {
            assert!(close(ln(x), x.ln()), "{x}: {} vs {}", ln(x), x.ln());
            x *= 1.37;
        }
        for x in [
            1.0,
            2.0,
            0.5,
            1.0 + 1e-12,
            1.0 - 1e-12,
            f64::MIN_POSITIVE / 8.0,
        ] {
            assert!((ln(x) - x.ln()).abs() < 1e-15 + 1e-14 * x.ln().abs(), "{x}");
        }
        assert!(ln(0.0).is_nan() && ln(-1.0).is_nan());
    }

    #[test]
    fn exp_and_sqrt_match_std() {
        let mut x = -700.0f64;
        while x < 700.0 {
            assert!(close(exp(x), x.exp()), "{x}: {} vs {}", exp(x), x.exp());
            x += 0.731;
        }
        let mut y = 1e-200f64;
        while y < 1e200 {
            assert!(close(sqrt(y), y.sqrt()), "{y}");
            y *= 3.1;
        }
        assert_eq!(exp(0.0), 1.0);
        assert_eq!(sqrt(0.0), 0.0);
    }
}
