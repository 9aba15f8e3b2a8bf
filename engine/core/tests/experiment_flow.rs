//! Experiments in the dialogue format: each variant's flow (start, texts) and its wire form, the
//! assignment both hosts compute, and the dialogue that ending the experiment publishes.

use dynchat_engine::compile::CCard;
use dynchat_engine::experiment::assign;
use dynchat_engine::machine::{Effect, Input, Session};
use dynchat_engine::{compile, step, CompiledFlow};

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

/// A dialogue in English and German with a `texts` variant translated into German.
const TRANSLATED: &str = r#"{"version":2,"id":"t","name":"T","languages":["en","de"],
 "cards":[
  {"id":"hi","type":"message","text":"Hi","next":"ask"},
  {"id":"hi-short","type":"message","text":"Quick?","next":"ask"},
  {"id":"ask","type":"question","text":"Book a demo?","buttons":[{"label":"Yes","next":"bye"}]},
  {"id":"bye","type":"end","text":"Bye"}],
 "translations":{"de":{
  "hi":{"text":"Hallo"},"hi-short":{"text":"Kurz?"},
  "ask":{"text":"Demo buchen?","buttons":["Ja"]},"bye":{"text":"Tschuess"}}},
 "experiment":{"id":"x","variants":[
  {"id":"control","weight":1},
  {"id":"short","weight":1,"start":"hi-short","texts":{"ask":"15 minutes?"},
   "translations":{"de":{"ask":"15 Minuten?"}}}]}}"#;

fn shown(f: &CompiledFlow, lang: &str) -> Vec<String> {
    let mut s = Session::new(f, "s", &[], 0).in_lang(lang);
    step(f, &mut s, Input::Start, 0)
        .into_iter()
        .filter_map(|e| match e {
            Effect::Show { text, .. } => Some(text),
            _ => None,
        })
        .collect()
}

#[test]
fn a_german_visitor_of_a_text_variant_sees_the_variants_german_text() {
    let f = compile(TRANSLATED).expect("compiles");
    let short = f.variant_flow("short").expect("short");
    assert_eq!(shown(&short, "de"), ["Kurz?", "15 Minuten?"]);
    assert_eq!(shown(&short, "en"), ["Quick?", "15 minutes?"]);
    let control = f.variant_flow("control").expect("control");
    assert_eq!(shown(&control, "de"), ["Hallo", "Demo buchen?"]);
    // The browser runs the wire form: the variant's German text is in it.
    let back = CompiledFlow::from_wire(&short.to_wire()).expect("wire");
    assert_eq!(shown(&back, "de"), ["Kurz?", "15 Minuten?"]);
}

#[test]
fn a_text_variant_without_its_translation_is_reported_with_its_path() {
    let json = TRANSLATED.replace(
        r#""translations":{"de":{"ask":"15 Minuten?"}}"#,
        r#""translations":{}"#,
    );
    assert_ne!(json, TRANSLATED);
    let diags = compile(&json).expect_err("missing translation");
    assert!(
        diags
            .iter()
            .any(|d| d.code == "missing_translation"
                && d.path == "$.experiment.variants[1].texts.ask"),
        "{diags:?}"
    );
}

#[test]
fn ending_an_experiment_on_a_translated_dialogue_publishes_the_variants_translations() {
    let f = compile(TRANSLATED).expect("compiles");
    let d = f.conclude("short").expect("concluded");
    assert!(!d.translations["de"].contains_key("hi"), "dropped card");
    let json = serde_json::to_string(&d).expect("json");
    let again = compile(&json).expect("the concluded dialogue compiles");
    assert_eq!(shown(&again, "de"), ["Kurz?", "15 Minuten?"]);
    let c = compile(&serde_json::to_string(&f.conclude("control").expect("c")).expect("json"))
        .expect("control compiles");
    assert_eq!(shown(&c, "de"), ["Hallo", "Demo buchen?"]);
}
