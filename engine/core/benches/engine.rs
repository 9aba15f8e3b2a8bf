//! Criterion benchmarks for the engine: `step` on a typical card, targeting 20 dialogues × 50 rules, `compile` of 200 cards.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use dynchat_engine::machine::{Input, Session};
use dynchat_engine::model::{Audience, Display};
use dynchat_engine::targeting::{compile_audience, Candidate, Context, PageInput, Targeting};
use dynchat_engine::{compile, step};
use std::hint::black_box;

const PRICING: &str = include_str!("../../../examples/pricing-qualify.json");

/// A session waiting at the `interest` question of the pricing example.
fn at_question() -> (dynchat_engine::CompiledFlow, Session) {
    let flow = compile(PRICING).expect("example compiles");
    let mut s = Session::new(&flow, "bench", &[], 0);
    step(&flow, &mut s, Input::Start, 0);
    (flow, s)
}

fn bench_step(c: &mut Criterion) {
    let (flow, s) = at_question();
    // A button click: answer, capture, then render and ask the next question.
    c.bench_function("step/button_on_question", |b| {
        b.iter_batched_ref(
            || s.clone(),
            |s| black_box(step(&flow, s, Input::Button { index: 1 }, 1)),
            BatchSize::SmallInput,
        )
    });
    let (flow2, mut s2) = at_question();
    step(&flow2, &mut s2, Input::Button { index: 1 }, 1);
    step(&flow2, &mut s2, Input::Button { index: 2 }, 2);
    // An invalid email: the re-prompt path.
    c.bench_function("step/reprompt_bad_email", |b| {
        b.iter_batched_ref(
            || s2.clone(),
            |s| {
                black_box(step(
                    &flow2,
                    s,
                    Input::Text {
                        text: "nope".into(),
                    },
                    3,
                ))
            },
            BatchSize::SmallInput,
        )
    });
}

/// 50 rules of mixed kinds, all true for the benchmark page except (for all but the last
/// candidate) the final one, so every rule is evaluated on every candidate: the worst case.
fn fifty_rules(last_true: bool) -> String {
    let mut rules = Vec::new();
    for i in 0..49 {
        rules.push(match i % 7 {
            0 => r#"{"field":"page.url","op":"matches","value":"*/pricing*"}"#.to_string(),
            1 => {
                r#"{"field":"page.utm.campaign","op":"in_list","value":["spring-launch","autumn"]}"#
                    .to_string()
            }
            2 => r#"{"field":"lead.email","op":"is_not_empty"}"#.to_string(),
            3 => r#"{"field":"page.visits","op":"greater_than","value":1}"#.to_string(),
            4 => r#"{"field":"company.industry","op":"contains","value":"soft"}"#.to_string(),
            5 => r#"{"field":"page.local_time","op":"between","value":"08:00-18:00"}"#.to_string(),
            _ => r#"{"field":"page.title","op":"starts_with","value":"pricing"}"#.to_string(),
        });
    }
    let v = if last_true { "desktop" } else { "mobile" };
    rules.push(format!(
        r#"{{"field":"page.device","op":"is","value":"{v}"}}"#
    ));
    format!(r#"{{"all":[{}]}}"#, rules.join(","))
}

fn targeting_fixture() -> (Targeting, Context) {
    let mut cands = Vec::new();
    for i in 0..20 {
        let a: Audience = serde_json::from_str(&fifty_rules(i == 0)).expect("rules");
        let mut d = Vec::new();
        let audience = compile_audience(&a, "$", &|_| None, &mut d);
        assert!(d.is_empty());
        // Candidate 0 has the lowest priority, so all 20 are evaluated before it matches.
        cands.push(Candidate {
            id: format!("d{i}"),
            priority: 100 - i,
            audience,
            display: Display::default(),
        });
    }
    let mut p = PageInput {
        url:
            "https://northwind.example/pricing/enterprise?utm_campaign=spring-launch&utm_source=ads"
                .into(),
        title: "Pricing — Northwind".into(),
        visits: 3,
        device: "desktop".into(),
        now_ms: 1_799_053_200_000,
        ..PageInput::default()
    };
    p.lead.insert("email".into(), "ann@acme.com".into());
    p.company.insert("industry".into(), "Software".into());
    (Targeting::new(cands), Context::new(p))
}

fn bench_targeting(c: &mut Criterion) {
    let (t, ctx) = targeting_fixture();
    let sel = t.select(&ctx, &|_| None);
    assert_eq!(
        sel.dialogue.as_deref(),
        Some("d0"),
        "fixture must evaluate all 20 candidates"
    );
    c.bench_function("targeting/select_20_dialogues_x_50_rules", |b| {
        b.iter(|| black_box(t.select(black_box(&ctx), &|_| None)))
    });
}

/// A 200-card dialogue: questions, captures, branches and messages chained.
pub fn big_dialogue(n: usize) -> String {
    let mut cards = Vec::new();
    for i in 0..n {
        let next = if i + 1 < n {
            format!(r#","next":"c{}""#, i + 1)
        } else {
            String::new()
        };
        cards.push(match i % 5 {
            0 => format!(r#"{{"id":"c{i}","type":"message","text":"Hello {{{{lead.FirstName:there}}}}, step {i}"{next}}}"#),
            1 => format!(r#"{{"id":"c{i}","type":"question","text":"Pick one","buttons":[{{"label":"A","value":"a"}},{{"label":"B","value":"b"}}]{next}}}"#),
            2 => {
                let pattern = [r"[^@]+@[^@]+", r"[^@]+@acme\\.com", r"[a-z.]+@[a-z]+\\.[a-z]{2,}"][i % 3];
                format!(r#"{{"id":"c{i}","type":"capture","kind":"email","field":"email","text":"Email?","pattern":"{pattern}"{next}}}"#)
            }
            3 if i + 1 < n => format!(r#"{{"id":"c{i}","type":"branch","rules":[{{"when":{{"all":[{{"field":"answer.c{}","op":"is","value":"a"}}]}},"next":"c{}"}}],"otherwise":"c{}"}}"#, i - 2, i + 1, i + 1),
            _ => format!(r#"{{"id":"c{i}","type":"goal","name":"g{i}","score":1{next}}}"#),
        });
    }
    format!(
        r#"{{"version":1,"id":"big","name":"Big","cards":[{}]}}"#,
        cards.join(",")
    )
}

fn bench_compile(c: &mut Criterion) {
    let json = big_dialogue(200);
    let flow = compile(&json).expect("big dialogue compiles");
    assert_eq!(flow.cards.len(), 200);
    c.bench_function("compile/200_cards", |b| {
        b.iter(|| black_box(compile(black_box(&json))))
    });
}

criterion_group!(benches, bench_step, bench_targeting, bench_compile);
criterion_main!(benches);
