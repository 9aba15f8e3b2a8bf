//! Sites of the console against the real worker on workerd: creating a site (400 naming the
//! field for a bad id, name or origin; 409 for a taken id), the installation check recorded on
//! the bundle path (an allowed origin is "seen", a foreign one "not allowed", an allowed origin
//! without requests "no request yet"), and accounts of one site: 403 on every path of another
//! site, lists with only their sites and accounts, no hand-out of sites they do not have.

use dynchat_e2e::console::{self, call, field, Session};
use dynchat_e2e::{serial, Answer, Worker};
use serde_json::{json, Value};
use std::time::Duration;

const GLOBEX: &str = "https://www.globex.example";
const GLOBEX_SHOP: &str = "https://shop.globex.example";
const ACME: &str = "http://127.0.0.1:8080";

fn login(w: &Worker, email: &str, password: &str) -> Session {
    let a = console::login(w, email, password);
    assert_eq!(a.status, 200, "login {email}: {}", a.body);
    let set = a.header("set-cookie").unwrap_or_default();
    assert!(set.starts_with("dynchat_session="), "{set}");
    console::session(&a)
}

fn site_ids(a: &Answer) -> Vec<String> {
    assert_eq!(a.status, 200, "{}", a.body);
    a.json()["sites"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|s| s["id"].as_str().unwrap_or_default().to_string())
        .collect()
}

fn install(w: &Worker) -> Value {
    let a = w.admin("GET", "/admin/sites/globex/install", None);
    assert_eq!(a.status, 200, "{}", a.body);
    a.json()
}

fn state_of(report: &Value, origin: &str) -> String {
    report["origins"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .find(|l| l["origin"] == origin)
        .map(|l| l["state"].as_str().unwrap_or_default().to_string())
        .unwrap_or_else(|| "absent".into())
}

#[test]
fn sites_install_check_and_accounts_of_one_site() {
    let _g = serial();
    let w = Worker::start("sites", None, &[]);
    let acme = w.admin(
        "PUT",
        "/admin/sites/acme",
        Some(&json!({"name": "Acme", "allowed_origins": [ACME]})),
    );
    assert_eq!(acme.status, 200, "{}", acme.body);

    // Bad input: 400 naming the field, nothing created.
    for (body, want) in [
        (json!({"name": "No id"}), "id"),
        (json!({"id": "bad id!", "name": "Globex"}), "id"),
        (json!({"id": "x".repeat(65)}), "id"),
        (
            json!({"id": "globex", "name": "G".repeat(500), "allowed_origins": [GLOBEX]}),
            "name",
        ),
        (
            json!({"id": "globex", "name": "Globex", "allowed_origins": ["not a url"]}),
            "allowed_origins",
        ),
    ] {
        let a = w.admin("POST", "/admin/sites", Some(&body));
        assert_eq!(a.status, 400, "{body}: {}", a.body);
        assert!(field(&a).starts_with(want), "{body}: field {}", field(&a));
    }
    assert_eq!(
        site_ids(&w.admin("GET", "/admin/sites", None)),
        vec!["acme"]
    );

    let created = w.admin(
        "POST",
        "/admin/sites",
        Some(&json!({"id": "globex", "name": "Globex Corp", "allowed_origins": [GLOBEX, GLOBEX_SHOP]})),
    );
    assert_eq!(created.status, 201, "{}", created.body);
    let again = w.admin(
        "POST",
        "/admin/sites",
        Some(&json!({"id": "globex", "name": "Other"})),
    );
    assert_eq!(again.status, 409, "{}", again.body);
    let g = w.admin("GET", "/admin/sites/globex", None).json();
    assert_eq!(g["name"], "Globex Corp", "the 409 changed nothing");
    assert_eq!(
        site_ids(&w.admin("GET", "/admin/sites", None)),
        vec!["acme", "globex"]
    );

    // The installation check: nothing yet.
    let r = install(&w);
    assert_eq!(r["installed"], false, "{r}");
    assert_eq!(state_of(&r, GLOBEX), "no_request_yet", "{r}");

    // The tag on an allowed page, and on a foreign one (served, but without CORS).
    let b = w.request(
        "GET",
        "/v1/sites/globex/bundle",
        &[("Origin", GLOBEX)],
        None,
    );
    assert_eq!(b.status, 200, "{}", b.body);
    assert_eq!(b.header("access-control-allow-origin"), Some(GLOBEX));
    let evil = "https://copycat.example";
    let b = w.request("GET", "/v1/sites/globex/bundle", &[("Origin", evil)], None);
    assert_eq!(b.status, 200);
    assert_eq!(b.header("access-control-allow-origin"), None);
    // A bundle request without Origin names its page by Referer.
    let b = w.request(
        "GET",
        "/v1/sites/acme/bundle",
        &[("Referer", "http://127.0.0.1:8080/pricing.html")],
        None,
    );
    assert_eq!(b.status, 200);
    w.wait_until(Duration::from_secs(20), "the install check", || {
        let r = install(&w);
        state_of(&r, GLOBEX) == "seen" && state_of(&r, evil) == "not_allowed"
    });
    let r = install(&w);
    assert_eq!(r["installed"], true, "{r}");
    assert_eq!(state_of(&r, GLOBEX_SHOP), "no_request_yet", "{r}");
    let seen = r["origins"][0].clone();
    assert!(seen["first_at"].as_i64().unwrap_or(0) > 0, "{r}");
    // acme's check shows acme's page only, never globex's.
    let a = w.admin("GET", "/admin/sites/acme/install", None).json();
    assert_eq!(state_of(&a, ACME), "seen", "{a}");
    assert_eq!(state_of(&a, GLOBEX), "absent", "{a}");
    assert_eq!(state_of(&r, ACME), "absent", "{r}");

    // Accounts of one site.
    let make = |email: &str, sites: Value| {
        w.admin(
            "POST",
            "/admin/console/accounts",
            Some(&json!({"email": email, "password": "pass-word-12345", "role": "admin", "name": email, "sites": sites})),
        )
    };
    let bad = make("x@acme.example", json!(["acme", "nope"]));
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert_eq!(field(&bad), "sites[1]");
    let bad = make("x@acme.example", json!("acme"));
    assert_eq!((bad.status, field(&bad).as_str()), (400, "sites"));
    assert_eq!(make("ann@acme.example", json!(["acme"])).status, 201);
    assert_eq!(make("gus@globex.example", json!(["globex"])).status, 201);
    assert_eq!(make("owner@example.com", Value::Null).status, 201);

    let ann = login(&w, "ann@acme.example", "pass-word-12345");
    assert_eq!(
        site_ids(&call(&w, &ann, "GET", "/admin/sites", None)),
        vec!["acme"]
    );
    assert_eq!(call(&w, &ann, "GET", "/admin/sites/acme", None).status, 200);
    assert_eq!(
        call(&w, &ann, "GET", "/admin/sites/acme/install", None).status,
        200
    );
    for (method, path) in [
        ("GET", "/admin/sites/globex"),
        ("PUT", "/admin/sites/globex"),
        ("GET", "/admin/sites/globex/install"),
        ("GET", "/admin/sites/globex/dialogues"),
        ("POST", "/admin/sites/globex/dialogues"),
        ("GET", "/admin/sites/globex/leads"),
        ("GET", "/admin/sites/globex/dead-letters"),
        ("POST", "/admin/sites/globex/dead-letters/1/retry"),
        ("GET", "/admin/sites/globex/metrics"),
        ("GET", "/admin/sites/globex/agents"),
        ("GET", "/admin/sites/globex/queues"),
        ("GET", "/admin/sites/globex/meetings"),
        ("GET", "/admin/console/sites/globex/dialogues/demo/marketo"),
        ("PUT", "/admin/console/sites/globex/dialogues/demo/marketo"),
        // A site that does not exist is not one of ann's either.
        ("GET", "/admin/sites/initech"),
        // Paths about every site at once.
        ("GET", "/admin/console/marketo"),
        ("POST", "/admin/outbox/sweep"),
        ("GET", "/admin/marketo/gate"),
    ] {
        let a = call(&w, &ann, method, path, Some(&json!({})));
        assert_eq!(a.status, 403, "{method} {path}: {}", a.body);
    }
    // Accounts: only the ones of acme, and ann cannot hand out globex or every site, nor
    // change an account of another site.
    let list = call(&w, &ann, "GET", "/admin/console/accounts", None);
    assert_eq!(list.status, 200, "{}", list.body);
    let emails: Vec<String> = list.json()["accounts"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|a| a["email"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(emails, vec!["ann@acme.example"], "{}", list.body);
    let body = |email: &str, sites: Value| json!({"email": email, "password": "pass-word-67890", "role": "admin", "sites": sites});
    for (email, sites) in [
        ("new@acme.example", json!(["globex"])),
        ("new@acme.example", Value::Null),
        ("gus@globex.example", json!(["acme"])),
        ("owner@example.com", json!(["acme"])),
    ] {
        let a = call(
            &w,
            &ann,
            "POST",
            "/admin/console/accounts",
            Some(&body(email, sites.clone())),
        );
        assert_eq!(a.status, 403, "{email} {sites}: {}", a.body);
    }
    let bob = call(
        &w,
        &ann,
        "POST",
        "/admin/console/accounts",
        Some(&body("bob@acme.example", json!(["acme"]))),
    );
    assert_eq!(bob.status, 201, "{}", bob.body);
    // gus and the owner still sign in with their own passwords.
    login(&w, "gus@globex.example", "pass-word-12345");
    let owner = login(&w, "owner@example.com", "pass-word-12345");
    assert_eq!(
        site_ids(&call(&w, &owner, "GET", "/admin/sites", None)),
        vec!["acme", "globex"]
    );
    let all = call(&w, &owner, "GET", "/admin/console/accounts", None).json();
    assert_eq!(all["accounts"].as_array().map(Vec::len), Some(4), "{all}");
    // A site ann creates becomes one of hers.
    let mine = call(
        &w,
        &ann,
        "POST",
        "/admin/sites",
        Some(
            &json!({"id": "acme-eu", "name": "Acme EU", "allowed_origins": ["https://eu.acme.example"]}),
        ),
    );
    assert_eq!(mine.status, 201, "{}", mine.body);
    assert_eq!(
        site_ids(&call(&w, &ann, "GET", "/admin/sites", None)),
        vec!["acme", "acme-eu"]
    );
}
