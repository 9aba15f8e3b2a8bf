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
        Wildcard {
            pattern: p.to_lowercase(),
        }
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
        match rest.find(m) {
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
        self.time_on_page_s.sort_unstable();
        self.time_on_page_s.dedup();
        self.scroll_depth_pct.sort_unstable();
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
    let h: u32 = h.parse().ok()?;
    let m: u32 = m.parse().ok()?;
    (h < 24 && m < 60).then_some((h * 60 + m) as f64)
}

const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

fn value_text(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) => Some(s.to_lowercase()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn value_number(v: &serde_json::Value, field: &FieldRef) -> Option<f64> {
    match v {
        serde_json::Value::Number(n) => n.as_f64(),
        serde_json::Value::String(s) if *field == FieldRef::LocalTime => parse_hhmm(s),
        serde_json::Value::String(s) => s.trim().parse().ok(),
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
    let vpath = format!("{path}.value");
    let need = |diags: &mut Vec<Diagnostic>, what: &str| {
        diags.push(Diagnostic::error(
            vpath.clone(),
            "bad_value",
            format!("operator `{:?}` needs {what}", c.op).to_lowercase(),
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
                            x.trim().parse().ok()
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
                    Some(s.split(',').map(|x| x.trim().to_lowercase()).collect())
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
            format!("{path}.utc_offset_minutes"),
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
                let p = format!("{path}.{key}[{i}]");
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
                buf = fmt_num(n);
                Some(&buf)
            }
            Val::Bool(b) => Some(if b { "true" } else { "false" }),
            Val::Missing => None,
        };
        let num = || match v {
            Val::Num(n) => Some(n),
            Val::Text(t) => t.trim().parse::<f64>().ok(),
            Val::Bool(b) => Some(if b { 1.0 } else { 0.0 }),
            Val::Missing => None,
        };
        match &self.test {
            Test::IsEmpty => text.is_none_or(|t| t.trim().is_empty()),
            Test::IsNotEmpty => text.is_some_and(|t| !t.trim().is_empty()),
            Test::Is(x) => text == Some(x.as_str()),
            Test::IsNot(x) => text != Some(x.as_str()),
            Test::Contains(x) => text.is_some_and(|t| t.contains(x.as_str())),
            Test::NotContains(x) => !text.is_some_and(|t| t.contains(x.as_str())),
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
    u.split_once("://").map(|(_, r)| r)
}

fn fmt_num(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        n.to_string()
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
                        Test::Is(s) => s.parse::<f64>().ok().map(|x| x as u32),
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
    lead: HashMap<String, String>,
    company: HashMap<String, String>,
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
        let url = p.url.to_lowercase();
        let no_frag = p.url.split('#').next().unwrap_or("");
        let (before_q, q) = no_frag.split_once('?').unwrap_or((no_frag, ""));
        let path = match before_q.split_once("://") {
            Some((_, rest)) => rest.find('/').map(|i| &rest[i..]).unwrap_or("/"),
            None => before_q,
        }
        .to_lowercase();
        let query = q
            .split('&')
            .filter(|kv| !kv.is_empty())
            .map(|kv| {
                let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                (
                    percent_decode(k).to_lowercase(),
                    percent_decode(v).to_lowercase(),
                )
            })
            .collect();
        let lower = |m: HashMap<String, String>| {
            m.into_iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), v.to_lowercase()))
                .collect()
        };
        Context {
            url,
            path,
            title: p.title.to_lowercase(),
            referrer: p.referrer.to_lowercase(),
            query,
            time_on_page_s: p.time_on_page_s,
            scroll_depth_pct: p.scroll_depth_pct,
            visits: p.visits,
            exit_intent: p.exit_intent,
            device: p.device.to_lowercase(),
            country: p.country.to_lowercase(),
            now_ms: p.now_ms,
            tz_offset_minutes: p.tz_offset_minutes,
            lead: lower(p.lead),
            company: lower(p.company),
        }
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
            FieldRef::Lead(k) => self.lead.get(k).map_or(Val::Missing, |v| Val::Text(v)),
            FieldRef::Company(k) => self.company.get(k).map_or(Val::Missing, |v| Val::Text(v)),
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
        candidates.sort_by_key(|c| std::cmp::Reverse(c.priority));
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
