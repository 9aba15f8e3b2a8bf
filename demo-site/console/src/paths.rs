//! JSON paths as the engine's diagnostics write them (`$.cards[2].buttons[0].next`): parse, read,
//! write, remove and swap, so every editor field and every diagnostic meet on the same string.

use serde_json::{Map, Value};

/// One step of a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    Key(String),
    Index(usize),
}

/// Parses `$.a.b[2].c` (a leading `$` is optional).
pub fn parse(path: &str) -> Vec<Seg> {
    let mut out = Vec::new();
    for part in path
        .trim_start_matches('$')
        .split('.')
        .filter(|p| !p.is_empty())
    {
        let mut rest = part;
        if let Some(i) = rest.find('[') {
            if i > 0 {
                out.push(Seg::Key(rest[..i].to_string()));
            }
            rest = &rest[i..];
            while let Some(stripped) = rest.strip_prefix('[') {
                let Some(end) = stripped.find(']') else { break };
                if let Ok(n) = stripped[..end].parse() {
                    out.push(Seg::Index(n));
                }
                rest = &stripped[end + 1..];
            }
        } else {
            out.push(Seg::Key(rest.to_string()));
        }
    }
    out
}

/// The value at a path.
pub fn get<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    parse(path).iter().try_fold(v, |cur, s| match s {
        Seg::Key(k) => cur.get(k),
        Seg::Index(i) => cur.get(*i),
    })
}

/// Text at a path ("" when absent; numbers and booleans as JSON).
pub fn text(v: &Value, path: &str) -> String {
    match get(v, path) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

/// Writes `new` at a path, creating objects on the way; `None` removes the key.
pub fn set(v: &mut Value, path: &str, new: Option<Value>) {
    let segs = parse(path);
    let Some((last, parents)) = segs.split_last() else {
        if let Some(n) = new {
            *v = n;
        }
        return;
    };
    let mut cur = v;
    for s in parents {
        cur = match s {
            Seg::Key(k) => {
                if !cur.is_object() {
                    *cur = Value::Object(Map::new());
                }
                match cur.as_object_mut() {
                    Some(o) => o.entry(k.clone()).or_insert(Value::Null),
                    None => return,
                }
            }
            Seg::Index(i) => match cur.get_mut(*i) {
                Some(x) => x,
                None => return,
            },
        };
    }
    match (last, new) {
        (Seg::Key(k), Some(n)) => {
            if !cur.is_object() {
                *cur = Value::Object(Map::new());
            }
            if let Some(o) = cur.as_object_mut() {
                o.insert(k.clone(), n);
            }
        }
        (Seg::Key(k), None) => {
            if let Some(o) = cur.as_object_mut() {
                o.remove(k);
            }
        }
        (Seg::Index(i), Some(n)) => {
            if let Some(x) = cur.get_mut(*i) {
                *x = n;
            }
        }
        (Seg::Index(i), None) => {
            if let Some(a) = cur.as_array_mut() {
                if *i < a.len() {
                    a.remove(*i);
                }
            }
        }
    }
}

/// Appends to the array at a path (creating it).
pub fn push(v: &mut Value, path: &str, item: Value) {
    if !get(v, path).is_some_and(Value::is_array) {
        set(v, path, Some(Value::Array(Vec::new())));
    }
    let segs = parse(path);
    let mut cur = v;
    for s in &segs {
        cur = match s {
            Seg::Key(k) => match cur.get_mut(k.as_str()) {
                Some(x) => x,
                None => return,
            },
            Seg::Index(i) => match cur.get_mut(*i) {
                Some(x) => x,
                None => return,
            },
        };
    }
    if let Some(a) = cur.as_array_mut() {
        a.push(item);
    }
}

/// Moves the array element at `path` (ending in `[i]`) by `delta`; returns the new path.
pub fn shift(v: &mut Value, path: &str, delta: i64) -> Option<String> {
    let segs = parse(path);
    let (Seg::Index(i), _) = segs.split_last()? else {
        return None;
    };
    let i = *i;
    let parent = &path[..path.rfind('[')?];
    let len = get(v, parent)?.as_array()?.len();
    let j = i as i64 + delta;
    if j < 0 || j as usize >= len {
        return None;
    }
    let a = get_mut(v, parent)?.as_array_mut()?;
    a.swap(i, j as usize);
    Some(format!("{parent}[{j}]"))
}

fn get_mut<'a>(v: &'a mut Value, path: &str) -> Option<&'a mut Value> {
    parse(path).iter().try_fold(v, |cur, s| match s {
        Seg::Key(k) => cur.get_mut(k.as_str()),
        Seg::Index(i) => cur.get_mut(*i),
    })
}

/// The nearest ancestor path (`$.cards[2].next` -> `$.cards[2]` -> `$.cards` -> `$`).
pub fn parent(path: &str) -> Option<&str> {
    if path == "$" || path.is_empty() {
        return None;
    }
    let cut = path.rfind(['.', '['])?;
    Some(if cut == 0 { "$" } else { &path[..cut] })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parse_get_set_remove() {
        let mut v = json!({"cards": [{"id": "a", "buttons": [{"label": "x"}]}]});
        assert_eq!(
            parse("$.cards[0].buttons[0].label"),
            vec![
                Seg::Key("cards".into()),
                Seg::Index(0),
                Seg::Key("buttons".into()),
                Seg::Index(0),
                Seg::Key("label".into())
            ]
        );
        assert_eq!(text(&v, "$.cards[0].buttons[0].label"), "x");
        set(&mut v, "$.cards[0].next", Some(json!("b")));
        set(&mut v, "$.audience.all", Some(json!([])));
        push(&mut v, "$.audience.all", json!({"field": "page.url"}));
        assert_eq!(v["cards"][0]["next"], "b");
        assert_eq!(v["audience"]["all"][0]["field"], "page.url");
        set(&mut v, "$.cards[0].next", None);
        assert!(v["cards"][0].get("next").is_none());
        set(&mut v, "$.cards[0].buttons[0]", None);
        assert_eq!(v["cards"][0]["buttons"], json!([]));
    }

    #[test]
    fn shift_moves_within_bounds_only() {
        let mut v = json!({"cards": [1, 2, 3]});
        assert_eq!(
            shift(&mut v, "$.cards[0]", 1).as_deref(),
            Some("$.cards[1]")
        );
        assert_eq!(v["cards"], json!([2, 1, 3]));
        assert_eq!(shift(&mut v, "$.cards[0]", -1), None);
        assert_eq!(shift(&mut v, "$.cards[2]", 1), None);
    }

    #[test]
    fn parents_walk_up() {
        assert_eq!(parent("$.cards[2].next"), Some("$.cards[2]"));
        assert_eq!(parent("$.cards[2]"), Some("$.cards"));
        assert_eq!(parent("$.cards"), Some("$"));
        assert_eq!(parent("$"), None);
    }
}
