//! An agent away (no free slot, time off) comes back level with the others: each turn they
//! miss is a turn lost, as in the plain order, so they are not owed a burst of meetings. At
//! most one more than the fair share in the next 10 meetings, equal and unequal weights.

use chrono::{DateTime, Utc};
use dynchat_scheduling::{AgentId, Availability, Rotation, RotationState};

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

/// Books `n` meetings with `away` busy; returns how many each agent got, in queue order.
fn book_n(s: &mut RotationState, n: usize, away: Option<&str>) -> Vec<usize> {
    let mut got = vec![0; s.agents.len()];
    for _ in 0..n {
        let mut asking = s.assigning(start());
        while let Some(a) = asking.candidate() {
            let busy = Some(a.as_str()) == away;
            asking.answer(if busy {
                Availability::Busy
            } else {
                Availability::Free
            });
        }
        let d = asking.finish();
        s.commit(&d);
        let i = d
            .chosen
            .and_then(|c| s.agents.iter().position(|a| a.agent == c))
            .unwrap_or_else(|| panic!("nobody chosen"));
        got[i] += 1;
    }
    got
}

/// Five working days at 8 meetings a day.
const FIVE_DAYS: usize = 40;

#[test]
fn back_after_five_days_without_a_burst() {
    let mut s = queue(&[("ana", 1), ("ben", 1), ("cem", 1)]);
    book_n(&mut s, 30, None);
    let away = book_n(&mut s, FIVE_DAYS, Some("cem"));
    assert_eq!(away[2], 0);
    let back = book_n(&mut s, 10, None);
    // Fair share of 10 among 3 is 3.33: at most 4, and not left out either.
    assert!(back[2] <= 4, "cem got {} of the next 10", back[2]);
    assert!(back[2] >= 3, "cem got {} of the next 10", back[2]);
}

#[test]
fn back_after_five_days_without_a_burst_when_weighted() {
    let mut s = queue(&[("ana", 2), ("ben", 1), ("cem", 1)]);
    book_n(&mut s, 30, None);
    book_n(&mut s, FIVE_DAYS, Some("cem"));
    let back = book_n(&mut s, 10, None);
    // Fair share of 10 at weight 1 of 4 is 2.5: at most 3.
    assert!(back[2] <= 3, "cem got {} of the next 10", back[2]);
    assert!(back[2] >= 2, "cem got {} of the next 10", back[2]);
    // The heavier agent returning is held to their share too: 5 of 10, at most 6.
    book_n(&mut s, FIVE_DAYS, Some("ana"));
    let back = book_n(&mut s, 10, None);
    assert!(back[0] <= 6, "ana got {} of the next 10", back[0]);
}

#[test]
fn taken_out_of_the_queue_for_the_week_and_added_back_without_a_burst() {
    let mut s = queue(&[("ana", 1), ("ben", 1), ("cem", 1)]);
    book_n(&mut s, 31, None);
    s.set_agents(vec!["ana".into(), "ben".into()]);
    book_n(&mut s, FIVE_DAYS, None);
    s.set_agents(vec!["ana".into(), "ben".into(), "cem".into()]);
    let back = book_n(&mut s, 10, None);
    assert!(back[2] <= 4, "cem got {} of the next 10", back[2]);
    assert!(back[2] >= 3, "cem got {} of the next 10", back[2]);
}
