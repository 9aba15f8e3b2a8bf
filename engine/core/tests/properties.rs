//! Property tests: no JSON makes `compile` panic; no input sequence makes `step` panic or leave the session invalid.
#![cfg(not(target_arch = "wasm32"))]

mod common;
use common::cases::EXAMPLES;
use dynchat_engine::machine::{Booking, Input, Session, Status};
use dynchat_engine::{compile, step};
use proptest::prelude::*;

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::Bool),
        any::<i64>().prop_map(|n| serde_json::json!(n)),
        prop_oneof![
            "[a-z]{0,8}",
            Just("message".to_string()),
            Just("question".to_string()),
            Just("end".to_string()),
            Just("{{lead.x".to_string()),
            Just("*?*".to_string()),
        ]
        .prop_map(serde_json::Value::String),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("version".to_string()),
                    Just("id".to_string()),
                    Just("name".to_string()),
                    Just("cards".to_string()),
                    Just("type".to_string()),
                    Just("text".to_string()),
                    Just("next".to_string()),
                    Just("buttons".to_string()),
                    Just("audience".to_string()),
                    Just("all".to_string()),
                    Just("field".to_string()),
                    Just("op".to_string()),
                    Just("value".to_string()),
                    "[a-z]{1,6}",
                ],
                inner,
                0..6
            )
            .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

fn input() -> impl Strategy<Value = Input> {
    prop_oneof![
        Just(Input::Start),
        (0usize..6).prop_map(|index| Input::Button { index }),
        prop_oneof![
            Just(String::new()),
            Just("ann@acme.com".to_string()),
            Just("+1 415 555 0100".to_string()),
            Just("Talk to sales".to_string()),
            ".{0,30}",
        ]
        .prop_map(|text| Input::Text { text }),
        (any::<i64>(), any::<i64>())
            .prop_map(|(start_ms, end_ms)| Input::SlotChosen { start_ms, end_ms }),
        (1_800_000_000_000i64..1_800_100_000_000).prop_map(|s| Input::SlotChosen {
            start_ms: s,
            end_ms: s + 1_800_000
        }),
        prop_oneof![
            Just(Booking::SlotTaken),
            Just(Booking::NoSlots),
            Just(Booking::Declined),
            Just(Booking::Failed { reason: "x".into() }),
            Just(Booking::Booked {
                meeting_id: "m".into(),
                agent: "A".into(),
                time: "t".into()
            }),
        ]
        .prop_map(|result| Input::BookingResult { result }),
        Just(Input::Timeout),
        Just(Input::Close),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn compile_never_panics_on_any_json(v in json_value()) {
        let _ = compile(&v.to_string());
    }

    #[test]
    fn compile_never_panics_on_any_text(s in ".{0,200}") {
        let _ = compile(&s);
    }

    #[test]
    fn step_keeps_sessions_valid(ex in 0usize..4, inputs in prop::collection::vec(input(), 0..40), lead in any::<bool>()) {
        let flow = compile(EXAMPLES[ex % EXAMPLES.len()].1).expect("examples compile");
        let known = if lead { vec![("email".to_string(), "k@known.io".to_string())] } else { vec![] };
        let mut s = Session::new(&flow, "prop", &known, 1_799_000_000_000);
        let mut now = 1_799_000_000_000i64;
        for i in inputs {
            now += 1000;
            let _ = step(&flow, &mut s, i, now);
            prop_assert!(s.check(&flow).is_ok(), "invalid session: {:?}", s.check(&flow));
            // Round trip through storage keeps the session identical.
            let back = Session::from_json(&s.to_json(), &flow);
            prop_assert_eq!(back.as_ref().ok(), Some(&s));
            if matches!(s.status, Status::Completed | Status::Dropped) {
                prop_assert!(s.at.is_none());
            }
        }
    }
}

proptest! {
    /// What a visitor typed comes back unchanged after the escaping tokens apply to it, so the
    /// transcript sent with a lead shows the text as the visitor saw it.
    #[test]
    fn markdown_escaping_round_trips(s in ".{0,80}") {
        let escaped = dynchat_engine::tokens::escape_markdown(&s);
        prop_assert_eq!(dynchat_engine::tokens::unescape_markdown(&escaped), s);
    }
}

proptest! {
    /// `fields::char_count` (the browser's short character counter) counts as `chars().count()`
    /// for any text, multi-byte characters included.
    #[test]
    fn char_count_is_chars_count(s in "\\PC{0,40}") {
        prop_assert_eq!(dynchat_engine::fields::char_count(&s), s.chars().count());
    }
}
