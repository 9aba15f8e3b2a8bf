//! A/B experiments: which variant a visitor sees (deterministic, sticky, stable when variants are
//! added) and whether one variant converts better, with a test that stays valid when the results
//! are looked at every day.
//!
//! Assignment is weighted rendezvous hashing: for each variant the visitor draws a number
//! `u = hash(experiment, variant, visitor)` in (0, 1) and the score `-ln(u) / weight`; the lowest
//! score wins (an exponential race, so variant `i` wins with probability `w_i / Σw`). A visitor's
//! draw for a variant never changes, so:
//! - the same visitor id always gets the same variant (across pages, visits and devices that share
//!   the id);
//! - adding a variant moves a visitor only when the new variant's score beats the old winner's,
//!   i.e. only into the new variant (its share is taken from every old variant in proportion);
//! - removing a variant moves only its own visitors; changing a weight moves visitors only between
//!   that variant and the others, never between two untouched variants.
//!
//! Only core arithmetic is used (`math::ln` is written here, not taken from the platform's libm),
//! so the worker, the CLI and the browser compute the same assignment bit for bit.

pub mod math;
pub mod stats;

use sha2::{Digest, Sha256};

/// One arm of an experiment: its id and its relative weight (0 = receives nobody).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variant {
    pub id: String,
    pub weight: u32,
}

/// The uniform draw in (0, 1) of `visitor` for `variant` of `experiment`: the top 53 bits of
/// SHA-256 over the three ids (each followed by a 0 byte), centred in its cell so it is never 0 or 1.
pub fn draw(experiment: &str, variant: &str, visitor: &str) -> f64 {
    let mut h = Sha256::new();
    for part in [experiment, variant, visitor] {
        h.update(part.as_bytes());
        h.update([0u8]);
    }
    let digest = h.finalize();
    let mut top = [0u8; 8];
    top.copy_from_slice(&digest[..8]);
    let bits = u64::from_be_bytes(top) >> 11;
    (bits as f64 + 0.5) / (1u64 << 53) as f64
}

/// The variant `visitor` sees in `experiment`, or `None` when no variant has a weight above 0.
///
/// Ties (practically impossible: equal 53-bit draws) go to the variant whose id sorts first.
pub fn assign<'a>(experiment: &str, visitor: &str, variants: &'a [Variant]) -> Option<&'a Variant> {
    let mut best: Option<(f64, &'a Variant)> = None;
    for v in variants.iter().filter(|v| v.weight > 0) {
        let score = -math::ln(draw(experiment, &v.id, visitor)) / f64::from(v.weight);
        let better = match best {
            None => true,
            Some((s, b)) => score < s || (score == s && v.id < b.id),
        };
        if better {
            best = Some((score, v));
        }
    }
    best.map(|(_, v)| v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn variants(spec: &[(&str, u32)]) -> Vec<Variant> {
        spec.iter()
            .map(|(id, w)| Variant {
                id: (*id).to_string(),
                weight: *w,
            })
            .collect()
    }

    fn visitor(i: u32) -> String {
        format!("v-{i:08x}-visitor")
    }

    #[test]
    fn split_follows_the_weights_within_one_point() {
        let arms = variants(&[("a", 50), ("b", 30), ("c", 20)]);
        let n = 100_000u32;
        let mut counts = [0u32; 3];
        for i in 0..n {
            let v = assign("exp-1", &visitor(i), &arms).map(|v| v.id.as_str());
            let k = match v {
                Some("a") => 0,
                Some("b") => 1,
                Some("c") => 2,
                other => panic!("unexpected assignment {other:?}"),
            };
            counts[k] += 1;
        }
        for (k, want) in [0.5, 0.3, 0.2].iter().enumerate() {
            let got = f64::from(counts[k]) / f64::from(n);
            assert!(
                (got - want).abs() < 0.01,
                "arm {k}: {got} vs {want} ({counts:?})"
            );
        }
    }

    #[test]
    fn same_visitor_same_variant_and_experiments_are_independent() {
        let arms = variants(&[("a", 1), ("b", 1)]);
        let mut differs = 0;
        for i in 0..2_000 {
            let id = visitor(i);
            let first = assign("exp-1", &id, &arms).map(|v| v.id.clone());
            assert_eq!(first, assign("exp-1", &id, &arms).map(|v| v.id.clone()));
            if first != assign("exp-2", &id, &arms).map(|v| v.id.clone()) {
                differs += 1;
            }
        }
        // Another experiment draws anew: about half of the visitors land elsewhere.
        assert!((800..1_200).contains(&differs), "{differs}");
    }

    #[test]
    fn adding_a_variant_moves_visitors_only_into_it() {
        let two = variants(&[("a", 1), ("b", 1)]);
        let three = variants(&[("a", 1), ("b", 1), ("c", 1)]);
        let n = 30_000;
        let mut moved_to_c = 0;
        for i in 0..n {
            let id = visitor(i);
            let before = assign("exp", &id, &two).map(|v| v.id.as_str());
            let after = assign("exp", &id, &three).map(|v| v.id.as_str());
            if before != after {
                assert_eq!(
                    after,
                    Some("c"),
                    "visitor {id} moved {before:?} -> {after:?}"
                );
                moved_to_c += 1;
            }
        }
        let share = f64::from(moved_to_c) / f64::from(n);
        assert!((share - 1.0 / 3.0).abs() < 0.01, "{share}");
    }

    #[test]
    fn zero_weights_receive_nobody() {
        let arms = variants(&[("a", 0), ("b", 3)]);
        for i in 0..500 {
            assert_eq!(
                assign("e", &visitor(i), &arms).map(|v| v.id.as_str()),
                Some("b")
            );
        }
        assert!(assign("e", "x", &variants(&[("a", 0)])).is_none());
        assert!(assign("e", "x", &[]).is_none());
    }

    #[test]
    fn draws_are_inside_the_open_interval() {
        for i in 0..1_000 {
            let u = draw("e", "a", &visitor(i));
            assert!(u > 0.0 && u < 1.0);
        }
    }
}
