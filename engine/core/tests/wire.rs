//! The compiled flow's wire form: every golden conversation runs the same on a flow read back from
//! it, patterns survive as text, and damaged forms are refused.

mod common;

use common::cases::{CASES, EXAMPLES};
use dynchat_engine::simulate::{header, options_from_header};
use dynchat_engine::{compile, parse_answers, simulate, CompiledFlow};

fn wire_round_trip(json: &str) -> (CompiledFlow, CompiledFlow) {
    let flow = compile(json).unwrap_or_else(|d| panic!("does not compile: {d:?}"));
    let wire = flow.to_wire();
    let back = CompiledFlow::from_wire(&wire).unwrap_or_else(|e| panic!("{e}\n{wire}"));
    assert_eq!(back.to_wire(), wire, "the wire form is stable");
    (flow, back)
}

#[test]
fn golden_conversations_run_the_same_on_the_wire_form() {
    let mut ran = 0;
    for (name, answers, expected) in CASES {
        let id = header(answers, "dialogue")
            .into_iter()
            .next()
            .unwrap_or_default();
        let json = EXAMPLES
            .iter()
            .find(|(n, _)| *n == id)
            .map(|(_, j)| *j)
            .unwrap_or_else(|| panic!("{name}: no example {id}"));
        let (flow, back) = wire_round_trip(json);
        assert_eq!(back.hash, flow.hash);
        assert!(
            back.source.cards.is_empty(),
            "source is not in the wire form"
        );
        let (a, o) = (parse_answers(answers), options_from_header(answers));
        let got = simulate(&back, &a, &o);
        assert_eq!(got, simulate(&flow, &a, &o), "{name}");
        assert_eq!(got.trim_end(), expected.trim_end(), "{name}");
        ran += 1;
    }
    assert!(ran >= 10, "only {ran} golden cases");
}

const WITH_PATTERN: &str = r#"{"version":1,"id":"p","name":"P","cards":[
  {"type":"capture","id":"zip","text":"Postcode?","kind":"text","field":"postalCode","pattern":"[0-9]{4} ?[A-Z]{2}","error":"Like 1234 AB","next":"e"},
  {"type":"end","id":"e","text":"Thanks {{answer.zip:}}"}]}"#;

#[test]
fn patterns_travel_as_text_and_validate_the_same() {
    let (flow, back) = wire_round_trip(WITH_PATTERN);
    assert!(flow.to_wire().contains(r#""[0-9]{4} ?[A-Z]{2}""#));
    for answers in [["12 AB", "1234 AB"], ["1234AB", "x"]] {
        let a: Vec<String> = answers.iter().map(|s| s.to_string()).collect();
        let o = Default::default();
        let t = simulate(&back, &a, &o);
        assert_eq!(t, simulate(&flow, &a, &o));
    }
    let t = simulate(
        &back,
        &["12 AB".into(), "1234 AB".into()],
        &Default::default(),
    );
    assert!(
        t.contains("Like 1234 AB") && t.contains("Thanks 1234 AB"),
        "{t}"
    );
}

#[test]
fn damaged_wire_forms_are_refused() {
    let (flow, _) = wire_round_trip(WITH_PATTERN);
    let wire = flow.to_wire();
    assert!(CompiledFlow::from_wire("{}").is_err());
    assert!(CompiledFlow::from_wire(&wire.replace(r#""start":0"#, r#""start":7"#)).is_err());
    let bad_next = wire.replacen(r#""next":1"#, r#""next":9"#, 1);
    assert_ne!(bad_next, wire, "the fixture has a next index to damage");
    assert!(CompiledFlow::from_wire(&bad_next).is_err());
    let mut v: serde_json::Value = serde_json::from_str(&wire).unwrap_or_default();
    v["card_ids"] = serde_json::json!(["zip"]);
    assert!(CompiledFlow::from_wire(&v.to_string()).is_err());
}
