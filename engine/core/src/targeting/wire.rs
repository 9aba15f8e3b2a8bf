//! Reads a [`CompiledAudience`] from its serde wire form (inside a compiled flow) with the small JSON reader, without serde.

use super::audience::{CompiledAudience, Node, MAX_AUDIENCE_DEPTH};
use super::cond::{Cond, FieldRef, Test, Wildcard};
use super::text::parse_num;
use crate::json::J;

/// A compiled audience as serde writes it (`{"all":[..],"any":[..]}`, externally tagged enums);
/// `None` for anything malformed, and for groups nested deeper than [`MAX_AUDIENCE_DEPTH`]: what
/// compile refuses (`too_deep`), no reader takes either, so validation and the browser share one
/// limit.
pub fn audience_from_wire(v: &J) -> Option<CompiledAudience> {
    audience_at(v, 0)
}

fn audience_at(v: &J, depth: usize) -> Option<CompiledAudience> {
    let list = |k: &str| -> Option<Vec<Node>> { v.get(k)?.list(&|n| node(n, depth)) };
    Some(CompiledAudience {
        all: list("all")?,
        any: list("any")?,
    })
}

/// A node of an audience at `depth` (the top level is 0): a group there is allowed while
/// `depth < MAX_AUDIENCE_DEPTH`, as in compile's check.
fn node(v: &J, depth: usize) -> Option<Node> {
    match v.variant()? {
        ("Cond", c) => Some(Node::Cond(cond(c)?)),
        ("Group", g) if depth < MAX_AUDIENCE_DEPTH => Some(Node::Group(audience_at(g, depth + 1)?)),
        _ => None,
    }
}

fn cond(v: &J) -> Option<Cond> {
    let offset = match v.opt("offset") {
        None => None,
        Some(o) => Some(i32::try_from(o.int()?).ok()?),
    };
    Some(Cond {
        field: field(v.get("field")?)?,
        test: test(v.get("test")?)?,
        offset,
    })
}

fn text(v: &J) -> Option<String> {
    v.str().map(str::to_string)
}

fn num(v: &J) -> Option<f64> {
    parse_num(v.num_text()?)
}

fn field(v: &J) -> Option<FieldRef> {
    Some(match v.variant()? {
        ("Url", J::Null) => FieldRef::Url,
        ("Path", J::Null) => FieldRef::Path,
        ("Title", J::Null) => FieldRef::Title,
        ("Referrer", J::Null) => FieldRef::Referrer,
        ("TimeOnPage", J::Null) => FieldRef::TimeOnPage,
        ("ScrollDepth", J::Null) => FieldRef::ScrollDepth,
        ("Visits", J::Null) => FieldRef::Visits,
        ("ExitIntent", J::Null) => FieldRef::ExitIntent,
        ("Device", J::Null) => FieldRef::Device,
        ("Country", J::Null) => FieldRef::Country,
        ("LocalTime", J::Null) => FieldRef::LocalTime,
        ("Weekday", J::Null) => FieldRef::Weekday,
        ("Query", q) => FieldRef::Query(text(q)?),
        ("Lead", f) => FieldRef::Lead(text(f)?),
        ("Company", f) => FieldRef::Company(text(f)?),
        ("Activity", f) => FieldRef::Activity(text(f)?),
        ("Answer", i) => FieldRef::Answer(u16::try_from(i.int()?).ok()?),
        _ => return None,
    })
}

fn test(v: &J) -> Option<Test> {
    Some(match v.variant()? {
        ("IsEmpty", J::Null) => Test::IsEmpty,
        ("IsNotEmpty", J::Null) => Test::IsNotEmpty,
        ("Is", t) => Test::Is(text(t)?),
        ("IsNot", t) => Test::IsNot(text(t)?),
        ("Contains", t) => Test::Contains(text(t)?),
        ("NotContains", t) => Test::NotContains(text(t)?),
        ("StartsWith", t) => Test::StartsWith(text(t)?),
        ("Gt", n) => Test::Gt(num(n)?),
        ("Lt", n) => Test::Lt(num(n)?),
        ("WithinDays", n) => Test::WithinDays(num(n)?),
        ("Between", r) => match r.arr()? {
            [lo, hi] => Test::Between(num(lo)?, num(hi)?),
            _ => return None,
        },
        ("InList", l) => Test::InList(l.list(&text)?),
        ("Wild", w) => match w.arr()? {
            [p, neg] => Test::Wild(
                Wildcard {
                    pattern: text(p.get("pattern")?)?,
                },
                neg.bool()?,
            ),
            _ => return None,
        },
        _ => return None,
    })
}
