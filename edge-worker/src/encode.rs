//! Percent-encoding of query-string and form values, one rule for every outgoing URL (Marketo,
//! Google, Microsoft Graph, the console's connection test): everything but the RFC 3986
//! unreserved characters `A-Z a-z 0-9 - _ . ~` is escaped.

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// A query-string or form value, percent-encoded.
pub fn query_value(s: &str) -> String {
    utf8_percent_encode(s, QUERY_VALUE).to_string()
}

#[cfg(test)]
mod tests {
    use super::query_value;

    #[test]
    fn unreserved_characters_stay_everything_else_is_escaped() {
        for (raw, want) in [
            ("abcXYZ019-_.~", "abcXYZ019-_.~"),
            ("a b+c&d=e/f?g#h", "a%20b%2Bc%26d%3De%2Ff%3Fg%23h"),
            ("*'()!", "%2A%27%28%29%21"),
            ("ü€", "%C3%BC%E2%82%AC"),
            ("", ""),
        ] {
            assert_eq!(query_value(raw), want, "{raw}");
        }
    }
}
