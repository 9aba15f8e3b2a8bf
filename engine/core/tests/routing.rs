//! A meeting card's routing rules in the dialogue format: compiled with the other conditions,
//! carried to the browser as the default queue only (the worker evaluates the rules), and
//! refused with the route's own message when the form is wrong.

use dynchat_engine::compile::{CRoute, CompiledFlow};
use dynchat_engine::model::Route;
use dynchat_engine::{compile_with, Options};

const ROUTED: &str = r#"{"version":1,"id":"d","name":"D","cards":[
  {"id":"interest","type":"question","text":"What brings you here?","buttons":[{"label":"Pricing","value":"pricing","next":"m"},{"label":"Support","value":"support","next":"m"}]},
  {"id":"m","type":"meeting","text":"Book?","route":{
    "rules":[
      {"when":{"all":[{"field":"lead.country","op":"in_list","value":["DE","AT","CH"]}]},"queue":"dach"},
      {"when":{"any":[{"field":"company.employees","op":"greater_than","value":500},
                      {"field":"answer.interest","op":"is","value":"Pricing"}]},"queue":"enterprise"}],
    "default":"sales","owner_field":"accountOwner"}}]}"#;

fn card_route(flow: &CompiledFlow) -> CRoute {
    let i = flow.index_of("m").expect("card m");
    match &flow.cards[usize::from(i)] {
        dynchat_engine::compile::CCard::Meeting { route, .. } => route.clone(),
        other => panic!("not a meeting: {other:?}"),
    }
}

#[test]
fn a_rules_route_compiles_and_reaches_the_browser_as_its_default() {
    let flow = compile_with(ROUTED, &Options::default()).unwrap_or_else(|d| panic!("{d:#?}"));
    let only_default = CRoute::Rules {
        default: "sales".into(),
    };
    assert_eq!(card_route(&flow), only_default);
    // The compiled route keeps the authored route's serde form (effects carry it to hosts).
    assert_eq!(
        serde_json::to_string(&only_default).unwrap_or_default(),
        r#"{"rules":[],"default":"sales"}"#
    );
    let wire = flow.to_wire();
    let back = CompiledFlow::from_wire(&wire).unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(card_route(&back), only_default);
    assert_eq!(back.to_wire(), wire, "the wire form is stable");
}

#[test]
fn the_authored_rules_read_back_as_written() {
    let d: dynchat_engine::model::Dialogue =
        serde_json::from_str(ROUTED).unwrap_or_else(|e| panic!("{e}"));
    let dynchat_engine::model::Card::Meeting(m) = &d.cards[1] else {
        panic!("card 1 is the meeting");
    };
    let Route::Rules(r) = &m.route else {
        panic!("a rules route: {:?}", m.route);
    };
    assert_eq!(r.rules.len(), 2);
    assert_eq!(r.rules[1].queue, "enterprise");
    assert_eq!(r.owner_field.as_deref(), Some("accountOwner"));
    let again = serde_json::to_value(&m.route).unwrap_or_default();
    assert_eq!(again["default"], "sales");
    assert_eq!(again["rules"][0]["queue"], "dach");
    // The short forms keep their shape.
    assert_eq!(
        serde_json::to_string(&Route::Queue("sales".into())).unwrap_or_default(),
        r#"{"queue":"sales"}"#
    );
}

#[test]
fn a_wrong_route_form_is_refused_with_the_route_message() {
    for (route, says) in [
        (r#"{"queue":"a","agent":"b"}"#, "route is one of"),
        (r#"{"rules":[]}"#, "need a `default` queue"),
        (r#"{"default":"a"}"#, "route is one of"),
        (r#"{"rules":[],"default":"a","colour":"red"}"#, "colour"),
    ] {
        let json = format!(
            r#"{{"version":1,"id":"d","name":"D","cards":[{{"id":"m","type":"meeting","text":"Book?","route":{route}}}]}}"#
        );
        let diags = compile_with(&json, &Options::default())
            .err()
            .unwrap_or_else(|| panic!("{route} compiled"));
        assert!(
            diags
                .iter()
                .any(|d| d.path.starts_with("$.cards[0].route") && d.message.contains(says)),
            "{route}: {diags:#?}"
        );
    }
}

#[test]
fn the_schema_describes_the_three_route_forms() {
    let schema = dynchat_engine::model::schema_json();
    for needle in ["\"owner_field\"", "\"default\"", "\"agent\"", "RouteRule"] {
        assert!(schema.contains(needle), "{needle} missing from the schema");
    }
}

/// Routing reads lead and company fields by the same name rule as targeting and branches
/// (`FieldName`: case and surrounding spaces ignored), so `lead.FirstName` reads Marketo's
/// `firstName` and `company.NumberOfEmployees` its `numberOfEmployees`.
#[test]
fn routing_field_names_follow_the_one_field_name_rule() {
    use dynchat_engine::fields::FieldName;
    use dynchat_engine::targeting::FieldRef;
    let none = |_: &str| None;
    for (written, lead) in [
        ("lead.FirstName", true),
        ("lead.firstName", true),
        ("lead. FIRSTNAME ", true),
        ("company.NumberOfEmployees", false),
        ("company.numberofemployees", false),
    ] {
        let got = FieldRef::parse(written, &none).unwrap_or_else(|e| panic!("{written}: {e}"));
        let want = if lead {
            FieldRef::Lead(FieldName::new("firstName").as_str().to_string())
        } else {
            FieldRef::Company(FieldName::new("numberOfEmployees").as_str().to_string())
        };
        assert_eq!(got, want, "{written}");
    }
}
