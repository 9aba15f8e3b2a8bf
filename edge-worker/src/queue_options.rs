//! A queue's rotation options as the admin sends them (`PUT queues/{id}`): `weights` and
//! `fairness`, read strictly (400 naming the field), in plain Rust with native tests.

use crate::error::ApiError;
use dynchat_scheduling::fair::MAX_WEIGHT;
use dynchat_scheduling::Fairness;
use serde_json::Value;
use std::collections::BTreeMap;

/// `weights`: an object of the queue's `agents` to whole numbers 1..=[`MAX_WEIGHT`]; `None`
/// when absent or null (the stored weights stay).
pub fn weights(body: &Value, agents: &[String]) -> Result<Option<BTreeMap<String, u32>>, ApiError> {
    let v = match body.get("weights") {
        None | Some(Value::Null) => return Ok(None),
        Some(v) => v,
    };
    let obj = v
        .as_object()
        .ok_or_else(|| ApiError::field("weights", "must be an object of agent ids to weights"))?;
    let mut out = BTreeMap::new();
    for (agent, w) in obj {
        if !agents.iter().any(|a| a == agent) {
            return Err(ApiError::field(
                format!("weights.{agent}"),
                "is not an agent of this queue",
            ));
        }
        let w = w
            .as_u64()
            .and_then(|w| u32::try_from(w).ok())
            .filter(|w| (1..=MAX_WEIGHT).contains(w))
            .ok_or_else(|| {
                ApiError::field(
                    format!("weights.{agent}"),
                    format!("must be a whole number from 1 to {MAX_WEIGHT}"),
                )
            })?;
        out.insert(agent.clone(), w);
    }
    Ok(Some(out))
}

/// `fairness`: `count_cancelled` and `count_no_show`, booleans, each left out counts; `None`
/// when absent or null (the stored options stay).
pub fn fairness(body: &Value) -> Result<Option<Fairness>, ApiError> {
    let v = match body.get("fairness") {
        None | Some(Value::Null) => return Ok(None),
        Some(v) => v,
    };
    let obj = v.as_object().ok_or_else(|| {
        ApiError::field(
            "fairness",
            "must be an object with count_cancelled and count_no_show",
        )
    })?;
    let mut f = Fairness::default();
    for (key, value) in obj {
        let flag = value
            .as_bool()
            .ok_or_else(|| ApiError::field(format!("fairness.{key}"), "must be true or false"))?;
        match key.as_str() {
            "count_cancelled" => f.count_cancelled = flag,
            "count_no_show" => f.count_no_show = flag,
            _ => {
                return Err(ApiError::field(
                    format!("fairness.{key}"),
                    "is not an option",
                ))
            }
        }
    }
    Ok(Some(f))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn field_of(e: ApiError) -> String {
        match e {
            ApiError::BadField { field, .. } => field,
            other => panic!("not a field error: {other}"),
        }
    }

    #[test]
    fn weights_table() {
        let agents = vec!["ana".to_string(), "ben".to_string()];
        assert_eq!(weights(&json!({}), &agents).ok(), Some(None));
        assert_eq!(weights(&json!({"weights": null}), &agents).ok(), Some(None));
        let ok = weights(&json!({"weights": {"ana": 2, "ben": 100}}), &agents);
        let want: BTreeMap<String, u32> = [("ana".into(), 2), ("ben".into(), 100)].into();
        assert_eq!(ok.ok(), Some(Some(want)));
        let bad = [
            (json!({"weights": [2, 1]}), "weights"),
            (json!({"weights": {"zed": 2}}), "weights.zed"),
            (json!({"weights": {"ana": 0}}), "weights.ana"),
            (json!({"weights": {"ana": 101}}), "weights.ana"),
            (json!({"weights": {"ana": 1.5}}), "weights.ana"),
            (json!({"weights": {"ana": "2"}}), "weights.ana"),
            (json!({"weights": {"ben": -1}}), "weights.ben"),
            (json!({"weights": {"ana": 4294967298u64}}), "weights.ana"),
        ];
        for (body, field) in bad {
            match weights(&body, &agents) {
                Err(e) => assert_eq!(field_of(e), field, "{body}"),
                Ok(w) => panic!("{body} accepted as {w:?}"),
            }
        }
    }

    #[test]
    fn fairness_table() {
        assert_eq!(fairness(&json!({})).ok(), Some(None));
        let f = fairness(&json!({"fairness": {"count_cancelled": false}}));
        assert_eq!(
            f.ok(),
            Some(Some(Fairness {
                count_cancelled: false,
                count_no_show: true
            }))
        );
        let f = fairness(&json!({"fairness": {"count_cancelled": true, "count_no_show": false}}));
        assert_eq!(
            f.ok(),
            Some(Some(Fairness {
                count_cancelled: true,
                count_no_show: false
            }))
        );
        let bad = [
            (json!({"fairness": true}), "fairness"),
            (
                json!({"fairness": {"count_cancelled": "no"}}),
                "fairness.count_cancelled",
            ),
            (
                json!({"fairness": {"count_late": false}}),
                "fairness.count_late",
            ),
        ];
        for (body, field) in bad {
            match fairness(&body) {
                Err(e) => assert_eq!(field_of(e), field, "{body}"),
                Ok(f) => panic!("{body} accepted as {f:?}"),
            }
        }
    }
}
