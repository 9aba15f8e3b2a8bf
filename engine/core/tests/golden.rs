//! Golden transcript tests: every `tests/golden/*.answers` file must reproduce its `.transcript` exactly.
//! Set `DYNCHAT_BLESS=1` to rewrite the expected files after a reviewed change.

mod common;
use common::{cases, run_case};

#[test]
fn golden_transcripts() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let bless = std::env::var_os("DYNCHAT_BLESS").is_some();
    let mut failures = Vec::new();
    for (name, answers, expected) in cases::CASES {
        let actual = run_case(answers);
        if bless {
            std::fs::write(dir.join(format!("{name}.transcript")), &actual)
                .expect("write transcript");
        } else if actual != *expected {
            failures.push(format!(
                "--- {name}: expected\n{expected}\n--- actual\n{actual}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A new `.answers` file must also be listed in `golden/cases.rs`, or it would silently not run.
#[test]
fn every_golden_file_is_listed() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
        .expect("golden dir")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter_map(|n| n.strip_suffix(".answers").map(str::to_string))
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = cases::CASES.iter().map(|c| c.0.to_string()).collect();
    listed.sort();
    assert_eq!(on_disk, listed);
    let examples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let n = std::fs::read_dir(examples)
        .expect("examples")
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "json"))
        })
        .count();
    assert_eq!(
        n,
        cases::EXAMPLES.len(),
        "every example dialogue must be listed in golden/cases.rs"
    );
}
