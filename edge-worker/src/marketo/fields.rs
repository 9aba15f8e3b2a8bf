//! Field names in rules against the instance's describe: Marketo's REST names are
//! case-sensitive (`firstName`), authors write `lead.FirstName`. One rule maps a rule's name to
//! the describe's: the exact name wins, else the one name equal ignoring ASCII case; several
//! such names (and no exact one) are ambiguous and refused with a diagnostic, never read as
//! empty.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// What a rule's field name stands for in the connected instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved<'a> {
    /// The describe has exactly this name.
    Exact(&'a str),
    /// The describe has one name equal to it ignoring case.
    Mapped(&'a str),
    /// The describe has no such name.
    Unknown,
    /// The describe has several names equal to it ignoring case (and not this spelling).
    Ambiguous(Vec<&'a str>),
}

impl<'a> Resolved<'a> {
    /// The describe's name to ask Marketo for, when there is exactly one.
    pub fn name(&self) -> Option<&'a str> {
        match self {
            Resolved::Exact(n) | Resolved::Mapped(n) => Some(n),
            _ => None,
        }
    }
}

/// Resolves `wanted` against the describe's `known` names.
pub fn resolve<'a, S: AsRef<str>>(wanted: &str, known: &'a [S]) -> Resolved<'a> {
    if let Some(k) = known.iter().find(|k| k.as_ref() == wanted) {
        return Resolved::Exact(k.as_ref());
    }
    let same: Vec<&'a str> = known
        .iter()
        .map(AsRef::as_ref)
        .filter(|k| k.eq_ignore_ascii_case(wanted))
        .collect();
    match same.len() {
        0 => Resolved::Unknown,
        1 => Resolved::Mapped(same[0]),
        _ => Resolved::Ambiguous(same),
    }
}

/// The describe's names for the rule names that resolve to exactly one (deduplicated, sorted).
pub fn marketo_names<S: AsRef<str>>(wanted: &[String], known: &[S]) -> Vec<String> {
    let mut out: Vec<String> = wanted
        .iter()
        .filter_map(|w| resolve(w, known).name().map(str::to_string))
        .collect();
    out.sort();
    out.dedup();
    out
}

/// A field value from a record Marketo answered (keys are the describe's names), read under a
/// rule's spelling by the same rule as [`resolve`].
pub fn pick<'m>(record: &'m Map<String, Value>, wanted: &str) -> Option<&'m Value> {
    let keys: Vec<&str> = record.keys().map(String::as_str).collect();
    resolve(wanted, &keys).name().and_then(|k| record.get(k))
}

/// How one rule field maps, for the admin (`GET /admin/marketo/sync`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldReport {
    /// As the rules write it, e.g. `lead.FirstName`.
    pub field: String,
    /// The describe's name it reads, e.g. `firstName`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub marketo: Option<String>,
    /// Why it reads nothing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Reports every `lead.*` rule field against the describe's names (`company.*` fields are read
/// from the company record, and `activity.*` from the activities API: not reported here).
pub fn report<S: AsRef<str>>(rule_fields: &[String], known: &[S]) -> Vec<FieldReport> {
    rule_fields
        .iter()
        .filter_map(|f| f.strip_prefix("lead.").map(|n| (f, n)))
        .map(|(f, n)| {
            let r = resolve(n, known);
            let error = match &r {
                Resolved::Unknown => Some(format!(
                    "`{f}`: Marketo's describe has no field `{n}` (names are case-sensitive)"
                )),
                Resolved::Ambiguous(all) => Some(format!(
                    "`{f}` is ambiguous: Marketo's describe has {}; write the exact name",
                    all.join(", ")
                )),
                _ => None,
            };
            FieldReport {
                field: f.clone(),
                marketo: r.name().map(str::to_string),
                error,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const KNOWN: [&str; 5] = [
        "email",
        "firstName",
        "lastName",
        "chatInterest",
        "ChatInterest",
    ];

    #[test]
    fn exact_wins_then_one_case_insensitive_match_then_ambiguity() {
        assert_eq!(resolve("firstName", &KNOWN), Resolved::Exact("firstName"));
        assert_eq!(resolve("FirstName", &KNOWN), Resolved::Mapped("firstName"));
        assert_eq!(resolve("FIRSTNAME", &KNOWN), Resolved::Mapped("firstName"));
        assert_eq!(
            resolve("chatInterest", &KNOWN),
            Resolved::Exact("chatInterest")
        );
        assert_eq!(
            resolve("chatinterest", &KNOWN),
            Resolved::Ambiguous(vec!["chatInterest", "ChatInterest"])
        );
        assert_eq!(resolve("first_name", &KNOWN), Resolved::Unknown);
    }

    #[test]
    fn names_to_ask_for_and_values_read_back() {
        let wanted = ["FirstName".to_string(), "email".into(), "nope".into()];
        assert_eq!(marketo_names(&wanted, &KNOWN), vec!["email", "firstName"]);
        let rec = json!({"firstName": "Ann", "email": "a@x.io"});
        let rec = rec.as_object().cloned().unwrap_or_default();
        assert_eq!(pick(&rec, "FirstName"), Some(&json!("Ann")));
        assert_eq!(pick(&rec, "Email"), Some(&json!("a@x.io")));
        assert_eq!(pick(&rec, "lastName"), None);
    }

    #[test]
    fn report_names_the_mapping_or_the_problem() {
        let fields = [
            "lead.FirstName".to_string(),
            "lead.chatinterest".into(),
            "lead.nope".into(),
            "company.industry".into(),
        ];
        let r = report(&fields, &KNOWN);
        assert_eq!(r.len(), 3);
        assert_eq!(r[0].marketo.as_deref(), Some("firstName"));
        assert!(r[0].error.is_none());
        assert!(r[1]
            .error
            .as_deref()
            .is_some_and(|e| e.contains("ambiguous") && e.contains("ChatInterest")));
        assert!(r[2]
            .error
            .as_deref()
            .is_some_and(|e| e.contains("no field `nope`")));
    }
}
