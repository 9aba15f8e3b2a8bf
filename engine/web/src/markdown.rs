//! The only markup authors get: `**bold**` and `[label](https://...)` links, parsed into segments the view renders as text nodes.

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

/// Splits text into segments; anything that is not a well-formed bold run or safe link stays literal text.
pub fn parse(src: &str) -> Vec<Seg> {
    let mut out = Vec::new();
    let mut rest = src;
    while !rest.is_empty() {
        let next = rest.find(['*', '[']);
        let Some(at) = next else {
            push_text(&mut out, rest);
            break;
        };
        push_text(&mut out, &rest[..at]);
        rest = &rest[at..];
        if let Some(body) = rest.strip_prefix("**") {
            if let Some(end) = body.find("**").filter(|&e| e > 0) {
                out.push(Seg::Bold(body[..end].to_string()));
                rest = &body[end + 2..];
                continue;
            }
            push_text(&mut out, "**");
            rest = body;
            continue;
        }
        if let Some(body) = rest.strip_prefix('[') {
            let link = body.find("](").and_then(|mid| {
                let label = &body[..mid];
                let after = &body[mid + 2..];
                let close = after.find(')')?;
                let url = &after[..close];
                (!label.is_empty() && !label.contains('[') && safe_link(url))
                    .then(|| (label.to_string(), url.to_string(), mid + 2 + close + 1))
            });
            if let Some((label, url, used)) = link {
                out.push(Seg::Link { label, url });
                rest = &body[used..];
                continue;
            }
        }
        // A lone `*` or `[` that starts nothing.
        let ch_len = rest.chars().next().map_or(1, char::len_utf8);
        push_text(&mut out, &rest[..ch_len]);
        rest = &rest[ch_len..];
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
}
