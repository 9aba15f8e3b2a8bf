//! `cargo xtask demo | test | soak | bench | tidy | setup`: every project task, one entry point (rust-analyzer style).

mod bench;
mod console;
mod deploy_docs;
mod layout;
mod modgraph;
mod npm;
mod setup;
mod stack;
mod tidy;
mod util;
#[allow(dead_code)] // shared with the e2e harness, which uses more of it
mod widget;
#[allow(dead_code)]
mod worker;

use dynchat_engine::simulate::header;
use setup::Need;
use std::process::ExitCode;
use util::{capture, root, run, run_env, step, Stages};

const USAGE: &str = "usage: cargo xtask <command>
  demo    install what is missing, build everything, run the product locally
  test    install what is missing, build everything, run every test (what CI runs)
  soak    the long end-to-end runs at full size (5,000 / 20,000 leads, a 50,000-lead initial sync, 1,000 bookings, 200 visitors, 200 visitors rescheduling)
  bench   print the benchmark figures the issues ask for
  tidy    formatting, lints, doc-line and layout checks (`tidy layout`: only import circles and file sizes)
  setup   only install what is missing
  npm     build the widget and @dynchat/engine; run the npm packages' checks (tsc --strict, Node suite, Vite UI in Chromium, pack, publish --dry-run)
  build   build the widget, the npm packages, the worker and the CLI into dist/ and target/
  widget  build only the widget (dist/widget, dist/npm), print its sizes, fail over a size budget";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("demo") => demo(),
        Some("test") => test(),
        Some("soak") => soak(),
        Some("bench") => bench::run_all(&root()),
        Some("tidy") if args.get(1).is_some_and(|a| a == "layout") => tidy::layout(&root()),
        Some("tidy") => tidy::run(&root()),
        Some("setup") => setup::ensure(&root(), Need::Test),
        Some("build") => build(&root()),
        Some("npm") => npm_packages(&root()),
        Some("widget") => widget_sizes(&root(), true),
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("\n\x1b[31mxtask failed: {e}\x1b[0m");
            ExitCode::FAILURE
        }
    }
}

/// Builds everything the product serves: the CLI, the widget (`dist/widget`, `dist/npm`), the
/// headless engine package (`dist/npm-engine`) and the worker.
fn build(root: &std::path::Path) -> Result<(), String> {
    step("build: dynchat CLI");
    run(
        root,
        "cargo",
        &["build", "-q", "--release", "-p", "dynchat-cli"],
    )?;
    step("build: widget (targeting + chat wasm, loader) into dist/widget and dist/npm");
    widget::build(root)?;
    step(
        "build: @dynchat/engine (headless engine wasm for Node and bundlers) into dist/npm-engine",
    );
    npm::build_engine(root)?;
    step("build: demo site (dist/site) and admin console (Rust -> wasm, dist/console)");
    console::build_site(root)?;
    console::build_console(root)?;
    step("build: worker (worker-build, offline tools)");
    worker::build(root)?;
    Ok(())
}

/// `cargo xtask npm`: the widget's package, then every check of both npm packages (the stage of `test`).
fn npm_packages(root: &std::path::Path) -> Result<(), String> {
    step("build: widget (targeting + chat wasm, loader) into dist/widget and dist/npm");
    widget::build(root)?;
    npm::check(root)
}

/// Prints the widget's brotli sizes against [`widget::BUDGETS`] (building it first when asked);
/// fails when one is exceeded.
fn widget_sizes(root: &std::path::Path, build: bool) -> Result<(), String> {
    if build {
        step("build: widget (targeting + chat wasm, loader) into dist/widget and dist/npm");
        widget::build(root)?;
    }
    let lines = widget::check_budgets(&widget::sizes(root)?)?;
    eprintln!("widget sizes (brotli -q 11):\n  {}", lines.join("\n  "));
    Ok(())
}

/// Runs the product with embedded defaults until Ctrl-C.
fn demo() -> Result<(), String> {
    let root = root();
    setup::ensure(&root, Need::Run)?;
    build(&root)?;
    let cli = root
        .join("target/release/dynchat")
        .to_string_lossy()
        .into_owned();
    run(
        &root,
        "sh",
        &["-c", &format!("{cli} validate examples/*.json")],
    )?;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = stop.clone();
    ctrlc::set_handler(move || flag.store(true, std::sync::atomic::Ordering::SeqCst))
        .map_err(|e| format!("cannot install the Ctrl-C handler: {e}"))?;
    let stack = stack::start(&root)?;
    step("seed the demo site `acme` and publish examples/*.json");
    worker::seed_demo(&root, stack::WORKER_PORT, stack::ADMIN_TOKEN)?;
    step("seed five agents with calendars in Radicale and the round-robin queue `sales`");
    stack::seed_agents(stack::WORKER_PORT)?;
    step("seed the console accounts and allow the demo site's origin");
    console::seed_accounts(stack::WORKER_PORT, stack::ADMIN_TOKEN)?;
    console::allow_demo_origin(stack::WORKER_PORT, stack::ADMIN_TOKEN)?;
    let w = stack::WORKER_PORT;
    println!(
        "\n\x1b[1mdynchat is running\x1b[0m
  widget test page   http://127.0.0.1:{w}/widget/loader.js (script tag: <script src=\"http://127.0.0.1:{w}/widget/loader.js\" data-site=\"acme\" async></script>)
  admin API token    {token} (Authorization: Bearer ...)
  worker health      http://127.0.0.1:{w}/health
  Marketo peer       http://127.0.0.1:{m}/_peer/state
  mail catcher       http://127.0.0.1:{mail}/
  Radicale (CalDAV)  http://127.0.0.1:{rad}/
{banner}
state is kept in .dynchat/ (delete it for a fresh start). Ctrl-C stops everything.",
        banner = console::banner(&format!("http://127.0.0.1:{w}")),
        token = stack::ADMIN_TOKEN,
        m = stack::MARKETO_PORT,
        mail = stack::MAIL_HTTP_PORT,
        rad = stack::RADICALE_PORT,
    );
    while !stop.load(std::sync::atomic::Ordering::SeqCst) {
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    eprintln!("\nCtrl-C: stopping");
    drop(stack);
    Ok(())
}

/// Sizes of the long end-to-end runs: (environment variable, `cargo xtask test`, `cargo xtask soak`).
/// The tests' own defaults are the `test` sizes.
const E2E_SIZES: [(&str, &str, &str); 6] = [
    ("E2E_FAULT_LEADS", "1000", "5000"),
    ("E2E_RATE_LEADS", "4000", "20000"),
    ("E2E_SYNC_LEADS", "2000", "50000"),
    ("MEETINGS_BOOKINGS", "200", "1000"),
    ("MEETINGS_VISITORS", "50", "200"),
    ("RESCHEDULE_MOVERS", "100", "200"),
];

/// The runs `cargo xtask soak` repeats at full size: (test binary, test name filter).
const SOAK_RUNS: [(&str, &str); 6] = [
    (
        "worker",
        "fault_run_with_a_restart_delivers_every_lead_exactly_once",
    ),
    ("worker", "rate_run_drains_a_backlog_without_606_or_615"),
    (
        "initial_sync",
        "initial_sync_of_peer_leads_survives_a_restart_and_completes_once",
    ),
    (
        "meetings",
        "rotation_over_sequential_bookings_with_random_busy_times_matches_the_spec",
    ),
    (
        "meetings",
        "concurrent_visitors_on_one_slot_get_one_meeting_per_agent",
    ),
    (
        "reschedule_load",
        "many_visitors_rescheduling_into_one_slot_get_the_agents_capacity_and_nothing_overlaps",
    ),
];

/// The sizes for `cargo xtask test` or `soak`; a variable already set in the environment wins.
fn sizes(soak: bool) -> Vec<(&'static str, String)> {
    E2E_SIZES
        .iter()
        .map(|(k, test, full)| {
            let default = if soak { *full } else { *test };
            (*k, std::env::var(k).unwrap_or_else(|_| default.to_string()))
        })
        .collect()
}

/// The native tests: every crate but the end-to-end one (`cargo` arguments).
const NATIVE_TESTS: [&str; 4] = ["test", "--workspace", "--exclude", "dynchat-e2e"];

/// Everything CI checks, in order from fastest feedback to slowest; prints how long each stage
/// took at the end, also when one fails.
fn test() -> Result<(), String> {
    let root = root();
    let mut st = Stages::new();
    let r = test_stages(&root, &mut st);
    eprint!("{}", st.summary("cargo xtask test"));
    r
}

fn test_stages(root: &std::path::Path, st: &mut Stages) -> Result<(), String> {
    st.run("setup", || setup::ensure(root, Need::Test))?;
    st.run("tidy (fmt, clippy, doc lines, layout, schema)", || {
        tidy::run(root)
    })?;
    st.run(
        "native tests (engine, CLI, worker domain, scheduling)",
        || {
            run(
                root,
                "cargo",
                &[&NATIVE_TESTS[..], &["--", "--test-threads=2"]].concat(),
            )
        },
    )?;
    st.run(
        "experiment statistics: A/A false winners and the power (printed)",
        || {
            let a = [
                "test",
                "-q",
                "-p",
                "dynchat-engine",
                "--lib",
                "experiment::stats::tests::a_",
            ];
            run(root, "cargo", &[&a[..], &["--", "--nocapture"]].concat())
        },
    )?;
    st.run(
        "engine golden transcripts on wasm32, as the browser builds and reads it (wasm-bindgen-test-runner)",
        || {
            run(
                root,
                "cargo",
                &[
                    "test",
                    "-p",
                    "dynchat-engine",
                    "--no-default-features",
                    "--target",
                    "wasm32-unknown-unknown",
                    "--test",
                    "wasm_golden",
                ],
            )
        },
    )?;
    st.run(
        "chat module: capture patterns and name letters in the glue's RegExp decide as regex-lite and std do (V8, Node)",
        || {
            run(
                root,
                "cargo",
                &["test", "-p", "dynchat-web", "--test", "browser_text"],
            )
        },
    )?;
    st.run(
        "CLI: validate examples, reject bad dialogues, reproduce golden transcripts",
        || cli_checks(root),
    )?;
    st.run(
        "peers: Marketo, Google, Graph, Radicale and mail catcher behave like the real services",
        || {
            run(
                root,
                "python3",
                &[
                    "-m",
                    "unittest",
                    "discover",
                    "-s",
                    "tests/peers",
                    "-p",
                    "test_*.py",
                ],
            )
        },
    )?;
    // The widget's browser suite runs once, against the real worker (tests/e2e/tests/widget.rs);
    // `node tests/browser/run.mjs` without --endpoint still runs it against the stub by hand.
    build_for_e2e(root, st)?;
    st.run(
        "npm packages: tsc --strict over both packages' types; @dynchat/engine under node --test and in a Vite UI in Chromium; pack + publish --dry-run of both",
        || npm::check(root),
    )?;
    let env = sizes(false);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    e2e(root, st, &env)
}

/// The widget, the demo site, the console and the worker, built for the end-to-end tests.
fn build_for_e2e(root: &std::path::Path, st: &mut Stages) -> Result<(), String> {
    st.run("build: widget (dist/widget, dist/npm)", || {
        widget::build(root)
    })?;
    st.run("widget size budgets (brotli -q 11)", || {
        widget_sizes(root, false)
    })?;
    st.run(
        "build: demo site and console (dist/site, dist/console)",
        || {
            console::build_site(root)?;
            console::build_console(root)
        },
    )?;
    st.run("build: worker (edge-worker/build)", || worker::build(root))?;
    st.run("e2e: compile the test binaries", || {
        run(root, "cargo", &["test", "-p", "dynchat-e2e", "--no-run"])
    })
}

/// Every end-to-end test binary (`tests/e2e/tests/*.rs`) on workerd with the peers, one stage
/// each; all run even when one fails.
fn e2e(root: &std::path::Path, st: &mut Stages, env: &[(&str, &str)]) -> Result<(), String> {
    let mut names: Vec<String> = std::fs::read_dir(root.join("tests/e2e/tests"))
        .map_err(|e| format!("tests/e2e/tests: {e}"))?
        .flatten()
        .filter_map(|e| {
            let p = e.path();
            let stem = p.file_stem()?.to_string_lossy().into_owned();
            (p.extension()? == "rs").then_some(stem)
        })
        .collect();
    names.sort();
    let shown: Vec<String> = env.iter().map(|(k, v)| format!("{k}={v}")).collect();
    eprintln!("e2e sizes: {}", shown.join(" "));
    let mut failed = Vec::new();
    for name in names {
        let r = st.run(&format!("e2e: tests/e2e/tests/{name}.rs"), || {
            run_env(
                root,
                "cargo",
                &[
                    "test",
                    "-p",
                    "dynchat-e2e",
                    "--test",
                    &name,
                    "--",
                    "--test-threads=1",
                ],
                env,
            )
        });
        if r.is_err() {
            failed.push(name);
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "end-to-end tests failed in: {} (the worker's and the peers' log tails are printed above each failure)",
            failed.join(", ")
        ))
    }
}

/// The long runs at the full sizes: the 5,000-lead fault run with a restart, the
/// 20,000-lead rate run, the 50,000-lead initial sync with a restart, 1,000 sequential
/// bookings, 200 concurrent visitors.
fn soak() -> Result<(), String> {
    let root = root();
    let mut st = Stages::new();
    let r = (|| {
        st.run("setup", || setup::ensure(&root, Need::Test))?;
        build_for_e2e(&root, &mut st)?;
        let env = sizes(true);
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let shown: Vec<String> = env.iter().map(|(k, v)| format!("{k}={v}")).collect();
        eprintln!("soak sizes: {}", shown.join(" "));
        let mut failed = Vec::new();
        for (bin, filter) in SOAK_RUNS {
            let r = st.run(&format!("soak: {bin} {filter}"), || {
                run_env(
                    &root,
                    "cargo",
                    &[
                        "test",
                        "-p",
                        "dynchat-e2e",
                        "--test",
                        bin,
                        "--",
                        "--exact",
                        filter,
                        "--test-threads=1",
                    ],
                    &env,
                )
            });
            if r.is_err() {
                failed.push(filter);
            }
        }
        if failed.is_empty() {
            Ok(())
        } else {
            Err(format!("soak runs failed: {}", failed.join(", ")))
        }
    })();
    eprint!("{}", st.summary("cargo xtask soak"));
    r
}

/// The CLI as an author uses it: examples validate, every bad dialogue fails with its JSON path, golden transcripts reproduce.
fn cli_checks(root: &std::path::Path) -> Result<(), String> {
    // The binary the native tests stage built for the CLI's own tests (`cargo test` puts it at
    // target/debug/dynchat): the same command, so nothing compiles. `cargo build -p dynchat-cli`
    // resolves the dependencies' features for the CLI alone (digest, memchr and syn differ from
    // the workspace's), which compiled syn, the derive macros, serde, the engine and the CLI a
    // second time on a fresh clone.
    run(
        root,
        "cargo",
        &[&NATIVE_TESTS[..], &["-q", "--no-run"]].concat(),
    )?;
    let cli = root
        .join("target/debug/dynchat")
        .to_string_lossy()
        .into_owned();
    let examples: Vec<String> = std::fs::read_dir(root.join("examples"))
        .map_err(|e| e.to_string())?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let mut args = vec!["validate"];
    args.extend(examples.iter().map(String::as_str));
    run(root, &cli, &args)?;
    let expected = std::fs::read_to_string(root.join("tests/bad-dialogues/expected.txt"))
        .map_err(|e| e.to_string())?;
    let mut n = 0;
    for line in expected
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let parts: Vec<&str> = line.split_whitespace().collect();
        let [file, code, path] = parts[..] else {
            return Err(format!("bad line in expected.txt: {line}"));
        };
        let f = format!("tests/bad-dialogues/{file}.json");
        let (status, _, err) = capture(
            root,
            &cli,
            &[
                "validate",
                &f,
                "--lead-fields",
                "tests/bad-dialogues/lead-fields.txt",
            ],
        )?;
        if status != 1 || !err.contains(&format!("error[{code}] {path}:")) {
            return Err(format!("`dynchat validate {f}` should exit 1 with error[{code}] at {path}; got exit {status}: {err}"));
        }
        n += 1;
    }
    let mut golden = 0;
    for e in std::fs::read_dir(root.join("engine/core/tests/golden")).map_err(|e| e.to_string())? {
        let p = e.map_err(|e| e.to_string())?.path();
        if p.extension().is_none_or(|x| x != "answers") {
            continue;
        }
        let answers = std::fs::read_to_string(&p).map_err(|e| e.to_string())?;
        let dialogue = header(&answers, "dialogue")
            .into_iter()
            .next()
            .unwrap_or_default();
        // The answers file alone, as an author runs it: its `# lead:` / `# now:` lines apply.
        let dialogue = format!("examples/{dialogue}.json");
        let answers_path = p.to_string_lossy().into_owned();
        let argv = ["simulate", &dialogue, "--answers", &answers_path];
        let (status, out, err) = capture(root, &cli, &argv)?;
        let want =
            std::fs::read_to_string(p.with_extension("transcript")).map_err(|e| e.to_string())?;
        if status != 0 || out != want {
            return Err(format!(
                "`dynchat simulate` differs from {} (exit {status}) {err}",
                p.display()
            ));
        }
        golden += 1;
    }
    eprintln!("CLI: {} examples valid, {n} bad dialogues rejected at the right path, {golden} golden transcripts reproduced", examples.len());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::widget::{check_budgets, replace_ident, stub_funcs, BUDGETS, CHAT_PANIC_ENTRIES};

    #[test]
    fn chat_panic_entries_each_match_one_demangled_name() {
        let names = [
            "core[c5930c85a12de822]::panicking::panic_fmt",
            "std[a543996e6e7dbf1e]::panicking::panic_with_hook",
            "std[a543996e6e7dbf1e]::alloc::default_alloc_error_hook",
            "alloc[3ca501edff3f0c7c]::alloc::handle_alloc_error",
            "core[c5930c85a12de822]::panicking::panic",
            "core[c5930c85a12de822]::panicking::panic_bounds_check",
            "core[c5930c85a12de822]::panicking::panic_nounwind",
        ];
        let wat: String = names
            .iter()
            .map(|n| [" (func $\"", n, "\" (param $0 i32)\n  (nop)\n )\n"].concat())
            .collect();
        let (out, found) = stub_funcs(&wat, &CHAT_PANIC_ENTRIES);
        assert_eq!(found, vec![1; CHAT_PANIC_ENTRIES.len()]);
        assert_eq!(out.matches("(unreachable)").count(), 6);
        assert!(
            out.ends_with("panic_nounwind\" (param $0 i32)\n  (nop)\n )\n"),
            "{out}"
        );
    }

    #[test]
    fn fmt_entries_are_stubbed_unless_something_calls_them_by_name() {
        use super::widget::fmt_stub::{stub_fmt, unhashed, CHAT_FMT_ENTRIES};
        assert_eq!(
            unhashed("<u32 as core[c5930c85a12de822]::fmt::Display>::fmt"),
            "<u32 as core::fmt::Display>::fmt"
        );
        assert_eq!(unhashed("a[1]::b[x]"), "a[1]::b[x]");
        let write = "$\"core[c5930c85a12de822]::fmt::write\"";
        let u32_fmt = "$\"<u32 as core[c5930c85a12de822]::fmt::Display>::fmt\"";
        let wat = [
            "(module\n (elem $0 (table $0) (i32.const 1) func ",
            u32_fmt,
            " $f)\n (func ",
            write,
            " (param $0 i32) (result i32)\n  (call $g)\n )\n (func ",
            u32_fmt,
            " (param $0 i32) (result i32)\n  (call ",
            write,
            ")\n )\n (func $f (param $0 i32)\n  (nop)\n )\n)\n",
        ]
        .concat();
        let Ok((out, n)) = stub_fmt(&wat, &CHAT_FMT_ENTRIES) else {
            panic!("only the table and a stubbed function name them")
        };
        assert_eq!(n, 2);
        assert_eq!(out.matches("(unreachable)").count(), 2);
        assert!(!out.contains("(call"), "{out}");
        assert!(out.contains(&[" func ", u32_fmt, " $f)"].concat()), "{out}");
        // A function that formats (a `format!` calls `core::fmt::write` by name): nothing stubbed.
        let called = wat.replace("(nop)", &["(call ", write, ")"].concat());
        let Err(e) = stub_fmt(&called, &CHAT_FMT_ENTRIES) else {
            panic!("$f calls core::fmt::write")
        };
        assert!(e.contains("fmt::write") && e.contains("in $f"), "{e}");
    }

    #[test]
    fn panic_paths_are_zeroed_from_their_root_and_other_strings_kept() {
        use super::widget::fmt_stub::zero_panic_paths;
        let roots = ["/rustc/".to_string(), "engine/".to_string()];
        let wat = " (data $.rodata (i32.const 8) \"offsetengine/core/src/json.rs\\00/rustc/ab/library/core/src/str.rsrules:/\\\"x\\0a\")\n (func $f)\n";
        let (out, n) = zero_panic_paths(wat, &roots);
        assert_eq!(
            n,
            "engine/core/src/json.rs/rustc/ab/library/core/src/str.rs".len()
        );
        assert_eq!(
            out,
            [
                " (data $.rodata (i32.const 8) \"offset",
                &"\\00".repeat(23),
                "\\00",
                &"\\00".repeat(33),
                "rules:/\\22x\\0a\")\n (func $f)\n"
            ]
            .concat()
        );
        // A path without a root, or without `/src/`, is not a panic location.
        let kept = " (data $d (i32.const 8) \"lib/src/x.rs engine/x.rs\")\n";
        assert_eq!(zero_panic_paths(kept, &roots), (kept.to_string(), 0));
    }

    #[test]
    fn digit_pair_table_is_zeroed_and_a_reader_of_it_refused() {
        use super::widget::fmt_stub::{check_unread, digit_pairs, zero_digit_pairs};
        let pairs = String::from_utf8(digit_pairs()).unwrap_or_default();
        assert!(pairs.starts_with("000102") && pairs.ends_with("979899"));
        let wat = [" (data $d (i32.const 100) \"ab", &pairs, "cd\")\n"].concat();
        let (out, at) = zero_digit_pairs(&wat);
        assert_eq!(at, Some(102));
        let zeros = "\\00".repeat(200);
        assert_eq!(
            out,
            [" (data $d (i32.const 100) \"ab", &zeros, "cd\")\n"].concat()
        );
        let kept = " (data $d (i32.const 8) \"0001\")\n";
        assert_eq!(zero_digit_pairs(kept), (kept.to_string(), None));
        let read = "(module\n (data $d (i32.const 102) \"x\")\n  (i32.load16_u offset=301\n";
        assert!(check_unread(read, 102, 200).is_err());
        assert!(check_unread(read, 102, 199).is_ok());
        assert!(check_unread("  (i32.const 102)\n", 102, 200).is_err());
    }

    #[test]
    fn std_panic_messages_are_zeroed_and_other_texts_kept() {
        use super::widget::fmt_stub::zero_panic_paths;
        let wat =
            " (data $d (i32.const 8) \"okcapacity overflowRefCell already borrowedcapacity\")\n";
        let (out, n) = zero_panic_paths(wat, &[]);
        assert_eq!(n, 41);
        let zeros = "\\00".repeat(41);
        assert_eq!(
            out,
            [" (data $d (i32.const 8) \"ok", &zeros, "capacity\")\n"].concat()
        );
    }

    #[test]
    fn stubbed_functions_keep_their_signature_and_lose_their_body() {
        let wat = "(module\n (type $0 (func))\n (func $_RN4core9panicking9panic_fmt (param $0 i32) (result i32)\n  (local $1 i32)\n  (call $x)\n )\n (func $x\n  (nop)\n )\n)\n";
        let (out, found) = stub_funcs(wat, &["9panic_fmt", "missing"]);
        assert_eq!(found, vec![1, 0]);
        assert_eq!(
            out,
            "(module\n (type $0 (func))\n (func $_RN4core9panicking9panic_fmt (param $0 i32) (result i32)\n  (unreachable)\n )\n (func $x\n  (nop)\n )\n)\n"
        );
    }

    #[test]
    fn minified_names_replace_whole_identifiers_only() {
        let glue =
            "const i={__wbg_a_1:function(){},x__wbg_a_1:1};wasm.chat_new();wasm.chat_new_x();";
        let Ok(js) = replace_ident(glue, "__wbg_a_1:", "a:", true) else {
            panic!("the import key occurs once as a whole identifier")
        };
        assert_eq!(
            js,
            "const i={a:function(){},x__wbg_a_1:1};wasm.chat_new();wasm.chat_new_x();"
        );
        let Ok(js) = replace_ident(&js, "wasm.chat_new", "wasm.b", false) else {
            panic!("exports may occur any number of times")
        };
        assert!(js.ends_with("wasm.b();wasm.chat_new_x();"), "{js}");
        assert!(replace_ident(glue, "__wbg_missing:", "c:", true).is_err());
    }

    /// `worker::http` returns as soon as the answer is whole, though the server (as `wrangler
    /// dev` does) keeps the connection open after it: a `Content-Length` body and a chunked one.
    #[test]
    fn http_returns_at_the_end_of_the_answer_not_at_the_close() {
        use std::io::{Read, Write};
        let answers = [
            "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello".to_string(),
            "HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
                .to_string(),
        ];
        let Ok(listener) = std::net::TcpListener::bind(("127.0.0.1", 0)) else {
            panic!("bind 127.0.0.1:0")
        };
        let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
        let server = std::thread::spawn(move || {
            let mut held = Vec::new();
            for answer in answers {
                let Ok((mut s, _)) = listener.accept() else {
                    return;
                };
                let mut req = [0u8; 1024];
                let _ = s.read(&mut req);
                let _ = s.write_all(answer.as_bytes());
                held.push(s);
            }
            // Held open well past the client's patience, as the dev proxy's idle timer does.
            std::thread::sleep(std::time::Duration::from_secs(6));
        });
        for (status, body) in [(200, "hello"), (201, "abcde")] {
            let t = std::time::Instant::now();
            let got = super::worker::http(port, "GET", "/health", &[], None);
            assert_eq!(got, Ok((status, body.to_string())));
            assert!(
                t.elapsed() < std::time::Duration::from_secs(3),
                "waited {:?} for a connection the server keeps open",
                t.elapsed()
            );
        }
        drop(server);
    }

    #[test]
    fn an_answer_is_complete_by_its_framing() {
        use super::worker::answer_complete;
        let cl = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel";
        assert!(!answer_complete(cl, false));
        assert!(answer_complete(
            b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello",
            false
        ));
        assert!(answer_complete(cl, true), "HEAD has no body");
        assert!(answer_complete(b"HTTP/1.1 204 No Content\r\n\r\n", false));
        let ch = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n";
        assert!(!answer_complete(ch, false));
        assert!(answer_complete(&[&ch[..], b"\r\n"].concat(), false));
        assert!(!answer_complete(b"HTTP/1.1 200 OK\r\nContent-Len", false));
        assert!(
            !answer_complete(b"HTTP/1.1 200 OK\r\n\r\nuntil the close", false),
            "no framing: read to the close"
        );
    }

    #[test]
    fn a_widget_over_a_size_budget_fails_the_check() {
        let at = |extra: u64| -> Vec<(String, u64)> {
            let mut v = vec![("chat_bg.wasm".to_string(), 50_000)];
            v.extend(BUDGETS.iter().map(|(k, b)| (k.to_string(), b + extra)));
            v
        };
        let Ok(lines) = check_budgets(&at(0)) else {
            panic!("sizes exactly at the budgets must pass")
        };
        assert_eq!(lines.len(), BUDGETS.len() + 1);
        let Err(e) = check_budgets(&at(1)) else {
            panic!("one byte over every budget must fail")
        };
        for (k, _) in BUDGETS {
            assert!(e.contains(k), "{k} not named in: {e}");
        }
    }
}
