//! Fairness after an admin's reassignment: the meeting counts for the agent who has it now and
//! no longer for the one who had it, whatever the queue's fairness options say; the pointer
//! stays, and the old agent's next meeting is logged as a fairness correction.

use chrono::{DateTime, Utc};
use dynchat_scheduling::fair::SCALE;
use dynchat_scheduling::{
    AgentId, Assignment, Availability, Fairness, Reason, Rotation, RotationState,
};

fn start() -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp(1_804_000_000, 0).unwrap_or_default()
}

fn queue(agents: &[&str]) -> RotationState {
    RotationState::from_legacy(Rotation::new(
        agents.iter().map(|a| AgentId::from(*a)).collect(),
    ))
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

fn chosen(d: &Assignment) -> String {
    d.chosen
        .as_ref()
        .map(|c| c.as_str().to_string())
        .unwrap_or_default()
}

#[test]
fn a_reassigned_meeting_counts_for_the_new_agent_only() {
    // ana, ben, ana: ana has 2, ben 1; next would be ben.
    let mut s = queue(&["ana", "ben"]);
    let firsts: Vec<String> = (0..3).map(|_| chosen(&book(&mut s))).collect();
    assert_eq!(firsts, ["ana", "ben", "ana"]);
    assert_eq!(s.next_in_line(), Some(&AgentId::from("ben")));
    // The admin gives ana's last meeting to ben: ana 1, ben 2, so ana is next, and the log
    // says why.
    assert!(s.reassign(&AgentId::from("ana"), &AgentId::from("ben")));
    assert_eq!(s.last, Some(AgentId::from("ana")), "the pointer stays");
    assert_eq!(s.next_in_line(), Some(&AgentId::from("ana")));
    let d = book(&mut s);
    assert_eq!(chosen(&d), "ana");
    assert!(
        matches!(d.reason, Reason::FairnessCorrection { .. }),
        "{:?}",
        d.reason
    );
    // Then the plain order again: both at 2.
    assert_eq!(chosen(&book(&mut s)), "ben");
}

#[test]
fn reassignments_keep_the_shares_level_over_many_meetings() {
    // 600 meetings in a queue of three; every third meeting carla gets is given to dan. The
    // meetings each one has at the end (counted, whatever the options) stay within one.
    for fairness in [
        Fairness::default(),
        Fairness {
            count_cancelled: false,
            count_no_show: false,
        },
    ] {
        let mut s = queue(&["ana", "carla", "dan"]);
        s.fairness = fairness;
        let mut has = [0usize; 3];
        let mut carla_booked = 0;
        let idx = |a: &str| ["ana", "carla", "dan"].iter().position(|x| *x == a);
        for _ in 0..600 {
            let c = chosen(&book(&mut s));
            let Some(i) = idx(&c) else {
                panic!("nobody chosen")
            };
            has[i] += 1;
            if c == "carla" {
                carla_booked += 1;
                if carla_booked % 3 == 0 {
                    assert!(s.reassign(&AgentId::from("carla"), &AgentId::from("dan")));
                    has[1] -= 1;
                    has[2] += 1;
                }
            }
        }
        let (lo, hi) = (has.iter().min(), has.iter().max());
        assert!(
            hi.zip(lo).is_some_and(|(h, l)| h - l <= 1),
            "{fairness:?}: {has:?}"
        );
    }
}

#[test]
fn a_reassignment_to_or_from_someone_not_in_the_queue_moves_only_the_member() {
    let mut s = queue(&["ana", "ben"]);
    book(&mut s);
    book(&mut s);
    let before = s.clone();
    assert!(!s.reassign(&AgentId::from("zed"), &AgentId::from("zoe")));
    assert_eq!(s, before);
    assert!(!s.reassign(&AgentId::from("ana"), &AgentId::from("ana")));
    assert_eq!(s, before);
    // From someone who left to ben: ben has one meeting more than ana now.
    assert!(s.reassign(&AgentId::from("zed"), &AgentId::from("ben")));
    let vtime = |s: &RotationState, a: &str| s.agent(&AgentId::from(a)).map(|t| t.vtime);
    assert_eq!(vtime(&s, "ana"), Some(0));
    assert_eq!(vtime(&s, "ben"), Some(SCALE));
    assert_eq!(s.next_in_line(), Some(&AgentId::from("ana")));
    // From ben to someone who left: ben gives it back, level again.
    assert!(s.reassign(&AgentId::from("ben"), &AgentId::from("zed")));
    assert_eq!(vtime(&s, "ben"), Some(0));
}
