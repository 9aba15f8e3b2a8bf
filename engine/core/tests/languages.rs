//! Languages: re-prompts in the session's language, translated cards (also read back from the
//! wire form), the session's `lang` in its stored JSON, and version-1 files keeping their hash.

mod common;
use common::cases::{CASES, EXAMPLES};
use common::run_case_via_wire;
use dynchat_engine::machine::{Booking, Effect, Input, Prompt, Session};
use dynchat_engine::{compile, step, CompiledFlow};

fn example(id: &str) -> &'static str {
    EXAMPLES
        .iter()
        .find(|(n, _)| *n == id)
        .map(|(_, j)| *j)
        .expect("example")
}

fn reprompts(out: &[Effect]) -> Vec<String> {
    out.iter()
        .filter_map(|e| match e {
            Effect::Reprompt { message, .. } => Some(message.clone()),
            _ => None,
        })
        .collect()
}

/// A dialogue without translations: only the engine's own texts follow the session's language.
const PLAIN: &str = r#"{"version":1,"id":"p","name":"P","cards":[
  {"id":"q","type":"question","text":"Pick","buttons":[{"label":"A","next":"c"}]},
  {"id":"c","type":"capture","kind":"phone","field":"phone","text":"Phone?","next":"m"},
  {"id":"m","type":"meeting","text":"When?","route":{"queue":"sales"},"next":"e"},
  {"id":"e","type":"end"}]}"#;

fn reprompts_in(lang: &str) -> Vec<String> {
    let f = compile(PLAIN).expect("compiles");
    let mut s = Session::new(&f, "s", &[], 0).in_lang(lang);
    let mut all = Vec::new();
    step(&f, &mut s, Input::Start, 0);
    let mut input = |i: Input| all.extend(reprompts(&step(&f, &mut s, i, 1)));
    input(Input::Text { text: "B".into() });
    input(Input::Button { index: 0 });
    input(Input::Text {
        text: "not a phone".into(),
    });
    input(Input::Text {
        text: "x".repeat(1001),
    });
    input(Input::Text {
        text: "+49 30 1234567".into(),
    });
    input(Input::SlotChosen {
        start_ms: 10,
        end_ms: 5,
    });
    input(Input::SlotChosen {
        start_ms: 10,
        end_ms: 20,
    });
    input(Input::BookingResult {
        result: Booking::Failed {
            reason: Booking::SERVER.into(),
        },
    });
    all
}

#[test]
fn engine_reprompts_speak_the_sessions_language() {
    assert_eq!(
        reprompts_in("de-DE"),
        [
            "Bitte wählen Sie eine der Optionen.",
            "Das sieht nicht nach einer Telefonnummer aus. Bitte verwenden Sie Ziffern, z. B. +49 30 1234567.",
            "Diese Antwort ist zu lang: höchstens 1000 Zeichen, bitte kürzen Sie sie.",
            "Diese Uhrzeit ist nicht gültig; bitte wählen Sie eine andere.",
            "Die Buchung hat wegen eines Problems auf unserer Seite nicht geklappt. Bitte wählen Sie erneut eine Zeit.",
        ]
    );
    let ar = reprompts_in("ar");
    assert_eq!(ar.len(), 5);
    assert_eq!(ar[0], "يرجى اختيار أحد الخيارات.");
    assert_eq!(
        ar[4],
        "لم يكتمل الحجز بسبب مشكلة من جانبنا. يرجى اختيار وقت مرة أخرى."
    );
    assert!(ar
        .iter()
        .all(|m| m.chars().any(|c| ('\u{600}'..='\u{6ff}').contains(&c))));
    // English stays as it was; a language without a catalogue falls back to English.
    let en = reprompts_in("en");
    assert_eq!(en[0], "Please pick one of the options.");
    assert_eq!(reprompts_in("sv"), en);
}

/// The re-prompt after a failed booking with this reason, in German.
fn booking_failure_de(reason: &str) -> Vec<String> {
    let f = compile(PLAIN).expect("compiles");
    let mut s = Session::new(&f, "s", &[], 0).in_lang("de");
    step(&f, &mut s, Input::Start, 0);
    step(&f, &mut s, Input::Button { index: 0 }, 1);
    let phone = Input::Text {
        text: "+49 30 1234567".into(),
    };
    step(&f, &mut s, phone, 2);
    let slot = Input::SlotChosen {
        start_ms: 10,
        end_ms: 20,
    };
    step(&f, &mut s, slot, 3);
    let result = Booking::Failed {
        reason: reason.into(),
    };
    reprompts(&step(&f, &mut s, Input::BookingResult { result }, 4))
}

#[test]
fn a_failed_booking_says_why_by_its_code_never_with_text_from_the_network() {
    assert_eq!(
        booking_failure_de(Booking::OFFLINE),
        ["Die Buchung hat nicht geklappt: Sie scheinen offline zu sein. Bitte prüfen Sie Ihre Verbindung und wählen Sie erneut eine Zeit."]
    );
    let generic = ["Die Buchung hat nicht geklappt. Bitte wählen Sie erneut eine Zeit."];
    // Unknown codes and the free text older hosts sent get the generic message, untouched.
    assert_eq!(booking_failure_de("network error"), generic);
    assert_eq!(booking_failure_de("Internal error <b>x</b>"), generic);
    assert_eq!(booking_failure_de(""), generic);
}

#[test]
fn translated_cards_render_in_the_sessions_language_default_otherwise() {
    let f = compile(example("newsletter-languages")).expect("compiles");
    assert_eq!(f.default_lang(), "en");
    let start = |lang: &str| {
        let mut s = Session::new(&f, "s", &[], 0).in_lang(lang);
        step(&f, &mut s, Input::Start, 0)
    };
    let first_text = |out: &[Effect]| match out.first() {
        Some(Effect::Show { text, .. }) => text.clone(),
        other => panic!("{other:?}"),
    };
    let labels = |out: &[Effect]| {
        out.iter()
            .find_map(|e| match e {
                Effect::Ask {
                    prompt: Prompt::Choices { buttons, .. },
                    ..
                } => Some(buttons.iter().map(|b| b.label.clone()).collect::<Vec<_>>()),
                _ => None,
            })
            .expect("choices")
    };
    let de = start("de");
    assert!(first_text(&de).starts_with("Hallo!"));
    assert_eq!(labels(&de), ["Ja, gerne", "Nein, danke"]);
    let fr = start("fr");
    assert!(first_text(&fr).starts_with("Hi!"), "no French: the default");
    assert_eq!(labels(&fr), ["Yes, send it", "No thanks"]);
}

#[test]
fn translations_survive_the_wire_form() {
    let f = compile(example("newsletter-languages")).expect("compiles");
    let back = CompiledFlow::from_wire(&f.to_wire()).expect("reads");
    assert_eq!(back.languages, ["en", "de", "ar"]);
    assert_eq!(back.to_wire(), f.to_wire());
    for (name, answers, expected) in CASES.iter().filter(|c| c.0.starts_with("languages-")) {
        assert_eq!(run_case_via_wire(answers), *expected, "{name} via wire");
    }
    // A translation with the wrong number of cards is refused, not run.
    let mut short = f.clone();
    short.translations[0].cards.pop();
    assert!(CompiledFlow::from_wire(&short.to_wire()).is_err());
}

#[test]
fn session_json_round_trips_its_language() {
    let f = compile(example("newsletter-languages")).expect("compiles");
    let mut s = Session::new(&f, "s", &[], 0).in_lang("AR-eg");
    assert_eq!(s.lang, "ar");
    step(&f, &mut s, Input::Start, 0);
    let text = s.to_json();
    assert!(text.contains(r#""lang":"ar""#), "{text}");
    // The hand-written writer gives serde's text, and both readers agree.
    assert_eq!(text, serde_json::to_string(&s).expect("serde"));
    let back = Session::from_json(&text, &f).expect("reads");
    assert_eq!(back, s);
    assert_eq!(
        serde_json::from_str::<Session>(&text).expect("serde reads"),
        s
    );
    // English sessions are written as before languages, and such a stored session reads as English.
    let en = Session::new(&f, "s", &[], 0);
    assert!(!en.to_json().contains("lang"));
    assert_eq!(
        Session::from_json(&en.to_json(), &f).expect("reads").lang,
        "en"
    );
}

#[test]
fn a_version_1_file_keeps_its_hash_and_migrates_to_the_same() {
    // The hash anonymous-capture (a version-1 file) had before format version 2, as recorded in
    // its golden transcripts.
    let before = "2cdff2bb6740cfad54b3";
    let v1 = example("anonymous-capture");
    assert!(v1.contains(r#""version": 1"#));
    let f = compile(v1).expect("compiles");
    assert_eq!(f.hash, before);
    assert_eq!(f.source.version, 2, "migrated on read");
    let v2 = serde_json::to_string_pretty(&f.source).expect("writes");
    assert!(v2.contains(r#""version": 2"#));
    assert_eq!(compile(&v2).expect("v2 compiles").hash, before);
    // A translation is content: it changes the identity.
    let mut d = f.source.clone();
    d.languages = vec!["en".into()];
    let with = dynchat_engine::compile::compile_model(d, &Default::default()).expect("compiles");
    assert_ne!(with.hash, before);
}
