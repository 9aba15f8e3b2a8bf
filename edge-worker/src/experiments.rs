//! A/B experiments on the worker's side: each variant's flow for the version, the variant ids a
//! version accepts, the per-variant report with the engine's always-valid verdict, and the
//! dialogue that ending an experiment publishes.

use crate::error::ApiError;
use dynchat_engine::experiment::stats::{compare, verdict, Arm, Winner};
use serde_json::{json, Value};
use std::collections::HashMap;

/// A dialogue's experiment for the browser: `{"id", "variants": [{"id", "weight", "flow"}]}`,
/// each `flow` the wire form the variant's visitors run; `null` without an experiment.
pub fn wire(flow: &dynchat_engine::CompiledFlow) -> Value {
    let Some((id, arms)) = flow.experiment_arms() else {
        return Value::Null;
    };
    let variants: Vec<Value> = arms
        .iter()
        .map(|a| {
            let f = flow
                .variant_flow(&a.id)
                .and_then(|f| serde_json::to_value(&f).ok())
                .unwrap_or(Value::Null);
            json!({"id": a.id, "weight": a.weight, "flow": f})
        })
        .collect();
    json!({"id": id, "variants": variants})
}

/// The variant ids of a compiled dialogue, comma-separated (`""` without an experiment): what
/// a stored version records so events and leads naming another variant are refused.
pub fn variant_ids(flow: &dynchat_engine::CompiledFlow) -> String {
    flow.experiment_arms()
        .map(|(_, arms)| {
            arms.iter()
                .map(|a| a.id.as_str())
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default()
}

/// Whether `variant` is one of the comma-separated lists of a dialogue's versions.
pub fn accepts(lists: &[String], variant: &str) -> bool {
    lists
        .iter()
        .any(|l| l.split(',').any(|v| !v.is_empty() && v == variant))
}

/// What one variant's conversations did (a conversation: a session that triggered the dialogue).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    pub conversations: u64,
    pub engaged: u64,
    /// Conversations that reached a goal or left a lead.
    pub converted: u64,
    pub leads: u64,
    pub goals: u64,
    pub meetings: u64,
}

fn rate(x: u64, n: u64) -> f64 {
    if n == 0 {
        0.0
    } else {
        x.min(n) as f64 / n as f64
    }
}

/// The report of an experiment: every variant of the live version in its order (the first is
/// the control) with its counts and rates, and each other variant compared with the control on
/// conversion (always-valid interval and the plain-language verdict). Variants with data but no
/// longer in the experiment are listed after, without a comparison.
pub fn report(
    dialogue: &str,
    experiment: &str,
    variants: &[(String, u32)],
    counts: &HashMap<String, Counts>,
) -> Value {
    let zero = Counts::default();
    let row = |id: &str, weight: Option<u32>| {
        let c = counts.get(id).unwrap_or(&zero);
        json!({
            "id": id, "weight": weight, "conversations": c.conversations, "engaged": c.engaged,
            "converted": c.converted, "leads": c.leads, "goals": c.goals, "meetings": c.meetings,
            "engagement_rate": rate(c.engaged, c.conversations),
            "conversion_rate": rate(c.converted, c.conversations),
        })
    };
    let mut rows: Vec<Value> = variants.iter().map(|(id, w)| row(id, Some(*w))).collect();
    let mut others: Vec<&String> = counts
        .keys()
        .filter(|k| !variants.iter().any(|(id, _)| id == *k))
        .collect();
    others.sort();
    rows.extend(others.into_iter().map(|id| row(id, None)));
    let arm = |id: &str| {
        let c = counts.get(id).unwrap_or(&zero);
        Arm {
            visitors: c.conversations,
            conversions: c.converted.min(c.conversations),
        }
    };
    let mut comparisons = Vec::new();
    if let Some((control, _)) = variants.first() {
        for (id, _) in variants.iter().skip(1) {
            let c = compare(arm(control), arm(id));
            comparisons.push(json!({
                "control": control, "variant": id,
                "difference": c.difference, "lift": c.lift, "confidence": c.confidence,
                "interval": c.interval.map(|(lo, hi)| json!([lo, hi])),
                "winner": c.winner.map(|w| match w { Winner::Control => control, Winner::Treatment => id }),
                "enough_data": c.enough_data,
                "verdict": verdict(control, id, &c),
            }));
        }
    }
    json!({"dialogue": dialogue, "experiment": experiment, "metric": "conversion: a goal reached or a lead left, per conversation", "variants": rows, "comparisons": comparisons})
}

/// Ending the experiment of a stored version with `variant`: the new dialogue JSON (the chosen
/// variant's start and texts, only the cards it reaches, no experiment). 400 naming `variant`
/// when the version has no such variant.
pub fn conclude(json: &str, variant: &str) -> Result<String, ApiError> {
    let flow = dynchat_engine::compile(json)
        .map_err(|_| ApiError::Config("the live version no longer compiles".into()))?;
    if flow.experiment.is_none() {
        return Err(ApiError::field(
            "variant",
            "the live version of this dialogue has no experiment",
        ));
    }
    let d = flow
        .conclude(variant)
        .ok_or_else(|| ApiError::field("variant", "is not a variant of the live experiment"))?;
    Ok(serde_json::to_string(&d)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    const X: &str = include_str!("../../docs/examples/experiment.json");

    #[test]
    fn ships_each_variants_flow_and_lists_its_ids() {
        let flow = dynchat_engine::compile(X).expect("compiles");
        let w = wire(&flow);
        assert_eq!(
            w,
            crate::bundle::wire(X).1,
            "the version's experiment is this one"
        );
        assert!(
            crate::bundle::bundle_view(X).1,
            "the bundle entry says it has one"
        );
        assert_eq!(w["id"], "demo-offer-2026");
        assert_eq!(w["variants"][1]["id"], "short");
        let f = dynchat_engine::CompiledFlow::from_wire(&w["variants"][1]["flow"].to_string())
            .expect("variant flow");
        assert_eq!(f.card_ids[usize::from(f.start)], "hello-short");
        assert_eq!(variant_ids(&flow), "control,short");
        assert!(accepts(&["".into(), "control,short".into()], "short"));
        assert!(!accepts(&["control,short".into()], "shor"));
        assert!(!accepts(&["".into()], ""));
        let plain = r#"{"version":1,"id":"d","name":"D","cards":[{"type":"end","id":"e"}]}"#;
        assert_eq!(
            wire(&dynchat_engine::compile(plain).expect("compiles")),
            Value::Null
        );
        assert_eq!(crate::bundle::wire(plain).1, Value::Null);
        assert!(!crate::bundle::bundle_view(plain).1);
    }

    #[test]
    fn report_compares_each_variant_with_the_control() {
        let mut counts = HashMap::new();
        let c = |n, x| Counts {
            conversations: n,
            engaged: n / 2,
            converted: x,
            leads: x,
            goals: 0,
            meetings: 1,
        };
        counts.insert("control".to_string(), c(3, 1));
        counts.insert("short".to_string(), c(2, 2));
        counts.insert("old".to_string(), c(1, 0));
        let v = vec![("control".to_string(), 1), ("short".to_string(), 1)];
        let r = report("demo-ab", "demo-offer-2026", &v, &counts);
        assert_eq!(r["variants"][0]["id"], "control");
        assert_eq!(r["variants"][0]["conversations"], 3);
        assert_eq!(r["variants"][1]["converted"], 2);
        assert_eq!(r["variants"][2]["id"], "old");
        assert_eq!(r["variants"][2]["weight"], Value::Null);
        assert_eq!(r["comparisons"][0]["variant"], "short");
        assert_eq!(r["comparisons"][0]["verdict"], "not enough data yet");
        // With enough data and a clear difference the verdict names the better variant.
        counts.insert("control".to_string(), c(5_000, 250));
        counts.insert("short".to_string(), c(5_000, 400));
        let r = report("demo-ab", "demo-offer-2026", &v, &counts);
        assert_eq!(r["comparisons"][0]["winner"], "short");
        let text = r["comparisons"][0]["verdict"].as_str().expect("verdict");
        assert!(text.starts_with("short converts better, 9"), "{text}");
    }

    #[test]
    fn concluding_publishes_the_chosen_variant_or_names_the_field() {
        let d = conclude(X, "short").expect("concluded");
        let f = dynchat_engine::compile(&d).expect("compiles");
        assert!(f.experiment.is_none());
        assert_eq!(f.card_ids[usize::from(f.start)], "hello-short");
        match conclude(X, "nope") {
            Err(ApiError::BadField { field, .. }) => assert_eq!(field, "variant"),
            other => panic!("{other:?}"),
        }
        let plain = r#"{"version":1,"id":"d","name":"D","cards":[{"type":"end","id":"e"}]}"#;
        assert!(matches!(
            conclude(plain, "a"),
            Err(ApiError::BadField { .. })
        ));
    }

    #[test]
    fn concluding_a_translated_dialogue_publishes_with_the_variants_translations() {
        let x = r#"{"version":2,"id":"t","name":"T","languages":["en","de"],"cards":[
          {"id":"hi","type":"message","text":"Hi","next":"bye"},
          {"id":"hi-short","type":"message","text":"Quick?","next":"bye"},
          {"id":"bye","type":"end","text":"Bye"}],
          "translations":{"de":{"hi":{"text":"Hallo"},"hi-short":{"text":"Kurz?"},"bye":{"text":"Tschuess"}}},
          "experiment":{"id":"x","variants":[{"id":"a","weight":1},
            {"id":"b","weight":1,"start":"hi-short","texts":{"bye":"Ciao"},
             "translations":{"de":{"bye":"Servus"}}}]}}"#;
        let d = conclude(x, "b").expect("concluded");
        let p = crate::bundle::publishable(&d, None).expect("publishable");
        assert!(p.json.contains(r#""bye":{"text":"Servus"}"#), "{}", p.json);
        assert!(!p.json.contains("Hallo"), "{}", p.json);
    }
}
