//! Experiments in the dialogue format: each variant's flow (start, texts) and its wire form, the
//! assignment both hosts compute, and the dialogue that ending the experiment publishes.

use dynchat_engine::compile::CCard;
use dynchat_engine::experiment::assign;
use dynchat_engine::{compile, CompiledFlow};

fn example() -> CompiledFlow {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/examples/experiment.json"
    );
    let json = std::fs::read_to_string(path).expect("docs/examples/experiment.json");
    compile(&json).expect("the example compiles")
}

fn text_of(f: &CompiledFlow, card: &str) -> String {
    let ix = usize::from(f.index_of(card).expect("card"));
    match &f.cards[ix] {
        CCard::Message { text, .. } | CCard::Question { text, .. } => format!("{text:?}"),
        other => panic!("unexpected card {other:?}"),
    }
}

#[test]
fn each_variant_runs_its_own_start_and_texts_under_the_same_version() {
    let f = example();
    let control = f.variant_flow("control").expect("control");
    let short = f.variant_flow("short").expect("short");
    assert!(f.variant_flow("nope").is_none());
    assert_eq!(control.card_ids[usize::from(control.start)], "hello");
    assert_eq!(short.card_ids[usize::from(short.start)], "hello-short");
    assert_eq!(text_of(&control, "ask"), text_of(&f, "ask"));
    assert!(
        text_of(&short, "ask").contains("15-minute"),
        "{}",
        text_of(&short, "ask")
    );
    // Same version: a saved session resumes on either, and events name the published hash.
    assert_eq!(short.hash, f.hash);
    // The browser reads the variant's flow from its wire form, with the variant's changes.
    let back = CompiledFlow::from_wire(&short.to_wire()).expect("wire");
    assert_eq!(back.start, short.start);
    assert_eq!(text_of(&back, "ask"), text_of(&short, "ask"));
}

#[test]
fn arms_follow_the_weights_and_the_assignment_is_sticky() {
    let f = example();
    let (id, arms) = f.experiment_arms().expect("experiment");
    assert_eq!(id, "demo-offer-2026");
    let ids: Vec<_> = arms.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(ids, ["control", "short"]);
    let mut short = 0;
    for i in 0..2_000 {
        let v = format!("visitor-{i}");
        let a = assign(id, &v, &arms).expect("a variant");
        assert_eq!(a, assign(id, &v, &arms).expect("again"));
        short += usize::from(a.id == "short");
    }
    assert!((900..1_100).contains(&short), "{short}");
}

#[test]
fn ending_the_experiment_keeps_the_chosen_variant_only() {
    let f = example();
    let d = f.conclude("short").expect("concluded");
    assert!(d.experiment.is_none());
    assert_eq!(d.start.as_deref(), Some("hello-short"));
    let ids: Vec<_> = d.cards.iter().map(|c| c.id()).collect();
    assert_eq!(ids, ["hello-short", "ask", "email", "won", "bye"]);
    let json = serde_json::to_string(&d).expect("json");
    let again = compile(&json).expect("the concluded dialogue compiles");
    assert!(text_of(&again, "ask").contains("15-minute"));
    assert_ne!(again.hash, f.hash, "a new version");
    let c = f.conclude("control").expect("control");
    let ids: Vec<_> = c.cards.iter().map(|c| c.id()).collect();
    assert_eq!(ids, ["hello", "ask", "email", "won", "bye"]);
    assert!(f.conclude("nope").is_none());
}

#[test]
fn a_dialogue_without_experiment_keeps_its_hash_and_has_no_arms() {
    let json =
        r#"{"version":1,"id":"d","name":"D","cards":[{"type":"end","id":"e","text":"Bye"}]}"#;
    let f = compile(json).expect("compiles");
    assert!(f.experiment_arms().is_none());
    assert!(f.variant_flow("a").is_none());
    // The format grew a field; the canonical JSON (and so the hash) of a dialogue without it is
    // unchanged, so no published version changes identity.
    let canonical = serde_json::to_string(&f.source).expect("json");
    assert!(!canonical.contains("experiment"), "{canonical}");
}
