//! A dialogue's audience compiled once ([`compile_audience`] -> [`CompiledAudience`]) and evaluated,
//! with the dynamic signals it waits for ([`Watch`]).

use super::cond::*;
use super::text::*;
use crate::diag::Diagnostic;
use crate::model::{Audience, Condition, Operator, Rule};
use serde::{Deserialize, Serialize};

/// A compiled all-of / any-of tree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct CompiledAudience {
    pub(super) all: Vec<Node>,
    pub(super) any: Vec<Node>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) enum Node {
    Cond(Cond),
    Group(CompiledAudience),
}

/// Dynamic signals the browser must watch so a rule can become true later.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Watch {
    /// Seconds-on-page thresholds used by rules, ascending.
    pub time_on_page_s: Vec<u32>,
    /// Scroll-depth thresholds (percent), ascending.
    pub scroll_depth_pct: Vec<u32>,
    /// A rule reads exit intent.
    pub exit_intent: bool,
}

impl Watch {
    pub(super) fn merge(&mut self, o: &Watch) {
        self.time_on_page_s.extend(&o.time_on_page_s);
        self.scroll_depth_pct.extend(&o.scroll_depth_pct);
        self.exit_intent |= o.exit_intent;
        sort_dedup(&mut self.time_on_page_s);
        sort_dedup(&mut self.scroll_depth_pct);
    }
    /// Nothing to watch.
    pub fn is_empty(&self) -> bool {
        self.time_on_page_s.is_empty() && self.scroll_depth_pct.is_empty() && !self.exit_intent
    }
}

/// Sorts ascending and drops repeats (`dedup` by hand: its generic body is 0.2 KB of wasm).
fn sort_dedup(v: &mut Vec<u32>) {
    insertion_sort_by(v, |a, b| a < b);
    let mut kept = 0;
    for r in 0..v.len() {
        let x = v[r];
        if kept == 0 || v[kept - 1] != x {
            v[kept] = x;
            kept += 1;
        }
    }
    v.truncate(kept);
}

pub(super) fn value_text(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) => Some(lower(s)),
        serde_json::Value::Number(n) => Some(match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => int_text(i128::from(i)),
            (None, Some(u)) => int_text(i128::from(u)),
            _ => num_text(n.as_f64().unwrap_or(f64::NAN)),
        }),
        serde_json::Value::Bool(b) => Some(if *b { "true" } else { "false" }.into()),
        _ => None,
    }
}

/// A condition's number; one that overflows to infinity (`"1e400"`) is not a number: it could not
/// be written back to the wire form (JSON has no infinity) and would decide differently there.
pub(super) fn value_number(v: &serde_json::Value, field: &FieldRef) -> Option<f64> {
    match v {
        serde_json::Value::Number(n) => n.as_f64(),
        serde_json::Value::String(s) if *field == FieldRef::LocalTime => parse_hhmm(s),
        serde_json::Value::String(s) => parse_num(s),
        _ => None,
    }
    .filter(|n| n.is_finite())
}

pub(super) fn compile_cond(
    c: &Condition,
    path: &str,
    answer: &dyn Fn(&str) -> Option<u16>,
    diags: &mut Vec<Diagnostic>,
) -> Option<Cond> {
    let field = match FieldRef::parse(&c.field, answer) {
        Ok(f) => f,
        Err(m) => {
            let code = if c.field.starts_with("answer.") {
                "unknown_card"
            } else {
                "unknown_field"
            };
            diags.push(Diagnostic::error(format!("{path}.field"), code, m));
            return None;
        }
    };
    let vpath = [path, ".value"].concat();
    let need = |diags: &mut Vec<Diagnostic>, what: &str| {
        diags.push(Diagnostic::error(
            vpath.clone(),
            "bad_value",
            ["operator `", op_name(c.op), "` needs ", what].concat(),
        ));
    };
    let v = c.value.as_ref();
    let text = v.and_then(value_text);
    let is_activity = matches!(field, FieldRef::Activity(_));
    if is_activity != (c.op == Operator::WithinDays)
        && !matches!(c.op, Operator::IsEmpty | Operator::IsNotEmpty)
    {
        diags.push(Diagnostic::error(
            [path, ".op"].concat(),
            "bad_operator",
            if is_activity {
                "an `activity.` field takes `within_days`, `is_empty` or `is_not_empty`"
            } else {
                "`within_days` applies to `activity.` fields only"
            },
        ));
        return None;
    }
    let test = match c.op {
        Operator::IsEmpty => Test::IsEmpty,
        Operator::IsNotEmpty => Test::IsNotEmpty,
        Operator::Is
        | Operator::IsNot
        | Operator::Contains
        | Operator::NotContains
        | Operator::StartsWith
        | Operator::Matches
        | Operator::NotMatches => {
            let Some(t) = text else {
                need(diags, "a text, number or boolean value");
                return None;
            };
            if field == FieldRef::Weekday
                && matches!(c.op, Operator::Is | Operator::IsNot)
                && !WEEKDAYS.contains(&t.as_str())
            {
                diags.push(Diagnostic::error(
                    vpath,
                    "bad_value",
                    "weekday must be one of mon, tue, wed, thu, fri, sat, sun",
                ));
                return None;
            }
            match c.op {
                Operator::Is => Test::Is(t),
                Operator::IsNot => Test::IsNot(t),
                Operator::Contains => Test::Contains(t),
                Operator::NotContains => Test::NotContains(t),
                Operator::StartsWith => Test::StartsWith(t),
                Operator::Matches => Test::Wild(Wildcard::new(&t), false),
                _ => Test::Wild(Wildcard::new(&t), true),
            }
        }
        Operator::GreaterThan | Operator::LessThan => {
            let Some(n) = v.and_then(|v| value_number(v, &field)) else {
                need(
                    diags,
                    if field == FieldRef::LocalTime {
                        "a time HH:MM"
                    } else {
                        "a number"
                    },
                );
                return None;
            };
            if c.op == Operator::GreaterThan {
                Test::Gt(n)
            } else {
                Test::Lt(n)
            }
        }
        Operator::Between => {
            let range = match v {
                Some(serde_json::Value::String(s)) => s.split_once('-').and_then(|(a, b)| {
                    let p = |x: &str| {
                        if field == FieldRef::LocalTime {
                            parse_hhmm(x)
                        } else {
                            parse_num(x)
                        }
                    };
                    Some((p(a)?, p(b)?))
                }),
                Some(serde_json::Value::Array(a)) if a.len() == 2 => {
                    match (value_number(&a[0], &field), value_number(&a[1], &field)) {
                        (Some(x), Some(y)) => Some((x, y)),
                        _ => None,
                    }
                }
                _ => None,
            };
            let Some((lo, hi)) = range else {
                need(diags, "a range like \"09:00-17:00\" or [lo, hi]");
                return None;
            };
            Test::Between(lo, hi)
        }
        Operator::WithinDays => match v.and_then(|v| value_number(v, &field)) {
            Some(n) if n >= 1.0 && n <= f64::from(MAX_ACTIVITY_DAYS) && n.fract() == 0.0 => {
                Test::WithinDays(n)
            }
            _ => {
                need(diags, "a whole number of days from 1 to 90");
                return None;
            }
        },
        Operator::InList => {
            let list = match v {
                Some(serde_json::Value::Array(a)) => {
                    a.iter().map(value_text).collect::<Option<Vec<_>>>()
                }
                Some(serde_json::Value::String(s)) => {
                    Some(s.split(',').map(|x| lower(x.trim())).collect())
                }
                _ => None,
            };
            match list {
                Some(l) if !l.is_empty() => Test::InList(l),
                _ => {
                    need(diags, "a non-empty list");
                    return None;
                }
            }
        }
    };
    if c.utc_offset_minutes
        .is_some_and(|o| !(-14 * 60..=14 * 60).contains(&o))
    {
        diags.push(Diagnostic::error(
            [path, ".utc_offset_minutes"].concat(),
            "bad_value",
            "UTC offset must be within ±14 hours",
        ));
        return None;
    }
    Some(Cond {
        field,
        test,
        offset: c.utc_offset_minutes,
    })
}

/// Deepest nesting of groups in an audience or a branch rule's `when` (the top-level object is 0,
/// a group in it 1). `compile` refuses deeper ones (`too_deep`) and the browser's targeting module
/// reads no deeper, so every audience that validates is one the browser can read.
pub const MAX_AUDIENCE_DEPTH: usize = 16;

/// Compiles an audience; `path` is the JSON path of the audience object. The authoring checks
/// (depth, exclusions in `any`) are [`audience_checks`], which `compile` runs beside this.
pub fn compile_audience(
    a: &Audience,
    path: &str,
    answer: &dyn Fn(&str) -> Option<u16>,
    diags: &mut Vec<Diagnostic>,
) -> CompiledAudience {
    let mut compile_list = |rules: &[Rule], key: &str| -> Vec<Node> {
        rules
            .iter()
            .enumerate()
            .filter_map(|(i, r)| {
                let p = [path, ".", key, "[", &int_text(i as i128), "]"].concat();
                match r {
                    Rule::Condition(c) => compile_cond(c, &p, answer, diags).map(Node::Cond),
                    Rule::Group(g) => Some(Node::Group(compile_audience(g, &p, answer, diags))),
                }
            })
            .collect()
    };
    let all = compile_list(&a.all, "all");
    let any = compile_list(&a.any, "any");
    CompiledAudience { all, any }
}

/// The authoring checks on an audience (or a branch rule's `when`), kept out of
/// [`compile_audience`] so the browser's targeting module does not carry them:
/// - a group nested deeper than [`MAX_AUDIENCE_DEPTH`] is an error (`too_deep`): the browser
///   reads no deeper, so a dialogue that validates is always one it can read;
/// - an exclusion (`is_not`, `not_contains`, `not_matches`) in an `any` of several entries gets a
///   warning (`exclusion_in_any`): it excludes nobody, since any other entry that holds lets the
///   visitor in; exclusions belong in `all`.
pub fn audience_checks(a: &Audience, path: &str, diags: &mut Vec<Diagnostic>) {
    check_at(a, path, diags, 0);
}

fn check_at(a: &Audience, path: &str, diags: &mut Vec<Diagnostic>, depth: usize) {
    for (key, rules) in [("all", &a.all), ("any", &a.any)] {
        for (i, r) in rules.iter().enumerate() {
            let p = format!("{path}.{key}[{i}]");
            match r {
                Rule::Condition(c)
                    if key == "any"
                        && rules.len() > 1
                        && matches!(
                            c.op,
                            Operator::IsNot | Operator::NotContains | Operator::NotMatches
                        ) =>
                {
                    diags.push(Diagnostic::warning(
                        p,
                        "exclusion_in_any",
                        "an exclusion inside `any` excludes nobody: another entry that holds lets the visitor in; put it in `all`",
                    ));
                }
                Rule::Condition(_) => {}
                Rule::Group(_) if depth >= MAX_AUDIENCE_DEPTH => diags.push(Diagnostic::error(
                    p,
                    "too_deep",
                    format!("groups nest at most {MAX_AUDIENCE_DEPTH} deep"),
                )),
                Rule::Group(g) => check_at(g, &p, diags, depth + 1),
            }
        }
    }
}

impl CompiledAudience {
    /// True when every `all` entry holds and, if `any` is non-empty, one of `any` holds.
    pub fn eval(&self, facts: &dyn Facts) -> bool {
        self.all.iter().all(|n| n.eval(facts))
            && (self.any.is_empty() || self.any.iter().any(|n| n.eval(facts)))
    }

    /// The dynamic signals this audience reads.
    pub fn watch(&self) -> Watch {
        let mut w = Watch::default();
        for n in self.all.iter().chain(&self.any) {
            match n {
                Node::Group(g) => w.merge(&g.watch()),
                Node::Cond(c) if c.field.is_dynamic() => {
                    let th = match &c.test {
                        Test::Gt(x) => Some(x.floor() as u32 + 1),
                        Test::Between(lo, _) => Some(lo.max(0.0) as u32),
                        Test::Is(s) => parse_num(s).map(|x| x as u32),
                        _ => None,
                    };
                    match c.field {
                        FieldRef::TimeOnPage => w.time_on_page_s.extend(th),
                        FieldRef::ScrollDepth => w.scroll_depth_pct.extend(th),
                        _ => w.exit_intent = true,
                    }
                }
                Node::Cond(_) => {}
            }
        }
        w.merge(&Watch::default());
        w
    }

    /// Number of conditions (for reports and benches).
    pub fn len(&self) -> usize {
        self.all
            .iter()
            .chain(&self.any)
            .map(|n| match n {
                Node::Cond(_) => 1,
                Node::Group(g) => g.len(),
            })
            .sum()
    }

    /// No conditions at all: matches everyone.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Node {
    fn eval(&self, facts: &dyn Facts) -> bool {
        match self {
            Node::Cond(c) => c.eval(facts),
            Node::Group(g) => g.eval(facts),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sort_dedup_is_sort_then_dedup() {
        let mut seed = 7u32;
        for len in 0..40 {
            let mut v: Vec<u32> = (0..len)
                .map(|_| {
                    seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                    (seed >> 16) % 9
                })
                .collect();
            let mut want = v.clone();
            want.sort_unstable();
            want.dedup();
            sort_dedup(&mut v);
            assert_eq!(v, want, "{len}");
        }
    }
}
