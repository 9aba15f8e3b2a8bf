//! The rotation state as stored: today's plain order (version 1, fixture) still loads and
//! continues where it was; version 2 round-trips; what cannot be read is an error, not a reset.

use dynchat_scheduling::{
    fair::ROTATION_STATE_VERSION, AgentId, Fairness, Rotation, RotationState,
};

const V1: &str = include_str!("fixtures/rotation_v1.json");
const V2: &str = include_str!("fixtures/rotation_v2.json");

#[test]
fn todays_plain_order_loads_and_continues() {
    let s = RotationState::from_json(V1).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.version, ROTATION_STATE_VERSION);
    assert_eq!(
        s.rotation(),
        Rotation {
            order: ["ana", "ben", "cem"].map(AgentId::from).to_vec(),
            last: Some("ben".into()),
        }
    );
    assert!(s.agents.iter().all(|a| a.weight == 1 && a.vtime == 0));
    assert_eq!(s.fairness, Fairness::default());
    assert_eq!(s.next_in_line(), Some(&AgentId::from("cem")));
    // Written back, it is version 2 and reads the same.
    let again = RotationState::from_json(&s.to_json()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(again, s);
}

#[test]
fn the_workers_queue_row_migrates_like_the_json() {
    // The `queues` row: `agents` a JSON array, `last_agent` a column.
    let agents: Vec<AgentId> = serde_json::from_str(r#"["ana","ben","cem"]"#).unwrap_or_default();
    let from_row = RotationState::from_legacy(Rotation {
        order: agents,
        last: Some("ben".into()),
    });
    let from_json = RotationState::from_json(V1).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(from_row, from_json);
    // A pointer at an agent no longer in the order is dropped, duplicates too.
    let odd = RotationState::from_legacy(Rotation {
        order: ["ana", "ana", "ben"].map(AgentId::from).to_vec(),
        last: Some("gone".into()),
    });
    assert_eq!(odd.agents.len(), 2);
    assert_eq!(odd.last, None);
    assert_eq!(odd.next_in_line(), Some(&AgentId::from("ana")));
}

#[test]
fn version_2_round_trips() {
    let s = RotationState::from_json(V2).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.agents.len(), 2);
    assert_eq!(s.agent(&"ana".into()).map(|a| a.weight), Some(2));
    assert_eq!(s.agent(&"ben".into()).map(|a| a.credits), Some(1));
    assert!(!s.fairness.count_cancelled);
    assert!(s.fairness.count_no_show);
    let again = RotationState::from_json(&s.to_json()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(again, s);
    // Options left out read as "everything counts".
    let bare = r#"{"version":2,"agents":[{"agent":"ana","weight":1,"vtime":0}],"last":null}"#;
    let s = RotationState::from_json(bare).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.fairness, Fairness::default());
}

#[test]
fn a_stored_state_is_repaired_to_its_promises() {
    let odd = r#"{"version":2,"agents":[
        {"agent":"ana","weight":0,"vtime":500},
        {"agent":"ana","weight":3,"vtime":9},
        {"agent":"ben","weight":1000,"vtime":700}],"last":"zed"}"#;
    let s = RotationState::from_json(odd).unwrap_or_else(|e| panic!("{e}"));
    let got: Vec<(&str, u32, i64)> = s
        .agents
        .iter()
        .map(|a| (a.agent.as_str(), a.weight, a.vtime))
        .collect();
    assert_eq!(got, [("ana", 1, 0), ("ben", 100, 200)]);
    assert_eq!(s.last, None);
}

#[test]
fn unreadable_or_unknown_versions_are_errors() {
    for bad in [
        "",
        "[]",
        r#"{"version":3,"agents":[]}"#,
        r#"{"version":"2"}"#,
        r#"{"version":2}"#,
        r#"{"order":"ana"}"#,
    ] {
        let e = RotationState::from_json(bad);
        assert!(e.is_err(), "{bad:?} read as {e:?}");
    }
}
