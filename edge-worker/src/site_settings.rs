//! The body of `PUT /admin/sites/{site}` read strictly: every value the worker or the widget
//! would otherwise cut, drop or replace by a default (a bot name over the widget's 60
//! characters, a `name` that is not text, a `program_id` that is not a number, a config value of
//! the wrong type, which makes the widget fall back to its defaults) is a 400 naming the field.

use crate::error::ApiError;
use crate::validate;
use serde_json::{Map, Value};

/// Characters of `config.bot_name` the widget shows (engine/web `style.rs`, docs/widget.md).
pub const MAX_BOT_NAME: usize = dynchat_engine::rules::MAX_BOT_NAME_CHARS;
/// Bytes of `config.font` the widget accepts (a longer list falls back to the system font).
pub const MAX_FONT: usize = 199;
/// Characters of the site's display `name`.
pub const MAX_NAME: usize = 100;
/// Entries of `config.email_blocklist`, and bytes of one entry (a domain name is at most 253).
pub const MAX_BLOCKLIST: usize = 1000;
const MAX_BLOCKLIST_ENTRY: usize = 253;

/// Config keys the widget reads as text.
const TEXT_KEYS: [&str; 9] = [
    "bot_name",
    "avatar_url",
    "font",
    "primary_color",
    "position",
    "dark_mode",
    "privacy_url",
    "welcome",
    "language",
];
/// Config keys the widget reads as booleans.
const BOOL_KEYS: [&str; 4] = ["sound", "launcher_always", "auto_open", "consent_required"];

/// A site's settings as stored (JSON texts are serialised by the caller).
#[derive(Debug, PartialEq)]
pub struct SiteInput {
    pub name: String,
    pub allowed_origins: Vec<String>,
    pub config: Value,
    pub lead_fields: Vec<String>,
    pub program_id: Option<i64>,
    pub program_status: Option<String>,
    pub site_per_minute: Option<i64>,
    pub ip_per_minute: Option<i64>,
}

/// A key as a safe path segment for an error (never echo arbitrary text).
fn key_path(k: &str) -> String {
    k.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .take(64)
        .collect()
}

fn object<'a>(v: &'a Value, path: &str) -> Result<&'a Map<String, Value>, ApiError> {
    v.as_object()
        .ok_or_else(|| ApiError::field(path, "must be an object"))
}

fn only_keys(o: &Map<String, Value>, prefix: &str, known: &[&str]) -> Result<(), ApiError> {
    match o.keys().find(|k| !known.contains(&k.as_str())) {
        Some(k) => Err(ApiError::field(
            format!("{prefix}{}", key_path(k)),
            "unknown field",
        )),
        None => Ok(()),
    }
}

/// An optional array of strings that each pass `ok`.
fn strings(
    o: &Map<String, Value>,
    key: &str,
    ok: fn(&str) -> bool,
    what: &str,
) -> Result<Vec<String>, ApiError> {
    let list = match o.get(key) {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(a)) => a,
        Some(_) => return Err(ApiError::field(key, "must be an array")),
    };
    list.iter()
        .enumerate()
        .map(|(i, x)| match x.as_str() {
            Some(s) if ok(s) => Ok(s.to_string()),
            _ => Err(ApiError::field(format!("{key}[{i}]"), what)),
        })
        .collect()
}

/// An optional integer of `o[key]` at path `path`, at least `min`.
fn integer(
    o: &Map<String, Value>,
    key: &str,
    path: &str,
    min: i64,
) -> Result<Option<i64>, ApiError> {
    match o.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => {
            v.as_i64().filter(|n| *n >= min).map(Some).ok_or_else(|| {
                ApiError::field(path, format!("must be an integer of at least {min}"))
            })
        }
    }
}

/// Checks the widget's `config`: types of the keys it reads, and the limits it would otherwise
/// enforce by cutting or ignoring. Other keys are kept as given.
pub fn check_config(config: &Value) -> Result<(), ApiError> {
    let o = object(config, "config")?;
    for k in TEXT_KEYS {
        match o.get(k) {
            None | Some(Value::Null | Value::String(_)) => {}
            Some(_) => return Err(ApiError::field(format!("config.{k}"), "must be text")),
        }
    }
    for k in BOOL_KEYS {
        match o.get(k) {
            None | Some(Value::Null | Value::Bool(_)) => {}
            Some(_) => {
                return Err(ApiError::field(
                    format!("config.{k}"),
                    "must be true or false",
                ))
            }
        }
    }
    if let Some(name) = o.get("bot_name").and_then(Value::as_str) {
        if name.trim().chars().count() > MAX_BOT_NAME {
            return Err(ApiError::field(
                "config.bot_name",
                format!("must be at most {MAX_BOT_NAME} characters"),
            ));
        }
    }
    if let Some(lang) = o.get("language").and_then(Value::as_str) {
        // The widget would speak English for a language it has no catalogue for: say so.
        let l = lang.trim();
        if !l.eq_ignore_ascii_case("auto") && dynchat_engine::i18n::supported(l).is_none() {
            return Err(ApiError::field(
                "config.language",
                format!(
                    "must be \"auto\" (the page's language, then the browser's) or one of {}",
                    dynchat_engine::i18n::LANGS.join(", ")
                ),
            ));
        }
    }
    if let Some(font) = o.get("font").and_then(Value::as_str) {
        if font.trim().len() > MAX_FONT {
            return Err(ApiError::field(
                "config.font",
                format!("must be at most {MAX_FONT} characters"),
            ));
        }
    }
    match o.get("email_blocklist") {
        None | Some(Value::Null) => {}
        Some(Value::Array(list)) => {
            if list.len() > MAX_BLOCKLIST {
                return Err(ApiError::field(
                    "config.email_blocklist",
                    format!("must have at most {MAX_BLOCKLIST} entries"),
                ));
            }
            for (i, e) in list.iter().enumerate() {
                if e.as_str().is_none_or(|s| s.len() > MAX_BLOCKLIST_ENTRY) {
                    return Err(ApiError::field(
                        format!("config.email_blocklist[{i}]"),
                        format!("must be a domain of at most {MAX_BLOCKLIST_ENTRY} characters"),
                    ));
                }
            }
        }
        Some(_) => {
            return Err(ApiError::field(
                "config.email_blocklist",
                "must be an array of domains",
            ))
        }
    }
    Ok(())
}

/// Reads the body of `PUT /admin/sites/{site}`; `site` is the default display name.
pub fn parse(site: &str, body: &Value) -> Result<SiteInput, ApiError> {
    let o = object(body, "$")?;
    only_keys(
        o,
        "",
        &[
            "name",
            "allowed_origins",
            "config",
            "lead_fields",
            "marketo",
            "limits",
        ],
    )?;
    let name = match o.get("name") {
        None | Some(Value::Null) => site.to_string(),
        Some(Value::String(n)) if !n.trim().is_empty() && n.trim().chars().count() <= MAX_NAME => {
            n.trim().to_string()
        }
        Some(_) => {
            return Err(ApiError::field(
                "name",
                format!("must be text of 1-{MAX_NAME} characters"),
            ))
        }
    };
    let allowed_origins = strings(
        o,
        "allowed_origins",
        validate::valid_origin,
        "must be an origin like https://www.example.com",
    )?;
    let config = o
        .get("config")
        .filter(|c| !c.is_null())
        .cloned()
        .unwrap_or_else(|| Value::Object(Map::new()));
    check_config(&config)?;
    let lead_fields = strings(
        o,
        "lead_fields",
        validate::valid_field_name,
        "must be a Marketo field name",
    )?;
    let empty = Map::new();
    let marketo = match o.get("marketo") {
        None | Some(Value::Null) => &empty,
        Some(m) => object(m, "marketo")?,
    };
    only_keys(marketo, "marketo.", &["program_id", "program_status"])?;
    let program_id = integer(marketo, "program_id", "marketo.program_id", 1)?;
    let program_status = match marketo.get("program_status") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.chars().count() <= 100 => Some(s.clone()),
        Some(_) => {
            return Err(ApiError::field(
                "marketo.program_status",
                "must be a status name of at most 100 characters",
            ))
        }
    };
    let limits = match o.get("limits") {
        None | Some(Value::Null) => &empty,
        Some(m) => object(m, "limits")?,
    };
    only_keys(limits, "limits.", &["site_per_minute", "ip_per_minute"])?;
    Ok(SiteInput {
        name,
        allowed_origins,
        config,
        lead_fields,
        program_id,
        program_status,
        site_per_minute: integer(limits, "site_per_minute", "limits.site_per_minute", 1)?,
        ip_per_minute: integer(limits, "ip_per_minute", "limits.ip_per_minute", 1)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn field_of(r: Result<SiteInput, ApiError>) -> String {
        match r {
            Err(e) => e.body()["error"]["field"]
                .as_str()
                .unwrap_or("")
                .to_string(),
            Ok(s) => panic!("accepted: {s:?}"),
        }
    }

    #[test]
    fn a_full_site_is_read() {
        let s = parse(
            "acme",
            &json!({"name": "ACME", "allowed_origins": ["https://www.acme.example"],
                    "config": {"bot_name": "Ada", "sound": true, "email_blocklist": ["mailinator.com"], "custom": 1},
                    "lead_fields": ["firstName"], "marketo": {"program_id": 1001, "program_status": "Engaged"},
                    "limits": {"site_per_minute": 600, "ip_per_minute": 60}}),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(s.name, "ACME");
        assert_eq!(s.allowed_origins, ["https://www.acme.example"]);
        assert_eq!(s.program_id, Some(1001));
        assert_eq!(s.program_status.as_deref(), Some("Engaged"));
        assert_eq!((s.site_per_minute, s.ip_per_minute), (Some(600), Some(60)));
        assert_eq!(s.config["custom"], 1);
        let bare = parse("acme", &json!({})).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(bare.name, "acme");
        assert_eq!(bare.config, json!({}));
    }

    #[test]
    fn the_bot_name_is_refused_over_60_characters_not_cut() {
        let sixty = "é".repeat(MAX_BOT_NAME);
        assert!(parse("a", &json!({"config": {"bot_name": sixty}})).is_ok());
        let long = format!("{sixty}x");
        assert_eq!(
            field_of(parse("a", &json!({"config": {"bot_name": long}}))),
            "config.bot_name"
        );
    }

    #[test]
    fn a_language_the_widget_speaks_or_auto_is_accepted() {
        for l in ["de", "ar", "auto", "AUTO", "fr-CA", "en"] {
            assert!(
                parse("a", &json!({"config": {"language": l}})).is_ok(),
                "{l}"
            );
        }
    }

    #[test]
    fn every_value_that_would_be_dropped_or_cut_names_its_field() {
        for (body, field) in [
            (json!({"name": 7}), "name"),
            (json!({"name": "n".repeat(101)}), "name"),
            (
                json!({"allowed_origins": "https://a.example"}),
                "allowed_origins",
            ),
            (
                json!({"allowed_origins": ["https://a.example", "nope"]}),
                "allowed_origins[1]",
            ),
            (json!({"lead_fields": {"a": 1}}), "lead_fields"),
            (json!({"lead_fields": ["bad field"]}), "lead_fields[0]"),
            (json!({"config": []}), "config"),
            (json!({"config": {"bot_name": 5}}), "config.bot_name"),
            (json!({"config": {"welcome": ["hi"]}}), "config.welcome"),
            (json!({"config": {"language": "pt"}}), "config.language"),
            (json!({"config": {"language": 7}}), "config.language"),
            (json!({"config": {"sound": "yes"}}), "config.sound"),
            (json!({"config": {"font": "f".repeat(200)}}), "config.font"),
            (
                json!({"config": {"email_blocklist": "mailinator.com"}}),
                "config.email_blocklist",
            ),
            (
                json!({"config": {"email_blocklist": ["ok.example", 3]}}),
                "config.email_blocklist[1]",
            ),
            (
                json!({"marketo": {"program_id": "1001"}}),
                "marketo.program_id",
            ),
            (json!({"marketo": {"program_id": 0}}), "marketo.program_id"),
            (
                json!({"marketo": {"program_status": 1}}),
                "marketo.program_status",
            ),
            (json!({"marketo": {"program": 1}}), "marketo.program"),
            (
                json!({"limits": {"site_per_minute": 1.5}}),
                "limits.site_per_minute",
            ),
            (
                json!({"limits": {"ip_per_minute": -1}}),
                "limits.ip_per_minute",
            ),
            (json!({"limits": 5}), "limits"),
            (json!({"extra<b>": 1}), "extrab"),
        ] {
            assert_eq!(field_of(parse("a", &body)), field, "{body}");
        }
    }
}
