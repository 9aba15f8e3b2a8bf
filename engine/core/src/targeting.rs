//! Audience targeting: compiles rules once, evaluates them against a prepared page/visitor context, picks a dialogue.

use crate::diag::Diagnostic;
use crate::model::{Audience, Condition, Display, Operator, Rule};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// What a condition reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum FieldRef {
    /// Full URL.
    Url,
    /// URL path.
    Path,
    /// Document title.
    Title,
    /// Referrer URL.
    Referrer,
    /// A query parameter (lower-cased name); `page.utm.x` is `utm_x`.
    Query(String),
    /// Seconds on the page (dynamic).
    TimeOnPage,
    /// Scroll depth in percent (dynamic).
    ScrollDepth,
    /// Visits to the site, this one included.
    Visits,
    /// The pointer left towards the browser chrome (dynamic).
    ExitIntent,
    /// `desktop`, `tablet` or `mobile`.
    Device,
    /// ISO country code from the edge.
    Country,
    /// Minutes since local midnight.
    LocalTime,
    /// `mon` .. `sun`.
    Weekday,
    /// A lead field (lower-cased).
    Lead(String),
    /// A company field (lower-cased).
    Company(String),
    /// An answer in the running conversation (card index); branches only.
    Answer(u16),
}

impl FieldRef {
    /// Parses `page.url`, `lead.FirstName`, ...; `answer` ids are resolved by `answer`.
    pub fn parse(s: &str, answer: &dyn Fn(&str) -> Option<u16>) -> Result<FieldRef, String> {
        let (ns, name) = s.split_once('.').ok_or_else(|| {
            format!("field `{s}` needs a namespace: page., lead., company. or answer.")
        })?;
        let lname = name.trim().to_ascii_lowercase();
        if lname.is_empty() {
            return Err(format!("field `{s}` has no name after the dot"));
        }
        Ok(match ns {
            "page" => match lname.as_str() {
                "url" => FieldRef::Url,
                "path" => FieldRef::Path,
                "title" => FieldRef::Title,
                "referrer" => FieldRef::Referrer,
                "time_on_page" => FieldRef::TimeOnPage,
                "scroll_depth" => FieldRef::ScrollDepth,
                "visits" => FieldRef::Visits,
                "exit_intent" => FieldRef::ExitIntent,
                "device" => FieldRef::Device,
                "country" => FieldRef::Country,
                "local_time" => FieldRef::LocalTime,
                "weekday" => FieldRef::Weekday,
                other => {
                    if let Some(q) = other.strip_prefix("query.") {
                        FieldRef::Query(q.to_string())
                    } else if let Some(u) = other.strip_prefix("utm.") {
                        FieldRef::Query(format!("utm_{u}"))
                    } else {
                        return Err(format!("unknown page field `{name}`"));
                    }
                }
            },
            "lead" => FieldRef::Lead(lname),
            "company" => FieldRef::Company(lname),
            "answer" => match answer(name.trim()) {
                Some(i) => FieldRef::Answer(i),
                None => return Err(format!("`answer.{name}` names no question or capture card")),
            },
            other => {
                return Err(format!(
                    "unknown namespace `{other}` (use page, lead, company or answer)"
                ))
            }
        })
    }

    fn is_dynamic(&self) -> bool {
        matches!(
            self,
            FieldRef::TimeOnPage | FieldRef::ScrollDepth | FieldRef::ExitIntent
        )
    }
}

/// A wildcard pattern (`*` any run, `?` one character), lower-cased.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Wildcard {
    pattern: String,
}

impl Wildcard {
    /// Prepares a pattern.
    pub fn new(p: &str) -> Self {
        Wildcard { pattern: lower(p) }
    }

    /// Whole-string match of an already lower-cased subject.
    pub fn matches(&self, s: &str) -> bool {
        let p = self.pattern.as_str();
        if !p.contains('?') {
            return star_match(p, s);
        }
        let pc: Vec<char> = p.chars().collect();
        let sc: Vec<char> = s.chars().collect();
        let (mut i, mut j) = (0usize, 0usize);
        let mut star: Option<(usize, usize)> = None;
        while j < sc.len() {
            if i < pc.len() && (pc[i] == '?' || pc[i] == sc[j]) {
                i += 1;
                j += 1;
            } else if i < pc.len() && pc[i] == '*' {
                star = Some((i, j));
                i += 1;
            } else if let Some((si, sj)) = star {
                i = si + 1;
                j = sj + 1;
                star = Some((si, sj + 1));
            } else {
                return false;
            }
        }
        pc[i..].iter().all(|&c| c == '*')
    }
}

/// Byte-wise substring search: both sides are UTF-8, so a match starts on a character boundary.
/// (Plain loops instead of `str::find`'s two-way searcher keep the browser's wasm small; rule
/// operands and page texts are short.)
pub fn find_str(hay: &str, needle: &str) -> Option<usize> {
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    if n.is_empty() {
        return Some(0);
    }
    if n.len() > h.len() {
        return None;
    }
    (0..=h.len() - n.len()).find(|&i| &h[i..i + n.len()] == n)
}

/// Stable insertion sort (few elements; much less code than the standard sorts).
fn insertion_sort_by<T>(v: &mut [T], less: impl Fn(&T, &T) -> bool) {
    for i in 1..v.len() {
        let mut j = i;
        while j > 0 && less(&v[j], &v[j - 1]) {
            v.swap(j, j - 1);
            j -= 1;
        }
    }
}

/// `*`-only matching by segments: prefix, middles found in order, suffix.
fn star_match(p: &str, s: &str) -> bool {
    let mut parts = p.split('*');
    let first = parts.next().unwrap_or("");
    if !p.contains('*') {
        return p == s;
    }
    let Some(mut rest) = s.strip_prefix(first) else {
        return false;
    };
    let segs: Vec<&str> = parts.collect();
    let (last, middles) = match segs.split_last() {
        Some((l, m)) => (*l, m),
        None => ("", &[][..]),
    };
    for m in middles {
        if m.is_empty() {
            continue;
        }
        match find_str(rest, m) {
            Some(at) => rest = &rest[at + m.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

/// A compiled test on one value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Test {
    /// Text equals (lower-cased operand).
    Is(String),
    /// Text differs.
    IsNot(String),
    /// Text contains.
    Contains(String),
    /// Text does not contain.
    NotContains(String),
    /// Text starts with.
    StartsWith(String),
    /// Missing or blank.
    IsEmpty,
    /// Present and not blank.
    IsNotEmpty,
    /// Number greater than.
    Gt(f64),
    /// Number less than.
    Lt(f64),
    /// Number in `[lo, hi)`; wraps when `lo > hi` (times past midnight).
    Between(f64, f64),
    /// Equal to one of.
    InList(Vec<String>),
    /// Wildcard (negated when the flag is true).
    Wild(Wildcard, bool),
}

/// One compiled condition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cond {
    /// What is read.
    pub field: FieldRef,
    /// How it is tested.
    pub test: Test,
    /// Local-time offset override.
    pub offset: Option<i32>,
}

/// A compiled all-of / any-of tree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct CompiledAudience {
    all: Vec<Node>,
    any: Vec<Node>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum Node {
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
    fn merge(&mut self, o: &Watch) {
        self.time_on_page_s.extend(&o.time_on_page_s);
        self.scroll_depth_pct.extend(&o.scroll_depth_pct);
        self.exit_intent |= o.exit_intent;
        insertion_sort_by(&mut self.time_on_page_s, |a, b| a < b);
        self.time_on_page_s.dedup();
        insertion_sort_by(&mut self.scroll_depth_pct, |a, b| a < b);
        self.scroll_depth_pct.dedup();
    }
    /// Nothing to watch.
    pub fn is_empty(&self) -> bool {
        self.time_on_page_s.is_empty() && self.scroll_depth_pct.is_empty() && !self.exit_intent
    }
}

/// Parses `HH:MM` into minutes since midnight.
pub fn parse_hhmm(s: &str) -> Option<f64> {
    let (h, m) = s.trim().split_once(':')?;
    let h = parse_uint(h)?;
    let m = parse_uint(m)?;
    (h < 24 && m < 60).then_some((h * 60 + m) as f64)
}

/// Digits only (an optional leading `+`, as `u32::from_str` accepts), at most 9 of them.
fn parse_uint(s: &str) -> Option<u32> {
    let d = s.strip_prefix('+').unwrap_or(s);
    if d.is_empty() || d.len() > 9 || !d.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(d.bytes().fold(0, |n, b| n * 10 + u32::from(b - b'0')))
}

/// Parses a decimal number (`-12`, `3.5`, `.5`, `1e3`, surrounding whitespace allowed) without
/// the standard library's float parser, which would add tens of KB to the browser's wasm.
/// Up to 19 significant digits are exact; `inf`/`nan` are not numbers here.
pub fn parse_num(s: &str) -> Option<f64> {
    let b = s.trim().as_bytes();
    let (neg, mut i) = match b.first() {
        Some(b'-') => (true, 1),
        Some(b'+') => (false, 1),
        _ => (false, 0),
    };
    let (mut mant, mut exp, mut digits, mut sig) = (0u64, 0i32, 0usize, 0usize);
    let mut seen_dot = false;
    while i < b.len() {
        match b[i] {
            c @ b'0'..=b'9' => {
                digits += 1;
                if sig < 19 {
                    if mant > 0 || c != b'0' {
                        sig += 1;
                    }
                    mant = mant * 10 + u64::from(c - b'0');
                    if seen_dot {
                        exp -= 1;
                    }
                } else if !seen_dot {
                    exp += 1;
                }
            }
            b'.' if !seen_dot => seen_dot = true,
            _ => break,
        }
        i += 1;
    }
    if digits == 0 {
        return None;
    }
    if i < b.len() {
        if b[i] != b'e' && b[i] != b'E' {
            return None;
        }
        i += 1;
        let eneg = match b.get(i) {
            Some(b'-') => {
                i += 1;
                true
            }
            Some(b'+') => {
                i += 1;
                false
            }
            _ => false,
        };
        let start = i;
        let mut e = 0i32;
        while i < b.len() && b[i].is_ascii_digit() {
            e = (e * 10 + i32::from(b[i] - b'0')).min(10_000);
            i += 1;
        }
        if i == start || i < b.len() {
            return None;
        }
        exp += if eneg { -e } else { e };
    }
    let mut v = mant as f64;
    // Dividing by an exact power of ten (up to 1e22) is correctly rounded; beyond that, step.
    while exp < 0 {
        let k = (-exp).min(22);
        v /= POW10[k as usize];
        exp += k;
    }
    while exp > 0 && v.is_finite() {
        let k = exp.min(22);
        v *= POW10[k as usize];
        exp -= k;
    }
    Some(if neg { -v } else { v })
}

const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// Decimal text of an integer, without `core::fmt`.
pub fn int_text(n: i128) -> String {
    let mut buf = [0u8; 40];
    let mut i = buf.len();
    let mut m = n.unsigned_abs();
    loop {
        i -= 1;
        buf[i] = b'0' + (m % 10) as u8;
        m /= 10;
        if m == 0 {
            break;
        }
    }
    if n < 0 {
        i -= 1;
        buf[i] = b'-';
    }
    buf[i..].iter().map(|&b| char::from(b)).collect()
}

/// Text of a number as rules compare it: integers without a fraction (`3`), others with the
/// fewest decimals (up to 9) that give the same value back (`2.5`, `0.1`).
pub fn num_text(n: f64) -> String {
    if !n.is_finite() {
        return if n.is_nan() {
            "NaN".into()
        } else if n > 0.0 {
            "inf".into()
        } else {
            "-inf".into()
        };
    }
    if n.fract() == 0.0 && n.abs() < 1e38 {
        return int_text(n as i128);
    }
    let mut k = 1;
    let mut scaled = (n * 10.0).round();
    while k < 9 && scaled / POW10[k] != n {
        k += 1;
        scaled = (n * POW10[k]).round();
    }
    let digits = int_text((scaled as i128).abs());
    let digits = if digits.len() <= k {
        let mut z = "0".repeat(k + 1 - digits.len());
        z.push_str(&digits);
        z
    } else {
        digits
    };
    let (int, frac) = digits.split_at(digits.len() - k);
    let frac = frac.trim_end_matches('0');
    let mut out = String::with_capacity(digits.len() + 2);
    if n < 0.0 {
        out.push('-');
    }
    out.push_str(int);
    if !frac.is_empty() {
        out.push('.');
        out.push_str(frac);
    }
    out
}

/// Lower-cases text the way rules compare it. With the `unicode` feature (default): full Unicode
/// (`str::to_lowercase`). Without it (the browser's targeting module, to leave out the Unicode case
/// tables): ASCII, Latin-1, Latin Extended-A, Greek and Cyrillic; the host lower-cases page text
/// itself (JavaScript `toLowerCase`) before handing it over.
pub fn lower(s: &str) -> String {
    #[cfg(feature = "unicode")]
    {
        s.to_lowercase()
    }
    #[cfg(not(feature = "unicode"))]
    {
        if s.is_ascii() {
            s.to_ascii_lowercase()
        } else {
            s.chars().map(fold_char).collect()
        }
    }
}

/// The small case fold used without the `unicode` feature.
#[cfg(any(not(feature = "unicode"), test))]
pub(crate) fn fold_char(c: char) -> char {
    let u = c as u32;
    let l = match u {
        0x41..=0x5A | 0xC0..=0xD6 | 0xD8..=0xDE | 0x391..=0x3A1 | 0x3A3..=0x3AB | 0x410..=0x42F => {
            u + 0x20
        }
        0x400..=0x40F => u + 0x50,
        0x386 => 0x3AC,
        0x388..=0x38A => u + 37,
        0x38C => 0x3CC,
        0x38E | 0x38F => u + 63,
        0x178 => 0xFF,
        0x130 => 0x69,
        0x100..=0x137 | 0x14A..=0x177 if u % 2 == 0 => u + 1,
        0x139..=0x148 | 0x179..=0x17E if u % 2 == 1 => u + 1,
        _ => u,
    };
    char::from_u32(l).unwrap_or(c)
}

const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

fn value_text(v: &serde_json::Value) -> Option<String> {
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

fn value_number(v: &serde_json::Value, field: &FieldRef) -> Option<f64> {
    match v {
        serde_json::Value::Number(n) => n.as_f64(),
        serde_json::Value::String(s) if *field == FieldRef::LocalTime => parse_hhmm(s),
        serde_json::Value::String(s) => parse_num(s),
        _ => None,
    }
}

fn compile_cond(
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

/// Compiles an audience; `path` is the JSON path of the audience object.
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

/// A field value as read from the facts.
#[derive(Debug, Clone, Copy)]
pub enum Val<'a> {
    /// Text, already lower-cased.
    Text(&'a str),
    /// A number.
    Num(f64),
    /// A boolean.
    Bool(bool),
    /// Unknown.
    Missing,
}

/// Anything conditions can read: a page context, a conversation, or both.
pub trait Facts {
    /// The value of a field (lower-cased text).
    fn get(&self, f: &FieldRef, offset: Option<i32>) -> Val<'_>;
}

impl Cond {
    /// Evaluates against facts.
    pub fn eval(&self, facts: &dyn Facts) -> bool {
        let v = facts.get(&self.field, self.offset);
        let buf;
        let text: Option<&str> = match v {
            Val::Text(t) => Some(t),
            Val::Num(n) => {
                buf = num_text(n);
                Some(&buf)
            }
            Val::Bool(b) => Some(if b { "true" } else { "false" }),
            Val::Missing => None,
        };
        let num = || match v {
            Val::Num(n) => Some(n),
            Val::Text(t) => parse_num(t),
            Val::Bool(b) => Some(if b { 1.0 } else { 0.0 }),
            Val::Missing => None,
        };
        match &self.test {
            Test::IsEmpty => text.is_none_or(|t| t.trim().is_empty()),
            Test::IsNotEmpty => text.is_some_and(|t| !t.trim().is_empty()),
            Test::Is(x) => text == Some(x.as_str()),
            Test::IsNot(x) => text != Some(x.as_str()),
            Test::Contains(x) => text.is_some_and(|t| find_str(t, x).is_some()),
            Test::NotContains(x) => text.is_none_or(|t| find_str(t, x).is_none()),
            Test::StartsWith(x) => text.is_some_and(|t| t.starts_with(x.as_str())),
            Test::InList(l) => text.is_some_and(|t| l.iter().any(|x| x == t)),
            Test::Wild(w, neg) => {
                let m = text.is_some_and(|t| {
                    w.matches(t)
                        || (self.field == FieldRef::Url || self.field == FieldRef::Referrer)
                            && strip_scheme(t).is_some_and(|s| w.matches(s))
                });
                m != *neg
            }
            Test::Gt(x) => num().is_some_and(|n| n > *x),
            Test::Lt(x) => num().is_some_and(|n| n < *x),
            Test::Between(lo, hi) => num().is_some_and(|n| {
                if lo <= hi {
                    n >= *lo && n < *hi
                } else {
                    n >= *lo || n < *hi
                }
            }),
        }
    }
}

fn strip_scheme(u: &str) -> Option<&str> {
    find_str(u, "://").map(|i| &u[i + 3..])
}

/// The operator's name in messages (lower-cased variant name, as the messages always said).
fn op_name(op: Operator) -> &'static str {
    match op {
        Operator::Is => "is",
        Operator::IsNot => "isnot",
        Operator::Contains => "contains",
        Operator::NotContains => "notcontains",
        Operator::StartsWith => "startswith",
        Operator::IsEmpty => "isempty",
        Operator::IsNotEmpty => "isnotempty",
        Operator::GreaterThan => "greaterthan",
        Operator::LessThan => "lessthan",
        Operator::InList => "inlist",
        Operator::Matches => "matches",
        Operator::NotMatches => "notmatches",
        Operator::Between => "between",
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

/// What the browser knows about the page and the visitor, as sent by the host.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct PageInput {
    /// Full URL.
    pub url: String,
    /// Document title.
    pub title: String,
    /// Referrer.
    pub referrer: String,
    /// Seconds on page.
    pub time_on_page_s: u32,
    /// Scroll depth percent.
    pub scroll_depth_pct: u32,
    /// Visits including this one.
    pub visits: u32,
    /// Exit intent seen.
    pub exit_intent: bool,
    /// `desktop` / `tablet` / `mobile`.
    pub device: String,
    /// ISO country from the edge.
    pub country: String,
    /// Current instant, ms since the Unix epoch (UTC).
    pub now_ms: i64,
    /// Visitor's offset from UTC in minutes (local = UTC + offset).
    pub tz_offset_minutes: i32,
    /// Known lead fields.
    pub lead: HashMap<String, String>,
    /// Known company fields.
    pub company: HashMap<String, String>,
}

/// A prepared context: lower-cased once, query parsed once, so many rules evaluate cheaply.
#[derive(Debug, Clone, Default)]
pub struct Context {
    url: String,
    path: String,
    title: String,
    referrer: String,
    query: Vec<(String, String)>,
    time_on_page_s: u32,
    scroll_depth_pct: u32,
    visits: u32,
    exit_intent: bool,
    device: String,
    country: String,
    now_ms: i64,
    tz_offset_minutes: i32,
    // Few fields: a list (looked up by name) costs less wasm than a hash map.
    lead: Vec<(String, String)>,
    company: Vec<(String, String)>,
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                let hex = std::str::from_utf8(&b[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(v) => {
                        out.push(v);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl Context {
    /// Prepares a context from what the browser sent.
    pub fn new(p: PageInput) -> Self {
        let url = lower(&p.url);
        let no_frag = p.url.split('#').next().unwrap_or("");
        let (before_q, q) = no_frag.split_once('?').unwrap_or((no_frag, ""));
        let path = match find_str(before_q, "://").map(|i| &before_q[i + 3..]) {
            Some(rest) => rest.find('/').map(|i| &rest[i..]).unwrap_or("/"),
            None => before_q,
        };
        let path = lower(path);
        let query = q
            .split('&')
            .filter(|kv| !kv.is_empty())
            .map(|kv| {
                let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                (lower(&percent_decode(k)), lower(&percent_decode(v)))
            })
            .collect();
        let lower_map = |m: HashMap<String, String>| person(m.into_iter().collect());
        Context {
            url,
            path,
            title: lower(&p.title),
            referrer: lower(&p.referrer),
            query,
            time_on_page_s: p.time_on_page_s,
            scroll_depth_pct: p.scroll_depth_pct,
            visits: p.visits,
            exit_intent: p.exit_intent,
            device: lower(&p.device),
            country: lower(&p.country),
            now_ms: p.now_ms,
            tz_offset_minutes: p.tz_offset_minutes,
            lead: lower_map(p.lead),
            company: lower_map(p.company),
        }
    }

    /// Replaces the known lead and company fields (`(name, value)`; names and values are lower-cased
    /// here). Same as passing them in `PageInput`, without building hash maps.
    pub fn set_person(&mut self, lead: Vec<(String, String)>, company: Vec<(String, String)>) {
        self.lead = person(lead);
        self.company = person(company);
    }

    /// Updates the dynamic signals without re-preparing the rest.
    pub fn set_dynamic(
        &mut self,
        time_on_page_s: u32,
        scroll_depth_pct: u32,
        exit_intent: bool,
        now_ms: i64,
    ) {
        self.time_on_page_s = time_on_page_s;
        self.scroll_depth_pct = scroll_depth_pct;
        self.exit_intent = exit_intent;
        self.now_ms = now_ms;
    }

    fn local(&self, offset: Option<i32>) -> i64 {
        self.now_ms + i64::from(offset.unwrap_or(self.tz_offset_minutes)) * 60_000
    }
}

fn person(mut m: Vec<(String, String)>) -> Vec<(String, String)> {
    for (k, v) in m.iter_mut() {
        k.make_ascii_lowercase();
        *v = lower(v);
    }
    m
}

fn field<'a>(m: &'a [(String, String)], k: &str) -> Val<'a> {
    m.iter()
        .find(|(n, _)| n == k)
        .map_or(Val::Missing, |(_, v)| Val::Text(v))
}

/// Minutes since local midnight for a local-time instant (ms).
pub fn minute_of_day(local_ms: i64) -> i64 {
    local_ms.div_euclid(60_000).rem_euclid(1440)
}

/// Monday = 0 .. Sunday = 6 for a local-time instant (ms). 1970-01-01 was a Thursday.
pub fn weekday_index(local_ms: i64) -> usize {
    (local_ms.div_euclid(86_400_000) + 3).rem_euclid(7) as usize
}

impl Facts for Context {
    fn get(&self, f: &FieldRef, offset: Option<i32>) -> Val<'_> {
        fn t(s: &str) -> Val<'_> {
            if s.is_empty() {
                Val::Missing
            } else {
                Val::Text(s)
            }
        }
        match f {
            FieldRef::Url => t(&self.url),
            FieldRef::Path => t(&self.path),
            FieldRef::Title => t(&self.title),
            FieldRef::Referrer => t(&self.referrer),
            FieldRef::Query(k) => self
                .query
                .iter()
                .find(|(n, _)| n == k)
                .map_or(Val::Missing, |(_, v)| Val::Text(v)),
            FieldRef::TimeOnPage => Val::Num(self.time_on_page_s as f64),
            FieldRef::ScrollDepth => Val::Num(self.scroll_depth_pct as f64),
            FieldRef::Visits => Val::Num(self.visits as f64),
            FieldRef::ExitIntent => Val::Bool(self.exit_intent),
            FieldRef::Device => t(&self.device),
            FieldRef::Country => t(&self.country),
            FieldRef::LocalTime => Val::Num(minute_of_day(self.local(offset)) as f64),
            FieldRef::Weekday => Val::Text(WEEKDAYS[weekday_index(self.local(offset))]),
            FieldRef::Lead(k) => field(&self.lead, k),
            FieldRef::Company(k) => field(&self.company, k),
            FieldRef::Answer(_) => Val::Missing,
        }
    }
}

/// What one visitor has seen of one dialogue (kept by the host, in storage when consent allows).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Seen {
    /// Times shown.
    pub shown: u32,
    /// Last shown, ms since epoch.
    pub last_shown_ms: Option<i64>,
    /// Completed at least once.
    pub completed: bool,
}

/// One dialogue as a targeting candidate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    /// Dialogue id.
    pub id: String,
    /// Priority (higher first).
    pub priority: i32,
    /// Compiled audience.
    pub audience: CompiledAudience,
    /// Frequency settings.
    pub display: Display,
}

/// All of a site's candidates, sorted once by priority (stable on authoring order).
#[derive(Debug, Clone, Default)]
pub struct Targeting {
    candidates: Vec<Candidate>,
    watches: Vec<Watch>,
}

/// The outcome of one selection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Selection {
    /// The dialogue to show now, if any.
    pub dialogue: Option<String>,
    /// What to watch so that a better dialogue may match later.
    pub watch: Watch,
}

impl Targeting {
    /// Sorts candidates by priority, highest first; equal priorities keep their order.
    pub fn new(mut candidates: Vec<Candidate>) -> Self {
        insertion_sort_by(&mut candidates, |a, b| a.priority > b.priority);
        let watches = candidates.iter().map(|c| c.audience.watch()).collect();
        Targeting {
            candidates,
            watches,
        }
    }

    /// Candidates in evaluation order.
    pub fn candidates(&self) -> &[Candidate] {
        &self.candidates
    }

    /// Picks the highest-priority dialogue whose audience matches and whose frequency rules allow it.
    pub fn select(&self, ctx: &Context, seen: &dyn Fn(&str) -> Option<Seen>) -> Selection {
        let mut watch = Watch::default();
        for (c, w) in self.candidates.iter().zip(&self.watches) {
            if let Some(s) = seen(&c.id) {
                if (s.completed && c.display.hide_after_completion)
                    || c.display.max_times.is_some_and(|m| s.shown >= m)
                    || c.display
                        .min_interval_minutes
                        .zip(s.last_shown_ms)
                        .is_some_and(|(min, last)| {
                            ctx.now_ms.saturating_sub(last) < i64::from(min) * 60_000
                        })
                {
                    continue;
                }
            }
            if c.audience.eval(ctx) {
                return Selection {
                    dialogue: Some(c.id.clone()),
                    watch,
                };
            }
            if !w.is_empty() {
                watch.merge(w);
            }
        }
        Selection {
            dialogue: None,
            watch,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_fold_agrees_with_unicode_where_it_folds() {
        for u in 0u32..0x600 {
            let Some(c) = char::from_u32(u) else { continue };
            let f = fold_char(c);
            if f != c && u != 0x130 {
                assert_eq!(
                    c.to_lowercase().collect::<String>(),
                    f.to_string(),
                    "U+{u:04X}"
                );
            }
        }
        let folded = (0u32..0x600)
            .filter_map(char::from_u32)
            .filter(|&c| fold_char(c) != c)
            .count();
        assert!(folded >= 190, "{folded}");
    }

    #[test]
    fn numbers_without_std_float_text() {
        for (s, want) in [
            ("3", Some(3.0)),
            (" -12 ", Some(-12.0)),
            ("2.5", Some(2.5)),
            (".5", Some(0.5)),
            ("1e3", Some(1000.0)),
            ("1.5E-2", Some(0.015)),
            ("0.1", Some(0.1)),
            ("750", Some(750.0)),
            ("", None),
            ("-", None),
            ("1.2.3", None),
            ("12px", None),
            ("1e", None),
            ("inf", None),
        ] {
            assert_eq!(parse_num(s), want, "{s}");
            if let Some(w) = want {
                assert_eq!(parse_num(s), s.trim().parse::<f64>().ok(), "{s} vs std");
                let _ = w;
            }
        }
        for n in [
            0.0,
            3.0,
            -12.0,
            2.5,
            0.1,
            0.015,
            -0.5,
            1234.5678,
            1e20,
            123456789.25,
        ] {
            assert_eq!(num_text(n), n.to_string(), "{n}");
        }
        assert_eq!(int_text(-1234567890123), "-1234567890123");
        assert_eq!(int_text(0), "0");
    }
}
