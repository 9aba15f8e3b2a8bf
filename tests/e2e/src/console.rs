//! Console sessions of the end-to-end tests: sign in with a password, then call the admin API
//! with the session cookie, the CSRF token and the worker's own origin, as the console does.

use crate::{Answer, Worker};
use serde_json::{json, Value};

/// A console session: the cookie header and the CSRF token.
pub struct Session {
    pub cookie: String,
    pub csrf: String,
}

/// `POST /admin/console/login` with an email and a password; the answer as it came.
pub fn login(w: &Worker, email: &str, password: &str) -> Answer {
    w.post(
        "/admin/console/login",
        &json!({"email": email, "password": password}),
        &[],
    )
}

/// The session a successful login answer hands out (asserts the login was a 200).
pub fn session(a: &Answer) -> Session {
    assert_eq!(a.status, 200, "login: {}", a.body);
    let set = a.header("set-cookie").unwrap_or_default();
    let sess = set.split(';').next().unwrap_or_default();
    let csrf = a.json()["csrf"].as_str().unwrap_or_default().to_string();
    Session {
        cookie: format!("{sess}; dynchat_csrf={csrf}"),
        csrf,
    }
}

/// A console call: session cookie, CSRF header, the worker's origin and an optional JSON body.
pub fn call(w: &Worker, s: &Session, method: &str, path: &str, body: Option<&Value>) -> Answer {
    let origin = w.url("");
    let h = [
        ("Cookie", s.cookie.as_str()),
        ("X-CSRF-Token", s.csrf.as_str()),
        ("Origin", origin.as_str()),
        ("Content-Type", "application/json"),
    ];
    let text = body.map(Value::to_string);
    w.request(method, path, &h, text.as_deref())
}

/// The `error.field` of an answer ("" when there is none).
pub fn field(a: &Answer) -> String {
    a.json()["error"]["field"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}
