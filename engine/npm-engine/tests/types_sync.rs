//! Keeps the hand-written `src/types.d.ts` in step with the engine's serde shapes: every variant of
//! every union, serialised, must match one line of its TypeScript union (tag and keys), and no line may be left over.

use dynchat_engine::compile::CRoute;
use dynchat_engine::diag::Diagnostic;
use dynchat_engine::machine::Choice;
use dynchat_engine::model::{CaptureKind, Route};
use dynchat_engine::{Booking, BrowserEvent, Effect, Input, Prompt, Severity, Status};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeSet;

const TYPES: &str = include_str!("../src/types.d.ts");

/// The lines of `export type <name> =` up to the blank line that ends it.
fn union_lines(name: &str) -> Vec<&'static str> {
    let head = format!("export type {name} =");
    let mut lines = TYPES.lines().skip_while(|l| !l.starts_with(&head));
    let first = lines
        .next()
        .unwrap_or_else(|| panic!("no `{head}` in types.d.ts"));
    let rest = first.trim_start_matches(&head).trim();
    let mut out: Vec<&str> = Vec::new();
    if !rest.is_empty() {
        out.push(rest);
    }
    out.extend(lines.take_while(|l| !l.trim().is_empty()));
    out
}

/// The keys of a `{ a: x; b?: y }` line, without the `?`.
fn keys(line: &str) -> BTreeSet<String> {
    let open = line
        .find('{')
        .unwrap_or_else(|| panic!("no object in `{line}`"));
    let close = line
        .rfind('}')
        .unwrap_or_else(|| panic!("no object in `{line}`"));
    line[open + 1..close]
        .split(';')
        .filter_map(|f| f.split_once(':'))
        .map(|(k, _)| k.trim().trim_end_matches('?').to_string())
        .collect()
}

/// Each sample, serialised, has its tag on exactly one line of the union with exactly its keys;
/// the union has no other variant lines.
fn check_tagged<T: Serialize>(union: &str, tag: &str, samples: &[T]) {
    let lines: Vec<&str> = union_lines(union)
        .into_iter()
        .filter(|l| l.contains(&format!("{tag}: \"")))
        .collect();
    assert_eq!(
        lines.len(),
        samples.len(),
        "{union}: variant lines in types.d.ts vs Rust variants"
    );
    for s in samples {
        let v = serde_json::to_value(s).unwrap_or(Value::Null);
        let name = v[tag]
            .as_str()
            .unwrap_or_else(|| panic!("{union}: no `{tag}` in {v}"));
        let needle = format!("{tag}: \"{name}\"");
        let line = lines
            .iter()
            .find(|l| l.contains(&needle))
            .unwrap_or_else(|| panic!("{union}: no line with {needle} in types.d.ts"));
        let want: BTreeSet<String> = v
            .as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default();
        assert_eq!(
            keys(line),
            want,
            "{union} `{name}`: keys in types.d.ts vs serde"
        );
    }
}

/// A string union (`"a" | "b"`) holds exactly the serialised variants.
fn check_strings<T: Serialize>(union: &str, samples: &[T]) {
    let text = union_lines(union).join(" ");
    let listed: BTreeSet<String> = text
        .split('|')
        .map(|p| {
            p.trim()
                .trim_end_matches(';')
                .trim()
                .trim_matches('"')
                .to_string()
        })
        .collect();
    let want: BTreeSet<String> = samples
        .iter()
        .map(|s| {
            serde_json::to_value(s)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default()
        })
        .collect();
    assert_eq!(listed, want, "{union}: types.d.ts vs serde");
}

fn route() -> CRoute {
    CRoute::Queue("sales".into())
}

/// One of each effect, every optional field set. The match below fails to compile when the
/// engine gains a variant, so this list cannot silently fall behind.
fn effects() -> Vec<Effect> {
    let card = || "c".to_string();
    let all = vec![
        Effect::Show {
            card: card(),
            text: "t".into(),
            delay_ms: 1,
            image: Some("i".into()),
            link: Some(("u".into(), "l".into())),
        },
        Effect::Ask {
            card: card(),
            prompt: Prompt::Slots,
        },
        Effect::Reprompt {
            card: card(),
            message: "m".into(),
        },
        Effect::Answer {
            card: card(),
            value: "v".into(),
        },
        Effect::Capture {
            field: "f".into(),
            value: "v".into(),
            overwrite: true,
        },
        Effect::RequestSlots {
            card: card(),
            route: route(),
        },
        Effect::Book {
            card: card(),
            route: route(),
            start_ms: 1,
            end_ms: 2,
            key: "k".into(),
        },
        Effect::Goal {
            card: card(),
            name: "n".into(),
            score: 1,
        },
        Effect::Emit {
            event: BrowserEvent::Goal,
        },
        Effect::Complete,
        Effect::Drop { card: Some(card()) },
        Effect::Ignored { reason: "r".into() },
    ];
    for e in &all {
        match e {
            Effect::Show { .. }
            | Effect::Ask { .. }
            | Effect::Reprompt { .. }
            | Effect::Answer { .. }
            | Effect::Capture { .. }
            | Effect::RequestSlots { .. }
            | Effect::Book { .. }
            | Effect::Goal { .. }
            | Effect::Emit { .. }
            | Effect::Complete
            | Effect::Drop { .. }
            | Effect::Ignored { .. } => {}
        }
    }
    all
}

fn inputs() -> Vec<Input> {
    let all = vec![
        Input::Start,
        Input::Button { index: 0 },
        Input::Text { text: "t".into() },
        Input::SlotChosen {
            start_ms: 1,
            end_ms: 2,
        },
        Input::BookingResult {
            result: Booking::Declined,
        },
        Input::Timeout,
        Input::Close,
    ];
    for i in &all {
        match i {
            Input::Start
            | Input::Button { .. }
            | Input::Text { .. }
            | Input::SlotChosen { .. }
            | Input::BookingResult { .. }
            | Input::Timeout
            | Input::Close => {}
        }
    }
    all
}

fn bookings() -> Vec<Booking> {
    let all = vec![
        Booking::Booked {
            meeting_id: "m".into(),
            agent: "a".into(),
            time: "t".into(),
        },
        Booking::SlotTaken,
        Booking::NoSlots,
        Booking::Declined,
        Booking::Failed { reason: "r".into() },
    ];
    for b in &all {
        match b {
            Booking::Booked { .. }
            | Booking::SlotTaken
            | Booking::NoSlots
            | Booking::Declined
            | Booking::Failed { .. } => {}
        }
    }
    all
}

fn prompts() -> Vec<Prompt> {
    let all = vec![
        Prompt::Choices {
            buttons: vec![Choice {
                label: "l".into(),
                value: "v".into(),
            }],
            free_text: Some("f".into()),
        },
        Prompt::Field {
            field: CaptureKind::Email,
            placeholder: None,
        },
        Prompt::Slots,
    ];
    for p in &all {
        match p {
            Prompt::Choices { .. } | Prompt::Field { .. } | Prompt::Slots => {}
        }
    }
    all
}

#[test]
fn effect_union_matches_the_engine() {
    check_tagged("Effect", "type", &effects());
}

#[test]
fn input_union_matches_the_engine() {
    check_tagged("Input", "type", &inputs());
}

#[test]
fn booking_and_prompt_unions_match_the_engine() {
    check_tagged("Booking", "status", &bookings());
    check_tagged("Prompt", "kind", &prompts());
}

#[test]
fn string_unions_match_the_engine() {
    use BrowserEvent as E;
    let events = [
        E::Engaged,
        E::Completed,
        E::Closed,
        E::Email,
        E::Phone,
        E::MeetingBooked,
        E::Goal,
    ];
    for e in &events {
        match e {
            E::Engaged
            | E::Completed
            | E::Closed
            | E::Email
            | E::Phone
            | E::MeetingBooked
            | E::Goal => {}
        }
    }
    check_strings("BrowserEvent", &events);
    let statuses = [
        Status::New,
        Status::Active,
        Status::Completed,
        Status::Dropped,
    ];
    check_strings("Status", &statuses);
    use CaptureKind as K;
    check_strings(
        "CaptureKind",
        &[K::Name, K::Email, K::Phone, K::Company, K::Text],
    );
    check_strings("Severity", &[Severity::Error, Severity::Warning]);
}

#[test]
fn route_and_diagnostic_shapes_match_the_engine() {
    let routes = union_lines("Route").join(" ");
    for r in [Route::Queue("q".into()), Route::Agent("a".into())] {
        let v = serde_json::to_value(&r).unwrap_or(Value::Null);
        let key = v
            .as_object()
            .and_then(|o| o.keys().next().cloned())
            .unwrap_or_default();
        assert!(
            routes.contains(&format!("{{ {key}: string }}")),
            "Route `{key}` missing in types.d.ts"
        );
    }
    let d = serde_json::to_value(Diagnostic::error("$", "c", "m")).unwrap_or(Value::Null);
    let line = TYPES
        .lines()
        .find(|l| l.starts_with("export interface Diagnostic"))
        .unwrap_or_else(|| panic!("no Diagnostic interface"));
    let want: BTreeSet<String> = d
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    assert_eq!(keys(line), want);
}
