//! A small JSON reader ([`parse`] -> [`J`]) and writer ([`Out`]) for the code the browser ships: no serde_json, no float parsing or formatting, no `core::fmt`.
//!
//! The browser's chat module reads the compiled flow, its stored session and the host's messages
//! with this, and writes its events, leads and saved state with it; the targeting module reads
//! the bundle with it (serde's derives and serde_json are well over 100 KB of wasm). Numbers keep
//! their source text: integers are read with [`J::int`], decimals with `targeting::parse_num` by
//! the caller. An array or object nested deeper than [`MAX_DEPTH`] is passed over without
//! recursion and reads as `null`, so one deep part (one dialogue) never makes the whole bundle
//! unreadable; anything malformed is `None`, never a panic. The writer escapes strings exactly as
//! serde_json does, so a value written here reads back the same with either.

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
    /// A member that is missing or `null` is `None`.
    pub fn opt(&self, k: &str) -> Option<&J> {
        // `matches!`, not `!=`: comparing whole values links `J`'s recursive `PartialEq`.
        self.get(k).filter(|v| !matches!(v, J::Null))
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
    /// A number's source text.
    pub fn num_text(&self) -> Option<&str> {
        match self {
            J::Num(n) => Some(n),
            _ => None,
        }
    }
    /// A whole number (no fraction, no exponent) that fits in i64.
    pub fn int(&self) -> Option<i64> {
        self.num_text().and_then(parse_int)
    }
    /// Array items.
    pub fn arr(&self) -> Option<&[J]> {
        match self {
            J::Arr(a) => Some(a),
            _ => None,
        }
    }
    /// The elements of an array, each read with `f`; `None` when this is no array or `f`
    /// refuses an element. A plain loop with `f` behind a reference: each
    /// `collect::<Option<Vec<_>>>()` made its own copy of the iterator adapters (with the element
    /// reader inlined) per element type in the browser's wasm.
    pub fn list<T>(&self, f: &dyn Fn(&J) -> Option<T>) -> Option<Vec<T>> {
        let a = self.arr()?;
        let mut out = Vec::with_capacity(a.len());
        for x in a {
            out.push(f(x)?);
        }
        Some(out)
    }
    /// The members of an object.
    pub fn obj(&self) -> Option<&[(String, J)]> {
        match self {
            J::Obj(m) => Some(m),
            _ => None,
        }
    }
    /// An externally tagged enum value as serde writes it: `"Unit"` or `{"Variant": content}`
    /// (content `Null` for a unit variant).
    pub fn variant(&self) -> Option<(&str, &J)> {
        match self {
            J::Str(s) => Some((s, &J::Null)),
            J::Obj(m) if m.len() == 1 => m.first().map(|(k, v)| (k.as_str(), v)),
            _ => None,
        }
    }
}

/// For readers of JSON objects: notes that a member did not read instead of returning at once.
/// A value is built whole, with a stand-in for each member that failed, and refused at the end
/// when one did ([`Need::then`]). Returning at each member (`?`) made a clean-up path per member
/// (dropping what was read before it) in the browser's chat module.
#[derive(Default)]
pub struct Need(std::cell::Cell<bool>);

impl Need {
    /// The value, or `d` with the failure noted.
    pub fn or<T>(&self, v: Option<T>, d: T) -> T {
        match v {
            Some(v) => v,
            None => {
                self.0.set(true);
                d
            }
        }
    }

    /// The value, or its default with the failure noted.
    pub fn of<T: Default>(&self, v: Option<T>) -> T {
        self.or(v, T::default())
    }

    /// Member `k` of `v`; missing, `null` with the failure noted.
    pub fn get<'a>(&self, v: &'a J, k: &str) -> &'a J {
        self.or(v.get(k), &J::Null)
    }

    /// `v` when every member read, else `None` (`v` dropped).
    pub fn then<T>(&self, v: T) -> Option<T> {
        (!self.0.get()).then_some(v)
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
        s,
        b: s.as_bytes(),
        i: 0,
    };
    let v = p.value(0)?;
    p.ws();
    (p.i == p.b.len()).then_some(v)
}

/// Reads `s` through its bytes `b`; strings and numbers are taken as slices of `s` (already
/// UTF-8: no `from_utf8` check, which was its own 0.7 KB in each browser module).
struct Parser<'a> {
    s: &'a str,
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
            b'-' | b'0'..=b'9' => self.number().map(J::Num),
            _ => None,
        }
    }

    /// JSON's number grammar: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
    fn number(&mut self) -> Option<String> {
        let start = self.i;
        let digits = |p: &mut Self| {
            let s = p.i;
            while let Some(b'0'..=b'9') = p.b.get(p.i) {
                p.i += 1;
            }
            p.i > s
        };
        if self.b.get(self.i) == Some(&b'-') {
            self.i += 1;
        }
        if self.b.get(self.i) == Some(&b'0') {
            self.i += 1;
        } else if !digits(self) {
            return None;
        }
        if self.b.get(self.i) == Some(&b'.') {
            self.i += 1;
            if !digits(self) {
                return None;
            }
        }
        if let Some(b'e' | b'E') = self.b.get(self.i) {
            self.i += 1;
            if let Some(b'+' | b'-') = self.b.get(self.i) {
                self.i += 1;
            }
            if !digits(self) {
                return None;
            }
        }
        Some(self.s.get(start..self.i)?.to_string())
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
        let mut out = String::new();
        // Where the run of unescaped text now being read starts (after the quote or an escape,
        // both ASCII: a character boundary, as is the quote or backslash that ends it).
        let mut run = self.i;
        loop {
            let c = *self.b.get(self.i)?;
            self.i += 1;
            match c {
                b'"' => {
                    out.push_str(self.s.get(run..self.i - 1)?);
                    return Some(out);
                }
                b'\\' => {
                    out.push_str(self.s.get(run..self.i - 1)?);
                    let e = *self.b.get(self.i)?;
                    self.i += 1;
                    let ch = match e {
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
                        // The one-letter escapes by table: `"`, `\`, `/`, `b`, `f`, `n`, `r`, `t`.
                        _ => {
                            let k = b"\"\\/bfnrt".iter().position(|&x| x == e)?;
                            char::from(*b"\"\\/\x08\x0c\n\r\t".get(k)?)
                        }
                    };
                    out.push(ch);
                    run = self.i;
                }
                0..=0x1F => return None,
                _ => {}
            }
        }
    }
}

/// Appends `s` as a JSON string literal, escaped as serde_json escapes it.
pub fn write_str(out: &mut String, s: &str) {
    out.push('"');
    // By bytes: every character escaped is ASCII, and no byte of a longer UTF-8 sequence is
    // below 0x80, so the text between two escapes is whole characters (no `char` decoding,
    // no slicing panic: `get` at those places always succeeds).
    let mut from = 0;
    for (i, &c) in s.as_bytes().iter().enumerate() {
        let esc = match c {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0C => "\\f",
            0..=0x1F => "",
            _ => continue,
        };
        out.push_str(s.get(from..i).unwrap_or_default());
        if esc.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.push_str("\\u00");
            out.push(char::from(HEX[usize::from(c >> 4)]));
            out.push(char::from(HEX[usize::from(c & 15)]));
        } else {
            out.push_str(esc);
        }
        from = i + 1;
    }
    out.push_str(s.get(from..).unwrap_or_default());
    out.push('"');
}

/// The JSON text of a value read: numbers as written, strings escaped as serde_json does.
pub fn write_value(out: &mut String, v: &J) {
    match v {
        J::Null => out.push_str("null"),
        J::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        J::Num(n) => out.push_str(n),
        J::Str(s) => write_str(out, s),
        J::Arr(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, x);
            }
            out.push(']');
        }
        J::Obj(m) => {
            out.push('{');
            for (i, (k, x)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_str(out, k);
                out.push(':');
                write_value(out, x);
            }
            out.push('}');
        }
    }
}

/// Appends an integer in decimal, without `core::fmt`: `u64` division, which wasm has as an
/// instruction (the widget's modules write only `i64`s; [`write_wide_int`] is the targeting
/// module's, for numbers beyond them).
pub fn write_int(out: &mut String, n: i64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    let mut m = n.unsigned_abs();
    loop {
        i -= 1;
        buf[i] = b'0' + (m % 10) as u8;
        m /= 10;
        if m == 0 {
            break;
        }
    }
    if n < 0 {
        out.push('-');
    }
    for &b in &buf[i..] {
        out.push(char::from(b));
    }
}

/// Appends an integer in decimal, without `core::fmt` (wide enough for any `i64` or `u64`).
/// Divides four 32-bit limbs by ten with 64-bit arithmetic: a `u128` division would bring
/// compiler-builtins' `u128_div_rem` (1 KB) into the browser's modules.
pub fn write_wide_int(out: &mut String, n: i128) {
    let mut buf = [0u8; 40];
    let mut i = buf.len();
    let m = n.unsigned_abs();
    let mut limbs = [
        (m >> 96) as u32,
        (m >> 64) as u32,
        (m >> 32) as u32,
        m as u32,
    ];
    loop {
        let mut rem = 0u64;
        for l in &mut limbs {
            let cur = (rem << 32) | u64::from(*l);
            *l = (cur / 10) as u32;
            rem = cur % 10;
        }
        i -= 1;
        buf[i] = b'0' + rem as u8;
        if limbs == [0; 4] {
            break;
        }
    }
    if n < 0 {
        out.push('-');
    }
    for &b in &buf[i..] {
        out.push(char::from(b));
    }
}

/// Decimal text of an integer.
pub fn int_string(n: i64) -> String {
    let mut s = String::new();
    write_int(&mut s, n);
    s
}

/// Writes one JSON object member by member, in the order given (callers keep serde's order).
#[derive(Debug)]
pub struct Out {
    s: String,
    first: bool,
}

impl Default for Out {
    fn default() -> Self {
        Out::new()
    }
}

impl Out {
    /// An empty object, `{` written.
    pub fn new() -> Out {
        Out {
            s: String::from("{"),
            first: true,
        }
    }
    /// Writes `"k":` and returns the buffer for the value.
    pub fn key(&mut self, k: &str) -> &mut String {
        if !self.first {
            self.s.push(',');
        }
        self.first = false;
        write_str(&mut self.s, k);
        self.s.push(':');
        &mut self.s
    }
    /// A string member.
    pub fn str(&mut self, k: &str, v: &str) -> &mut Out {
        write_str(self.key(k), v);
        self
    }
    /// A string member, or `null`.
    pub fn opt_str(&mut self, k: &str, v: Option<&str>) -> &mut Out {
        match v {
            Some(v) => self.str(k, v),
            None => self.raw(k, "null"),
        }
    }
    /// An integer member.
    pub fn int(&mut self, k: &str, v: i64) -> &mut Out {
        write_int(self.key(k), v);
        self
    }
    /// A boolean member.
    pub fn bool(&mut self, k: &str, v: bool) -> &mut Out {
        self.raw(k, if v { "true" } else { "false" })
    }
    /// A member whose value is already JSON.
    pub fn raw(&mut self, k: &str, json: &str) -> &mut Out {
        self.key(k).push_str(json);
        self
    }
    /// A string-to-string map member (`{"k":"v",..}` in the iteration order).
    pub fn map<'a>(
        &mut self,
        k: &str,
        entries: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> &mut Out {
        let mut o = Out::new();
        for (k, v) in entries {
            o.str(k, v);
        }
        self.raw(k, &o.finish())
    }
    /// An array of strings.
    pub fn strs<'a>(&mut self, k: &str, items: impl IntoIterator<Item = &'a str>) -> &mut Out {
        let out = self.key(k);
        out.push('[');
        for (i, v) in items.into_iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            write_str(out, v);
        }
        out.push(']');
        self
    }
    /// Closes the object.
    pub fn finish(&mut self) -> String {
        let mut s = std::mem::take(&mut self.s);
        s.push('}');
        self.first = true;
        self.s.push('{');
        s
    }
}
