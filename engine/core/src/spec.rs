//! The view spec's one reader: the records of a spec (the chat module's DOM skeletons and the launcher's markup) and their values, for both of its writers.
//!
//! A spec is records separated by `|`, each an op character and its operand: `<tag` opens an
//! element, `^tag` an SVG element, `>` closes it, `.value` sets the class, `@name=value` an
//! attribute, `"value` the text content, `+value` appends a text node, `!` keeps the open
//! element, `?value` skips the next record (an element with all it holds) when the value is
//! empty. A value `$N` is argument N (one digit), `%key` the catalogue text `key` in `lang`
//! (`i18n::message`), anything else itself. Writers: engine/web `view::build` (DOM calls) and
//! [`crate::launcher::html`] (markup for the loader).

use crate::i18n;
use std::borrow::Cow;

/// Calls `each(op, operand)` for every record of `spec` in order, but `?` records and what they
/// skip.
pub fn walk<'a>(spec: &'a str, args: &[&str], lang: &str, mut each: impl FnMut(u8, &'a str)) {
    // Skipping: `skip_one` the next record, `depth` the levels of a skipped element still open.
    let (mut skip_one, mut depth) = (false, 0u32);
    for rec in crate::cut::pieces(spec, b'|') {
        let op = rec.as_bytes().first().copied().unwrap_or(b' ');
        let v = rec.get(1..).unwrap_or("");
        let opens = op == b'<' || op == b'^';
        if skip_one {
            skip_one = false;
            depth = u32::from(opens);
        } else if depth > 0 {
            if opens {
                depth += 1;
            } else if op == b'>' {
                depth -= 1;
            }
        } else if op == b'?' {
            skip_one = value(v, args, lang).is_empty();
        } else {
            each(op, v);
        }
    }
}

/// A spec value: `$N` argument N, `%key` catalogue text, anything else itself.
pub fn value<'a>(v: &'a str, args: &[&'a str], lang: &str) -> Cow<'a, str> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn records(spec: &str, args: &[&str]) -> String {
        let mut out = String::new();
        walk(spec, args, "en", |op, v| {
            out.push(char::from(op));
            out.push_str(v);
            out.push(' ');
        });
        out
    }

    #[test]
    fn a_question_mark_skips_the_next_record_or_element_when_its_value_is_empty() {
        let spec = "<div|?$0|@hidden=|?$1|<p|<b|\"x|>|>|\"y|>";
        // $0 empty: the attribute goes; $1 empty: the whole <p> with its <b> goes.
        assert_eq!(records(spec, &["", ""]), "<div \"y > ");
        assert_eq!(
            records(spec, &["1", "1"]),
            "<div @hidden= <p <b \"x > > \"y > "
        );
    }

    #[test]
    fn values_are_arguments_catalogue_texts_or_themselves() {
        assert_eq!(value("$1", &["a", "b"], "en"), "b");
        assert_eq!(value("$7", &["a"], "en"), "");
        assert_eq!(value("%ui.send", &[], "en"), "Send");
        assert_eq!(value("plain", &[], "en"), "plain");
    }
}
