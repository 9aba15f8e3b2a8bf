//! Branch cards through a `BranchJudge`: rules kept as audience wire text, decided by `targeting::judge` (natively and, in the browser, by the targeting module), or by the judge a host passes to `step_with`.

use dynchat_engine::compile::{CCard, WireAudience};
use dynchat_engine::machine::{step_with, BranchJudge, NativeJudge};
use dynchat_engine::targeting::{branch_facts, branch_query, judge};
use dynchat_engine::{compile, step, CompiledFlow, Effect, Input, Session, TextMap};
use std::cell::RefCell;

const DIALOGUE: &str = r#"{"version":1,"id":"b","name":"B","cards":[
  {"type":"question","id":"size","text":"Team?","buttons":[{"label":"small","value":"25"},{"label":"big","value":"1000"}],"next":"route"},
  {"type":"branch","id":"route","rules":[
    {"when":{"all":[{"field":"answer.size","op":"greater_than","value":100}]},"next":"large"},
    {"when":{"any":[{"field":"answer.size","op":"matches","value":"2*"},{"field":"lead.Company","op":"is","value":"ACME"}]},"next":"small"}],
   "otherwise":"other"},
  {"type":"message","id":"large","text":"LARGE","next":"end"},
  {"type":"message","id":"small","text":"SMALL","next":"end"},
  {"type":"message","id":"other","text":"OTHER","next":"end"},
  {"type":"end","id":"end"}]}"#;

fn flow() -> CompiledFlow {
    compile(DIALOGUE).unwrap_or_else(|d| panic!("{d:?}"))
}

fn rules(f: &CompiledFlow) -> Vec<WireAudience> {
    match &f.cards[1] {
        CCard::Branch { rules, .. } => rules.iter().map(|r| r.0.clone()).collect(),
        c => panic!("not a branch: {c:?}"),
    }
}

/// The texts shown after picking button `index`.
fn shown(
    f: &CompiledFlow,
    lead: &[(&str, &str)],
    index: usize,
    j: &dyn BranchJudge,
) -> Vec<String> {
    let known: Vec<(String, String)> = lead
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let mut s = Session::new(f, "s", &known, 0);
    step_with(f, &mut s, Input::Start, 0, j);
    step_with(f, &mut s, Input::Button { index }, 1, j)
        .into_iter()
        .filter_map(|e| match e {
            Effect::Show { text, .. } => Some(text),
            _ => None,
        })
        .collect()
}

#[test]
fn judge_decides_a_rule_on_the_lower_cased_facts() {
    let f = flow();
    let r = rules(&f);
    let facts = |answer: &str, company: &str| {
        let answers: TextMap<u16> = [(0u16, answer.to_string())].into();
        let lead: TextMap<String> = [("company".to_string(), company.to_string())].into();
        branch_facts(&answers, &lead, &TextMap::new())
    };
    let judged = |rule: &WireAudience, facts: &str| judge(&branch_query(rule.as_str(), facts));
    assert_eq!(judged(&r[0], &facts("1000", "")), Some(true));
    assert_eq!(judged(&r[0], &facts("25", "")), Some(false));
    assert_eq!(judged(&r[1], &facts("25", "")), Some(true));
    // Lead values are lower-cased in the facts, as rule values are at compile time.
    assert_eq!(judged(&r[1], &facts("1000", "AcMe")), Some(true));
    assert_eq!(judged(&r[1], &facts("1000", "other")), Some(false));
    assert!(facts("x", "AcMe").contains(r#""lcompany":"acme""#));
    // Answers by card index.
    let two: TextMap<u16> = [(2u16, "X".to_string()), (10u16, "Y".to_string())].into();
    let two = branch_facts(&two, &TextMap::new(), &TextMap::new());
    assert_eq!(two, r#"{"a2":"x","a10":"y"}"#);
    // What does not read is no decision.
    let bad = "{\"all\":[{\"Cond\":1}],\"any\":[]}";
    assert_eq!(judge(&branch_query(bad, &facts("1", ""))), None);
    assert_eq!(judge(&branch_query(r[0].as_str(), "{")), None);
    assert_eq!(judge(r[0].as_str()), None);
}

#[test]
fn the_machine_asks_the_judge_it_is_given_with_each_rule_and_the_facts() {
    struct Second(RefCell<Vec<String>>);
    impl BranchJudge for Second {
        fn matches(&self, query: &str) -> bool {
            let mut calls = self.0.borrow_mut();
            calls.push(query.into());
            calls.len() == 2
        }
    }
    let f = flow();
    // Natively "1000" takes the first rule; a judge that holds only the second is obeyed.
    assert_eq!(shown(&f, &[], 1, &NativeJudge), ["LARGE"]);
    let j = Second(RefCell::new(Vec::new()));
    assert_eq!(shown(&f, &[("Company", "ACME Ltd")], 1, &j), ["SMALL"]);
    let calls = j.0.into_inner();
    let r = rules(&f);
    let facts = r#"{"a0":"1000","lcompany":"acme ltd"}"#;
    assert_eq!(
        calls,
        [
            branch_query(r[0].as_str(), facts),
            branch_query(r[1].as_str(), facts)
        ]
    );
    // `step` is `step_with` the native judge.
    let mut s = Session::new(&f, "s", &[], 0);
    step(&f, &mut s, Input::Start, 0);
    let out = step(&f, &mut s, Input::Button { index: 0 }, 1);
    assert!(out
        .iter()
        .any(|e| matches!(e, Effect::Show { text, .. } if text == "SMALL")));
}

#[test]
fn a_flow_read_to_run_keeps_the_rules_text_and_reads_no_audience() {
    let f = flow();
    let wire = f.to_wire();
    let full = CompiledFlow::from_wire(&wire).expect("reads");
    let run = CompiledFlow::from_wire_to_run(&wire).expect("reads to run");
    assert_eq!(rules(&run), rules(&f));
    assert_eq!(rules(&full), rules(&f));
    assert_eq!(full.audience, f.audience);
    assert_eq!(run.audience, Default::default());
    // A rule the engine cannot read: the full reader refuses the flow; read to run (the chat
    // module, which leaves the audience to the targeting module) it is kept and decides false.
    let damaged = wire.replacen("\"Gt\":100.0", "\"Gt\":\"x\"", 1);
    assert_ne!(damaged, wire);
    assert!(CompiledFlow::from_wire(&damaged).is_err());
    let run = CompiledFlow::from_wire_to_run(&damaged).expect("only JSON objects checked");
    assert_eq!(shown(&run, &[], 1, &NativeJudge), ["OTHER"]);
    // Not an object: refused by both.
    let not_obj = wire.replacen("[{\"all\":[{\"Cond\"", "[[{\"all\":[{\"Cond\"", 1);
    assert!(CompiledFlow::from_wire_to_run(&not_obj).is_err());
}
