//! Every file in `tests/bad-dialogues/` must be rejected with the diagnostic code and JSON path listed in its `expected.txt`.

use dynchat_engine::{compile_with, Options};

#[test]
fn bad_dialogues_are_rejected_at_the_right_path() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/bad-dialogues");
    let fields: Vec<String> = std::fs::read_to_string(dir.join("lead-fields.txt"))
        .expect("fields")
        .lines()
        .map(str::to_string)
        .collect();
    let opts = Options {
        lead_fields: Some(fields),
    };
    let expected = std::fs::read_to_string(dir.join("expected.txt")).expect("expected.txt");
    let mut checked = 0;
    for line in expected
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let parts: Vec<&str> = line.split_whitespace().collect();
        let [file, code, path] = parts[..] else {
            panic!("bad line {line}")
        };
        let json =
            std::fs::read_to_string(dir.join(format!("{file}.json"))).expect("bad dialogue file");
        let diags = compile_with(&json, &opts)
            .err()
            .unwrap_or_else(|| panic!("{file} compiled but must not"));
        assert!(
            diags.iter().any(|d| d.code == code && d.path == path),
            "{file}: expected {code} at {path}, got {diags:#?}"
        );
        checked += 1;
    }
    let files = std::fs::read_dir(&dir)
        .expect("dir")
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "json"))
        })
        .count();
    assert_eq!(
        checked, files,
        "every bad dialogue file needs a line in expected.txt"
    );
}
