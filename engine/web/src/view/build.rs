//! The view's one DOM builder: a skeleton written as a compact spec (tags, classes, attributes, ARIA, catalogue keys), read by the engine's `spec::walk`.

use crate::ffi::Obj;
use dynchat_engine::spec::{value, walk};

/// Builds `spec` under `base` (detached when `None`) and returns the elements it marks `!`, in
/// order.
///
/// The spec's format and its values: `dynchat_engine::spec` (the launcher's markup for the loader
/// reads the same records). An element opens under the open one, or under `base`. Only text goes
/// in as text (attributes and text nodes): no markup is ever parsed.
pub(super) fn build(lang: &str, base: Option<&Obj>, spec: &str, args: &[&str]) -> Vec<Obj> {
    // The open elements, each with its place in `kept` when it is kept (handles are not copied:
    // an element moves to `kept` when it closes).
    let mut open: Vec<(Obj, Option<usize>)> = Vec::new();
    let mut kept: Vec<Option<Obj>> = Vec::new();
    walk(spec, args, lang, |op, v| {
        if op == b'<' || op == b'^' {
            let el = Obj::create(op == b'^', v);
            if let Some(parent) = open.last().map(|p| &p.0).or(base) {
                parent.append(&el);
            }
            open.push((el, None));
            return;
        }
        if op == b'>' {
            close(open.pop(), &mut kept);
            return;
        }
        let Some((el, keep)) = open.last_mut() else {
            return;
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
    });
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
