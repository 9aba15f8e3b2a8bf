//! `cargo xtask bench`: runs the criterion benches and size measurements and prints every figure the issues ask for, next to its target.

use crate::setup::{self, Need};
use crate::util::{brotli_size, run, step};
use std::path::Path;

/// One printed figure.
struct Figure {
    what: String,
    value: String,
    target: String,
}

/// Runs all benchmarks and prints one table at the end.
pub fn run_all(root: &Path) -> Result<(), String> {
    setup::ensure(root, Need::Test)?; // Chromium for the widget bench
    let mut figs = Vec::new();
    engine_speed(root, &mut figs)?;
    engine_size(root, &mut figs)?;
    scheduling_speed(root, &mut figs)?;
    worker_load(root, &mut figs)?;
    step("bench: widget sizes next to Typebot and deep-chat; main-thread time in Chromium");
    for (what, value) in crate::widget::bench(root)? {
        figs.push(Figure {
            what,
            value,
            target: String::new(),
        });
    }
    print_table(&figs);
    Ok(())
}

fn median_ns(root: &Path, id: &str) -> Result<f64, String> {
    let p = root
        .join("target/criterion")
        .join(id.replace('/', "_"))
        .join("new/estimates.json");
    let text = std::fs::read_to_string(&p)
        .map_err(|e| format!("no criterion result at {}: {e}", p.display()))?;
    let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    v["median"]["point_estimate"]
        .as_f64()
        .ok_or_else(|| format!("no median in {}", p.display()))
}

fn fmt_ns(ns: f64) -> String {
    if ns < 1_000.0 {
        format!("{ns:.0} ns")
    } else if ns < 1_000_000.0 {
        format!("{:.2} µs", ns / 1_000.0)
    } else {
        format!("{:.2} ms", ns / 1_000_000.0)
    }
}

fn engine_speed(root: &Path, figs: &mut Vec<Figure>) -> Result<(), String> {
    step("bench: engine (criterion)");
    run(
        root,
        "cargo",
        &[
            "bench",
            "-q",
            "-p",
            "dynchat-engine",
            "--bench",
            "engine",
            "--",
            "--warm-up-time",
            "1",
            "--measurement-time",
            "4",
        ],
    )?;
    let rows = [
        (
            "step/button_on_question",
            "step: button on a question card (median)",
            "< 1 µs",
        ),
        (
            "step/reprompt_bad_email",
            "step: invalid email re-prompt (median)",
            "< 1 µs",
        ),
        (
            "targeting/select_20_dialogues_x_50_rules",
            "targeting: 20 dialogues × 50 rules, all evaluated",
            "< 10 µs",
        ),
        (
            "compile/200_cards",
            "compile: 200-card dialogue (median)",
            "< 1 ms",
        ),
    ];
    for (id, what, target) in rows {
        figs.push(Figure {
            what: what.into(),
            value: fmt_ns(median_ns(root, id)?),
            target: target.into(),
        });
    }
    Ok(())
}

/// The engine alone (no JS glue) built for wasm32 with opt-level z + LTO, then `wasm-opt -Oz`, then brotli:
/// the visitor build (flows arrive compiled-valid; type errors located at the root) and the
/// authoring build (exact JSON paths, as the console uses).
fn engine_size(root: &Path, figs: &mut Vec<Figure>) -> Result<(), String> {
    for (label, features) in [
        ("visitor build", ""),
        ("authoring build, with JSON paths", "paths"),
    ] {
        step(&format!("bench: engine size on wasm32 ({label})"));
        let mut args = vec![
            "build",
            "-q",
            "-p",
            "dynchat-size-probe",
            "--target",
            "wasm32-unknown-unknown",
            "--profile",
            "wasm",
        ];
        if !features.is_empty() {
            args.extend(["--features", features]);
        }
        run(root, "cargo", &args)?;
        let raw = root.join("target/wasm32-unknown-unknown/wasm/dynchat_size_probe.wasm");
        let opt = root.join("target/wasm32-unknown-unknown/wasm/dynchat_size_probe.opt.wasm");
        wasm_opt(root, &raw, &opt)?;
        let raw_len = std::fs::metadata(&opt).map_err(|e| e.to_string())?.len();
        let br = brotli_size(&opt)?;
        figs.push(Figure {
            what: format!(
                "engine alone on wasm32, {label} ({} KB after wasm-opt), brotli",
                raw_len / 1024
            ),
            value: format!("{:.1} KB", br as f64 / 1024.0),
            target: "report (whole widget: 60 KB)".into(),
        });
    }
    Ok(())
}

/// `wasm-opt -Oz` from the npm `binaryen` package (Debian's is too old for current wasm).
pub fn wasm_opt(root: &Path, input: &Path, output: &Path) -> Result<(), String> {
    let bin = root.join("node_modules/.bin/wasm-opt");
    run(
        root,
        &bin.to_string_lossy(),
        &[
            "-Oz",
            "--enable-bulk-memory",
            "--enable-sign-ext",
            "--enable-nontrapping-float-to-int",
            "--enable-mutable-globals",
            &input.to_string_lossy(),
            "-o",
            &output.to_string_lossy(),
        ],
    )
}

fn scheduling_speed(root: &Path, figs: &mut Vec<Figure>) -> Result<(), String> {
    step("bench: slot computation (criterion, pure compute)");
    run(
        root,
        "cargo",
        &[
            "bench",
            "-q",
            "-p",
            "dynchat-scheduling",
            "--bench",
            "slots",
            "--",
            "--warm-up-time",
            "1",
            "--measurement-time",
            "4",
        ],
    )?;
    for (id, what) in [
        (
            "slots_one_agent_14_days",
            "slots: one agent, 14 days (compute only, median)",
        ),
        (
            "slots_queue_10_agents_14_days",
            "slots: queue of 10 agents, 14 days (compute only, median)",
        ),
    ] {
        figs.push(Figure {
            what: what.into(),
            value: fmt_ns(median_ns(root, id)?),
            target: "report".into(),
        });
    }
    Ok(())
}

/// Ingestion and Marketo forwarding on the real worker (workerd) with the Marketo peer on loopback.
fn worker_load(root: &Path, figs: &mut Vec<Figure>) -> Result<(), String> {
    step("bench: worker ingestion next to /health, Marketo forwarding, slot lookup and booking contention");
    crate::worker::build(root)?;
    let mut out = String::new();
    for test in ["load", "meetings"] {
        out += &crate::util::output(
            root,
            "cargo",
            &[
                "test",
                "-q",
                "-p",
                "dynchat-e2e",
                "--test",
                test,
                "--",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
                "bench_",
            ],
        )?;
    }
    for line in out.lines().filter_map(|l| l.strip_prefix("BENCH ")) {
        let mut parts = line.split(" | ");
        if let (Some(what), Some(value), Some(target)) = (parts.next(), parts.next(), parts.next())
        {
            figs.push(Figure {
                what: what.into(),
                value: value.into(),
                target: target.into(),
            });
        }
    }
    Ok(())
}

fn print_table(figs: &[Figure]) {
    let w = figs
        .iter()
        .map(|f| f.what.chars().count())
        .max()
        .unwrap_or(10);
    println!("\n{:w$}  {:>12}  target", "figure", "measured");
    println!("{}", "-".repeat(w + 30));
    for f in figs {
        println!("{:w$}  {:>12}  {}", f.what, f.value, f.target);
    }
}
