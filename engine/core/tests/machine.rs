//! State-machine behaviour beyond transcripts: resume after reload, version pinning, session size, idempotent booking keys.

mod common;
use common::cases::EXAMPLES;
use dynchat_engine::machine::{Booking, Effect, Input, Prompt, Session, Status};
use dynchat_engine::{compile, step, CompiledFlow};

fn flow(id: &str) -> CompiledFlow {
    let json = EXAMPLES
        .iter()
        .find(|(n, _)| *n == id)
        .map(|(_, j)| *j)
        .expect("example");
    compile(json).expect("compiles")
}

#[test]
fn reload_resumes_at_the_same_question() {
    let f = flow("pricing-qualify");
    let mut s = Session::new(&f, "s1", &[], 0);
    step(&f, &mut s, Input::Start, 0);
    step(&f, &mut s, Input::Button { index: 1 }, 1);
    // The browser stores the JSON, the page reloads, the session is read back.
    let stored = s.to_json();
    let mut back = Session::from_json(&stored, &f).expect("valid session");
    let effects = step(&f, &mut back, Input::Start, 2);
    assert!(effects.iter().any(
        |e| matches!(e, Effect::Ask { card, prompt: Prompt::Choices { .. } } if card == "size")
    ));
    assert_eq!(back.status, Status::Active);
    // And the conversation goes on from there.
    step(&f, &mut back, Input::Button { index: 0 }, 3);
    assert!(back.answers.len() == 2);
}

#[test]
fn session_is_pinned_to_its_flow_version() {
    let old = flow("pricing-qualify");
    let mut edited = old.source.clone();
    edited.name = "Pricing v2".into();
    let new =
        dynchat_engine::compile::compile_model(edited, &Default::default()).expect("compiles");
    assert_ne!(old.hash, new.hash);
    let mut s = Session::new(&old, "s1", &[], 0);
    step(&old, &mut s, Input::Start, 0);
    let before = s.clone();
    // Given the new version, the old session is refused, not corrupted.
    let effects = step(&new, &mut s, Input::Button { index: 0 }, 1);
    assert!(matches!(effects.as_slice(), [Effect::Ignored { .. }]));
    assert_eq!(s, before);
    assert!(Session::from_json(&s.to_json(), &new).is_err());
    // On its own version it finishes normally.
    step(&old, &mut s, Input::Button { index: 2 }, 2);
    assert_eq!(s.status, Status::Completed);
}

#[test]
fn session_json_is_small_and_holds_no_flow_text() {
    let f = flow("pricing-qualify");
    let mut s = Session::new(
        &f,
        "0b6f1c1e-7d7a-4a8e-9b8e-3f1f5a2f9c11",
        &[("FirstName".into(), "Ann".into())],
        0,
    );
    step(&f, &mut s, Input::Start, 0);
    step(&f, &mut s, Input::Button { index: 1 }, 1);
    step(&f, &mut s, Input::Button { index: 2 }, 2);
    step(
        &f,
        &mut s,
        Input::Text {
            text: "ann@acme.com".into(),
        },
        3,
    );
    let json = s.to_json();
    assert!(json.len() < 600, "session is {} bytes: {json}", json.len());
    assert!(
        !json.contains("pricing page"),
        "flow text leaked into the session"
    );
    assert!(json.contains(&f.hash));
}

#[test]
fn booking_retry_after_reload_uses_the_same_key() {
    let f = flow("pricing-qualify");
    let mut s = Session::new(&f, "s9", &[("email".into(), "a@b.co".into())], 0);
    step(&f, &mut s, Input::Start, 0);
    step(&f, &mut s, Input::Button { index: 1 }, 1);
    step(&f, &mut s, Input::Button { index: 2 }, 2);
    let e1 = step(
        &f,
        &mut s,
        Input::SlotChosen {
            start_ms: 1_800_000_000_000,
            end_ms: 1_800_001_800_000,
        },
        3,
    );
    let key1 = e1
        .iter()
        .find_map(|e| match e {
            Effect::Book { key, .. } => Some(key.clone()),
            _ => None,
        })
        .expect("book effect");
    // Reload before the result arrived: resuming asks the host to book again with the same key.
    let mut back = Session::from_json(&s.to_json(), &f).expect("valid");
    let e2 = step(&f, &mut back, Input::Start, 4);
    let key2 = e2
        .iter()
        .find_map(|e| match e {
            Effect::Book { key, .. } => Some(key.clone()),
            _ => None,
        })
        .expect("book again");
    assert_eq!(key1, key2);
    let done = step(
        &f,
        &mut back,
        Input::BookingResult {
            result: Booking::Booked {
                meeting_id: "m1".into(),
                agent: "Ana".into(),
                time: "Tue 10:00".into(),
            },
        },
        5,
    );
    assert!(done.iter().any(|e| matches!(e, Effect::Show { text, .. } if text.contains("Ana") && text.contains("Tue 10:00"))));
}

#[test]
fn inputs_that_do_not_fit_change_nothing() {
    let f = flow("anonymous-capture");
    let mut s = Session::new(&f, "s", &[], 0);
    assert!(matches!(
        step(&f, &mut s, Input::Button { index: 0 }, 0).as_slice(),
        [Effect::Ignored { .. }]
    ));
    step(&f, &mut s, Input::Start, 0);
    let before = s.clone();
    for i in [
        Input::Button { index: 9 },
        Input::SlotChosen {
            start_ms: 1,
            end_ms: 2,
        },
        Input::BookingResult {
            result: Booking::SlotTaken,
        },
    ] {
        let e = step(&f, &mut s, i, 1);
        assert!(matches!(e.as_slice(), [Effect::Ignored { .. }]), "{e:?}");
    }
    assert_eq!(s.answers, before.answers);
    assert_eq!(s.at, before.at);
}

/// One text card (`text`) after a question that takes free text.
fn echo_flow(text: &str) -> CompiledFlow {
    let json = serde_json::json!({
        "version": 1, "id": "echo", "name": "Echo",
        "cards": [
            {"id": "q", "type": "question", "text": "Say something", "free_text": {}, "next": "m"},
            {"id": "m", "type": "message", "text": text, "next": "end"},
            {"id": "end", "type": "end"}
        ]
    });
    compile(&json.to_string()).expect("compiles")
}

fn shown(out: &[Effect], card: &str) -> String {
    out.iter()
        .find_map(|e| match e {
            Effect::Show { card: c, text, .. } if c == card => Some(text.clone()),
            _ => None,
        })
        .expect("shown")
}

#[test]
fn token_defaults_are_trimmed() {
    let f = echo_flow("Hi {{ lead.firstname : there }}!");
    let mut s = Session::new(&f, "s", &[], 0);
    step(&f, &mut s, Input::Start, 0);
    let out = step(&f, &mut s, Input::Text { text: "x".into() }, 1);
    assert_eq!(shown(&out, "m"), "Hi there!");
}

/// Token values are data: the widget's markdown subset must see them as literal text.
#[test]
fn a_typed_answer_is_inserted_as_text_not_markdown() {
    let f = echo_flow("You said: {{answer.q:}} and **this** [is](https://acme.test) mine");
    let mut s = Session::new(&f, "s", &[], 0);
    step(&f, &mut s, Input::Start, 0);
    let typed = r"[x](https://example.com) **b** \*";
    let out = step(&f, &mut s, Input::Text { text: typed.into() }, 1);
    assert_eq!(
        shown(&out, "m"),
        r"You said: \[x\]\(https://example.com\) \*\*b\*\* \\\* and **this** [is](https://acme.test) mine"
    );
    // The answer itself is stored as typed.
    assert!(out
        .iter()
        .any(|e| matches!(e, Effect::Answer { value, .. } if value == typed)));
}

#[test]
fn a_lead_field_is_inserted_as_text_not_markdown() {
    let f = echo_flow("Hi {{lead.FirstName:there}}");
    let lead = [(
        "FirstName".to_string(),
        "[Bo](https://evil.test)".to_string(),
    )];
    let mut s = Session::new(&f, "s", &lead, 0);
    step(&f, &mut s, Input::Start, 0);
    let out = step(&f, &mut s, Input::Text { text: "x".into() }, 1);
    assert_eq!(shown(&out, "m"), r"Hi \[Bo\]\(https://evil.test\)");
}

#[test]
fn step_refuses_a_session_of_an_unknown_version_like_from_json() {
    let f = flow("pricing-qualify");
    let mut s = Session::new(&f, "s1", &[], 0);
    step(&f, &mut s, Input::Start, 0);
    s.v = 99;
    assert!(Session::from_json(&s.to_json(), &f).is_err());
    let before = s.clone();
    let out = step(&f, &mut s, Input::Button { index: 0 }, 1);
    assert!(
        matches!(out.as_slice(), [Effect::Ignored { reason }] if reason.contains("version")),
        "{out:?}"
    );
    assert_eq!(s, before);
}

/// One limit on typed text, in characters (what the widget shows), enforced by the engine with a
/// re-prompt that names it; never a cut.
#[test]
fn typed_text_has_one_limit_in_characters() {
    use dynchat_engine::fields::MAX_ANSWER_CHARS;
    let f = echo_flow("{{answer.q:}}");
    for (text, accepted) in [
        ("日".repeat(MAX_ANSWER_CHARS), true),
        (format!("  {}  ", "é".repeat(MAX_ANSWER_CHARS)), true),
        ("a".repeat(MAX_ANSWER_CHARS + 1), false),
        ("日".repeat(MAX_ANSWER_CHARS + 1), false),
    ] {
        let mut s = Session::new(&f, "s", &[], 0);
        step(&f, &mut s, Input::Start, 0);
        let out = step(&f, &mut s, Input::Text { text: text.clone() }, 1);
        let reprompt = out.iter().find_map(|e| match e {
            Effect::Reprompt { message, .. } => Some(message.clone()),
            _ => None,
        });
        if accepted {
            assert_eq!(reprompt, None, "{} chars", text.chars().count());
            assert_eq!(s.answers.values().next(), Some(&text.trim().to_string()));
        } else {
            let m = reprompt.expect("re-prompted");
            assert!(
                m.contains(&format!("at most {MAX_ANSWER_CHARS} characters")),
                "{m}"
            );
            assert!(s.answers.is_empty());
        }
    }
    // A capture card: the same limit and the same message, not the kind's error.
    let json = r#"{"version":1,"id":"c","name":"C","cards":[
      {"id":"t","type":"capture","kind":"text","field":"notes","text":"Notes?","error":"Type something","next":"e"},
      {"id":"e","type":"end"}]}"#;
    let f = compile(json).expect("compiles");
    let mut s = Session::new(&f, "s", &[], 0);
    step(&f, &mut s, Input::Start, 0);
    let long = "x".repeat(MAX_ANSWER_CHARS + 1);
    let out = step(&f, &mut s, Input::Text { text: long }, 1);
    assert!(out
        .iter()
        .any(|e| matches!(e, Effect::Reprompt { message, .. }
        if message.contains(&format!("at most {MAX_ANSWER_CHARS} characters")))));
    let ok = "x".repeat(MAX_ANSWER_CHARS);
    step(&f, &mut s, Input::Text { text: ok }, 2);
    assert_eq!(s.status, Status::Completed);
}
