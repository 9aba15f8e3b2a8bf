//! `select(bundle, context, seen)`: the engine's targeting over a site bundle, strict about what the caller passes (a JS project wants its typo reported, not a silent "no dialogue").

use crate::convert::Json;
use dynchat_engine::model::{Audience, Display};
use dynchat_engine::targeting::{
    compile_audience, Candidate, Context, PageInput, Seen, Selection, Targeting,
};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// One bundle entry: the worker's `{ id, hash, priority, dialogue, flow }`; only what targeting reads.
#[derive(Deserialize)]
struct Entry {
    id: String,
    #[serde(default)]
    priority: Option<i64>,
    dialogue: Targeted,
}

/// The targeting part of an authored dialogue (its other fields are not read here).
#[derive(Deserialize)]
struct Targeted {
    #[serde(default)]
    priority: Option<i64>,
    #[serde(default)]
    audience: Audience,
    #[serde(default)]
    display: Display,
}

/// [`PageInput`] as callers spell it, refusing unknown fields (the engine's own type ignores them
/// for the browser's sake). `page_context_covers_page_input` keeps the two in step.
#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct PageContext {
    url: String,
    title: String,
    referrer: String,
    time_on_page_s: u32,
    scroll_depth_pct: u32,
    visits: u32,
    exit_intent: bool,
    device: String,
    country: String,
    now_ms: i64,
    tz_offset_minutes: i32,
    lead: HashMap<String, String>,
    company: HashMap<String, String>,
    activity: HashMap<String, i64>,
}

impl From<PageContext> for PageInput {
    fn from(p: PageContext) -> Self {
        PageInput {
            url: p.url,
            title: p.title,
            referrer: p.referrer,
            time_on_page_s: p.time_on_page_s,
            scroll_depth_pct: p.scroll_depth_pct,
            visits: p.visits,
            exit_intent: p.exit_intent,
            device: p.device,
            country: p.country,
            now_ms: p.now_ms,
            tz_offset_minutes: p.tz_offset_minutes,
            lead: p.lead,
            company: p.company,
        }
    }
}

/// What `select` answers.
#[derive(Serialize, Debug)]
pub struct Picked {
    #[serde(flatten)]
    selection: Selection,
    /// Bundle entries left out (unreadable, or an audience that does not compile): their id, or
    /// `#n` (place in the bundle) when the id cannot be read.
    skipped: Vec<String>,
}

#[derive(Deserialize)]
struct BundleShape {
    dialogues: Vec<serde_json::Value>,
}

/// Reads a bundle's entries; one that cannot be read or compiled is skipped, never the others.
fn candidates(bundle: &Json) -> Result<(Vec<Candidate>, Vec<String>), String> {
    let b: BundleShape = bundle.parse("select: bundle")?;
    let mut out = Vec::new();
    let mut skipped = Vec::new();
    for (n, v) in b.dialogues.into_iter().enumerate() {
        let name = v
            .get("id")
            .and_then(|i| i.as_str())
            .map_or_else(|| format!("#{n}"), str::to_string);
        let Ok(e) = serde_json::from_value::<Entry>(v) else {
            skipped.push(name);
            continue;
        };
        let mut diags = Vec::new();
        let audience = compile_audience(&e.dialogue.audience, "$.audience", &|_| None, &mut diags);
        let priority = e.priority.or(e.dialogue.priority).unwrap_or(0);
        match i32::try_from(priority) {
            Ok(priority) if diags.is_empty() => out.push(Candidate {
                id: e.id,
                priority,
                audience,
                display: e.dialogue.display,
            }),
            _ => skipped.push(name),
        }
    }
    Ok((out, skipped))
}

/// Picks the dialogue for a page context; `seen` is `{ id: Seen }` or `None`.
pub fn select(bundle: &Json, context: &Json, seen: Option<&Json>) -> Result<Picked, String> {
    let (list, skipped) = candidates(bundle)?;
    let mut page: PageContext = context.parse("select: context")?;
    let activity = std::mem::take(&mut page.activity);
    let seen: BTreeMap<String, Seen> = match seen {
        Some(s) => s.parse("select: seen")?,
        None => BTreeMap::new(),
    };
    let mut ctx = Context::new(page.into());
    ctx.set_activity(activity.into_iter().collect());
    let selection = Targeting::new(list).select(&ctx, &|id| seen.get(id).cloned());
    Ok(Picked { selection, skipped })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_context_covers_page_input() {
        let every = Json::caller(serde_json::to_string(&PageInput::default()).unwrap_or_default());
        assert!(
            every.parse::<PageContext>("context").is_ok(),
            "{}",
            every.text()
        );
    }

    #[test]
    fn unknown_context_field_is_an_error() {
        let j = |s: &str| Json::caller(s.to_string());
        let e = select(
            &j(r#"{"dialogues":[]}"#),
            &j(r#"{"scroll_depth":50}"#),
            None,
        );
        let msg = e.err().unwrap_or_default();
        assert!(msg.contains("unknown field `scroll_depth`"), "{msg}");
    }

    #[test]
    fn a_broken_entry_is_skipped_and_the_others_still_compete() {
        let bundle = r#"{"dialogues":[
          {"id":"bad","dialogue":{"audience":{"all":[{"field":"nope.x","op":"is","value":"1"}]}}},
          {"dialogue":{}},
          {"id":"all","priority":1,"dialogue":{"audience":{}}}
        ]}"#;
        let j = |s: &str| Json::caller(s.to_string());
        let p = select(&j(bundle), &j("{}"), None).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(p.selection.dialogue.as_deref(), Some("all"));
        assert_eq!(p.skipped, ["bad", "#1"]);
    }
}
