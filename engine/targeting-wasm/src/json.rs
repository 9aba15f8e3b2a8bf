//! A minimal JSON reader for the targeting module: no `serde_json` parser, no float parsing, no `core::fmt`.
//!
//! Numbers keep their source text (the engine's `parse_num` reads them when needed); an array or
//! object nested deeper than [`MAX_DEPTH`] is passed over without recursion and reads as `null`, so
//! one deep part (one dialogue) never makes the whole bundle unreadable; anything malformed is
//! `None`, never a panic.

/// Deepest nesting built; deeper arrays and objects read as `null`.
pub const MAX_DEPTH: usize = 64;

/// A parsed JSON value.
#[derive(Debug, Clone, PartialEq)]
pub enum J {
    /// `null`.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// A number, as written.
    Num(String),
    /// A string, unescaped.
    Str(String),
    /// An array.
    Arr(Vec<J>),
    /// An object, in source order (a repeated key: the first one wins on lookup).
    Obj(Vec<(String, J)>),
}

impl J {
    /// A member of an object.
    pub fn get(&self, k: &str) -> Option<&J> {
        match self {
            J::Obj(m) => m.iter().find(|(n, _)| n == k).map(|(_, v)| v),
            _ => None,
        }
    }
    /// The text of a string.
    pub fn str(&self) -> Option<&str> {
        match self {
            J::Str(s) => Some(s),
            _ => None,
        }
    }
    /// A boolean.
    pub fn bool(&self) -> Option<bool> {
        match self {
            J::Bool(b) => Some(*b),
            _ => None,
        }
    }
    /// A number as f64.
    pub fn num(&self) -> Option<f64> {
        match self {
            J::Num(n) => dynchat_engine::targeting::parse_num(n),
            _ => None,
        }
    }
    /// A whole number (no fraction, no exponent) that fits in i64.
    pub fn int(&self) -> Option<i64> {
        match self {
            J::Num(n) => parse_int(n),
            _ => None,
        }
    }
    /// Array items.
    pub fn arr(&self) -> Option<&[J]> {
        match self {
            J::Arr(a) => Some(a),
            _ => None,
        }
    }
    /// Object members.
    pub fn obj(&self) -> Option<&[(String, J)]> {
        match self {
            J::Obj(m) => Some(m),
            _ => None,
        }
    }
}

/// `-?[0-9]+` within i64.
pub fn parse_int(s: &str) -> Option<i64> {
    let (neg, d) = match s.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, s),
    };
    if d.is_empty() || !d.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut n: i64 = 0;
    for b in d.bytes() {
        n = n.checked_mul(10)?.checked_sub(i64::from(b - b'0'))?;
    }
    if neg {
        Some(n)
    } else {
        n.checked_neg()
    }
}

/// Parses a whole document (surrounding whitespace allowed).
pub fn parse(s: &str) -> Option<J> {
    let mut p = Parser {
        b: s.as_bytes(),
        i: 0,
    };
    let v = p.value(0)?;
    p.ws();
    (p.i == p.b.len()).then_some(v)
}

struct Parser<'a> {
    b: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.b.get(self.i) {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: u8) -> bool {
        self.ws();
        if self.b.get(self.i) == Some(&c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn lit(&mut self, word: &[u8], v: J) -> Option<J> {
        if self.b.get(self.i..self.i + word.len()) == Some(word) {
            self.i += word.len();
            Some(v)
        } else {
            None
        }
    }

    /// Passes over an array or object without building it: strings are read as strings, brackets
    /// must pair up; it reads as `null`. A heap stack, not recursion, so any depth is safe.
    fn skip_container(&mut self) -> Option<J> {
        let mut closers = Vec::new();
        loop {
            self.ws();
            match *self.b.get(self.i)? {
                b'"' => {
                    self.string()?;
                    continue;
                }
                b'[' => closers.push(b']'),
                b'{' => closers.push(b'}'),
                // The guard pops the opener; a closer that does not match it is malformed.
                c @ (b']' | b'}') if closers.pop() != Some(c) => return None,
                _ => {}
            }
            self.i += 1;
            if closers.is_empty() {
                return Some(J::Null);
            }
        }
    }

    fn value(&mut self, depth: usize) -> Option<J> {
        self.ws();
        if depth > MAX_DEPTH && matches!(self.b.get(self.i), Some(b'[' | b'{')) {
            return self.skip_container();
        }
        match *self.b.get(self.i)? {
            b'n' => self.lit(b"null", J::Null),
            b't' => self.lit(b"true", J::Bool(true)),
            b'f' => self.lit(b"false", J::Bool(false)),
            b'"' => self.string().map(J::Str),
            b'[' => {
                self.i += 1;
                let mut a = Vec::new();
                if self.eat(b']') {
                    return Some(J::Arr(a));
                }
                loop {
                    a.push(self.value(depth + 1)?);
                    if self.eat(b']') {
                        return Some(J::Arr(a));
                    }
                    if !self.eat(b',') {
                        return None;
                    }
                }
            }
            b'{' => {
                self.i += 1;
                let mut m = Vec::new();
                if self.eat(b'}') {
                    return Some(J::Obj(m));
                }
                loop {
                    self.ws();
                    let k = self.string()?;
                    if !self.eat(b':') {
                        return None;
                    }
                    m.push((k, self.value(depth + 1)?));
                    if self.eat(b'}') {
                        return Some(J::Obj(m));
                    }
                    if !self.eat(b',') {
                        return None;
                    }
                }
            }
            b'-' | b'0'..=b'9' => {
                let start = self.i;
                while let Some(b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9') = self.b.get(self.i)
                {
                    self.i += 1;
                }
                let t = std::str::from_utf8(&self.b[start..self.i]).ok()?;
                dynchat_engine::targeting::parse_num(t)?;
                Some(J::Num(t.to_string()))
            }
            _ => None,
        }
    }

    fn hex4(&mut self) -> Option<u32> {
        let h = self.b.get(self.i..self.i + 4)?;
        self.i += 4;
        h.iter().try_fold(0u32, |n, &c| {
            let d = match c {
                b'0'..=b'9' => c - b'0',
                b'a'..=b'f' => c - b'a' + 10,
                b'A'..=b'F' => c - b'A' + 10,
                _ => return None,
            };
            Some(n * 16 + u32::from(d))
        })
    }

    fn string(&mut self) -> Option<String> {
        if self.b.get(self.i) != Some(&b'"') {
            return None;
        }
        self.i += 1;
        let mut out: Vec<u8> = Vec::new();
        loop {
            let c = *self.b.get(self.i)?;
            self.i += 1;
            match c {
                b'"' => return String::from_utf8(out).ok(),
                b'\\' => {
                    let e = *self.b.get(self.i)?;
                    self.i += 1;
                    let ch = match e {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            let hi = self.hex4()?;
                            let cp = if (0xD800..0xDC00).contains(&hi) {
                                if self.b.get(self.i..self.i + 2) != Some(b"\\u") {
                                    return None;
                                }
                                self.i += 2;
                                let lo = self.hex4()?;
                                if !(0xDC00..0xE000).contains(&lo) {
                                    return None;
                                }
                                0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                            } else {
                                hi
                            };
                            char::from_u32(cp)?
                        }
                        _ => return None,
                    };
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                }
                0..=0x1F => return None,
                _ => out.push(c),
            }
        }
    }
}

/// Appends `s` as a JSON string literal.
pub fn write_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.push_str("\\u00");
                out.push(char::from(HEX[(c as usize) >> 4]));
                out.push(char::from(HEX[(c as usize) & 15]));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_serde_json_reads() {
        let doc = r#" {"a": [1, -2.5, 1e3, true, false, null, "x\"\\\/\n\u00e9\ud83d\ude00"], "b": {}, "c": []} "#;
        let v = parse(doc);
        let Some(v) = v else { panic!("no parse") };
        let Some(a) = v.get("a").and_then(J::arr) else {
            panic!("no a")
        };
        assert_eq!(a[0].int(), Some(1));
        assert_eq!(a[1].num(), Some(-2.5));
        assert_eq!(a[1].int(), None);
        assert_eq!(a[2].num(), Some(1000.0));
        assert_eq!(a[3].bool(), Some(true));
        assert_eq!(a[5], J::Null);
        assert_eq!(a[6].str(), Some("x\"\\/\né😀"));
        assert_eq!(v.get("b"), Some(&J::Obj(vec![])));
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            "",
            "{",
            "[1,]",
            "{\"a\"}",
            "{\"a\":1,}",
            "nul",
            "\"\\x\"",
            "\"a",
            "1 2",
            "-",
            "\"\u{1}\"",
            "\"\\ud800\"",
            "{1:2}",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
        let unbalanced = "[".repeat(MAX_DEPTH + 2) + &"]".repeat(MAX_DEPTH + 1);
        assert_eq!(parse(&unbalanced), None);
        let crossed = "[".repeat(MAX_DEPTH + 2) + "}" + &"]".repeat(MAX_DEPTH + 1);
        assert_eq!(parse(&crossed), None);
    }

    #[test]
    fn a_deep_part_reads_as_null_and_leaves_the_rest() {
        let deep = "[".repeat(10_000) + "\"]\"" + &"]".repeat(10_000);
        let doc = format!(r#"{{"a":{deep},"b":[1,{{"c":"d"}}]}}"#);
        let v = parse(&doc).expect("readable");
        let mut a = v.get("a").expect("a");
        for _ in 0..=MAX_DEPTH - 1 {
            a = &a.arr().expect("built down to MAX_DEPTH")[0];
        }
        assert_eq!(a, &J::Null);
        assert_eq!(
            v.get("b").and_then(J::arr).and_then(|b| b[1].get("c")),
            Some(&J::Str("d".into()))
        );
    }

    #[test]
    fn ints_and_strings_out() {
        assert_eq!(parse_int("-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_int("9223372036854775808"), None);
        let mut s = String::new();
        write_str(&mut s, "a\"b\\c\u{1}é");
        assert_eq!(s, "\"a\\\"b\\\\c\\u0001é\"");
    }
}
