//! Round-robin tests: the "3 of 5" rule, order edits, and 1,000 seeded random assignments.

use chrono::{DateTime, Utc};
use dynchat_scheduling::{assign, AgentId, Availability, Rotation, SkipReason, Skipped};
use std::collections::HashMap;

fn ids(n: usize) -> Vec<AgentId> {
    (1..=n).map(|i| AgentId(format!("a{i}"))).collect()
}

fn start() -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp(1_804_000_000, 0).unwrap_or_default()
}

fn all_free(_: &AgentId) -> Availability {
    Availability::Free
}

/// Assigns with everyone free and advances; returns who got it.
fn book(r: &mut Rotation) -> String {
    let a = assign(r, start(), &all_free);
    let chosen = a.chosen.unwrap_or_else(|| panic!("nobody chosen"));
    r.advance(&chosen);
    chosen.0
}

#[test]
fn agent_3_of_5_took_the_last_meeting_then_4_5_1() {
    let mut r = Rotation {
        order: ids(5),
        last: Some(AgentId::from("a3")),
    };
    assert_eq!(r.next_in_line(), Some(&AgentId::from("a4")));
    let got: Vec<String> = (0..4).map(|_| book(&mut r)).collect();
    assert_eq!(got, ["a4", "a5", "a1", "a2"]);
}

#[test]
fn a_fresh_rotation_starts_at_the_first_agent() {
    let mut r = Rotation::new(ids(3));
    let got: Vec<String> = (0..7).map(|_| book(&mut r)).collect();
    assert_eq!(got, ["a1", "a2", "a3", "a1", "a2", "a3", "a1"]);
}

#[test]
fn busy_agents_are_skipped_with_their_reason() {
    let r = Rotation {
        order: ids(5),
        last: Some(AgentId::from("a3")),
    };
    let states: HashMap<&str, Availability> = [
        ("a4", Availability::Busy),
        ("a5", Availability::Disconnected),
        ("a1", Availability::Unknown),
        ("a2", Availability::Free),
        ("a3", Availability::Free),
    ]
    .into_iter()
    .collect();
    let a = assign(&r, start(), &|id| states[id.as_str()]);
    assert_eq!(a.next_in_line, Some(AgentId::from("a4")));
    assert_eq!(a.chosen, Some(AgentId::from("a2")));
    assert_eq!(
        a.skipped,
        vec![
            Skipped {
                agent: "a4".into(),
                reason: SkipReason::Busy
            },
            Skipped {
                agent: "a5".into(),
                reason: SkipReason::CalendarDisconnected
            },
            Skipped {
                agent: "a1".into(),
                reason: SkipReason::CalendarUnknown
            },
        ]
    );
    // Nobody free: no one chosen, everyone recorded once, and the pointer is not moved.
    let none = assign(&r, start(), &|_| Availability::Busy);
    assert_eq!(none.chosen, None);
    assert_eq!(none.skipped.len(), 5);
    // The record serializes for the meetings log.
    let json = serde_json::to_value(&a).unwrap_or_default();
    assert_eq!(json["skipped"][1]["reason"], "calendar_disconnected");
    assert_eq!(json["chosen"], "a2");
}

#[test]
fn removing_the_last_agent_continues_from_their_position() {
    let cases: Vec<(&str, &str, &str)> = vec![
        // (last, removed, next in line afterwards)
        ("a3", "a3", "a4"),
        ("a1", "a1", "a2"),
        ("a5", "a5", "a1"),
        ("a3", "a4", "a5"),
        ("a3", "a1", "a4"),
        ("a2", "a3", "a4"),
    ];
    for (last, removed, next) in cases {
        let mut r = Rotation {
            order: ids(5),
            last: Some(AgentId::from(last)),
        };
        r.remove(&AgentId::from(removed));
        assert_eq!(r.order.len(), 4);
        assert_eq!(
            r.next_in_line().map(|a| a.as_str()),
            Some(next),
            "last {last} removed {removed}"
        );
    }
    let mut solo = Rotation {
        order: ids(1),
        last: Some(AgentId::from("a1")),
    };
    solo.remove(&AgentId::from("a1"));
    assert_eq!(solo.next_in_line(), None);
    let empty = assign(&solo, start(), &all_free);
    assert_eq!(
        (empty.chosen, empty.next_in_line, empty.skipped.len()),
        (None, None, 0)
    );
}

#[test]
fn adding_and_reordering_keep_whose_turn_it_is() {
    let mut r = Rotation {
        order: ids(5),
        last: Some(AgentId::from("a3")),
    };
    r.insert(0, AgentId::from("new"));
    assert_eq!(r.next_in_line(), Some(&AgentId::from("a4")));
    r.insert(99, AgentId::from("tail"));
    assert_eq!(r.order.last(), Some(&AgentId::from("tail")));
    assert_eq!(r.next_in_line(), Some(&AgentId::from("a4")));
    // Reorder and drop a4: a5 was after a4, so a5 is next.
    r.set_order(["a5", "a1", "a3", "a2"].map(AgentId::from).to_vec());
    assert_eq!(r.next_in_line(), Some(&AgentId::from("a5")));
    let got: Vec<String> = (0..5).map(|_| book(&mut r)).collect();
    assert_eq!(got, ["a5", "a1", "a3", "a2", "a5"]);
    // Duplicates in a new order are dropped.
    r.set_order(["a1", "a1", "a2"].map(AgentId::from).to_vec());
    assert_eq!(r.order.len(), 2);
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
fn a_thousand_random_assignments_follow_the_rule_and_record_every_skip() {
    let n = 7;
    let order = ids(n);
    let mut r = Rotation::new(order.clone());
    let mut rng = SplitMix(0x5EED_2027);
    // Reference model: a plain index of whose turn it is.
    let mut turn = 0usize;
    let (mut skips_seen, mut nobody, mut wins) = (0usize, 0usize, vec![0usize; n]);
    for step in 0..1000 {
        let avail: Vec<Availability> = (0..n)
            .map(|_| match rng.next() % 20 {
                0..=10 => Availability::Free,
                11..=16 => Availability::Busy,
                17..=18 => Availability::Unknown,
                _ => Availability::Disconnected,
            })
            .collect();
        let index_of = |id: &AgentId| order.iter().position(|a| a == id).unwrap_or(usize::MAX);
        let a = assign(&r, start(), &|id| avail[index_of(id)]);

        let mut expected_skipped = Vec::new();
        let mut expected_chosen = None;
        for k in 0..n {
            let i = (turn + k) % n;
            let reason = match avail[i] {
                Availability::Free => {
                    expected_chosen = Some(i);
                    break;
                }
                Availability::Busy => SkipReason::Busy,
                Availability::Unknown => SkipReason::CalendarUnknown,
                Availability::Disconnected => SkipReason::CalendarDisconnected,
            };
            expected_skipped.push(Skipped {
                agent: order[i].clone(),
                reason,
            });
        }
        assert_eq!(a.next_in_line.as_ref(), Some(&order[turn]), "step {step}");
        assert_eq!(a.skipped, expected_skipped, "step {step}");
        skips_seen += a.skipped.len();
        match (expected_chosen, &a.chosen) {
            (Some(i), Some(c)) => {
                assert_eq!(c, &order[i], "step {step}");
                assert_eq!(avail[i], Availability::Free);
                wins[i] += 1;
                r.advance(c);
                turn = (i + 1) % n;
            }
            (None, None) => {
                assert_eq!(a.skipped.len(), n);
                nobody += 1;
            }
            (e, c) => panic!("step {step}: expected {e:?}, got {c:?}"),
        }
    }
    // The random availabilities really exercised skips, empty rounds and every agent.
    assert!(skips_seen > 500, "skips {skips_seen}");
    assert!(nobody > 0, "no round without a free agent");
    assert!(wins.iter().all(|w| *w > 50), "wins {wins:?}");
}

/// The booking job asks one agent at a time: calendar free, then the hold is refused (another
/// route took the agent), so that agent is skipped as busy and the next one is asked.
#[test]
fn stepwise_answers_re_check_a_lost_hold_and_move_on() {
    use dynchat_scheduling::rotation::Assigning;
    let r = Rotation {
        order: ids(4),
        last: Some(AgentId::from("a2")),
    };
    let mut asking = Assigning::new(&r, start());
    let mut asked = Vec::new();
    // a3: calendar free but the hold fails -> busy; a4: disconnected; a1: free and held.
    let answers = [
        Availability::Busy,
        Availability::Disconnected,
        Availability::Free,
    ];
    let mut it = answers.iter();
    while let Some(agent) = asking.candidate() {
        asked.push(agent.0.clone());
        let Some(a) = it.next() else {
            panic!("asked more agents than answers: {asked:?}")
        };
        asking.answer(*a);
    }
    // Nothing more is asked once someone is chosen; a stray answer changes nothing.
    asking.answer(Availability::Busy);
    let d = asking.finish();
    assert_eq!(asked, ["a3", "a4", "a1"]);
    assert_eq!(d.next_in_line, Some(AgentId::from("a3")));
    assert_eq!(d.chosen, Some(AgentId::from("a1")));
    assert_eq!(
        d.skipped,
        vec![
            Skipped {
                agent: AgentId::from("a3"),
                reason: SkipReason::Busy
            },
            Skipped {
                agent: AgentId::from("a4"),
                reason: SkipReason::CalendarDisconnected
            },
        ]
    );
}

/// Everyone asked once, nobody free: no candidate after a full round, nobody chosen; an empty
/// order asks nobody.
#[test]
fn stepwise_asks_each_agent_once_and_an_empty_order_nobody() {
    use dynchat_scheduling::rotation::Assigning;
    let r = Rotation::new(ids(3));
    let mut asking = Assigning::new(&r, start());
    let mut asked = 0;
    while asking.candidate().is_some() {
        asked += 1;
        assert!(asked <= 3, "asked an agent twice");
        asking.answer(Availability::Unknown);
    }
    let d = asking.finish();
    assert_eq!(asked, 3);
    assert_eq!(d.chosen, None);
    assert_eq!(d.skipped.len(), 3);
    assert!(d
        .skipped
        .iter()
        .all(|s| s.reason == SkipReason::CalendarUnknown));

    let empty = Rotation::default();
    let asking = Assigning::new(&empty, start());
    assert_eq!(asking.candidate(), None);
    let d = asking.finish();
    assert_eq!((d.next_in_line, d.chosen, d.skipped.len()), (None, None, 0));
}

/// The stepwise form and `assign` decide the same for 500 seeded random availabilities.
#[test]
fn stepwise_matches_assign_on_random_availability() {
    use dynchat_scheduling::rotation::Assigning;
    let n = 5;
    let order = ids(n);
    let mut r = Rotation::new(order.clone());
    let mut rng = SplitMix(0x00A5_516E);
    let mut chosen_some = 0;
    for step in 0..500 {
        let avail: Vec<Availability> = (0..n)
            .map(|_| match rng.next() % 4 {
                0 => Availability::Free,
                1 => Availability::Busy,
                2 => Availability::Unknown,
                _ => Availability::Disconnected,
            })
            .collect();
        let index_of = |id: &AgentId| order.iter().position(|a| a == id).unwrap_or(usize::MAX);
        let whole = assign(&r, start(), &|id| avail[index_of(id)]);
        let mut asking = Assigning::new(&r, start());
        while let Some(agent) = asking.candidate() {
            asking.answer(avail[index_of(agent)]);
        }
        let stepwise = asking.finish();
        assert_eq!(stepwise, whole, "step {step}");
        if let Some(c) = &whole.chosen {
            chosen_some += 1;
            r.advance(c);
        }
    }
    assert!(chosen_some > 100, "chosen {chosen_some}");
}
