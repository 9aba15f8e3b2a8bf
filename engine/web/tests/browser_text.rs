//! The browser's `RegExp` and `toLowerCase`, as the chat module's glue (`js/glue.js`: `pattern`, `cased`) hands them to the module, decide capture-card patterns as regex-lite does (which the worker validates with), find a name's letters as std does and lower-case as Rust does; in V8 (Node), as wasm-bindgen-test-runner ran this test before the glue was hand-written.
#![cfg(not(target_arch = "wasm32"))]

use serde_json::{json, Value};
use std::io::Write;
use std::process::{Command, Stdio};

/// The glue's `pattern` over each `[pattern, answer]` and its `cased` (lower) over each text, in
/// Node: `{"p": [bool..], "l": [string..]}`.
fn glue(patterns: &[(&str, &str)], lower: &[&str]) -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/js/glue.js");
    // A data: URL makes the file an ES module whatever the directory's package.json says.
    let script = r#"
        const src = require('fs').readFileSync(process.argv[1], 'utf8');
        import('data:text/javascript,' + encodeURIComponent(src)).then(async ({ pattern, cased }) => {
          let s = '';
          for await (const c of process.stdin) s += c;
          const q = JSON.parse(s);
          console.log(JSON.stringify({ p: q.p.map(([a, b]) => pattern(a, b)), l: q.l.map((t) => cased(t, false)) }));
        });
    "#;
    let mut child = Command::new("node")
        .args(["-e", script, path])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("node (Node.js) runs the glue");
    let input = json!({ "p": patterns, "l": lower }).to_string();
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write to node");
    let out = child.wait_with_output().expect("node ends");
    assert!(out.status.success(), "node failed");
    serde_json::from_slice(&out.stdout).expect("node prints JSON")
}

/// (pattern, answers): authors' typical patterns and the edges where the two engines could differ.
const CASES: &[(&str, &[&str])] = &[
    (
        r"[0-9]{4} ?[A-Z]{2}",
        &["1234 AB", "1234AB", "12 AB", "1234 ab", "", "1234 ABC"],
    ),
    (r"[0-9]+", &["12", "12a", "a12", ""]),
    (r"a|b", &["a", "b", "ab", ""]),
    (r"(?i)[a-z]{2}\d", &["AB1", "ab1", "abc", "Ab12"]),
    (r"\d{3}-\d{4}", &["555-1234", "5551234", "٣٣٣-1234"]),
    (
        r"[A-Z]{2}[0-9]{2}[A-Z0-9]{1,30}",
        &["NL91ABNA0417164300", "nl91", "NL9"],
    ),
    (r"\w+@\w+\.com", &["a@b.com", "a@b.org", "é@b.com"]),
    (r"\#\d+", &["#12", "12"]),
    (
        r"\+?[0-9 ]{7,15}",
        &["+31 20 123 4567", "123", "+3120123456789012"],
    ),
    (r".+", &["x", "é", "a\nb"]),
    (r"[^,]+", &["a,b", "ab"]),
    (r"é+", &["éé", "e", "É"]),
    (r"(\d+)-(\d+)", &["1-2", "1-", "-2"]),
    (r"\s*\S+\s*", &[" x ", "  ", "x"]),
    (r"[a-z]+(-[a-z]+)*", &["abc-def", "abc-", "-abc"]),
    (r"(", &["(", ""]),
    (r"[z-a]", &["a", "z"]),
];

#[test]
fn browser_patterns_decide_as_regex_lite_does() {
    let pairs: Vec<(&str, &str)> = CASES
        .iter()
        .flat_map(|(p, answers)| answers.iter().map(move |a| (*p, *a)))
        .collect();
    let got = glue(&pairs, &[]);
    let got = got["p"].as_array().expect("answers");
    assert_eq!(got.len(), pairs.len());
    let mut checked = 0;
    for ((pattern, a), got) in pairs.iter().zip(got) {
        let reference = regex_lite::Regex::new(&["^(?:", pattern, ")$"].concat()).ok();
        let want = reference.as_ref().is_some_and(|r| r.is_match(a));
        assert_eq!(got.as_bool(), Some(want), "pattern {pattern:?} on {a:?}");
        checked += 1;
    }
    assert!(checked > 40);
}

#[test]
fn browser_lowercase_is_unicode_lowercase() {
    let texts = [
        "ÅSA",
        "ΣΊΣΥΦΟΣ",
        "İstanbul",
        "ÇA VA",
        "ԱՐԱՄ",
        "straße",
        "plain",
    ];
    let got = glue(&[], &texts);
    for (s, got) in texts.iter().zip(got["l"].as_array().expect("texts")) {
        assert_eq!(got.as_str(), Some(s.to_lowercase().as_str()), "{s}");
    }
}

/// Runs `body` (JavaScript with the glue's `pattern` in scope) in Node and reads what it prints.
fn node(body: &str) -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/js/glue.js");
    let script = [
        "const src = require('fs').readFileSync(process.argv[1], 'utf8');\n",
        "import('data:text/javascript,' + encodeURIComponent(src)).then(({ pattern }) => {\n",
        body,
        "\n});",
    ]
    .concat();
    let out = Command::new("node")
        .args(["-e", &script, path])
        .output()
        .expect("node (Node.js) runs the glue");
    assert!(out.status.success(), "node failed");
    serde_json::from_slice(&out.stdout).expect("node prints JSON")
}

/// A name answer's letters in the chat module (`letters::has_letter` without the `unicode`
/// feature): ASCII decides at once, anything else goes to the glue's `pattern` with
/// `HAS_LETTER` (`\p{Alphabetic}`). The browser must find the letters std finds, for every
/// non-ASCII code point and for whole names.
#[test]
fn browser_finds_the_letters_std_finds() {
    use dynchat_engine::letters::HAS_LETTER;
    let names = [
        "José",
        "李小龙",
        "محمد",
        "Ωμέγα",
        "Ёжик",
        "שלום",
        "नमस्ते",
        "١٢٣",
        "😀",
        "😀a",
        " \u{301}",
        "ⅷ",
        "〇",
        "ª",
        "ʰ",
        "ा",
        "𐐀",
        "O'Brien-Smith",
        "123",
        "",
        "  ",
    ];
    let q = serde_json::to_string(&json!({ "p": HAS_LETTER, "n": names })).expect("json");
    let got = node(&[
        "const q = ", &q, ";\n",
        "const all = [];\n",
        "for (let c = 0x80; c <= 0x10ffff; c++) if ((c < 0xd800 || c > 0xdfff) && pattern(q.p, String.fromCodePoint(c))) all.push(c);\n",
        "console.log(JSON.stringify({ n: q.n.map((s) => pattern(q.p, s)), all }));",
    ].concat());
    for (name, got) in names.iter().zip(got["n"].as_array().expect("names")) {
        assert_eq!(
            got.as_bool(),
            Some(name.chars().any(char::is_alphabetic)),
            "{name:?}"
        );
    }
    let browser: std::collections::BTreeSet<u32> = got["all"]
        .as_array()
        .expect("code points")
        .iter()
        .filter_map(|c| c.as_u64().map(|c| c as u32))
        .collect();
    let std: std::collections::BTreeSet<u32> = (0x80..0x11_0000u32)
        .filter_map(char::from_u32)
        .filter(|c| c.is_alphabetic())
        .map(|c| c as u32)
        .collect();
    let differ: Vec<_> = browser.symmetric_difference(&std).collect();
    assert!(std.len() > 100_000, "{} letters", std.len());
    assert!(differ.is_empty(), "{} differ: {differ:x?}", differ.len());
}
