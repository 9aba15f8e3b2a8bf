//! Weighted rotation: 2:1 weights give twice as many meetings, over 3,000 assignments, with
//! everyone free and with random busy slots; each decision names its weight correction.

use chrono::{DateTime, Utc};
use dynchat_scheduling::{AgentId, Assignment, Availability, Reason, Rotation, RotationState};

fn start() -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp(1_804_000_000, 0).unwrap_or_default()
}

fn queue(weights: &[(&str, u32)]) -> RotationState {
    let order = weights.iter().map(|(a, _)| AgentId::from(*a)).collect();
    let mut s = RotationState::from_legacy(Rotation::new(order));
    let w: Vec<(AgentId, u32)> = weights
        .iter()
        .map(|(a, w)| (AgentId::from(*a), *w))
        .collect();
    s.set_weights(&w).unwrap_or_else(|e| panic!("weights: {e}"));
    s
}

/// One booking: ask in the rotation's order, commit the decision.
fn book(s: &mut RotationState, free: &dyn Fn(&AgentId) -> Availability) -> Assignment {
    let mut asking = s.assigning(start());
    while let Some(a) = asking.candidate() {
        asking.answer(free(a));
    }
    let d = asking.finish();
    s.commit(&d);
    d
}

fn count(got: &[Assignment], agent: &str) -> usize {
    got.iter()
        .filter(|d| d.chosen.as_ref().map(AgentId::as_str) == Some(agent))
        .count()
}

/// splitmix64: a small seeded PRNG so the random test is reproducible.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

#[test]
fn two_to_one_over_3000_assignments_is_within_one_percent() {
    let mut s = queue(&[("ana", 2), ("ben", 1)]);
    let got: Vec<Assignment> = (0..3000)
        .map(|_| book(&mut s, &|_| Availability::Free))
        .collect();
    let (ana, ben) = (count(&got, "ana"), count(&got, "ben"));
    assert_eq!(ana + ben, 3000);
    let share = ana as f64 / 3000.0;
    assert!((share - 2.0 / 3.0).abs() <= 0.01, "ana {ana} ben {ben}");
    // Smooth, not in blocks: ben never waits more than two of ana's meetings.
    let mut run = 0;
    for d in &got {
        if d.chosen == Some(AgentId::from("ana")) {
            run += 1;
            assert!(run <= 2, "ana took {run} in a row");
        } else {
            run = 0;
        }
    }
}

#[test]
fn three_two_one_with_random_busy_slots_keeps_the_shares() {
    let mut s = queue(&[("a", 3), ("b", 2), ("c", 1)]);
    let mut rng = SplitMix(0x0015_2026);
    let mut got = Vec::new();
    for _ in 0..3000 {
        // Each agent is busy for a fifth of the starts, independently.
        let busy: Vec<bool> = (0..3).map(|_| rng.next() % 5 == 0).collect();
        let d = book(&mut s, &|id| {
            let i = ["a", "b", "c"].iter().position(|x| *x == id.as_str());
            match i.and_then(|i| busy.get(i)) {
                Some(true) => Availability::Busy,
                _ => Availability::Free,
            }
        });
        got.push(d);
    }
    let booked = got.iter().filter(|d| d.chosen.is_some()).count();
    assert!(booked > 2900, "booked {booked}");
    for (agent, weight) in [("a", 3.0), ("b", 2.0), ("c", 1.0)] {
        let share = count(&got, agent) as f64 / booked as f64;
        assert!(
            (share - weight / 6.0).abs() <= 0.01,
            "{agent}: {share:.4} of {booked}"
        );
    }
}

#[test]
fn a_decision_ahead_of_plain_order_is_a_weight_correction() {
    let mut s = queue(&[("ana", 2), ("ben", 1)]);
    let got: Vec<Assignment> = (0..6)
        .map(|_| book(&mut s, &|_| Availability::Free))
        .collect();
    let chosen: Vec<&str> = got
        .iter()
        .filter_map(|d| d.chosen.as_ref().map(AgentId::as_str))
        .collect();
    assert_eq!(chosen, ["ana", "ben", "ana", "ana", "ben", "ana"]);
    // The fourth: plain order would have asked ben (ana took the third), weights chose ana.
    assert_eq!(
        got[3].reason,
        Reason::WeightCorrection {
            in_order: AgentId::from("ben")
        }
    );
    assert_eq!(got[1].reason, Reason::Order);
    let json = serde_json::to_value(&got[3]).unwrap_or_default();
    assert_eq!(json["reason"]["kind"], "weight_correction");
    assert_eq!(json["reason"]["in_order"], "ben");
}

#[test]
fn weights_out_of_range_or_for_strangers_are_refused() {
    let mut s = queue(&[("ana", 1)]);
    for (agent, w) in [("ana", 0), ("ana", 101), ("zed", 2)] {
        let e = s.set_weights(&[(AgentId::from(agent), w)]);
        assert!(e.is_err(), "{agent}:{w} accepted");
    }
    assert_eq!(s.agent(&AgentId::from("ana")).map(|a| a.weight), Some(1));
}
