//! HTML escaping: the one rule for text and attribute values written as markup (the launcher's markup for the loader, invitation emails, visitor link pages).

/// Escapes text for HTML element content and attribute values (`& < > " '`).
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_markup_character_is_escaped() {
        assert_eq!(
            super::escape("<a href='x'>&\"</a> é"),
            "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt; é"
        );
    }
}
