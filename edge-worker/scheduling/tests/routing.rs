//! Routing rules as one table: which queue (and which rule) each visitor's facts lead to, the
//! lead's owner first when they are an agent of that queue; and the rules compile refuses.

use dynchat_scheduling::routing::{
    CompileRouting, QueueAgent, RouteDecision, Routing, VisitorFacts,
};
use dynchat_scheduling::{AgentId, Assigning, Availability, Reason, Rotation, RotationState};

const RULES: &str = r#"{
  "rules": [
    {"when": {"all": [{"field": "lead.Country", "op": "in_list", "value": ["DE", "AT", "CH"]}]},
     "queue": "dach"},
    {"when": {"all": [{"field": "company.employees", "op": "greater_than", "value": 500}]},
     "queue": "enterprise"},
    {"when": {"any": [{"field": "answer.interest", "op": "is", "value": "Pricing"},
                      {"all": [{"field": "lead.title", "op": "contains", "value": "buyer"},
                               {"field": "company.industry", "op": "is_not", "value": "education"}]}]},
     "queue": "sales"}
  ],
  "default": "general"
}"#;

fn agents_of(queue: &str) -> Vec<QueueAgent> {
    let list: &[(&str, &str)] = match queue {
        "dach" => &[
            ("jonas", "jonas@northwind.example"),
            ("lea", "Lea@Northwind.example"),
        ],
        "enterprise" => &[("bea", "bea@northwind.example")],
        _ => &[("sam", "sam@northwind.example")],
    };
    list.iter()
        .map(|(a, e)| QueueAgent {
            agent: AgentId::from(*a),
            email: e.to_string(),
        })
        .collect()
}

type Case = (
    &'static str,
    fn() -> VisitorFacts,
    &'static str,
    Option<usize>,
    Option<&'static str>,
);

#[test]
fn the_rule_table() {
    let routing: Routing = serde_json::from_str(RULES).unwrap_or_else(|e| panic!("{e}"));
    let compiled = routing
        .compile("$.route")
        .unwrap_or_else(|d| panic!("{d:?}"));
    let cases: Vec<Case> = vec![
        (
            "nothing known: the default",
            VisitorFacts::new,
            "general",
            None,
            None,
        ),
        (
            "country in the list, any case",
            || VisitorFacts::new().lead("country", "de"),
            "dach",
            Some(0),
            None,
        ),
        (
            "country not in the list",
            || VisitorFacts::new().lead("Country", "FR"),
            "general",
            None,
            None,
        ),
        (
            "employees over 500",
            || VisitorFacts::new().company("Employees", "501"),
            "enterprise",
            Some(1),
            None,
        ),
        (
            "employees exactly 500",
            || VisitorFacts::new().company("employees", "500"),
            "general",
            None,
            None,
        ),
        (
            "employees not a number",
            || VisitorFacts::new().company("employees", "many"),
            "general",
            None,
            None,
        ),
        (
            "first matching rule wins",
            || {
                VisitorFacts::new()
                    .lead("country", "AT")
                    .company("employees", "9000")
            },
            "dach",
            Some(0),
            None,
        ),
        (
            "an answer",
            || VisitorFacts::new().answer("interest", "pricing"),
            "sales",
            Some(2),
            None,
        ),
        (
            "answer of another card",
            || VisitorFacts::new().answer("role", "pricing"),
            "general",
            None,
            None,
        ),
        (
            "nested all inside any",
            || {
                VisitorFacts::new()
                    .lead("title", "Head Buyer")
                    .company("industry", "retail")
            },
            "sales",
            Some(2),
            None,
        ),
        (
            "nested exclusion holds",
            || {
                VisitorFacts::new()
                    .lead("title", "buyer")
                    .company("industry", "Education")
            },
            "general",
            None,
            None,
        ),
        (
            "owner is an agent of the matched queue",
            || {
                VisitorFacts::new()
                    .lead("country", "CH")
                    .lead("leadOwnerEmail", "lea@northwind.example ")
            },
            "dach",
            Some(0),
            Some("lea"),
        ),
        (
            "owner is an agent, but of another queue",
            || {
                VisitorFacts::new()
                    .lead("country", "CH")
                    .lead("leadOwnerEmail", "bea@northwind.example")
            },
            "dach",
            Some(0),
            None,
        ),
        (
            "owner on the default queue",
            || VisitorFacts::new().lead("LEADOWNEREMAIL", "SAM@northwind.example"),
            "general",
            None,
            Some("sam"),
        ),
        (
            "owner blank",
            || VisitorFacts::new().lead("leadOwnerEmail", "  "),
            "general",
            None,
            None,
        ),
    ];
    for (name, facts, queue, rule, owner) in cases {
        let got = compiled.route(&facts(), &agents_of);
        let want = RouteDecision {
            queue: queue.to_string(),
            rule,
            owner: owner.map(AgentId::from),
        };
        assert_eq!(got, want, "{name}");
    }
}

#[test]
fn a_named_owner_field() {
    let mut routing: Routing = serde_json::from_str(RULES).unwrap_or_else(|e| panic!("{e}"));
    routing.owner_field = Some("accountOwner".into());
    let compiled = routing.compile("$").unwrap_or_else(|d| panic!("{d:?}"));
    let facts = VisitorFacts::new()
        .lead("leadOwnerEmail", "sam@northwind.example")
        .lead("accountowner", "bea@northwind.example")
        .company("employees", "1200");
    let got = compiled.route(&facts, &agents_of);
    assert_eq!(got.owner, Some(AgentId::from("bea")));
    assert_eq!(got.rule, Some(1));
}

#[test]
fn the_owner_is_asked_first_then_the_rotation() {
    let state = RotationState::from_legacy(Rotation::new(
        ["jonas", "lea", "mia"].map(AgentId::from).to_vec(),
    ));
    let start =
        chrono::DateTime::<chrono::Utc>::from_timestamp(1_804_000_000, 0).unwrap_or_default();
    // Free: the owner gets it, and it is not the rotation's turn that moved.
    let lea = AgentId::from("lea");
    let mut asking: Assigning<'_> = state.assigning(start).owner_first(&lea);
    let mut asked = Vec::new();
    while let Some(a) = asking.candidate() {
        asked.push(a.0.clone());
        asking.answer(Availability::Free);
    }
    let d = asking.finish();
    assert_eq!(asked, ["lea"]);
    assert_eq!(d.reason, Reason::AccountOwner);
    let mut after = state.clone();
    after.commit(&d);
    assert_eq!(after.next_in_line(), Some(&AgentId::from("jonas")));
    // Busy: the rotation follows (without asking the owner twice), and the owner loses no turn.
    let mut asking = state.assigning(start).owner_first(&lea);
    let mut asked = Vec::new();
    while let Some(a) = asking.candidate() {
        asked.push(a.0.clone());
        asking.answer(if *a == lea {
            Availability::Busy
        } else {
            Availability::Free
        });
    }
    let d = asking.finish();
    assert_eq!(asked, ["lea", "jonas"]);
    assert_eq!(d.reason, Reason::Order);
    let mut after = state.clone();
    after.commit(&d);
    assert_eq!(after.next_in_line(), Some(&lea));
}

#[test]
fn rules_compile_refuses_what_routing_cannot_read() {
    let cases: Vec<(&str, &str, &str)> = vec![
        (
            r#"{"rules":[{"when":{"all":[{"field":"page.url","op":"matches","value":"*"}]},"queue":"a"}],"default":"b"}"#,
            "$.rules[0].when.all[0].field",
            "unknown_field",
        ),
        (
            r#"{"rules":[{"when":{"all":[{"field":"lead.x","op":"greater_than","value":"lots"}]},"queue":"a"}],"default":"b"}"#,
            "$.rules[0].when.all[0].value",
            "bad_value",
        ),
        (
            r#"{"rules":[{"when":{"all":[{"field":"lead.x","op":"is_empty"}]},"queue":" "}],"default":"b"}"#,
            "$.rules[0].queue",
            "missing_queue",
        ),
        (r#"{"rules":[],"default":""}"#, "$.default", "missing_queue"),
        (
            r#"{"rules":[{"when":{"all":[{"field":"country","op":"is","value":"de"}]},"queue":"a"}],"default":"b"}"#,
            "$.rules[0].when.all[0].field",
            "unknown_field",
        ),
    ];
    for (json, path, code) in cases {
        let routing: Routing = serde_json::from_str(json).unwrap_or_else(|e| panic!("{json}: {e}"));
        let Err(diags) = routing.compile("$") else {
            panic!("{json} compiled");
        };
        assert!(
            diags.iter().any(|d| d.path == path && d.code == code),
            "{json}: {diags:?}"
        );
    }
}

/// Field names in rules and in the facts ignore case (Marketo's `firstName`, an author's
/// `lead.FirstName`; `company.NumberOfEmployees` and a record's `numberOfEmployees`).
#[test]
fn field_names_ignore_case_on_both_sides() {
    let routing: Routing = serde_json::from_str(
        r#"{"rules": [
          {"when": {"all": [{"field": "lead.FirstName", "op": "is", "value": "Ann"}]}, "queue": "dach"},
          {"when": {"all": [{"field": "company.NumberOfEmployees", "op": "greater_than", "value": 500}]},
           "queue": "enterprise"}],
         "default": "general", "owner_field": "LeadOwnerEmail"}"#,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let compiled = routing
        .compile("$.route")
        .unwrap_or_else(|d| panic!("{d:?}"));
    let route = |f: VisitorFacts| compiled.route(&f, &agents_of);
    for name in ["firstName", "FIRSTNAME", "firstname"] {
        assert_eq!(
            route(VisitorFacts::new().lead(name, "ann")).queue,
            "dach",
            "{name}"
        );
    }
    let big = VisitorFacts::new().company("numberOfEmployees", "900");
    assert_eq!(route(big).queue, "enterprise");
    // The owner field too: `LeadOwnerEmail` in the rules reads Marketo's `leadOwnerEmail`.
    let owned = VisitorFacts::new()
        .lead("firstName", "Ann")
        .lead("leadOwnerEmail", "lea@northwind.example");
    assert_eq!(route(owned).owner, Some(AgentId::from("lea")));
}
