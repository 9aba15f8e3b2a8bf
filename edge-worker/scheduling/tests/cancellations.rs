//! Fairness after cancellations and no-shows: when the queue says they do not count, the agent
//! gets the meeting back (and the log says it was a fairness correction); when they count,
//! nothing changes.

use chrono::{DateTime, Utc};
use dynchat_scheduling::{
    AgentId, Assignment, Availability, Fairness, Outcome, Reason, Rotation, RotationState,
};

fn start() -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp(1_804_000_000, 0).unwrap_or_default()
}

fn queue(fairness: Fairness) -> RotationState {
    let mut s = RotationState::from_legacy(Rotation::new(vec!["ana".into(), "ben".into()]));
    s.fairness = fairness;
    s
}

fn book(s: &mut RotationState) -> Assignment {
    let mut asking = s.assigning(start());
    while asking.candidate().is_some() {
        asking.answer(Availability::Free);
    }
    let d = asking.finish();
    s.commit(&d);
    d
}

/// 300 meetings; every second meeting ana gets ends with `outcome`. Returns (booked, lost)
/// per agent, ana first.
fn run(s: &mut RotationState, outcome: Outcome) -> ([usize; 2], [usize; 2], Vec<Assignment>) {
    let (mut booked, mut lost, mut log) = ([0; 2], [0; 2], Vec::new());
    for _ in 0..300 {
        let d = book(s);
        let Some(c) = d.chosen.clone() else {
            panic!("nobody chosen")
        };
        let i = usize::from(c.as_str() == "ben");
        booked[i] += 1;
        if i == 0 && booked[0] % 2 == 0 {
            lost[0] += 1;
            s.uncount(&c, outcome);
        }
        log.push(d);
    }
    (booked, lost, log)
}

#[test]
fn uncounted_cancellations_are_given_back() {
    let mut s = queue(Fairness {
        count_cancelled: false,
        count_no_show: true,
    });
    let (booked, lost, log) = run(&mut s, Outcome::Cancelled);
    let counted = [booked[0] - lost[0], booked[1] - lost[1]];
    assert!(counted[0].abs_diff(counted[1]) <= 1, "counted {counted:?}");
    assert!(booked[0] > 190, "ana booked {booked:?}");
    // The meeting given back is visible in the log as a fairness correction.
    let corrections = log
        .iter()
        .filter(|d| matches!(d.reason, Reason::FairnessCorrection { .. }))
        .count();
    assert!(corrections > 40, "corrections {corrections}");
}

#[test]
fn counted_cancellations_change_nothing() {
    let mut s = queue(Fairness::default());
    let (booked, lost, log) = run(&mut s, Outcome::Cancelled);
    assert_eq!(booked, [150, 150]);
    assert!(lost[0] > 70);
    assert!(log.iter().all(|d| d.reason == Reason::Order));
    assert!(!s.uncount(&AgentId::from("ana"), Outcome::Cancelled));
}

#[test]
fn no_shows_follow_their_own_option() {
    // No-shows do not count, cancellations do.
    let mut s = queue(Fairness {
        count_cancelled: true,
        count_no_show: false,
    });
    let (booked, lost, _) = run(&mut s, Outcome::NoShow);
    assert!(
        (booked[0] - lost[0]).abs_diff(booked[1]) <= 1,
        "{booked:?} {lost:?}"
    );
    let mut s = queue(Fairness {
        count_cancelled: true,
        count_no_show: false,
    });
    let (booked, _, _) = run(&mut s, Outcome::Cancelled);
    assert_eq!(booked, [150, 150]);
}

#[test]
fn giving_back_a_meeting_of_someone_who_left_changes_nobody() {
    let mut s = queue(Fairness {
        count_cancelled: false,
        count_no_show: false,
    });
    book(&mut s);
    let before = s.clone();
    assert!(!s.uncount(&AgentId::from("zed"), Outcome::Cancelled));
    assert_eq!(s, before);
}
