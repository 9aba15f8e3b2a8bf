//! `dynchat` as an author runs it: every golden transcript through the binary, and paths, flags and files that are wrong are errors, never data.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Runs `dynchat` in the repository root: (exit code, stdout, stderr).
fn dynchat(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_dynchat"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("run dynchat");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A scratch file under the target directory, named for the test.
fn scratch(name: &str, bytes: &[u8]) -> String {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli-tests");
    std::fs::create_dir_all(&dir).expect("scratch dir");
    let p = dir.join(name);
    std::fs::write(&p, bytes).expect("scratch file");
    p.to_string_lossy().into_owned()
}

/// The golden transcripts the library reproduces (engine/core/tests/golden.rs), the CLI must
/// reproduce from the same answers files alone: their `# lead:` / `# now:` lines included.
#[test]
fn every_golden_transcript_through_the_cli() {
    let dir = root().join("engine/core/tests/golden");
    let mut ran = 0;
    let mut failures = Vec::new();
    for e in std::fs::read_dir(&dir).expect("golden dir") {
        let p = e.expect("entry").path();
        if p.extension().is_none_or(|x| x != "answers") {
            continue;
        }
        let answers = std::fs::read_to_string(&p).expect("answers");
        let dialogue = dynchat_engine::simulate::header(&answers, "dialogue")
            .into_iter()
            .next()
            .expect("# dialogue: line");
        let (code, out, err) = dynchat(&[
            "simulate",
            &format!("examples/{dialogue}.json"),
            "--answers",
            &p.to_string_lossy(),
        ]);
        let want = std::fs::read_to_string(p.with_extension("transcript")).expect("transcript");
        if code != 0 || out != want {
            failures.push(format!(
                "{}: exit {code} {err}\n--- expected\n{want}--- got\n{out}",
                p.display()
            ));
        }
        ran += 1;
    }
    assert!(ran >= 10, "only {ran} golden cases");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn command_line_lead_and_now_come_after_the_header() {
    let answers = scratch(
        "header.answers",
        b"# lead: FirstName=Bo\n# now: 1799053200000\nJust browsing\n",
    );
    let (code, out, _) = dynchat(&[
        "simulate",
        "examples/pricing-qualify.json",
        "--answers",
        &answers,
    ]);
    assert_eq!(code, 0);
    assert!(out.contains("Hi Bo"), "{out}");
    let (_, out, _) = dynchat(&[
        "simulate",
        "examples/pricing-qualify.json",
        "--answers",
        &answers,
        "--lead",
        "FirstName=Ann",
    ]);
    assert!(out.contains("Hi Ann"), "{out}");
    let bad = scratch("bad-now.answers", b"# now: soon\nJust browsing\n");
    let (code, _, err) = dynchat(&[
        "simulate",
        "examples/pricing-qualify.json",
        "--answers",
        &bad,
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("# now:") && err.contains("soon"), "{err}");
}

#[test]
fn a_missing_answers_file_is_an_error_not_an_answer() {
    let (code, out, err) = dynchat(&[
        "simulate",
        "examples/pricing-qualify.json",
        "--answers",
        "missing.txt",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("missing.txt: no such file"), "{err}");
    assert!(!out.contains("visitor: missing.txt"), "{out}");
    // An inline list still works, a one-answer list with its separator.
    let (code, out, _) = dynchat(&[
        "simulate",
        "examples/pricing-qualify.json",
        "--answers",
        "Just browsing;",
    ]);
    assert_eq!(code, 0);
    assert!(out.contains("visitor: Just browsing"), "{out}");
}

#[test]
fn a_missing_lead_fields_file_is_an_error() {
    let (code, out, err) = dynchat(&[
        "validate",
        "examples/pricing-qualify.json",
        "--lead-fields",
        "missing.txt",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("missing.txt: no such file"), "{err}");
    assert!(!err.contains("unknown_field"), "{err}");
    assert!(!out.contains("ok"), "{out}");
    let (code, _, err) = dynchat(&[
        "validate",
        "examples/pricing-qualify.json",
        "--lead-fields",
        "email,firstName,lastName,company,phone,numberOfEmployees,chatInterest",
    ]);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn an_unknown_flag_is_an_error() {
    for args in [
        &[
            "validate",
            "--lead-field",
            "f.txt",
            "examples/pricing-qualify.json",
        ][..],
        &["validate", "examples/pricing-qualify.json", "--jsn"],
        &[
            "simulate",
            "examples/pricing-qualify.json",
            "--answer",
            "x;",
        ],
        &["compile", "-x", "examples/pricing-qualify.json"],
        &["validate", "examples/pricing-qualify.json", "--lead-fields"],
    ] {
        let (code, out, err) = dynchat(args);
        assert_eq!(code, 2, "{args:?}");
        assert!(
            err.contains("unknown option") || err.contains("needs"),
            "{args:?}: {err}"
        );
        assert!(!out.contains(": ok"), "{args:?}: {out}");
    }
}

#[test]
fn validate_reports_a_missing_file_and_checks_the_rest() {
    let (code, out, err) = dynchat(&[
        "validate",
        "examples/campaign-spring.json",
        "missing.json",
        "tests/bad-dialogues/cycle.json",
        "examples/pricing-qualify.json",
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("missing.json: error[unreadable]"), "{err}");
    assert!(err.contains("no such file"), "{err}");
    assert!(err.contains("cycle.json: error[cycle]"), "{err}");
    assert!(out.contains("pricing-qualify.json: ok"), "{out}");
    assert!(!err.contains("usage:"), "{err}");
}

#[test]
fn a_file_that_is_not_utf8_is_named() {
    let bad = scratch("latin1.json", b"{\"name\": \"Caf\xe9\"}");
    let (code, _, err) = dynchat(&["validate", &bad]);
    assert_eq!(code, 1);
    assert!(err.contains(&bad) && err.contains("not UTF-8"), "{err}");
    let (code, _, err) = dynchat(&[
        "simulate",
        "examples/pricing-qualify.json",
        "--answers",
        &bad,
    ]);
    assert_eq!(code, 2);
    assert!(err.contains(&bad) && err.contains("not UTF-8"), "{err}");
}

#[test]
fn a_top_level_array_says_so() {
    let arr = scratch("array.json", br#"[{"version":1,"id":"d"}]"#);
    let (code, _, err) = dynchat(&["validate", &arr]);
    assert_eq!(code, 1);
    assert!(
        err.contains("error[invalid_type] $: a dialogue file is one JSON object"),
        "{err}"
    );
    assert!(err.contains("not an array"), "{err}");
    assert!(!err.contains("sequence"), "{err}");
}

#[test]
fn buttons_are_numbered_from_one() {
    let (code, out, err) = dynchat(&[
        "simulate",
        "examples/pricing-qualify.json",
        "--answers",
        "@0;",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("buttons are numbered from 1 to 3"), "{err}");
    assert!(!out.contains("visitor:"), "{out}");
    let (code, _, err) = dynchat(&[
        "simulate",
        "examples/pricing-qualify.json",
        "--answers",
        "@4;",
    ]);
    assert_eq!(code, 2, "{err}");
    let (code, out, _) = dynchat(&[
        "simulate",
        "examples/pricing-qualify.json",
        "--answers",
        "@3;",
    ]);
    assert_eq!(code, 0);
    assert!(out.contains("visitor: Just browsing"), "{out}");
}

/// `--lang` on the command line gives the same German transcript as the golden file's `# lang:`.
#[test]
fn lang_flag_runs_the_conversation_in_that_language() {
    let golden = root().join("engine/core/tests/golden");
    let want = std::fs::read_to_string(golden.join("languages-de.transcript")).expect("golden");
    let answers = std::fs::read_to_string(golden.join("languages-de.answers")).expect("answers");
    let list: Vec<&str> = answers.lines().filter(|l| !l.starts_with('#')).collect();
    let list = list.join(";");
    let args = [
        "simulate",
        "examples/newsletter-languages.json",
        "--answers",
        &list,
    ];
    let (code, out, err) = dynchat(&[&args[..], &["--lang", "de"]].concat());
    assert_eq!((code, out.as_str()), (0, want.as_str()), "{err}");
    // Without it, English; with a tag that is no language, an error.
    let (_, out, _) = dynchat(&args);
    assert!(out.contains("Please pick one of the options."), "{out}");
    let (code, _, err) = dynchat(&[&args[..], &["--lang", "4711"]].concat());
    assert_eq!(code, 2);
    assert!(err.contains("--lang"), "{err}");
}

#[test]
fn migrate_writes_version_2_with_the_same_hash() {
    let v1 = std::fs::read_to_string(root().join("examples/anonymous-capture.json")).expect("v1");
    assert!(v1.contains(r#""version": 1"#));
    let (_, before, _) = dynchat(&["validate", "examples/anonymous-capture.json"]);
    let f = scratch("anonymous-capture.json", v1.as_bytes());
    let (code, out, err) = dynchat(&["migrate", &f]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(r#""version": 2"#), "{out}");
    let (code, _, err) = dynchat(&["migrate", &f, "--write"]);
    assert_eq!(code, 0, "{err}");
    let written = std::fs::read_to_string(&f).expect("written");
    assert_eq!(written, out);
    let (code, after, _) = dynchat(&["validate", &f]);
    assert_eq!(code, 0);
    let version = |s: &str| s.rsplit("version ").next().map(str::to_string);
    assert_eq!(version(&after), version(&before));
    // A file that does not compile is reported and left alone.
    let bad = scratch(
        "bad-migrate.json",
        br#"{"version":1,"id":"x","name":"X","cards":[]}"#,
    );
    let (code, _, err) = dynchat(&["migrate", &bad, "--write"]);
    assert_eq!(code, 1);
    assert!(err.contains("error[empty] $.cards"), "{err}");
    assert!(std::fs::read_to_string(&bad)
        .expect("kept")
        .contains(r#""version":1"#));
}
