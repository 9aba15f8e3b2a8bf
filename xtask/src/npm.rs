//! `cargo xtask npm`: builds `@dynchat/engine` into `dist/npm-engine/` and checks both npm packages
//! as a JS project meets them: the packed engine under `node --test` (validate, simulate, sessions,
//! targeting, garbage arguments) and in a custom Vite + TypeScript UI driven in Chromium; `tsc
//! --noEmit --strict` over TypeScript consumers of both packages' types and that UI; then `npm
//! pack` and `npm publish --dry-run` of `@dynchat/widget` (`dist/npm`) and `@dynchat/engine`.
//!
//! Pipeline: cargo (profile `wasm`) -> wasm-bindgen `--target web` (browsers, bundlers) and
//! `--target nodejs` (Node, loads synchronously) -> one `wasm-opt -Oz` module both glues load.

#[allow(clippy::duplicate_mod)]
#[path = "stage.rs"]
mod stage;

use crate::util::{output, run_env, step};
use crate::widget::{tool, WASM_FEATURES};
use stage::{publish, run as exec, stage_dir};
use std::fs;
use std::path::Path;
use std::process::Command;

/// The package's hand-written files, copied as they are (`engine/npm-engine/package/`).
const HAND_WRITTEN: [&str; 5] = [
    "package.json",
    "index.js",
    "index.node.cjs",
    "index.d.ts",
    "README.md",
];

fn copy(from: &Path, to: &Path) -> Result<(), String> {
    fs::copy(from, to)
        .map(|_| ())
        .map_err(|e| format!("copy {} -> {}: {e}", from.display(), to.display()))
}

fn copy_dir(from: &Path, to: &Path) -> Result<(), String> {
    fs::create_dir_all(to).map_err(|e| format!("{}: {e}", to.display()))?;
    for e in fs::read_dir(from).map_err(|e| format!("{}: {e}", from.display()))? {
        let p = e.map_err(|e| e.to_string())?.path();
        if let Some(name) = p.file_name().filter(|_| p.is_file()) {
            copy(&p, &to.join(name))?;
        }
    }
    Ok(())
}

/// Builds `dist/npm-engine/` (@dynchat/engine).
pub fn build_engine(root: &Path) -> Result<(), String> {
    let wasm_opt = tool(root, "wasm-opt")?;
    let bindgen = stage_dir(root, "npm-engine-bindgen")?;
    let out = stage_dir(root, "npm-engine")?;
    exec(
        Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .current_dir(root)
            .args(["build", "--profile", "wasm", "--target"])
            .args(["wasm32-unknown-unknown", "-p", "dynchat-engine-npm"]),
    )?;
    let wasm = root.join("target/wasm32-unknown-unknown/wasm/dynchat_engine_npm.wasm");
    for target in ["web", "nodejs"] {
        exec(
            Command::new("wasm-bindgen")
                .args(["--target", target, "--out-name", "engine", "--out-dir"])
                .arg(bindgen.join(target))
                .arg(&wasm),
        )?;
    }
    // Both glues load the same module: wasm-bindgen emits identical wasm for the two targets.
    let read = |p: &Path| fs::read(p).map_err(|e| format!("{}: {e}", p.display()));
    if read(&bindgen.join("web/engine_bg.wasm"))? != read(&bindgen.join("nodejs/engine_bg.wasm"))? {
        return Err("wasm-bindgen emitted different wasm for --target web and nodejs: the package ships one module".into());
    }
    exec(
        Command::new(&wasm_opt)
            .args(["-Oz", "--strip-debug", "--strip-producers"])
            .args(WASM_FEATURES)
            .arg(bindgen.join("web/engine_bg.wasm"))
            .arg("-o")
            .arg(out.join("engine_bg.wasm")),
    )?;
    copy(&bindgen.join("web/engine.js"), &out.join("engine.js"))?;
    copy(&bindgen.join("web/engine.d.ts"), &out.join("engine.d.ts"))?;
    copy(
        &bindgen.join("nodejs/engine.js"),
        &out.join("engine.node.cjs"),
    )?;
    let hand = root.join("engine/npm-engine/package");
    for f in HAND_WRITTEN {
        copy(&hand.join(f), &out.join(f))?;
    }
    let manifest = fs::read_to_string(out.join("package.json")).map_err(|e| e.to_string())?;
    let manifest: serde_json::Value =
        serde_json::from_str(&manifest).map_err(|e| format!("package.json: {e}"))?;
    let version = env!("CARGO_PKG_VERSION");
    if manifest["version"] != version {
        return Err(format!(
            "engine/npm-engine/package/package.json: version {} is not the workspace's {version}",
            manifest["version"]
        ));
    }
    let _ = fs::remove_dir_all(&bindgen);
    publish(&out, &root.join("dist/npm-engine"))
}

/// `npm pack --json` of `dir` into `dest`: the tarball's file name, and the figures to print.
fn pack(root: &Path, dir: &Path, dest: &Path, name: &str) -> Result<(String, String), String> {
    let (d, p) = (dir.to_string_lossy(), dest.to_string_lossy());
    let json = output(
        root,
        "npm",
        &["pack", &d, "--pack-destination", &p, "--json"],
    )?;
    let v: serde_json::Value =
        serde_json::from_str(&json).map_err(|e| format!("npm pack --json: {e}: {json}"))?;
    let info = &v[0];
    if info["name"] != name {
        return Err(format!("npm pack {d}: packed {}, not {name}", info["name"]));
    }
    let packed: Vec<&str> = info["files"]
        .as_array()
        .map(|f| f.iter().filter_map(|x| x["path"].as_str()).collect())
        .unwrap_or_default();
    let manifest = fs::read_to_string(dir.join("package.json")).map_err(|e| e.to_string())?;
    let manifest: serde_json::Value = serde_json::from_str(&manifest).map_err(|e| e.to_string())?;
    for f in manifest["files"].as_array().into_iter().flatten() {
        let f = f.as_str().unwrap_or_default();
        if !packed.contains(&f) {
            return Err(format!(
                "npm pack {d}: `{f}` (in package.json files) is not in the tarball: {packed:?}"
            ));
        }
    }
    let kb = |k: &str| info[k].as_f64().unwrap_or(0.0) / 1024.0;
    let figures = format!(
        "{name}: {} files, tarball {:.1} KB, unpacked {:.1} KB",
        packed.len(),
        kb("size"),
        kb("unpackedSize")
    );
    let file = info["filename"].as_str().unwrap_or_default().to_string();
    Ok((file, figures))
}

/// The packed engine, the Node suite and the Vite UI in Chromium, then pack and publish
/// `--dry-run` for both packages. `dist/npm` (the widget) must be built.
pub fn check(root: &Path) -> Result<(), String> {
    if !root.join("dist/npm/package.json").is_file() {
        return Err("dist/npm is missing: build the widget first (cargo xtask build)".into());
    }
    step("npm: build @dynchat/engine into dist/npm-engine");
    build_engine(root)?;
    let work = root.join("target/npm-engine-test");
    let _ = fs::remove_dir_all(&work);
    fs::create_dir_all(&work).map_err(|e| format!("{}: {e}", work.display()))?;
    let mut figures = Vec::new();
    for (dir, name) in [
        ("dist/npm", "@dynchat/widget"),
        ("dist/npm-engine", "@dynchat/engine"),
    ] {
        step(&format!(
            "npm: npm pack and npm publish --dry-run of {name} ({dir})"
        ));
        let (tgz, f) = pack(root, &root.join(dir), &work, name)?;
        figures.push(f);
        // An absolute path: `dist/npm` alone reads as a GitHub repository.
        let abs = root.join(dir).to_string_lossy().into_owned();
        output(
            root,
            "npm",
            &["publish", &abs, "--dry-run", "--json", "--loglevel=error"],
        )?;
        // Installed from the tarball, as `npm install` would put it.
        exec(
            Command::new("tar")
                .arg("xzf")
                .arg(work.join(&tgz))
                .arg("-C")
                .arg(&work),
        )?;
        let into = work.join("node_modules/@dynchat");
        fs::create_dir_all(&into).map_err(|e| e.to_string())?;
        let short = name.trim_start_matches("@dynchat/");
        fs::rename(work.join("package"), into.join(short)).map_err(|e| e.to_string())?;
    }
    let tests = root.join("engine/npm-engine/tests");
    copy_dir(&tests.join("node"), &work.join("node"))?;
    copy_dir(&tests.join("ui"), &work.join("ui"))?;
    copy_dir(&tests.join("ts"), &work.join("ts"))?;
    copy(
        &root.join("examples/pricing-qualify.json"),
        &work.join("ui/dialogue.json"),
    )?;
    step(
        "npm: tsc --noEmit --strict: TypeScript consumers of both packages' types and the Vite UI",
    );
    let tsc = tool(root, "tsc")?;
    exec(Command::new(&tsc).current_dir(&work).args([
        "--noEmit",
        "--strict",
        "-p",
        "ts/tsconfig.json",
    ]))?;
    let root_s = root.to_string_lossy().into_owned();
    let env = [("DYNCHAT_ROOT", root_s.as_str())];
    step("npm: node --test with the packed @dynchat/engine (validate, simulate, sessions, targeting, bad arguments)");
    let mut suite: Vec<String> = fs::read_dir(work.join("node"))
        .map_err(|e| e.to_string())?
        .filter_map(|e| e.ok().map(|e| e.path().to_string_lossy().into_owned()))
        .filter(|p| p.ends_with(".test.mjs"))
        .collect();
    suite.sort();
    let mut args = vec!["--test".to_string()];
    args.extend(suite);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    run_env(&work, "node", &args, &env)?;
    step("npm: a custom TypeScript UI on @dynchat/engine, built with Vite, driven in Chromium");
    let vite = tool(root, "vite")?;
    let ui = work.join("ui");
    exec(Command::new(&vite).current_dir(&ui).args([
        "build",
        "--base",
        "./",
        "--outDir",
        "dist",
        "--logLevel",
        "warn",
    ]))?;
    run_env(&ui, "node", &["drive.mjs"], &env)?;
    for f in figures {
        eprintln!("npm: {f}");
    }
    Ok(())
}
