//! What we send to Marketo: lead records (answers mapped to lead fields, overwrite rules),
//! program membership inputs, and chat activities as custom activity types.

use crate::validate::{EventKind, LeadRequest, Speaker};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// Card id -> lead field, from a published dialogue's `field` on question and capture cards.
pub fn answer_fields(dialogue: &Value) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for card in dialogue
        .get("cards")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let (Some(id), Some(field)) = (
            card.get("id").and_then(Value::as_str),
            card.get("field").and_then(Value::as_str),
        ) {
            if crate::validate::valid_field_name(field) {
                out.insert(id.to_string(), field.to_string());
            }
        }
    }
    out
}

/// The record sent to `leads.json` (createOrUpdate on email).
///
/// Explicit `fields` win over mapped answers. A field that the visitor did not ask to overwrite
/// and that Marketo already knows (`known`, from the sync cache) is left out, so the known value
/// stays; `email` is always sent because it is the lookup field.
pub fn lead_record(
    req: &LeadRequest,
    answer_fields: &BTreeMap<String, String>,
    known: Option<&Map<String, Value>>,
) -> Map<String, Value> {
    let mut rec = Map::new();
    for (card, value) in &req.answers {
        if let Some(field) = answer_fields.get(card) {
            rec.insert(field.clone(), Value::String(value.clone()));
        }
    }
    for (k, v) in &req.fields {
        rec.insert(k.clone(), Value::String(v.clone()));
    }
    if let Some(known) = known {
        rec.retain(|k, _| {
            k == "email"
                || req.overwrite.iter().any(|o| o.eq_ignore_ascii_case(k))
                || known
                    .get(k)
                    .map(|v| v.is_null() || v.as_str() == Some(""))
                    .unwrap_or(true)
        });
    }
    rec
}

/// Transcript as plain text for the engaged-dialogue activity (kept under Marketo's text limit).
pub fn transcript_text(t: &[(Speaker, String)]) -> String {
    let mut s = String::new();
    for (who, line) in t {
        s.push_str(match who {
            Speaker::Bot => "Bot: ",
            Speaker::Visitor => "Visitor: ",
        });
        s.push_str(line);
        s.push('\n');
    }
    if s.len() > 60_000 {
        let mut cut = 60_000;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
    }
    s
}

/// One custom activity type: API name, display name, primary attribute, other attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityType {
    pub api_name: &'static str,
    pub name: &'static str,
    pub primary: &'static str,
    pub attributes: &'static [(&'static str, &'static str)],
}

/// The few custom types dynchat uses (a subscription allows only a handful).
pub const ACTIVITY_TYPES: [ActivityType; 4] = [
    ActivityType {
        api_name: "dynchat_engaged_dialogue",
        name: "Engaged with chat dialogue",
        primary: "dialogue",
        attributes: &[
            ("outcome", "string"),
            ("transcript", "text"),
            ("site", "string"),
            ("variant", "string"),
        ],
    },
    ActivityType {
        api_name: "dynchat_goal",
        name: "Reached chat goal",
        primary: "goal",
        attributes: &[
            ("dialogue", "string"),
            ("site", "string"),
            ("variant", "string"),
        ],
    },
    ActivityType {
        api_name: "dynchat_meeting",
        name: "Scheduled meeting from chat",
        primary: "agent",
        attributes: &[
            ("start", "string"),
            ("dialogue", "string"),
            ("site", "string"),
            ("variant", "string"),
            // `cancelled` when the visitor (or an admin) cancelled the meeting; absent when it
            // was booked or moved.
            ("status", "string"),
        ],
    },
    ActivityType {
        api_name: "dynchat_document",
        name: "Opened document from chat",
        primary: "document",
        attributes: &[
            ("dialogue", "string"),
            ("site", "string"),
            ("variant", "string"),
        ],
    },
];

impl ActivityType {
    /// Body of `POST /rest/v1/activities/external/type.json`.
    pub fn create_body(&self) -> Value {
        json!({
            "apiName": self.api_name,
            "name": self.name,
            "triggerName": self.name,
            "filterName": self.name,
            "primaryAttribute": {"apiName": self.primary, "name": self.primary, "dataType": "string"}
        })
    }

    /// Body of `POST /rest/v1/activities/external/type/{apiName}/attributes/create.json`.
    pub fn attributes_body(&self) -> Value {
        let a: Vec<Value> = self
            .attributes
            .iter()
            .map(|(n, t)| json!({"apiName": n, "name": n, "dataType": t}))
            .collect();
        json!({ "attributes": a })
    }
}

/// A chat activity waiting for its lead's Marketo id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Activity {
    pub type_api: &'static str,
    pub primary: String,
    pub attributes: Vec<(String, String)>,
}

/// The activity an event produces for a known lead, if any.
pub fn activity_for_event(
    kind: EventKind,
    dialogue: &str,
    value: Option<&str>,
    variant: Option<&str>,
    site: &str,
    transcript: &str,
) -> Option<Activity> {
    let site_attr = ("site".to_string(), site.to_string());
    let mut a = match kind {
        EventKind::Completed | EventKind::Dropped => Activity {
            type_api: "dynchat_engaged_dialogue",
            primary: dialogue.to_string(),
            attributes: vec![
                ("outcome".into(), kind.as_str().into()),
                ("transcript".into(), transcript.to_string()),
                site_attr,
            ],
        },
        EventKind::Goal => Activity {
            type_api: "dynchat_goal",
            primary: value.unwrap_or("goal").to_string(),
            attributes: vec![("dialogue".into(), dialogue.into()), site_attr],
        },
        EventKind::DocumentOpened => Activity {
            type_api: "dynchat_document",
            primary: value.unwrap_or("document").to_string(),
            attributes: vec![("dialogue".into(), dialogue.into()), site_attr],
        },
        _ => return None,
    };
    // The experiment variant the visitor ran, when the dialogue has an experiment.
    if let Some(v) = variant {
        a.attributes.push(("variant".into(), v.to_string()));
    }
    Some(a)
}

/// One input of `activities/external.json`.
pub fn external_input(
    lead_id: i64,
    type_id: i64,
    primary: &str,
    attributes: &[(String, String)],
    at_iso: &str,
) -> Value {
    let attrs: Vec<Value> = attributes
        .iter()
        .map(|(k, v)| json!({"apiName": k, "value": v}))
        .collect();
    json!({
        "leadId": lead_id,
        "activityDate": at_iso,
        "activityTypeId": type_id,
        "primaryAttributeValue": primary,
        "attributes": attrs
    })
}

/// Standard Marketo company (account) fields a targeting rule may read as `company.<name>`
/// from `companies.json`; any other `company.*` name is read from the lead's own fields.
pub const COMPANY_FIELDS: [&str; 9] = [
    "externalCompanyId",
    "company",
    "website",
    "industry",
    "numberOfEmployees",
    "annualRevenue",
    "billingCountry",
    "billingCity",
    "mainPhone",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn req() -> LeadRequest {
        let mut fields = BTreeMap::new();
        fields.insert("email".into(), "ann@example.com".into());
        fields.insert("firstName".into(), "Ann".into());
        let mut answers = BTreeMap::new();
        answers.insert("q-size".into(), "51-200".into());
        answers.insert("q-free".into(), "hello".into());
        LeadRequest {
            visitor: "v".into(),
            session: "s".into(),
            dialogue: "d".into(),
            hash: None,
            variant: None,
            fields,
            answers,
            overwrite: vec!["firstName".into()],
            transcript: vec![(Speaker::Bot, "Hi".into()), (Speaker::Visitor, "Yo".into())],
            mkto_trk: None,
        }
    }

    #[test]
    fn answers_map_to_fields_and_known_values_stay() {
        let d = json!({"cards":[{"id":"q-size","type":"question","field":"numberOfEmployees"},{"id":"q-free","type":"question"}]});
        let af = answer_fields(&d);
        let rec = lead_record(&req(), &af, None);
        assert_eq!(rec["numberOfEmployees"], "51-200");
        assert!(!rec.contains_key("q-free"));
        let known = json!({"numberOfEmployees":"1-10","firstName":"Old","phone":""})
            .as_object()
            .cloned()
            .unwrap();
        let rec = lead_record(&req(), &af, Some(&known));
        assert!(
            !rec.contains_key("numberOfEmployees"),
            "known value kept, not overwritten"
        );
        assert_eq!(rec["firstName"], "Ann", "overwrite requested");
        assert_eq!(rec["email"], "ann@example.com");
    }

    #[test]
    fn activities_from_events() {
        let a = activity_for_event(EventKind::Completed, "d1", None, None, "acme", "Bot: Hi\n")
            .unwrap();
        assert_eq!(a.type_api, "dynchat_engaged_dialogue");
        assert_eq!(
            a.attributes[0],
            ("outcome".to_string(), "completed".to_string())
        );
        assert!(
            activity_for_event(EventKind::Triggered, "d1", None, Some("b"), "acme", "").is_none()
        );
        let i = external_input(7, 100001, "demo", &a.attributes, "2027-01-01T00:00:00Z");
        assert_eq!(i["leadId"], 7);
        assert_eq!(i["attributes"][0]["apiName"], "outcome");
        assert!(!a.attributes.iter().any(|(k, _)| k == "variant"));
        // An experiment's variant rides on the activity, as an attribute every type declares.
        let g = activity_for_event(EventKind::Goal, "d1", Some("won"), Some("b"), "acme", "")
            .expect("goal activity");
        assert!(g
            .attributes
            .contains(&("variant".to_string(), "b".to_string())));
        let declared = ACTIVITY_TYPES
            .iter()
            .find(|t| t.api_name == g.type_api)
            .expect("type");
        assert!(declared.attributes.iter().any(|(k, _)| *k == "variant"));
        assert_eq!(transcript_text(&req().transcript), "Bot: Hi\nVisitor: Yo\n");
    }
}
