//! The view's one DOM builder: a skeleton written as a compact spec (tags, classes, attributes, ARIA, catalogue keys), walked by one loop.

use super::dom;
use dynchat_engine::i18n;
use std::borrow::Cow;
use web_sys::{Document, Element, Node};

const SVG: &str = "http://www.w3.org/2000/svg";

/// Builds `spec` under `base` (detached when `None`) and returns the elements it marks `!`, in
/// order.
///
/// A spec is records separated by `|`, each an op character and its operand: `<tag` opens an
/// element (appended to the open one, or to `base`), `^tag` an SVG element, `>` closes it,
/// `.value` sets the class, `@name=value` an attribute, `"value` the text content, `+value`
/// appends a text node, `!` keeps the open element, `?value` skips the next record (an element
/// with all it holds) when the value is empty. A value `$N` is argument N (one digit), `%key` the
/// catalogue text `key` in `lang` (`i18n::message`), anything else itself. Only text goes in as
/// text (attributes and text nodes): no markup is ever parsed.
pub(super) fn build(
    doc: &Document,
    lang: &str,
    base: Option<&Node>,
    spec: &str,
    args: &[&str],
) -> Vec<Element> {
    let mut open: Vec<Element> = Vec::new();
    let mut kept = Vec::new();
    // Skipping: `skip_one` the next record, `depth` the levels of a skipped element still open.
    let (mut skip_one, mut depth) = (false, 0u32);
    for rec in spec.split('|') {
        let op = rec.as_bytes().first().copied().unwrap_or(b' ');
        let v = rec.get(1..).unwrap_or("");
        let opens = op == b'<' || op == b'^';
        if skip_one {
            skip_one = false;
            depth = u32::from(opens);
            continue;
        }
        if depth > 0 {
            if opens {
                depth += 1;
            } else if op == b'>' {
                depth -= 1;
            }
            continue;
        }
        if opens {
            let el = dom::create(doc, (op == b'^').then_some(SVG), v);
            if let Some(parent) = open.last().map(|p| p.as_ref()).or(base) {
                dom::append(parent, &el);
            }
            open.push(el);
            continue;
        }
        if op == b'>' {
            open.pop();
            continue;
        }
        if op == b'?' {
            skip_one = value(v, args, lang).is_empty();
            continue;
        }
        let Some(el) = open.last() else {
            continue;
        };
        match op {
            b'.' => {
                dom::set_attr(el, "class", &value(v, args, lang));
            }
            b'@' => {
                let (name, val) = v.split_once('=').unwrap_or((v, ""));
                dom::set_attr(el, name, &value(val, args, lang));
            }
            b'"' => el.set_text_content(Some(&value(v, args, lang))),
            b'+' => {
                dom::append(el, &doc.create_text_node(&value(v, args, lang)));
            }
            b'!' => kept.push(el.clone()),
            _ => {}
        }
    }
    kept
}

/// A spec value: `$N` argument N, `%key` catalogue text, anything else itself.
fn value<'a>(v: &'a str, args: &[&'a str], lang: &str) -> Cow<'a, str> {
    let rest = v.get(1..).unwrap_or("");
    match v.as_bytes().first() {
        Some(b'$') => {
            let n = rest
                .as_bytes()
                .first()
                .map_or(0, |d| usize::from(d.wrapping_sub(b'0')));
            Cow::Borrowed(args.get(n).copied().unwrap_or(""))
        }
        Some(b'%') => Cow::Owned(i18n::message(lang, rest)),
        _ => Cow::Borrowed(v),
    }
}
