//! A new agent starts at the fair point: the lowest counter among the agents already there,
//! so they get their share from their first day (not everything the others had, not nothing),
//! and the log calls their early turn a fairness correction.

use chrono::{DateTime, Utc};
use dynchat_scheduling::{AgentId, Assignment, Availability, Reason, Rotation, RotationState};

fn start() -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp(1_804_000_000, 0).unwrap_or_default()
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

fn chosen(d: &Assignment) -> &str {
    d.chosen.as_ref().map_or("", AgentId::as_str)
}

#[test]
fn a_newcomer_gets_their_share_from_the_start() {
    let mut s = RotationState::from_legacy(Rotation::new(vec![
        "ana".into(),
        "ben".into(),
        "cem".into(),
    ]));
    s.set_weights(&[("ana".into(), 2)])
        .unwrap_or_else(|e| panic!("{e}"));
    for _ in 0..301 {
        book(&mut s);
    }
    // Placed first in the order, while the rotation is in the middle of a round.
    s.set_agents(vec!["dan".into(), "ana".into(), "ben".into(), "cem".into()]);
    let dan = s.agent(&AgentId::from("dan")).map(|a| a.vtime);
    let lowest = s.agents.iter().map(|a| a.vtime).min();
    assert_eq!(dan, lowest);
    let next: Vec<Assignment> = (0..15).map(|_| book(&mut s)).collect();
    let dans = next.iter().filter(|d| chosen(d) == "dan").count();
    // Fair share of 15 at weight 1 of 5: 3.
    assert!((2..=4).contains(&dans), "dan got {dans} of 15");
    // Not a burst at the start either: at most one of the first three.
    let early = next.iter().take(3).filter(|d| chosen(d) == "dan").count();
    assert!(early <= 1, "dan got {early} of the first 3");
}

#[test]
fn a_newcomer_asked_ahead_of_plain_order_is_a_fairness_correction() {
    let mut s = RotationState::from_legacy(Rotation {
        order: vec!["ana".into(), "ben".into(), "cem".into()],
        last: Some("ben".into()),
    });
    // cem and ana take theirs; ben has not had one in this round.
    let first: Vec<String> = (0..2).map(|_| chosen(&book(&mut s)).to_string()).collect();
    assert_eq!(first, ["cem", "ana"]);
    // dan joins at the end of the order, level with ben.
    s.set_agents(vec!["ana".into(), "ben".into(), "cem".into(), "dan".into()]);
    let next: Vec<Assignment> = (0..3).map(|_| book(&mut s)).collect();
    let order: Vec<&str> = next.iter().map(chosen).collect();
    // Plain order would give cem a second meeting before dan had a first.
    assert_eq!(order, ["ben", "dan", "ana"]);
    assert_eq!(next[0].reason, Reason::Order);
    assert_eq!(
        next[1].reason,
        Reason::FairnessCorrection {
            in_order: AgentId::from("cem")
        }
    );
    assert_eq!(next[2].reason, Reason::Order);
}
