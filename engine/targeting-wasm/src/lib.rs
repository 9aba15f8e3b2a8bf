//! The loader's targeting module: compiles a site bundle's audiences once and picks the dialogue to show.
//!
//! Only `dynchat_engine::targeting` is reachable from here, so link-time optimisation keeps the
//! module small (no dialogue compiler, no state machine). Everything crosses the boundary as JSON
//! strings, and every failure degrades to "show nothing" rather than an exception.

use dynchat_engine::model::{Audience, Condition, Display, Operator, Rule};
use dynchat_engine::targeting::{
    compile_audience, Candidate, Context, PageInput, Seen, Selection, Targeting,
};
use serde_json::Value;
use std::collections::HashMap;
use wasm_bindgen::prelude::*;

// Serde's derives for the model's untagged/tagged enums buffer through `Content` and cost
// well over 100 KB of wasm; reading `serde_json::Value` by hand keeps this module small.

fn text(v: &Value) -> Option<String> {
    v.as_str().map(str::to_string)
}

fn operator(s: &str) -> Option<Operator> {
    Some(match s {
        "is" => Operator::Is,
        "is_not" => Operator::IsNot,
        "contains" => Operator::Contains,
        "not_contains" => Operator::NotContains,
        "starts_with" => Operator::StartsWith,
        "is_empty" => Operator::IsEmpty,
        "is_not_empty" => Operator::IsNotEmpty,
        "greater_than" => Operator::GreaterThan,
        "less_than" => Operator::LessThan,
        "in_list" => Operator::InList,
        "matches" => Operator::Matches,
        "not_matches" => Operator::NotMatches,
        "between" => Operator::Between,
        _ => return None,
    })
}

/// Reads an audience the way the model's serde derive does; `None` for anything malformed.
fn audience(v: Option<&Value>, depth: u8) -> Option<Audience> {
    let Some(v) = v else {
        return Some(Audience::default());
    };
    let o = v.as_object()?;
    if depth > 16 || o.keys().any(|k| k != "all" && k != "any") {
        return None;
    }
    let list = |key: &str| -> Option<Vec<Rule>> {
        match o.get(key) {
            None => Some(Vec::new()),
            Some(l) => l.as_array()?.iter().map(|r| rule(r, depth)).collect(),
        }
    };
    Some(Audience {
        all: list("all")?,
        any: list("any")?,
    })
}

fn rule(v: &Value, depth: u8) -> Option<Rule> {
    let o = v.as_object()?;
    if o.contains_key("field") {
        if o.keys()
            .any(|k| !matches!(k.as_str(), "field" | "op" | "value" | "utc_offset_minutes"))
        {
            return None;
        }
        let utc_offset_minutes = match o.get("utc_offset_minutes") {
            None | Some(Value::Null) => None,
            Some(n) => Some(i32::try_from(n.as_i64()?).ok()?),
        };
        Some(Rule::Condition(Condition {
            field: text(o.get("field")?)?,
            op: operator(o.get("op")?.as_str()?)?,
            value: o.get("value").filter(|x| !x.is_null()).cloned(),
            utc_offset_minutes,
        }))
    } else {
        audience(Some(v), depth + 1).map(Rule::Group)
    }
}

fn display(v: Option<&Value>) -> Display {
    let mut d = Display::default();
    if let Some(o) = v.and_then(Value::as_object) {
        if let Some(b) = o.get("hide_after_completion").and_then(Value::as_bool) {
            d.hide_after_completion = b;
        }
        d.max_times = o
            .get("max_times")
            .and_then(Value::as_u64)
            .and_then(|n| u32::try_from(n).ok());
        d.min_interval_minutes = o
            .get("min_interval_minutes")
            .and_then(Value::as_u64)
            .and_then(|n| u32::try_from(n).ok());
    }
    d
}

/// Turns bundle JSON into candidates; a dialogue whose audience does not compile is left out.
pub fn candidates(bundle_json: &str) -> Vec<Candidate> {
    let Ok(bundle) = serde_json::from_str::<Value>(bundle_json) else {
        return Vec::new();
    };
    let Some(list) = bundle.get("dialogues").and_then(Value::as_array) else {
        return Vec::new();
    };
    list.iter()
        .filter_map(|e| {
            let id = text(e.get("id")?)?;
            let d = e.get("dialogue")?;
            let priority = e
                .get("priority")
                .or_else(|| d.get("priority"))
                .and_then(Value::as_i64)
                .unwrap_or(0);
            let a = audience(d.get("audience"), 0)?;
            let mut diags = Vec::new();
            let audience = compile_audience(&a, "$.audience", &|_| None, &mut diags);
            diags.is_empty().then(|| Candidate {
                id,
                priority: i32::try_from(priority).unwrap_or(0),
                audience,
                display: display(d.get("display")),
            })
        })
        .collect()
}

fn page_input(json: &str) -> PageInput {
    let v: Value = serde_json::from_str(json).unwrap_or(Value::Null);
    let s = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let n = |k: &str| v.get(k).and_then(Value::as_f64).unwrap_or(0.0);
    let map = |k: &str| -> HashMap<String, String> {
        v.get(k)
            .and_then(Value::as_object)
            .map(|o| {
                o.iter()
                    .filter_map(|(k, x)| x.as_str().map(|x| (k.clone(), x.to_string())))
                    .collect()
            })
            .unwrap_or_default()
    };
    PageInput {
        url: s("url"),
        title: s("title"),
        referrer: s("referrer"),
        time_on_page_s: n("time_on_page_s") as u32,
        scroll_depth_pct: n("scroll_depth_pct") as u32,
        visits: n("visits") as u32,
        exit_intent: v
            .get("exit_intent")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        device: s("device"),
        country: s("country"),
        now_ms: n("now_ms") as i64,
        tz_offset_minutes: n("tz_offset_minutes") as i32,
        lead: map("lead"),
        company: map("company"),
    }
}

fn seen_map(json: &str) -> HashMap<String, Seen> {
    let v: Value = serde_json::from_str(json).unwrap_or(Value::Null);
    let Some(o) = v.as_object() else {
        return HashMap::new();
    };
    o.iter()
        .map(|(id, s)| {
            let seen = Seen {
                shown: s.get("shown").and_then(Value::as_u64).unwrap_or(0) as u32,
                last_shown_ms: s
                    .get("last_shown_ms")
                    .and_then(Value::as_f64)
                    .map(|x| x as i64),
                completed: s.get("completed").and_then(Value::as_bool).unwrap_or(false),
            };
            (id.clone(), seen)
        })
        .collect()
}

/// A site's compiled targeting plus the latest page context.
#[wasm_bindgen]
pub struct Targeter {
    targeting: Targeting,
    context: Context,
    seen: HashMap<String, Seen>,
}

#[wasm_bindgen]
impl Targeter {
    /// Compiles the audiences of a bundle (`GET /v1/sites/{site}/bundle` body).
    #[wasm_bindgen(constructor)]
    pub fn new(bundle_json: &str) -> Targeter {
        Targeter {
            targeting: Targeting::new(candidates(bundle_json)),
            context: Context::default(),
            seen: HashMap::new(),
        }
    }

    /// Number of dialogues that compiled (for diagnostics).
    pub fn len(&self) -> usize {
        self.targeting.candidates().len()
    }

    /// True when no dialogue compiled.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Sets the page context (`PageInput` JSON) and what the visitor has seen (`{id: Seen}` JSON), then selects.
    pub fn select(&mut self, page_json: &str, seen_json: &str) -> String {
        self.context = Context::new(page_input(page_json));
        self.seen = seen_map(seen_json);
        self.reselect()
    }

    /// Updates only the dynamic signals (time on page, scroll, exit intent, clock) and selects again.
    pub fn update(
        &mut self,
        time_on_page_s: u32,
        scroll_depth_pct: u32,
        exit_intent: bool,
        now_ms: f64,
    ) -> String {
        self.context
            .set_dynamic(time_on_page_s, scroll_depth_pct, exit_intent, now_ms as i64);
        self.reselect()
    }

    fn reselect(&self) -> String {
        let seen = |id: &str| self.seen.get(id).cloned();
        let sel: Selection = self.targeting.select(&self.context, &seen);
        let w = &sel.watch;
        serde_json::json!({
            "dialogue": sel.dialogue,
            "watch": {"time_on_page_s": w.time_on_page_s, "scroll_depth_pct": w.scroll_depth_pct, "exit_intent": w.exit_intent},
        })
        .to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BUNDLE: &str = r#"{"site":"acme","dialogues":[
      {"id":"low","hash":"h1","priority":0,"dialogue":{"audience":{},"cards":[{"type":"end","id":"e"}]}},
      {"id":"pricing","hash":"h2","priority":5,"dialogue":{"audience":{"all":[{"field":"page.path","op":"matches","value":"/pricing*"},{"field":"page.scroll_depth","op":"greater_than","value":40}]},"cards":[]}},
      {"id":"broken","hash":"h3","dialogue":{"audience":{"all":[{"field":"nope.x","op":"is","value":"1"}]}}}
    ]}"#;

    #[test]
    fn broken_audience_is_left_out() {
        assert_eq!(Targeter::new(BUNDLE).len(), 2);
        assert!(Targeter::new("not json").is_empty());
    }

    #[test]
    fn selects_by_priority_and_watches_dynamic_rules() {
        let mut t = Targeter::new(BUNDLE);
        let page = r#"{"url":"https://acme.test/pricing","visits":1,"now_ms":0}"#;
        let first: serde_json::Value =
            serde_json::from_str(&t.select(page, "{}")).unwrap_or_default();
        assert_eq!(first["dialogue"], "low");
        assert_eq!(first["watch"]["scroll_depth_pct"][0], 41);
        let later: serde_json::Value =
            serde_json::from_str(&t.update(3, 60, false, 1.0)).unwrap_or_default();
        assert_eq!(later["dialogue"], "pricing");
    }

    #[test]
    fn completed_dialogue_is_not_shown_again() {
        let mut t = Targeter::new(BUNDLE);
        let out = t.select(
            r#"{"url":"https://acme.test/"}"#,
            r#"{"low":{"completed":true}}"#,
        );
        let v: serde_json::Value = serde_json::from_str(&out).unwrap_or_default();
        assert!(v["dialogue"].is_null());
    }
}
