//! Equal weights reproduce the plain order exactly: the fair rotation and [`Rotation`] decide
//! the same (who is asked, who is chosen, every skip) over 1,000 seeded random assignments,
//! through removals; a reorder keeps whose turn it is (and then finishes the round, which the
//! plain order did not).

use chrono::{DateTime, Utc};
use dynchat_scheduling::{
    assign, AgentId, Assignment, Availability, Reason, Rotation, RotationState,
};

fn ids(n: usize) -> Vec<AgentId> {
    (1..=n).map(|i| AgentId(format!("a{i}"))).collect()
}

fn start() -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp(1_804_000_000, 0).unwrap_or_default()
}

fn fair(s: &RotationState, free: &dyn Fn(&AgentId) -> Availability) -> Assignment {
    let mut asking = s.assigning(start());
    while let Some(a) = asking.candidate() {
        asking.answer(free(a));
    }
    asking.finish()
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
fn a_thousand_random_assignments_decide_as_the_plain_order() {
    let n = 7;
    let mut plain = Rotation {
        order: ids(n),
        last: Some(AgentId::from("a3")),
    };
    let mut state = RotationState::from_legacy(plain.clone());
    let mut rng = SplitMix(0x5EED_2027);
    let (mut skipped, mut nobody) = (0usize, 0usize);
    for step in 0..1000 {
        let avail: Vec<Availability> = (0..n)
            .map(|_| match rng.next() % 20 {
                0..=10 => Availability::Free,
                11..=16 => Availability::Busy,
                17..=18 => Availability::Unknown,
                _ => Availability::Disconnected,
            })
            .collect();
        let of = |id: &AgentId| {
            let i = plain
                .order
                .iter()
                .position(|a| a == id)
                .unwrap_or(usize::MAX);
            avail.get(i).copied().unwrap_or(Availability::Unknown)
        };
        let expected = assign(&plain, start(), &of);
        let got = fair(&state, &of);
        assert_eq!(got.next_in_line, expected.next_in_line, "step {step}");
        assert_eq!(got.chosen, expected.chosen, "step {step}");
        assert_eq!(got.skipped, expected.skipped, "step {step}");
        match &got.chosen {
            Some(c) => {
                assert_eq!(got.reason, Reason::Order, "step {step}");
                plain.advance(c);
                state.commit(&got);
            }
            None => {
                assert_eq!(got.reason, Reason::NobodyFree);
                nobody += 1;
            }
        }
        skipped += got.skipped.len();
        assert_eq!(state.next_in_line(), plain.next_in_line(), "step {step}");
        // Every 250 steps an agent leaves: both rotations carry on from the same agent.
        // (A newcomer is where they differ on purpose: the fair rotation gives them a turn in
        // the current round, see `joining.rs`.)
        if step % 250 == 249 {
            let gone = AgentId(format!("a{}", 1 + (step / 250) * 2));
            plain.remove(&gone);
            let order: Vec<AgentId> = state
                .rotation()
                .order
                .into_iter()
                .filter(|a| *a != gone)
                .collect();
            state.set_agents(order);
            assert_eq!(state.rotation(), plain, "removal at {step}");
            assert_eq!(
                state.next_in_line(),
                plain.next_in_line(),
                "removal at {step}"
            );
        }
    }
    assert!(skipped > 500, "skips {skipped}");
    assert!(nobody > 0, "no round without a free agent");
}

#[test]
fn a_reorder_keeps_whose_turn_it_is() {
    let plain = Rotation {
        order: ids(5),
        last: Some(AgentId::from("a3")),
    };
    let mut state = RotationState::from_legacy(plain.clone());
    // Two meetings in: a4 and a5 took theirs.
    for _ in 0..2 {
        let d = fair(&state, &|_| Availability::Free);
        state.commit(&d);
    }
    assert_eq!(state.next_in_line(), Some(&AgentId::from("a1")));
    state.set_agents(["a5", "a2", "a1", "a4", "a3"].map(AgentId::from).to_vec());
    assert_eq!(state.next_in_line(), Some(&AgentId::from("a1")));
    // Unlike the plain order (a1, a4, a3: a4 again before a2 had a turn), the round finishes
    // before anyone gets a second meeting: a1, a2 and a3, who had none in it, go first.
    let mut next = Vec::new();
    for _ in 0..3 {
        let d = fair(&state, &|_| Availability::Free);
        state.commit(&d);
        next.extend(d.chosen.map(|c| c.0));
    }
    next.sort();
    assert_eq!(next, ["a1", "a2", "a3"]);
}
