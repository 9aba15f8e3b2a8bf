//! Field names in rules against the instance's describe: Marketo's REST names are
//! case-sensitive (`firstName`), authors write `lead.FirstName`. One rule maps a rule's name to
//! the describe's: the exact name wins, else the one name equal ignoring ASCII case; several
//! such names (and no exact one) are ambiguous and refused with a diagnostic, never read as
//! empty.

use super::mapping;
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

/// Reports every `company.*` rule field: read from the company record (Companies API, which
/// the initial sync asks by each exported lead's company name) when it has the field, else from
/// the lead record's field of that name (exported with the lead); unknown or ambiguous names
/// as [`check_uses`] refuses them at publish.
pub fn report_company<S: AsRef<str>>(rule_fields: &[String], known: &[S]) -> Vec<FieldReport> {
    rule_fields
        .iter()
        .filter_map(|f| f.strip_prefix("company.").map(|n| (f, n)))
        .map(|(f, n)| {
            let error = check_uses(&[(String::new(), f.clone())], known)
                .into_iter()
                .next()
                .map(|u| u.message);
            let marketo = match resolve(n, &mapping::COMPANY_FIELDS).name() {
                Some(c) => Some(format!("{c} (company record)")),
                None => resolve(n, known)
                    .name()
                    .map(|l| format!("{l} (lead record)")),
            };
            FieldReport {
                field: f.clone(),
                marketo: marketo.filter(|_| error.is_none()),
                error,
            }
        })
        .collect()
}

/// A field a dialogue reads that Marketo cannot answer: the JSON path where the dialogue reads
/// it and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unresolved {
    pub path: String,
    pub message: String,
}

/// Checks the `lead.*` and `company.*` fields a dialogue reads (`uses`: JSON path, field, as
/// [`crate::bundle::field_uses`] finds them) against the instance's lead describe (`known`)
/// and the company record's fields ([`mapping::COMPANY_FIELDS`], where a `company.*` field is
/// read first): a name neither has, or one that matches several names ignoring case, is
/// refused at publish, never read as empty. `activity.*` names are the engine's to check.
pub fn check_uses<S: AsRef<str>>(uses: &[(String, String)], known: &[S]) -> Vec<Unresolved> {
    let mut out = Vec::new();
    for (path, field) in uses {
        let Some((ns, name)) = field.split_once('.') else {
            continue;
        };
        let problem = match ns {
            "lead" => match resolve(name, known) {
                Resolved::Unknown => Some(format!(
                    "`{field}`: Marketo's lead describe has no field `{name}` (names are case-sensitive)"
                )),
                Resolved::Ambiguous(all) => Some(ambiguous(field, "lead describe", &all)),
                _ => None,
            },
            "company" => match (resolve(name, &mapping::COMPANY_FIELDS), resolve(name, known)) {
                (Resolved::Exact(_) | Resolved::Mapped(_), _) => None,
                (Resolved::Ambiguous(all), _) => Some(ambiguous(field, "company record", &all)),
                (Resolved::Unknown, Resolved::Ambiguous(all)) => {
                    Some(ambiguous(field, "lead describe", &all))
                }
                (Resolved::Unknown, Resolved::Unknown) => Some(format!(
                    "`{field}`: neither Marketo's company record nor its lead describe has a field `{name}`"
                )),
                (Resolved::Unknown, _) => None,
            },
            _ => None,
        };
        if let Some(message) = problem {
            out.push(Unresolved {
                path: path.clone(),
                message,
            });
        }
    }
    out
}

fn ambiguous(field: &str, of: &str, all: &[&str]) -> String {
    format!(
        "`{field}` is ambiguous: Marketo's {of} has {} (equal ignoring case); write the exact name",
        all.join(", ")
    )
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

    #[test]
    fn publish_check_names_the_path_of_unknown_and_ambiguous_fields() {
        let uses = [
            (
                "$.audience.all[0].field".to_string(),
                "lead.FirstName".to_string(),
            ),
            ("$.audience.all[1].field".into(), "lead.chatinterest".into()),
            ("$.cards[0].text".into(), "lead.leadScore".into()),
            ("$.cards[0].text".into(), "company.industry".into()),
            ("$.cards[1].text".into(), "company.chatInterest".into()),
            ("$.cards[2].text".into(), "company.Name".into()),
            ("$.cards[3].text".into(), "activity.visited_web_page".into()),
        ];
        let known = ["firstName", "chatInterest", "ChatInterest", "email"];
        let bad = check_uses(&uses, &known);
        let paths: Vec<&str> = bad.iter().map(|u| u.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "$.audience.all[1].field",
                "$.cards[0].text",
                "$.cards[2].text"
            ]
        );
        assert!(bad[0].message.contains("ambiguous") && bad[0].message.contains("ChatInterest"));
        assert!(
            bad[1].message.contains("`lead.leadScore`")
                && bad[1].message.contains("no field `leadScore`")
        );
        assert!(
            bad[2].message.contains("`company.Name`"),
            "{}",
            bad[2].message
        );
        assert!(check_uses(&uses[..1], &known).is_empty());
    }

    #[test]
    fn company_fields_read_the_company_record_else_the_lead_record() {
        let fields = [
            "company.Industry".to_string(),
            "company.country".into(),
            "company.Name".into(),
            "lead.FirstName".into(),
        ];
        let r = report_company(&fields, &["country", "firstName"]);
        assert_eq!(r.len(), 3);
        assert_eq!(r[0].marketo.as_deref(), Some("industry (company record)"));
        assert_eq!(r[1].marketo.as_deref(), Some("country (lead record)"));
        assert!(r[2].marketo.is_none());
        assert!(r[2]
            .error
            .as_deref()
            .is_some_and(|e| e.contains("`company.Name`")));
    }
}
