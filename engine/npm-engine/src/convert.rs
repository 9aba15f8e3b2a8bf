//! Crossing the JavaScript boundary: values come in through JSON with the path of the first wrong field in every error, go out as plain objects, and failures become JS `Error`s.

use js_sys::JSON;
use serde::de::DeserializeOwned;
use serde::Serialize;
use wasm_bindgen::JsValue;

/// A JS `Error` with `message`.
pub fn error(message: &str) -> JsValue {
    js_sys::Error::new(message).into()
}

/// A JS `TypeError`: the caller passed a value of the wrong kind.
pub fn type_error(message: &str) -> JsValue {
    js_sys::TypeError::new(message).into()
}

/// Sets `key` on a JS object (an error's extra data, a result's fields).
pub fn set(target: &JsValue, key: &str, value: &JsValue) -> Result<(), JsValue> {
    js_sys::Reflect::set(target, &JsValue::from_str(key), value).map(|_| ())
}

/// `typeof`, with `null` and arrays named as such, for error messages.
fn kind(v: &JsValue) -> String {
    if v.is_null() {
        "null".into()
    } else if js_sys::Array::is_array(v) {
        "an array".into()
    } else {
        v.js_typeof()
            .as_string()
            .unwrap_or_else(|| "unknown".into())
    }
}

/// JSON text to read, and whether this side wrote it (then a line and column in an error would
/// point into text the caller never saw, and are left out).
pub struct Json {
    text: String,
    written_here: bool,
}

impl Json {
    /// JSON text the caller wrote.
    pub fn caller(text: String) -> Json {
        Json {
            text,
            written_here: false,
        }
    }

    /// The text, for the engine functions that take JSON text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Reads it as `T`; the error names `what` and the path of the first wrong field.
    pub fn parse<T: DeserializeOwned>(&self, what: &str) -> Result<T, String> {
        parse(&self.text, what, !self.written_here)
    }
}

fn stringify(v: &JsValue, what: &str) -> Result<Json, JsValue> {
    JSON::stringify(v)
        .ok()
        .and_then(|s| s.as_string())
        .map(|text| Json {
            text,
            written_here: true,
        })
        .ok_or_else(|| type_error(&format!("{what}: cannot be written as JSON")))
}

/// JSON from a string (taken as JSON text) or an object or array (serialised).
pub fn text_or_json(v: &JsValue, what: &str) -> Result<Json, JsValue> {
    if let Some(s) = v.as_string() {
        return Ok(Json::caller(s));
    }
    if v.is_object() && !v.is_function() {
        return stringify(v, what);
    }
    Err(type_error(&format!(
        "{what}: expected a JSON string or an object, got {}",
        kind(v)
    )))
}

/// JSON of a value that must be a plain object (not a string, not an array).
pub fn object_json(v: &JsValue, what: &str) -> Result<Json, JsValue> {
    if v.is_object() && !v.is_function() && !js_sys::Array::is_array(v) {
        return stringify(v, what);
    }
    Err(type_error(&format!(
        "{what}: expected an object, got {}",
        kind(v)
    )))
}

/// JSON of an optional object argument: `None` for `undefined` and `null`.
pub fn optional_object_json(v: &JsValue, what: &str) -> Result<Option<Json>, JsValue> {
    if v.is_undefined() || v.is_null() {
        Ok(None)
    } else {
        object_json(v, what).map(Some)
    }
}

/// Milliseconds since the epoch: a JS number that is a whole number within the safe range.
pub fn millis(v: &JsValue, what: &str) -> Result<i64, JsValue> {
    const SAFE: f64 = 9_007_199_254_740_991.0;
    match v.as_f64() {
        Some(n) if n.is_finite() && n.fract() == 0.0 && n.abs() <= SAFE => Ok(n as i64),
        Some(n) => Err(type_error(&format!(
            "{what}: expected whole milliseconds since the epoch, got {n}"
        ))),
        None => Err(type_error(&format!(
            "{what}: expected a number (milliseconds since the epoch), got {}",
            kind(v)
        ))),
    }
}

/// Reads JSON text as `T`; the error names `what` and the path of the first wrong field, and
/// with `positions` the line and column.
pub fn parse<T: DeserializeOwned>(json: &str, what: &str, positions: bool) -> Result<T, String> {
    let mut de = serde_json::Deserializer::from_str(json);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let inner = e.inner().to_string();
        let cut = inner.rfind(" at line ").filter(|_| !positions);
        let inner = cut.map_or(&inner[..], |i| &inner[..i]);
        let path = e.path().to_string();
        if path == "." {
            format!("{what}: {inner}")
        } else {
            format!("{what}: at {path}: {inner}")
        }
    })?;
    de.end().map_err(|e| format!("{what}: {e}"))?;
    Ok(value)
}

/// A Rust value as a plain JS value (through JSON, so it has exactly the serde shape the types describe).
pub fn to_js<T: Serialize>(value: &T) -> Result<JsValue, JsValue> {
    let text = serde_json::to_string(value).map_err(|e| error(&e.to_string()))?;
    JSON::parse(&text)
}

#[cfg(test)]
mod tests {
    use super::parse;
    use dynchat_engine::Input;

    #[test]
    fn errors_name_the_argument_and_the_field() {
        let e = parse::<Input>(r#"{"type":"button","index":"1"}"#, "step: input", false);
        let msg = e.err().unwrap_or_default();
        assert!(msg.starts_with("step: input: "), "{msg}");
        assert!(msg.contains("invalid type: string \"1\""), "{msg}");
        let e = parse::<Input>(r#"{"type":"jump"}"#, "step: input", false);
        assert!(e
            .err()
            .unwrap_or_default()
            .contains("unknown variant `jump`"));
        let e = parse::<Vec<String>>(r#"["a", 2]"#, "answers", false);
        assert_eq!(
            e.err().unwrap_or_default(),
            "answers: at [1]: invalid type: integer `2`, expected a string"
        );
        let e = parse::<Vec<String>>("[\n 1]", "answers", true);
        assert!(e.err().unwrap_or_default().ends_with("at line 2 column 2"));
        assert!(parse::<Vec<String>>("[] x", "answers", false).is_err());
    }
}
