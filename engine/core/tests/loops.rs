//! Cards passed without input: compile rejects every cycle that can run on its own (a `skip_if_known` capture included), long acyclic chains run to their end, and a loop that slips through is dropped, never completed.

use dynchat_engine::machine::{BrowserEvent, Effect, Input, Session, Status};
use dynchat_engine::{compile, step, CompiledFlow};

const SKIP_LOOP: &str = r#"{"version":1,"id":"d","name":"D","cards":[
  {"id":"hi","type":"message","text":"Hi","next":"email"},
  {"id":"email","type":"capture","kind":"email","field":"email","text":"Email?","skip_if_known":true,"next":"hi"}
]}"#;

#[test]
fn a_cycle_through_a_skippable_capture_is_rejected() {
    let diags = compile(SKIP_LOOP).expect_err("a loop through skip_if_known must not compile");
    assert!(
        diags.iter().any(|d| d.code == "cycle"),
        "expected a cycle diagnostic, got {diags:#?}"
    );
}

#[test]
fn a_cycle_through_a_capture_that_always_asks_is_accepted() {
    let json = SKIP_LOOP.replace(r#""skip_if_known":true"#, r#""skip_if_known":false"#);
    compile(&json).expect("a capture that always asks waits on every pass");
}

fn chain(n: usize) -> String {
    let mut cards: Vec<String> = (0..n - 1)
        .map(|i| {
            format!(
                r#"{{"id":"m{i}","type":"message","text":"{i}","next":"m{}"}}"#,
                i + 1
            )
        })
        .collect();
    cards.push(format!(
        r#"{{"id":"m{}","type":"end","text":"bye"}}"#,
        n - 1
    ));
    format!(
        r#"{{"version":1,"id":"d","name":"D","cards":[{}]}}"#,
        cards.join(",")
    )
}

#[test]
fn a_thousand_card_chain_runs_to_its_end() {
    let f = compile(&chain(1000)).expect("compiles");
    let mut s = Session::new(&f, "s", &[], 0);
    let out = step(&f, &mut s, Input::Start, 0);
    let shown = out
        .iter()
        .filter(|e| matches!(e, Effect::Show { .. }))
        .count();
    assert_eq!(shown, 1000, "999 messages and the end's text");
    assert_eq!(s.status, Status::Completed);
}

/// A flow whose wire form loops (`from_wire` does not look for cycles, `compile` would refuse it).
fn looping_wire_flow() -> CompiledFlow {
    let ok = SKIP_LOOP.replace(
        r#""next":"hi"}"#,
        r#""next":"bye"},{"id":"bye","type":"end"}"#,
    );
    let f = compile(&ok).expect("compiles");
    let mut wire: serde_json::Value = serde_json::from_str(&f.to_wire()).expect("wire json");
    wire["cards"][1]["Capture"]["next"] = serde_json::json!(0);
    CompiledFlow::from_wire(&wire.to_string()).expect("index-checked only")
}

#[test]
fn a_loop_cut_by_the_guard_is_dropped_not_completed() {
    let f = looping_wire_flow();
    let known = [("email".to_string(), "ann@acme.com".to_string())];
    let mut s = Session::new(&f, "s", &known, 0);
    let out = step(&f, &mut s, Input::Start, 0);
    assert_eq!(s.status, Status::Dropped);
    assert!(s.check(&f).is_ok());
    assert!(!out.iter().any(|e| matches!(
        e,
        Effect::Complete
            | Effect::Emit {
                event: BrowserEvent::Completed
            }
    )));
    assert!(out.iter().any(|e| matches!(e, Effect::Drop { .. })));
    let shown = out
        .iter()
        .filter(|e| matches!(e, Effect::Show { .. }))
        .count();
    assert!(
        shown <= f.cards.len() + 1,
        "{shown} messages before the cut"
    );
}

#[test]
fn typing_the_field_in_a_looping_wire_flow_is_dropped_too() {
    let f = looping_wire_flow();
    let mut s = Session::new(&f, "s", &[], 0);
    step(&f, &mut s, Input::Start, 0);
    assert_eq!(s.status, Status::Active);
    let out = step(
        &f,
        &mut s,
        Input::Text {
            text: "ann@acme.com".into(),
        },
        1,
    );
    assert_eq!(s.status, Status::Dropped);
    assert!(!out.iter().any(|e| matches!(e, Effect::Complete)));
}
