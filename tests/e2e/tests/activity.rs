//! End-to-end: an `activity.<type>` rule ("visited a web page within the last 7 days") against
//! the Marketo peer's activities, through the worker's traits path (cached like the other
//! traits) and the browser's targeting module run on the worker's bundle.

use dynchat_e2e::clock::{iso_days_ago as iso_ago, now_ms};
use dynchat_e2e::{serial, site_settings, Peer, Worker};
use dynchat_targeting_wasm::Targeter;
use serde_json::{json, Value};

#[test]
fn activity_rule_matches_a_visitor_with_that_activity_and_not_one_without() {
    let _g = serial();
    let peer = Peer::start(&[]);
    peer.seed(json!({"leads": [
        {"email": "recent@example.com", "firstName": "Rae"},
        {"email": "old@example.com", "firstName": "Olly"},
        {"email": "none@example.com", "firstName": "Nia"}
    ]}));
    let a = peer.seed(json!({"activities": [
        {"email": "recent@example.com", "activityTypeId": 1, "activityDate": iso_ago(3), "primaryAttributeValue": "/pricing"},
        {"email": "old@example.com", "activityTypeId": 1, "activityDate": iso_ago(20), "primaryAttributeValue": "/pricing"},
        // Another type does not count as a web page visit.
        {"email": "none@example.com", "activityTypeId": 2, "activityDate": iso_ago(1)}
    ]}));
    assert_eq!(a["ok"], true, "{a}");
    let w = Worker::start("activity", Some(&peer), &[]);
    let dialogue = json!({
        "version": 1, "id": "returning", "name": "Recent visitor",
        "audience": {"all": [{"field": "activity.visited_web_page", "op": "within_days", "value": 7}]},
        "cards": [{"type": "message", "id": "hi", "text": "Welcome back", "next": "end"},
                  {"type": "end", "id": "end", "text": "Bye"}]
    })
    .to_string();
    w.site("acme", site_settings(None), &[&dialogue]);
    let bad = json!({
        "version": 1, "id": "bad", "name": "Bad", "audience": {"all": [{"field": "activity.visited_moon", "op": "within_days", "value": 7}]},
        "cards": [{"type": "end", "id": "end", "text": "Bye"}]
    });
    let refused = w.admin("POST", "/admin/sites/acme/dialogues", Some(&bad));
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert!(
        refused.body.contains("visited_web_page"),
        "{}",
        refused.body
    );

    let bundle = w.request("GET", "/v1/sites/acme/bundle", &[], None);
    assert_eq!(bundle.status, 200, "{}", bundle.body);
    let fields = bundle.json()["lead_fields"].clone();
    assert!(
        fields
            .as_array()
            .is_some_and(|f| f.iter().any(|x| x == "activity.visited_web_page")),
        "{fields}"
    );
    // What the loader does: ask /traits for the bundle's fields, then select with the answer.
    let select = |email: &str| -> (Value, Value) {
        let t = w.post(
            "/v1/sites/acme/traits",
            &json!({"email": email, "fields": fields}),
            &[],
        );
        assert_eq!(t.status, 200, "{}", t.body);
        let t = t.json();
        let mut targeter = Targeter::new(&bundle.body);
        let page = json!({"url": "https://acme.test/", "visits": 1, "now_ms": now_ms(),
                          "lead": t["lead"], "activity": t["activity"]});
        let sel: Value =
            serde_json::from_str(&targeter.select(&page.to_string(), "{}")).unwrap_or_default();
        (t, sel)
    };
    let (t, sel) = select("recent@example.com");
    assert_eq!(t["known"], true, "{t}");
    assert!(t["activity"]["visited_web_page"].as_i64().is_some(), "{t}");
    assert_eq!(sel["dialogue"], "returning", "{t} {sel}");
    let (t, sel) = select("old@example.com");
    assert!(
        t["activity"]["visited_web_page"].as_i64().is_some(),
        "20 days ago: {t}"
    );
    assert!(
        sel["dialogue"].is_null(),
        "visited 20 days ago, not within 7: {sel}"
    );
    let (t, sel) = select("none@example.com");
    assert_eq!(t["activity"], json!({}), "{t}");
    assert!(sel["dialogue"].is_null(), "{sel}");

    // Cached like the other traits: asking again calls Marketo no more.
    let calls = peer.state()["counters"]["calls_total"]
        .as_i64()
        .unwrap_or(0);
    let (_, sel) = select("recent@example.com");
    assert_eq!(sel["dialogue"], "returning");
    assert_eq!(
        peer.state()["counters"]["calls_total"]
            .as_i64()
            .unwrap_or(0),
        calls,
        "served from the trait cache"
    );
}
