//! One compiled condition ([`Cond`]): what it reads ([`FieldRef`]), how it tests it ([`Test`],
//! [`Wildcard`]) and its evaluation against any [`Facts`].

use super::text::*;
use crate::model::Operator;
use serde::{Deserialize, Serialize};

/// The `activity.<type>` names a rule may use, with Marketo's standard activity type each
/// reads (as `GET /rest/v1/activities/types.json` names it). One list for the compiler, the
/// worker's traits lookup and the docs.
pub const ACTIVITY_TYPES: [(&str, &str); 5] = [
    ("visited_web_page", "Visit Webpage"),
    ("filled_out_form", "Fill Out Form"),
    ("clicked_link", "Click Link"),
    ("opened_email", "Open Email"),
    ("clicked_email", "Click Email"),
];

/// The longest "within the last N days" a rule may ask (the worker reads this far back).
pub const MAX_ACTIVITY_DAYS: u32 = 90;

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
    /// A Marketo activity type of the known visitor (one of [`ACTIVITY_TYPES`]); read as the
    /// days since the last one.
    Activity(String),
    /// An answer in the running conversation (card index); branches only.
    Answer(u16),
}

impl FieldRef {
    /// Parses `page.url`, `lead.FirstName`, ...; `answer` ids are resolved by `answer`.
    pub fn parse(s: &str, answer: &dyn Fn(&str) -> Option<u16>) -> Result<FieldRef, String> {
        let (ns, name) = s.split_once('.').ok_or_else(|| {
            format!("field `{s}` needs a namespace: page., lead., company., activity. or answer.")
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
            "activity" => match ACTIVITY_TYPES.iter().find(|(n, _)| *n == lname) {
                Some((n, _)) => FieldRef::Activity((*n).to_string()),
                None => {
                    let names: Vec<&str> = ACTIVITY_TYPES.iter().map(|(n, _)| *n).collect();
                    return Err(format!(
                        "unknown activity `{name}` (use {})",
                        names.join(", ")
                    ));
                }
            },
            "answer" => match answer(name.trim()) {
                Some(i) => FieldRef::Answer(i),
                None => return Err(format!("`answer.{name}` names no question or capture card")),
            },
            other => {
                return Err(format!(
                    "unknown namespace `{other}` (use page, lead, company, activity or answer)"
                ))
            }
        })
    }

    pub(super) fn is_dynamic(&self) -> bool {
        matches!(
            self,
            FieldRef::TimeOnPage | FieldRef::ScrollDepth | FieldRef::ExitIntent
        )
    }
}

/// A wildcard pattern (`*` any run, `?` one character), lower-cased.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Wildcard {
    pub(super) pattern: String,
}

impl Wildcard {
    /// Prepares a pattern.
    pub fn new(p: &str) -> Self {
        Wildcard { pattern: lower(p) }
    }

    /// Whole-string match of an already lower-cased subject: one pass over the bytes, going back
    /// to the last `*` on a mismatch (`?` takes one character). Without a `?` in the pattern a `*`
    /// is always a wildcard; with one, a `*` in the subject is taken literally first (what the
    /// character-list matcher this replaced did). No char searcher, no `split`, no `Vec<char>`:
    /// about 1.5 KB less of the browser's targeting module.
    pub fn matches(&self, s: &str) -> bool {
        let (p, s) = (self.pattern.as_bytes(), s.as_bytes());
        // `find_str`, not `[u8]::contains`, which brings `memchr` into the browser's module.
        let literal_star = find_str(&self.pattern, "?").is_some();
        // Bytes in the character starting at `s[j]` (`j` is always on a character boundary).
        let width = |j: usize| match s[j] {
            0..=0x7F => 1,
            0x80..=0xDF => 2,
            0xE0..=0xEF => 3,
            _ => 4,
        };
        let (mut i, mut j) = (0usize, 0usize);
        let mut star: Option<(usize, usize)> = None;
        while j < s.len() {
            let c = p.get(i).copied();
            if c == Some(b'?') {
                i += 1;
                j += width(j);
            } else if c == Some(s[j]) && (literal_star || s[j] != b'*') {
                i += 1;
                j += 1;
            } else if c == Some(b'*') {
                star = Some((i, j));
                i += 1;
            } else if let Some((si, sj)) = star {
                let next = sj + width(sj);
                i = si + 1;
                j = next;
                star = Some((si, next));
            } else {
                return false;
            }
        }
        p.get(i..).is_some_and(|r| r.iter().all(|&c| c == b'*'))
    }
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
    /// Days since the last activity at most this many.
    WithinDays(f64),
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
            Test::IsEmpty => text.is_none_or(blank),
            Test::IsNotEmpty => text.is_some_and(|t| !blank(t)),
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
            Test::WithinDays(x) => num().is_some_and(|n| n >= 0.0 && n <= *x),
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

pub(super) fn strip_scheme(u: &str) -> Option<&str> {
    find_str(u, "://").and_then(|i| u.get(i + 3..))
}

/// The operator's name in messages (lower-cased variant name, as the messages always said).
pub(super) fn op_name(op: Operator) -> &'static str {
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
        Operator::WithinDays => "withindays",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The matcher [`Wildcard::matches`] replaced: `*`-only patterns by segments, others over
    /// lists of characters.
    fn reference(p: &str, s: &str) -> bool {
        if !p.contains('?') {
            let mut parts = p.split('*');
            let first = parts.next().unwrap_or("");
            if !p.contains('*') {
                return p == s;
            }
            let Some(mut rest) = s.strip_prefix(first) else {
                return false;
            };
            let segs: Vec<&str> = parts.collect();
            let (last, middles) = segs.split_last().map_or(("", &[][..]), |(l, m)| (*l, m));
            for m in middles.iter().filter(|m| !m.is_empty()) {
                match rest.find(m) {
                    Some(at) => rest = &rest[at + m.len()..],
                    None => return false,
                }
            }
            return rest.len() >= last.len() && rest.ends_with(last);
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

    /// Every string of up to `n` characters over `alphabet`.
    fn strings(alphabet: &[char], n: usize) -> Vec<String> {
        let mut all = vec![String::new()];
        let mut last = vec![String::new()];
        for _ in 0..n {
            last = last
                .iter()
                .flat_map(|s| alphabet.iter().map(move |c| format!("{s}{c}")))
                .collect();
            all.extend(last.iter().cloned());
        }
        all
    }

    #[test]
    fn wildcard_matches_as_the_matcher_it_replaced() {
        // Multi-byte characters of two, three and four bytes that share lead bytes, and `*` / `?`
        // on both sides.
        let pats = strings(&['a', 'é', 'è', '€', '*', '?', '😀'], 4);
        let subjects = strings(&['a', 'é', 'è', '€', '*', '?', '😀'], 4);
        let mut held = 0;
        for p in &pats {
            let w = Wildcard { pattern: p.clone() };
            for s in &subjects {
                let want = reference(p, s);
                assert_eq!(w.matches(s), want, "pattern {p:?} subject {s:?}");
                held += usize::from(want);
            }
        }
        assert!(held > 100_000, "{held}");
    }
}
