//! Parsing a dialogue file into the model, with the exact JSON path of a type error.

use super::limits::*;
use crate::diag::Diagnostic;
use crate::model::Dialogue;
#[cfg(feature = "paths")]
use crate::model::{
    BranchCard, CaptureCard, DocumentCard, EndCard, GoalCard, MeetingCard, MessageCard,
    QuestionCard,
};

/// Parses JSON into the model, with the JSON path of any type error.
pub fn parse(json: &str) -> Result<Dialogue, Vec<Diagnostic>> {
    if json.len() > MAX_FILE_BYTES {
        return Err(vec![Diagnostic::error(
            "$",
            "too_large",
            format!(
                "dialogue is {} bytes; the limit is {MAX_FILE_BYTES}",
                json.len()
            ),
        )]);
    }
    if let Some(kind) = not_an_object(json) {
        return Err(vec![Diagnostic::error(
            "$",
            "invalid_type",
            format!("a dialogue file is one JSON object (`{{\"version\": 1, \"id\": ...}}`), not {kind}"),
        )]);
    }
    parse_tracked(json)
}

/// What the document is when it is plainly not an object (by its first character), so the
/// author reads "not an array" rather than serde's view of a sequence.
fn not_an_object(json: &str) -> Option<&'static str> {
    let t = json.trim_start();
    Some(match t.as_bytes().first()? {
        b'[' => "an array",
        b'"' => "a string",
        b'-' | b'0'..=b'9' => "a number",
        _ if t.starts_with("true") || t.starts_with("false") => "a boolean",
        _ if t.starts_with("null") => "null",
        _ => return None,
    })
}

/// Without the `paths` feature: one pass, the error located at the document root with serde's line/column.
#[cfg(not(feature = "paths"))]
pub(super) fn parse_tracked(json: &str) -> Result<Dialogue, Vec<Diagnostic>> {
    serde_json::from_str(json).map_err(|e| {
        let code = if e.is_syntax() || e.is_eof() {
            "invalid_json"
        } else {
            "invalid_type"
        };
        vec![Diagnostic::error("$", code, e.to_string())]
    })
}

#[cfg(feature = "paths")]
pub(super) fn parse_tracked(json: &str) -> Result<Dialogue, Vec<Diagnostic>> {
    let de = &mut serde_json::Deserializer::from_str(json);
    match serde_path_to_error::deserialize::<_, Dialogue>(de) {
        Ok(d) => Ok(d),
        Err(e) => {
            let p = e.path().to_string();
            let path = if p == "." || p.is_empty() {
                "$".to_string()
            } else {
                format!("$.{p}")
            };
            let inner = e.into_inner();
            let code = if inner.is_syntax() || inner.is_eof() {
                "invalid_json"
            } else {
                "invalid_type"
            };
            let refined = (code == "invalid_type")
                .then(|| refine_deep(json, &path))
                .flatten();
            let (path, msg) = refined.unwrap_or((path, inner.to_string()));
            Err(vec![Diagnostic::error(path, code, msg)])
        }
    }
}

#[cfg(feature = "paths")]
/// serde cannot see inside tagged cards and untagged rules; deserialise that one value again
/// as the type it claims to be, to point at the exact field.
pub(super) fn refine(json: &str, path: &str) -> Option<(String, String)> {
    use crate::model::Condition;
    let root: serde_json::Value = serde_json::from_str(json).ok()?;
    let pointer = path
        .strip_prefix('$')?
        .replace(['.', '['], "/")
        .replace(']', "");
    let v = root.pointer(&pointer)?.clone();
    fn at<T: serde::de::DeserializeOwned>(
        v: serde_json::Value,
        path: &str,
    ) -> Option<(String, String)> {
        match serde_path_to_error::deserialize::<_, T>(v) {
            Ok(_) => None,
            Err(e) => {
                let p = e.path().to_string();
                let full = if p == "." || p.is_empty() {
                    path.to_string()
                } else {
                    format!("{path}.{p}")
                };
                Some((full, e.into_inner().to_string()))
            }
        }
    }
    let obj = v.as_object()?;
    if let Some(t) = obj.get("type").and_then(|t| t.as_str()) {
        let mut rest = v.clone();
        if let Some(m) = rest.as_object_mut() {
            m.remove("type");
        }
        return match t {
            "message" => at::<MessageCard>(rest, path),
            "question" => at::<QuestionCard>(rest, path),
            "capture" => at::<CaptureCard>(rest, path),
            "meeting" => at::<MeetingCard>(rest, path),
            "goal" => at::<GoalCard>(rest, path),
            "branch" => at::<BranchCard>(rest, path),
            "document" => at::<DocumentCard>(rest, path),
            "end" => at::<EndCard>(rest, path),
            _ => None,
        };
    }
    if obj.contains_key("field") || obj.contains_key("op") {
        return at::<Condition>(v, path);
    }
    if obj.contains_key("all") || obj.contains_key("any") {
        return at::<crate::model::Audience>(v, path);
    }
    None
}

#[cfg(feature = "paths")]
/// Refines repeatedly while each pass points deeper (a card holding a rule holding a condition).
pub(super) fn refine_deep(json: &str, path: &str) -> Option<(String, String)> {
    let mut best = refine(json, path)?;
    for _ in 0..4 {
        match refine(json, &best.0) {
            Some(next) if next.0.len() > best.0.len() => best = next,
            _ => break,
        }
    }
    Some(best)
}
