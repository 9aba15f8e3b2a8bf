//! Publishing and the site bundle: compile on publish, content hashes, ETags, and which person
//! fields a site's dialogues use (so `/traits` answers only those).

use crate::error::ApiError;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;

/// A dialogue that compiled: what gets stored as an immutable published version.
#[derive(Debug, Clone, PartialEq)]
pub struct Publishable {
    pub id: String,
    pub hash: String,
    pub priority: i32,
    /// Canonical JSON of the model: the text the hash covers.
    pub json: String,
    pub warnings: Vec<String>,
    /// `lead.X` / `company.X` names the dialogue reads.
    pub trait_fields: BTreeSet<String>,
    /// The experiment's variant ids, comma-separated (`""` without one).
    pub variants: String,
}

/// Compiles an authored dialogue with the engine; any error diagnostic rejects it, so nothing
/// invalid is ever served. `lead_fields` (when the site has a list) checks field names.
pub fn publishable(json: &str, lead_fields: Option<&[String]>) -> Result<Publishable, ApiError> {
    let opts = dynchat_engine::Options {
        lead_fields: lead_fields.map(<[String]>::to_vec),
    };
    let flow = dynchat_engine::compile_with(json, &opts).map_err(|diags| {
        let first = diags.first();
        let field = first.map(|d| d.path.clone()).unwrap_or_else(|| "$".into());
        let msg = diags
            .iter()
            .map(|d| format!("{} {}: {}", d.path, d.code, d.message))
            .collect::<Vec<_>>()
            .join("; ");
        ApiError::BadField {
            field: format!("dialogue{}", field.trim_start_matches('$')),
            message: msg,
        }
    })?;
    let canonical =
        serde_json::to_string(&flow.source).map_err(|e| ApiError::Config(e.to_string()))?;
    let value: Value = serde_json::from_str(&canonical)?;
    let mut trait_fields = BTreeSet::new();
    collect_trait_fields(&value, &mut trait_fields);
    Ok(Publishable {
        id: flow.id.clone(),
        hash: flow.hash.clone(),
        priority: flow.priority,
        json: canonical,
        warnings: flow
            .warnings
            .iter()
            .map(|d| format!("{} {}: {}", d.path, d.code, d.message))
            .collect(),
        trait_fields,
        variants: crate::experiments::variant_ids(&flow),
    })
}

/// A stored (already validated) version's wire form, compiled once: its compiled flow, shipped
/// next to the authored dialogue so the browser runs it without compiling, and its experiment
/// (`crate::experiments::wire`; `null` without one). Both `null` if it no longer compiles.
pub fn wire(json: &str) -> (Value, Value) {
    match dynchat_engine::compile(json) {
        Ok(f) => (
            serde_json::to_value(&f).unwrap_or(Value::Null),
            crate::experiments::wire(&f),
        ),
        Err(_) => (Value::Null, Value::Null),
    }
}

/// What the bundle carries of a stored version: [`targeting_view`] of its compiled flow, and
/// whether it has an experiment (the loader then asks for the visitor's variant; the variants'
/// flows come with the version). `(null, false)` if it no longer compiles.
pub fn bundle_view(json: &str) -> (Value, bool) {
    match dynchat_engine::compile(json) {
        Ok(f) => (
            targeting_view(&serde_json::to_value(&f).unwrap_or(Value::Null)),
            f.experiment_arms().is_some(),
        ),
        Err(_) => (Value::Null, false),
    }
}

/// What the bundle carries of a compiled flow (its wire form, [`wire`]): the members the
/// browser's targeting reads ([`dynchat_engine::targeting::FLOW_TARGETING_KEYS`]); the chat gets
/// the whole flow by its content hash when it mounts (`GET /v1/sites/{site}/flows/{hash}`).
pub fn targeting_view(flow: &Value) -> Value {
    match flow {
        Value::Object(m) => Value::Object(
            dynchat_engine::targeting::FLOW_TARGETING_KEYS
                .iter()
                .filter_map(|k| m.get(*k).map(|v| ((*k).to_string(), v.clone())))
                .collect(),
        ),
        _ => Value::Null,
    }
}

/// Walks a dialogue's JSON for `"field": "lead.x"` conditions and `{{lead.x:..}}` tokens.
pub fn collect_trait_fields(v: &Value, out: &mut BTreeSet<String>) {
    out.extend(field_uses(v).into_iter().map(|(_, f)| f));
}

/// Every `lead.*` / `company.*` / `activity.*` field a dialogue reads, with the JSON path
/// (`$.cards[2].text`) where it reads it: conditions' `field`, `{{lead.x:..}}` tokens, and
/// the owner field a meeting's routing rules read.
pub fn field_uses(v: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    walk_uses(v, "$", &mut out);
    out
}

fn walk_uses(v: &Value, path: &str, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(o) => {
            for (k, x) in o {
                let at = format!("{path}.{k}");
                // A meeting's routing rules read the lead's owner from Marketo.
                if let Some(rules) = x
                    .as_object()
                    .filter(|r| k == "route" && r.contains_key("rules"))
                {
                    let owner = rules
                        .get("owner_field")
                        .and_then(Value::as_str)
                        .unwrap_or(dynchat_scheduling::routing::DEFAULT_OWNER_FIELD);
                    if let Some(f) = person_field(&format!("lead.{owner}")) {
                        out.push((format!("{at}.owner_field"), f));
                    }
                }
                if k == "field" {
                    if let Some(f) = x.as_str().and_then(person_field) {
                        out.push((at.clone(), f));
                    }
                }
                walk_uses(x, &at, out);
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                walk_uses(x, &format!("{path}[{i}]"), out);
            }
        }
        Value::String(s) => {
            for part in s.split("{{").skip(1) {
                let name = part.split(['}', ':']).next().unwrap_or("").trim();
                if let Some(f) = person_field(name) {
                    out.push((path.to_string(), f));
                }
            }
        }
        _ => {}
    }
}

fn person_field(s: &str) -> Option<String> {
    let (ns, name) = s.split_once('.')?;
    (matches!(ns, "lead" | "company" | "activity") && crate::validate::valid_field_name(name))
        .then(|| format!("{ns}.{name}"))
}

/// The bundle's ETag: a hash over everything the bundle contains.
pub fn etag(config: &str, lead_fields: &str, published: &[(String, String, i32)]) -> String {
    let mut h = Sha256::new();
    h.update(config.as_bytes());
    h.update([0]);
    h.update(lead_fields.as_bytes());
    let mut p = published.to_vec();
    p.sort();
    for (id, hash, prio) in p {
        h.update(format!("\0{id}\0{hash}\0{prio}").as_bytes());
    }
    let d = h.finalize();
    format!(
        "\"{}\"",
        d.iter()
            .take(12)
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    )
}

/// The ETag the bundle is served with: the stored one (`etag`, made at publish time from the
/// config and the published dialogues) marked with a short hash of the bundle's `launcher` member
/// (`launcher`: its JSON as served), which the worker resolves with the engine's stylesheet head,
/// markup and catalogues: a deploy that changes them, or a browser's copy in an older format
/// (one without `launcher`), is never revalidated with a 304.
pub fn served_etag(stored: &str, launcher: &str) -> String {
    let d = Sha256::digest(launcher.as_bytes());
    let mark: String = d.iter().take(4).map(|b| format!("{b:02x}")).collect();
    match stored.strip_suffix('"') {
        Some(s) => [s, "-", &mark, "\""].concat(),
        None => [stored, "-", &mark].concat(),
    }
}

/// True when an `If-None-Match` header matches the ETag (list or `*`, weak prefix ignored).
pub fn etag_matches(if_none_match: Option<&str>, etag: &str) -> bool {
    match if_none_match {
        None => false,
        Some(h) => h
            .split(',')
            .map(|t| t.trim().trim_start_matches("W/"))
            .any(|t| t == etag || t == "*"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = r#"{"version":1,"id":"hello","name":"Hello","audience":{"all":[{"field":"lead.email","op":"is_empty"},{"field":"page.url","op":"matches","value":"*"}]},
        "cards":[{"type":"message","id":"m1","text":"Hi {{lead.firstName:there}} from {{company.company:your company}}","next":"e"},{"type":"end","id":"e"}]}"#;

    #[test]
    fn compiles_hashes_and_finds_person_fields() {
        let p = publishable(D, None).unwrap();
        assert_eq!(p.id, "hello");
        assert_eq!(p.hash.len(), 20);
        let f: Vec<_> = p.trait_fields.iter().cloned().collect();
        assert_eq!(f, vec!["company.company", "lead.email", "lead.firstName"]);
        let uses = field_uses(&serde_json::from_str(&p.json).unwrap());
        assert!(uses.contains(&("$.audience.all[0].field".into(), "lead.email".into())));
        assert!(uses.contains(&("$.cards[0].text".into(), "company.company".into())));
        assert_eq!(
            publishable(&p.json, None).unwrap().hash,
            p.hash,
            "canonical JSON keeps the hash"
        );
    }

    #[test]
    fn ships_the_compiled_flow_in_wire_form() {
        let p = publishable(D, None).unwrap();
        let w = wire(&p.json).0;
        let back = dynchat_engine::CompiledFlow::from_wire(&w.to_string()).unwrap();
        assert_eq!(back.hash, p.hash);
        assert_eq!(back.card_ids, vec!["m1", "e"]);
        assert_eq!(wire("{}").0, Value::Null);
    }

    #[test]
    fn the_bundle_carries_what_targeting_reads_of_a_flow() {
        let p = publishable(
            &D.replace(
                r#""cards""#,
                r#""display":{"max_times":2},"priority":3,"cards""#,
            ),
            None,
        )
        .unwrap();
        let w = wire(&p.json).0;
        let v = targeting_view(&w);
        let keys: Vec<&str> = v
            .as_object()
            .map(|m| m.keys().map(String::as_str).collect())
            .unwrap_or_default();
        assert_eq!(keys, ["audience", "display", "priority"], "{v}");
        assert!(w.get("cards").is_some() && v.get("cards").is_none());
        // The browser's reader reads the same audience from the view as from the whole flow.
        let read = |x: &Value| {
            let j = dynchat_engine::json::parse(&x.to_string()).unwrap();
            dynchat_engine::targeting::audience_from_wire(j.get("audience").unwrap())
        };
        assert!(read(&v).is_some());
        assert_eq!(read(&v), read(&w));
        assert_eq!(targeting_view(&Value::Null), Value::Null);
        assert_eq!(bundle_view(&p.json).0, v, "the bundle's view is this one");
        assert_eq!(bundle_view("{}"), (Value::Null, false));
    }

    #[test]
    fn invalid_dialogue_is_rejected_with_its_path() {
        let bad = D.replace("\"next\":\"e\"", "\"next\":\"nowhere\"");
        match publishable(&bad, None).unwrap_err() {
            ApiError::BadField { field, message } => {
                assert!(field.starts_with("dialogue"), "{field}");
                assert!(message.contains("unknown_card"), "{message}");
            }
            e => panic!("{e:?}"),
        }
    }

    #[test]
    fn served_etag_covers_the_launcher_member() {
        let a = served_etag("\"abc\"", "{\"css\":\"a\"}");
        let b = served_etag("\"abc\"", "{\"css\":\"b\"}");
        assert!(
            a.starts_with("\"abc-") && a.ends_with('"') && a.len() == "\"abc-\"".len() + 8,
            "{a}"
        );
        // Same stored ETag, another launcher member (a deploy changed the engine's head): no 304.
        assert_ne!(a, b);
        assert!(!etag_matches(Some(&a), &b));
        assert_eq!(a, served_etag("\"abc\"", "{\"css\":\"a\"}"));
        assert!(etag_matches(Some(&format!("W/{a}")), &a));
        // A copy served before the launcher member existed (stored or "-2" marked) is not matched.
        assert!(!etag_matches(Some("\"abc\""), &a));
        assert!(!etag_matches(Some("\"abc-2\""), &a));
    }

    #[test]
    fn etag_changes_with_content_and_matches() {
        let a = etag("{}", "[]", &[("d".into(), "h1".into(), 0)]);
        let b = etag("{}", "[]", &[("d".into(), "h2".into(), 0)]);
        assert_ne!(a, b);
        assert!(etag_matches(Some(&a), &a));
        assert!(etag_matches(Some(&format!("W/{a}, \"x\"")), &a));
        assert!(!etag_matches(Some(&b), &a));
        assert!(!etag_matches(None, &a));
    }
}
