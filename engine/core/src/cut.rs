//! Text cut at one ASCII byte: `split_once`, `rsplit_once`, `split` and `contains` for an ASCII
//! character, by a plain byte loop instead of core's character searcher (`memchr` and its
//! helpers: about 1 KB of the browser's chat module).

/// `s.split_once(b as char)` for an ASCII `b`: the text before the first `b` and after it.
pub fn cut(s: &str, b: u8) -> Option<(&str, &str)> {
    let i = s.bytes().position(|x| x == b)?;
    // `b` is ASCII, so `i` and `i + 1` are character boundaries.
    Some((s.get(..i)?, s.get(i + 1..)?))
}

/// `s.rsplit_once(b as char)` for an ASCII `b`: the text before the last `b` and after it.
pub fn cut_last(s: &str, b: u8) -> Option<(&str, &str)> {
    let i = s.bytes().rposition(|x| x == b)?;
    Some((s.get(..i)?, s.get(i + 1..)?))
}

/// `s.split(b as char)` for an ASCII `b`: the pieces between the `b`s (an empty `s` is one
/// empty piece).
pub fn pieces(s: &str, b: u8) -> impl Iterator<Item = &str> {
    let mut rest = Some(s);
    std::iter::from_fn(move || {
        let r = rest?;
        Some(match cut(r, b) {
            Some((piece, tail)) => {
                rest = Some(tail);
                piece
            }
            None => {
                rest = None;
                r
            }
        })
    })
}

/// Whether `s` holds the byte `b` (`<[u8]>::contains`, which calls `memchr`).
// `contains` is what this avoids: for bytes it calls `memchr`.
#[allow(clippy::manual_contains)]
pub fn has(s: &[u8], b: u8) -> bool {
    s.iter().any(|&x| x == b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_as_the_standard_library_splits() {
        for s in ["", "|", "a", "a|b", "|a||b|", "é|ü|", "x=y=z"] {
            for b in [b'|', b'='] {
                let c = b as char;
                assert_eq!(cut(s, b), s.split_once(c), "{s:?}");
                assert_eq!(cut_last(s, b), s.rsplit_once(c), "{s:?}");
                assert_eq!(
                    pieces(s, b).collect::<Vec<_>>(),
                    s.split(c).collect::<Vec<_>>(),
                    "{s:?}"
                );
                assert_eq!(has(s.as_bytes(), b), s.contains(c), "{s:?}");
            }
        }
    }
}
