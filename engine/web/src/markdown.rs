//! The only markup authors get: `**bold**` and `[label](https://...)` links, parsed into segments the view renders as text nodes.

use dynchat_engine::tokens::MARKDOWN_SPECIALS;

/// One run of inline text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    /// Plain text.
    Text(String),
    /// Bold text.
    Bold(String),
    /// A link; `url` is always `https://` and free of spaces and quotes.
    Link {
        /// Text shown.
        label: String,
        /// Target.
        url: String,
    },
}

/// A link target the widget will follow: https only, no whitespace, quotes or angle brackets.
pub fn safe_link(url: &str) -> bool {
    url.len() > 8
        && url.len() <= 2048
        && url
            .get(..8)
            .is_some_and(|p| p.eq_ignore_ascii_case("https://"))
        && !url.chars().any(|c| {
            c.is_whitespace() || c.is_control() || matches!(c, '"' | '\'' | '<' | '>' | '`' | '\\')
        })
}

fn push_text(out: &mut Vec<Seg>, s: &str) {
    if s.is_empty() {
        return;
    }
    if let Some(Seg::Text(t)) = out.last_mut() {
        t.push_str(s);
    } else {
        out.push(Seg::Text(s.to_string()));
    }
}

/// The source as characters, each marked literal when escaped with `\\` (authors may escape; the
/// engine escapes every token value, so what a visitor typed is never markup).
fn unescape(src: &str) -> Vec<(char, bool)> {
    let mut out = Vec::with_capacity(src.len());
    let mut it = src.chars().peekable();
    while let Some(c) = it.next() {
        match it.peek() {
            Some(&n) if c == '\\' && MARKDOWN_SPECIALS.contains(&n) => {
                out.push((n, true));
                it.next();
            }
            _ => out.push((c, false)),
        }
    }
    out
}

fn text_of(cs: &[(char, bool)]) -> String {
    cs.iter().map(|c| c.0).collect()
}

/// Where the first unescaped `pat` starts in `cs`.
fn find(cs: &[(char, bool)], pat: &[char]) -> Option<usize> {
    cs.windows(pat.len())
        .position(|w| w.iter().zip(pat).all(|(&(c, lit), p)| !lit && c == *p))
}

/// Splits text into segments; anything that is not a well-formed bold run or safe link stays
/// literal text, and so does every escaped character (`\\*`, `\\[`, ...).
pub fn parse(src: &str) -> Vec<Seg> {
    let cs = unescape(src);
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(rest) = cs.get(i..).filter(|r| !r.is_empty()) {
        if rest.starts_with(&[('*', false), ('*', false)]) {
            let body = &rest[2..];
            if let Some(end) = find(body, &['*', '*']).filter(|&e| e > 0) {
                out.push(Seg::Bold(text_of(&body[..end])));
                i += end + 4;
                continue;
            }
            push_text(&mut out, "**");
            i += 2;
            continue;
        }
        if rest[0] == ('[', false) {
            let body = &rest[1..];
            let link = find(body, &[']', '(']).and_then(|mid| {
                let label = &body[..mid];
                let after = &body[mid + 2..];
                let close = find(after, &[')'])?;
                let url = &after[..close];
                let ok = !label.is_empty()
                    && !label.contains(&('[', false))
                    && !url.iter().any(|c| c.1)
                    && safe_link(&text_of(url));
                ok.then(|| (text_of(label), text_of(url), mid + close + 4))
            });
            if let Some((label, url, used)) = link {
                out.push(Seg::Link { label, url });
                i += used;
                continue;
            }
        }
        // A lone `*` or `[` that starts nothing, or any other character.
        push_text(&mut out, rest[0].0.encode_utf8(&mut [0u8; 4]));
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bold_and_links() {
        let s = parse("Hi **there**, see [pricing](https://acme.test/p?a=1) now");
        assert_eq!(
            s,
            vec![
                Seg::Text("Hi ".into()),
                Seg::Bold("there".into()),
                Seg::Text(", see ".into()),
                Seg::Link {
                    label: "pricing".into(),
                    url: "https://acme.test/p?a=1".into()
                },
                Seg::Text(" now".into()),
            ]
        );
    }

    #[test]
    fn unsafe_links_and_html_stay_text() {
        for bad in [
            "[x](javascript:alert(1))",
            "[x](http://plain.test)",
            "[x](https://a b)",
            "<img src=x onerror=alert(1)>",
            "**unclosed",
            "[a](https://x.test\"onmouseover=1)",
        ] {
            let s = parse(bad);
            assert_eq!(s, vec![Seg::Text(bad.into())], "{bad}");
        }
    }

    #[test]
    fn escaped_characters_stay_text() {
        assert_eq!(
            parse(r"\[x\](https://example.com) \*\*b\*\* a\\b c\d"),
            vec![Seg::Text(r"[x](https://example.com) **b** a\b c\d".into())]
        );
        assert_eq!(
            parse(r"**a\*\*b** [l\]](https://a.test)"),
            vec![
                Seg::Bold("a**b".into()),
                Seg::Text(" ".into()),
                Seg::Link {
                    label: "l]".into(),
                    url: "https://a.test".into()
                },
            ]
        );
    }

    /// What the engine inserts through a token (escaped) is always one plain text run.
    #[test]
    fn token_values_are_never_markup() {
        use dynchat_engine::tokens::escape_markdown;
        for typed in [
            "[x](https://example.com)",
            "**bold**",
            r"\[x](https://example.com)",
            r"\",
            "*[*](https://a.test)**",
            "[a](https://a.test\\)",
        ] {
            let text = format!("You said: {}!", escape_markdown(typed));
            assert_eq!(
                parse(&text),
                vec![Seg::Text(format!("You said: {typed}!"))],
                "{typed}"
            );
        }
    }
}
