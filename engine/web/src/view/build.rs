//! The view's one DOM builder: a skeleton written as a compact spec (tags, classes, attributes, ARIA, catalogue keys), walked by one loop.

use crate::ffi::Obj;
use dynchat_engine::i18n;
use std::borrow::Cow;

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
pub(super) fn build(lang: &str, base: Option<&Obj>, spec: &str, args: &[&str]) -> Vec<Obj> {
    // The open elements, each with its place in `kept` when it is kept (handles are not copied:
    // an element moves to `kept` when it closes).
    let mut open: Vec<(Obj, Option<usize>)> = Vec::new();
    let mut kept: Vec<Option<Obj>> = Vec::new();
    // Skipping: `skip_one` the next record, `depth` the levels of a skipped element still open.
    let (mut skip_one, mut depth) = (false, 0u32);
    for rec in dynchat_engine::cut::pieces(spec, b'|') {
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
            let el = Obj::create(op == b'^', v);
            if let Some(parent) = open.last().map(|p| &p.0).or(base) {
                parent.append(&el);
            }
            open.push((el, None));
            continue;
        }
        if op == b'>' {
            close(open.pop(), &mut kept);
            continue;
        }
        if op == b'?' {
            skip_one = value(v, args, lang).is_empty();
            continue;
        }
        let Some((el, keep)) = open.last_mut() else {
            continue;
        };
        match op {
            b'.' => el.set_attr("class", &value(v, args, lang)),
            b'@' => {
                let (name, val) = dynchat_engine::cut::cut(v, b'=').unwrap_or((v, ""));
                el.set_attr(name, &value(val, args, lang));
            }
            b'"' => el.set_text(&value(v, args, lang)),
            b'+' => el.append_text(&value(v, args, lang)),
            b'!' => {
                *keep = Some(kept.len());
                kept.push(None);
            }
            _ => {}
        }
    }
    while let Some(top) = open.pop() {
        close(Some(top), &mut kept);
    }
    kept.into_iter().flatten().collect()
}

/// A closed element: into its place in `kept` when it is kept, else its handle is freed.
fn close(el: Option<(Obj, Option<usize>)>, kept: &mut [Option<Obj>]) {
    if let Some((el, Some(k))) = el {
        if let Some(slot) = kept.get_mut(k) {
            *slot = Some(el);
        }
    }
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
