//! The console's only network code: JSON calls to the worker with the session cookie and, on
//! writes, the CSRF token header (double submit: the same token is in the `dynchat_csrf` cookie).

use serde_json::Value;
use std::cell::RefCell;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Request, RequestCredentials, RequestInit, Response};

thread_local! {
    static CSRF: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Remembers the session's CSRF token (from sign-in or `GET /admin/console/me`).
pub fn set_csrf(t: &str) {
    CSRF.with(|c| *c.borrow_mut() = t.to_string());
}

/// An answer: HTTP status and JSON body (`Null` when empty or not JSON).
pub struct Answer {
    pub status: u16,
    pub body: Value,
}

impl Answer {
    /// 2xx.
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }
    /// The API's error message (`error.message`, with `error.field` when given).
    pub fn error(&self) -> String {
        let msg = self
            .body
            .pointer("/error/message")
            .and_then(Value::as_str)
            .unwrap_or("request failed");
        // The worker's message already starts with `field: ` (its `Display`): the field once.
        match self.body.pointer("/error/field").and_then(Value::as_str) {
            Some(f) if !msg.starts_with(&format!("{f}: ")) => {
                format!("{f}: {msg} (HTTP {})", self.status)
            }
            _ => format!("{msg} (HTTP {})", self.status),
        }
    }
}

/// One call. Network failures become status 0 with the reason as `error.message`.
pub async fn call(method: &str, path: &str, body: Option<&Value>) -> Answer {
    match call_inner(method, path, body).await {
        Ok(a) => a,
        Err(e) => Answer {
            status: 0,
            body: serde_json::json!({"error": {"message": format!("network error: {}", e.as_string().unwrap_or_default())}}),
        },
    }
}

async fn call_inner(method: &str, path: &str, body: Option<&Value>) -> Result<Answer, JsValue> {
    let init = RequestInit::new();
    init.set_method(method);
    init.set_credentials(RequestCredentials::SameOrigin);
    let headers = web_sys::Headers::new()?;
    headers.set("Accept", "application/json")?;
    if method != "GET" {
        CSRF.with(|c| headers.set("X-CSRF-Token", &c.borrow()))?;
    }
    if let Some(b) = body {
        headers.set("Content-Type", "application/json")?;
        init.set_body(&JsValue::from_str(&b.to_string()));
    }
    init.set_headers(&headers);
    let req = Request::new_with_str_and_init(path, &init)?;
    let window = web_sys::window().ok_or("no window")?;
    let resp: Response = JsFuture::from(window.fetch_with_request(&req))
        .await?
        .dyn_into()?;
    let status = resp.status();
    let text = JsFuture::from(resp.text()?)
        .await?
        .as_string()
        .unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Ok(Answer { status, body })
}

/// Offers `text` as a file download (export JSON / CSV).
pub fn download(name: &str, mime: &str, text: &str) {
    let parts = js_sys::Array::of1(&JsValue::from_str(text));
    let opts = web_sys::BlobPropertyBag::new();
    opts.set_type(mime);
    let Ok(blob) = web_sys::Blob::new_with_str_sequence_and_options(&parts, &opts) else {
        return;
    };
    let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob) else {
        return;
    };
    let a = crate::dom::el("a")
        .attr("href", &url)
        .attr("download", name);
    if let Some(a) = a.0.dyn_ref::<web_sys::HtmlElement>() {
        a.click();
    }
    let _ = web_sys::Url::revoke_object_url(&url);
}

#[cfg(test)]
mod tests {
    use super::Answer;
    use serde_json::json;

    #[test]
    fn an_error_names_its_field_once() {
        let worker = Answer {
            status: 400,
            body: json!({"error": {"code": "bad_field", "field": "email", "message": "email: must be a valid email"}}),
        };
        assert_eq!(worker.error(), "email: must be a valid email (HTTP 400)");
        let bare = Answer {
            status: 400,
            body: json!({"error": {"field": "tz", "message": "unknown zone"}}),
        };
        assert_eq!(bare.error(), "tz: unknown zone (HTTP 400)");
        let none = Answer {
            status: 500,
            body: json!({"error": {"message": "internal error"}}),
        };
        assert_eq!(none.error(), "internal error (HTTP 500)");
    }
}
