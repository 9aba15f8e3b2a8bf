//! Marketo's answers: most errors come as HTTP 200 with `"success":false`; this module turns
//! an answer into what the forwarder does next.

use serde_json::Value;

/// What a failed call means for the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallError {
    /// 601/602: get a new token and retry once.
    Auth(String),
    /// 606/615: we went over a limit (should not happen); wait and retry.
    Limited(String),
    /// 607: daily quota reached; hold until it resets.
    Quota(String),
    /// 604/608/611/713, HTTP 5xx, timeouts, network: retry with backoff.
    Transient(String),
    /// 603/609/612/413/414 and anything unknown: a configuration or code problem; keep the
    /// data and retry slowly so an admin fix lets it through.
    Fatal(String),
}

impl CallError {
    /// Short text stored as `last_error`.
    pub fn text(&self) -> &str {
        match self {
            CallError::Auth(s)
            | CallError::Limited(s)
            | CallError::Quota(s)
            | CallError::Transient(s)
            | CallError::Fatal(s) => s,
        }
    }
}

/// Classifies an answer: `Ok(body)` when `success` is true.
pub fn classify(http_status: u16, body: &str) -> Result<Value, CallError> {
    if http_status >= 500 || http_status == 429 {
        return Err(CallError::Transient(format!("HTTP {http_status}")));
    }
    if http_status == 401 {
        return Err(CallError::Auth("HTTP 401".into()));
    }
    if http_status != 200 {
        return Err(CallError::Fatal(format!("HTTP {http_status}")));
    }
    let v: Value = serde_json::from_str(body)
        .map_err(|_| CallError::Transient("answer is not JSON".into()))?;
    if v.get("success").and_then(Value::as_bool) == Some(true) {
        return Ok(v);
    }
    let (code, msg) = v
        .get("errors")
        .and_then(Value::as_array)
        .and_then(|a| a.first())
        .map(|e| {
            let code = match e.get("code") {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Number(n)) => n.to_string(),
                _ => String::new(),
            };
            (
                code,
                e.get("message")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
            )
        })
        .unwrap_or_default();
    let text = format!("{code} {msg}")
        .chars()
        .take(300)
        .collect::<String>();
    Err(match code.as_str() {
        "601" | "602" => CallError::Auth(text),
        "606" | "615" => CallError::Limited(text),
        "607" => CallError::Quota(text),
        "604" | "608" | "611" | "713" => CallError::Transient(text),
        _ => CallError::Fatal(text),
    })
}

/// The outcome for one record of a batch call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordOutcome {
    /// created / updated (with the Marketo lead id when given).
    Done(Option<i64>),
    /// Rejected for good (1003 invalid value, 1006 unknown field, ...): a dead letter.
    Rejected { code: String, reason: String },
    /// No answer for this record: retry.
    Missing,
}

/// Per-record outcomes, in input order, of a successful batch answer with `n` inputs.
pub fn record_outcomes(body: &Value, n: usize) -> Vec<RecordOutcome> {
    let results = body
        .get("result")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    (0..n)
        .map(|i| match results.get(i) {
            None => RecordOutcome::Missing,
            Some(r) => {
                let status = r.get("status").and_then(Value::as_str).unwrap_or("");
                match status {
                    "created" | "updated" | "added" => RecordOutcome::Done(
                        r.get("id")
                            .or_else(|| r.get("leadId"))
                            .and_then(Value::as_i64),
                    ),
                    _ => {
                        let reason = r
                            .get("reasons")
                            .and_then(Value::as_array)
                            .and_then(|a| a.first());
                        let code = match reason.and_then(|x| x.get("code")) {
                            Some(Value::String(s)) => s.clone(),
                            Some(Value::Number(n)) => n.to_string(),
                            _ => "unknown".to_string(),
                        };
                        let msg = reason
                            .and_then(|x| x.get("message"))
                            .and_then(Value::as_str)
                            .unwrap_or(status);
                        RecordOutcome::Rejected {
                            code,
                            reason: msg.chars().take(500).collect(),
                        }
                    }
                }
            }
        })
        .collect()
}

/// An access token and when (ms) to stop using it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub value: String,
    pub refresh_at: i64,
}

/// Parses `/identity/oauth/token`; refreshes 60 s (or a tenth of the lifetime) before expiry.
pub fn parse_token(http_status: u16, body: &str, now: i64) -> Result<Token, CallError> {
    if http_status >= 500 {
        return Err(CallError::Transient(format!("token: HTTP {http_status}")));
    }
    let v: Value = serde_json::from_str(body)
        .map_err(|_| CallError::Transient("token answer is not JSON".into()))?;
    let value = v
        .get("access_token")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty());
    match value {
        Some(t) => {
            let ttl_s = v
                .get("expires_in")
                .and_then(Value::as_i64)
                .unwrap_or(3599)
                .max(1);
            let margin = (ttl_s / 10).min(60);
            Ok(Token {
                value: t.to_string(),
                refresh_at: now + (ttl_s - margin) * 1000,
            })
        }
        None => Err(CallError::Fatal(format!(
            "token: HTTP {http_status} {}",
            body.chars().take(200).collect::<String>()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn classifies_marketo_errors() {
        let e = |c: &str| {
            classify(
                200,
                &json!({"success":false,"errors":[{"code":c,"message":"m"}]}).to_string(),
            )
            .unwrap_err()
        };
        assert!(matches!(e("601"), CallError::Auth(_)));
        assert!(matches!(e("602"), CallError::Auth(_)));
        assert!(matches!(e("606"), CallError::Limited(_)));
        assert!(matches!(e("615"), CallError::Limited(_)));
        assert!(matches!(e("607"), CallError::Quota(_)));
        for c in ["604", "608", "611", "713"] {
            assert!(matches!(e(c), CallError::Transient(_)), "{c}");
        }
        assert!(matches!(e("603"), CallError::Fatal(_)));
        assert!(matches!(classify(503, ""), Err(CallError::Transient(_))));
        assert!(matches!(
            classify(200, "<html>"),
            Err(CallError::Transient(_))
        ));
        assert!(classify(200, r#"{"success":true,"result":[]}"#).is_ok());
    }

    #[test]
    fn per_record_results_in_order() {
        let b = json!({"success":true,"result":[{"id":1,"status":"created"},{"status":"skipped","reasons":[{"code":"1003","message":"bad email"}]},{"id":3,"status":"updated"}]});
        let o = record_outcomes(&b, 4);
        assert_eq!(o[0], RecordOutcome::Done(Some(1)));
        assert_eq!(
            o[1],
            RecordOutcome::Rejected {
                code: "1003".into(),
                reason: "bad email".into()
            }
        );
        assert_eq!(o[2], RecordOutcome::Done(Some(3)));
        assert_eq!(o[3], RecordOutcome::Missing);
    }

    #[test]
    fn token_refreshes_before_expiry() {
        let t = parse_token(200, r#"{"access_token":"abc","expires_in":3599}"#, 0).unwrap();
        assert_eq!(t.value, "abc");
        assert_eq!(t.refresh_at, (3599 - 60) * 1000);
        assert!(parse_token(200, r#"{"error":"invalid_client"}"#, 0).is_err());
    }
}
