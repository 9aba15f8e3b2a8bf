//! The edge worker's tasks: offline build (worker-build with local tools), local start under
//! `wrangler dev` (workerd) with migrations applied, readiness, the demo seed, and the bench.
//!
//! Std-only on purpose (plus serde_json): `tests/e2e` includes this file with `#[path]` so the
//! tests start the worker exactly as `cargo xtask` does.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

/// wrangler's telemetry and network look-ups, switched off (TOOLCHAIN.md).
pub const QUIET_ENV: [(&str, &str); 3] = [
    ("WRANGLER_SEND_METRICS", "false"),
    ("WRANGLER_SEND_ERROR_REPORTS", "false"),
    ("CLOUDFLARE_CF_FETCH_ENABLED", "false"),
];

fn newest_mtime(dir: &Path, newest: &mut SystemTime) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            newest_mtime(&p, newest);
        } else if let Ok(m) = e.metadata().and_then(|m| m.modified()) {
            if m > *newest {
                *newest = m;
            }
        }
    }
}

/// True when `edge-worker/build` is newer than every input of the worker build.
fn build_is_fresh(root: &Path) -> bool {
    let out = root.join("edge-worker/build/index_bg.wasm");
    let Ok(built) = std::fs::metadata(&out).and_then(|m| m.modified()) else {
        return false;
    };
    let mut newest = SystemTime::UNIX_EPOCH;
    for d in ["edge-worker/src", "engine/core/src"] {
        newest_mtime(&root.join(d), &mut newest);
    }
    for f in [
        "edge-worker/Cargo.toml",
        "engine/core/Cargo.toml",
        "Cargo.lock",
    ] {
        if let Ok(m) = std::fs::metadata(root.join(f)).and_then(|m| m.modified()) {
            newest = newest.max(m);
        }
    }
    built > newest
}

fn have_worker_build() -> bool {
    Command::new("worker-build")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// Builds the worker offline into `edge-worker/build` (skipped when up to date) and makes sure
/// `dist/` exists so wrangler's `[assets]` never fails on a fresh checkout.
pub fn build(root: &Path) -> Result<(), String> {
    std::fs::create_dir_all(root.join("dist")).map_err(|e| format!("create dist/: {e}"))?;
    if build_is_fresh(root) {
        eprintln!("edge worker: build is up to date");
        return Ok(());
    }
    if !have_worker_build() {
        let st = Command::new("cargo")
            .args(["install", "worker-build", "--version", "0.8.7"])
            .status()
            .map_err(|e| format!("cargo install worker-build: {e}"))?;
        if !st.success() {
            return Err("cargo install worker-build --version 0.8.7 failed".into());
        }
    }
    let bindgen = which("wasm-bindgen").unwrap_or_else(|| PathBuf::from("wasm-bindgen"));
    let esbuild = root.join("node_modules/@esbuild/linux-x64/bin/esbuild");
    let wasm_opt = root.join("node_modules/.bin/wasm-opt");
    for (what, p) in [("esbuild", &esbuild), ("wasm-opt", &wasm_opt)] {
        if !p.exists() {
            return Err(format!(
                "{what} not found at {} (run npm ci at the repository root)",
                p.display()
            ));
        }
    }
    let st = Command::new("worker-build")
        .arg("--release")
        .current_dir(root.join("edge-worker"))
        .env("WASM_BINDGEN_BIN", &bindgen)
        .env("ESBUILD_BIN", &esbuild)
        .env("WASM_OPT_BIN", &wasm_opt)
        .status()
        .map_err(|e| format!("worker-build: {e}"))?;
    if !st.success() {
        return Err(format!("worker-build failed ({st})"));
    }
    if !root.join("edge-worker/build/worker/shim.mjs").exists() {
        return Err("worker-build did not write edge-worker/build/worker/shim.mjs".into());
    }
    Ok(())
}

fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(program))
            .find(|p| p.is_file())
    })
}

fn wrangler(root: &Path) -> PathBuf {
    root.join("node_modules/.bin/wrangler")
}

/// Applies the D1 migrations to a local persist directory.
pub fn migrate(root: &Path, persist_dir: &Path) -> Result<(), String> {
    let out = Command::new(wrangler(root))
        .args(["d1", "migrations", "apply", "DB", "--local", "--persist-to"])
        .arg(persist_dir)
        .current_dir(root)
        .envs(QUIET_ENV)
        .env("CI", "true")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("wrangler d1 migrations apply: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "wrangler d1 migrations apply failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(())
}

/// The D1 state of a fresh `persist_dir`: a copy of a database the migrations were applied to
/// once by [`migrate`] (kept under `target/d1-template/`, named after a hash of
/// `edge-worker/migrations`, `wrangler.toml` and wrangler's version), so each test worker does not pay for
/// `wrangler d1 migrations apply` again (a Node start and every migration: 5-8 s of CPU). A
/// persist directory that already holds state (a restart, the demo's `.dynchat/`) is migrated
/// in place as before, so a newer migration still reaches it.
pub fn migrate_fresh(root: &Path, persist_dir: &Path) -> Result<(), String> {
    let d1 = persist_dir.join("v3/d1");
    if d1.exists() {
        return migrate(root, persist_dir);
    }
    let template = migrated_template(root)?;
    // Copied beside it, then renamed into place: a run killed mid-copy leaves no half database
    // that the next start would take for migrated state.
    // Leftovers of killed runs first (any pid).
    for e in std::fs::read_dir(persist_dir.join("v3"))
        .into_iter()
        .flatten()
        .flatten()
    {
        if e.file_name().to_string_lossy().starts_with("d1.part.") {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
    let part = persist_dir.join(format!("v3/d1.part.{}", std::process::id()));
    copy_tree(&template.join("v3/d1"), &part)?;
    std::fs::rename(&part, &d1).map_err(|e| format!("{} -> {}: {e}", part.display(), d1.display()))
}

/// A hash of everything a migrated database depends on: the migration files (names and text),
/// `wrangler.toml` (the database's id and migrations directory) and wrangler's `package.json`.
fn migrations_key(root: &Path) -> Result<u64, String> {
    use std::hash::{Hash, Hasher};
    let dir = root.join("edge-worker/migrations");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .flatten()
        .map(|e| e.path())
        .collect();
    files.sort();
    files.push(root.join("wrangler.toml"));
    // The wrangler that wrote it (its version), in case a newer one lays the state out anew.
    files.push(root.join("node_modules/wrangler/package.json"));
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for f in files {
        f.file_name().hash(&mut h);
        std::fs::read(&f)
            .map_err(|e| format!("{}: {e}", f.display()))?
            .hash(&mut h);
    }
    Ok(h.finish())
}

/// The migrated template for the current migrations, made on first use (in a directory of this
/// process, then renamed into place, so concurrent test binaries never see half of one).
fn migrated_template(root: &Path) -> Result<PathBuf, String> {
    let key = format!("{:016x}", migrations_key(root)?);
    let base = root.join("target/d1-template");
    let dir = base.join(&key);
    if dir.join("v3/d1").exists() {
        return Ok(dir);
    }
    let tmp = base.join(format!("{key}.{}", std::process::id()));
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp).map_err(|e| format!("{}: {e}", tmp.display()))?;
    }
    std::fs::create_dir_all(&tmp).map_err(|e| format!("{}: {e}", tmp.display()))?;
    migrate(root, &tmp)?;
    if std::fs::rename(&tmp, &dir).is_err() {
        // Another process published the same template first: use it.
        let _ = std::fs::remove_dir_all(&tmp);
        if !dir.join("v3/d1").exists() {
            return Err(format!(
                "cannot move {} to {}",
                tmp.display(),
                dir.display()
            ));
        }
    }
    Ok(dir)
}

/// Copies a directory tree (files are copied, never hard-linked).
fn copy_tree(from: &Path, to: &Path) -> Result<(), String> {
    std::fs::create_dir_all(to).map_err(|e| format!("create {}: {e}", to.display()))?;
    let entries = std::fs::read_dir(from).map_err(|e| format!("{}: {e}", from.display()))?;
    for e in entries.flatten() {
        let (src, dst) = (e.path(), to.join(e.file_name()));
        if src.is_dir() {
            copy_tree(&src, &dst)?;
        } else {
            std::fs::copy(&src, &dst).map_err(|e| format!("copy {}: {e}", src.display()))?;
        }
    }
    Ok(())
}

/// A private copy of everything `wrangler dev` watches, for one worker: its config
/// (`wrangler.toml`), its bundle (`edge-worker/build`) and its `[assets]` (`dist/`), under
/// `persist_dir/run/`. Returns (config, entry script, assets dir).
///
/// `wrangler dev` reloads whenever one of those changes (wrangler.toml and the assets through
/// inotify, the bundle through esbuild's polling watch): it pauses every incoming request,
/// restarts workerd (Durable Objects lose their memory, a POST in flight gets a 503), then
/// replays the paused GETs. The checkout's copies are rewritten by every build (`cargo xtask
/// build`, the console test's own site/console build, `ensure_built` after a source change, a
/// merge touching wrangler.toml), so a worker reading them directly can restart in the middle of
/// a test. The snapshot is taken at start and only ever read.
fn snapshot(root: &Path, persist_dir: &Path) -> Result<(PathBuf, PathBuf, PathBuf), String> {
    let run = persist_dir.join("run");
    if run.exists() {
        std::fs::remove_dir_all(&run).map_err(|e| format!("{}: {e}", run.display()))?;
    }
    let (config, build, assets) = (
        run.join("wrangler.toml"),
        run.join("build"),
        run.join("assets"),
    );
    copy_tree(&root.join("edge-worker/build"), &build)?;
    copy_tree(&root.join("dist"), &assets)?;
    std::fs::copy(root.join("wrangler.toml"), &config)
        .map_err(|e| format!("copy wrangler.toml: {e}"))?;
    Ok((config, build.join("worker/shim.mjs"), assets))
}

/// One fix of wrangler 4.86's dev tooling in `node_modules`: the file, the text it replaces and
/// its replacement (which must contain a `dynchat:` marker, so the patch is applied once).
struct DevPatch {
    file: &'static str,
    from: &'static str,
    to: &'static str,
}

/// Fixes of wrangler 4.86's dev tooling, applied in `node_modules` on every start (idempotent, so
/// `npm ci` cannot undo them).
///
/// 1. A hang in the dev proxy. `wrangler dev` puts a proxy (a Durable Object in its own
///    workerd) in front of the worker and forwards each request over pooled keep-alive
///    connections. When a pooled connection has idled about 5 s, the client's and the server's
///    5 s idle timers (kj) race and the forward fails with "Network connection lost". The proxy
///    then decides whether the worker was restarted by comparing the request's full URL (with
///    its path) to the worker's origin URL, which never matches for a path other than `/`: so
///    it takes the failure for a restart and parks a GET in its retry queue, to be replayed on
///    the next reload or the next incoming request. A browser waiting for that one script sends
///    nothing more: the page load hangs until a timeout (issue 17: `/console/console.js` held
///    59.8 s, released by the next test's first request). Upstream compares origins and retries
///    since (workers-sdk #15252); the newer wrangler needs Node 22. Here the parked GET is
///    retried at once (the queue bails while a real reload is under way).
/// 2. The cost of every subrequest. The inspector proxy enables the runtime's `Network` domain
///    (for the DevTools network tab), and forwards each of its events (four per subrequest: a D1
///    query, a Durable Object call, a queue send) to wrangler's Node process as a debug log,
///    which formats it and appends it to `~/.config/.wrangler/logs` (open, write, close each
///    time; 1.8 GB after a day of tests). Measured on a lead load: Node busy ~3 ms per lead
///    (0.24 ms per `/health`), more than the worker itself. Nothing here uses the network tab
///    (profiling through the inspector still works), so the domain stays off.
const DEV_PATCHES: [DevPatch; 2] = [
    DevPatch {
        file: "node_modules/wrangler/wrangler-dist/ProxyWorker.js",
        from: "this.requestRetryQueue.set(request, deferredResponse);",
        to: "this.requestRetryQueue.set(request, deferredResponse); this.processQueue(); /* dynchat: retry now (xtask/src/worker.rs patch_dev_proxy) */",
    },
    DevPatch {
        file: "node_modules/wrangler/wrangler-dist/InspectorProxyWorker.js",
        from: "{ method: \"Network.enable\", id: this.nextCounter() }",
        to: "{ method: \"Network.disable\", id: this.nextCounter() /* dynchat: no network events (xtask/src/worker.rs DEV_PATCHES) */ }",
    },
];

/// Applies [`DEV_PATCHES`] (idempotent; a file that is missing or changed is left alone).
pub fn patch_dev_tools(root: &Path) -> Result<(), String> {
    for p in &DEV_PATCHES {
        let file = root.join(p.file);
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        if text.contains(p.to) || !text.contains(p.from) {
            continue;
        }
        let tmp = file.with_extension(format!("js.{}", std::process::id()));
        std::fs::write(&tmp, text.replace(p.from, p.to))
            .map_err(|e| format!("{}: {e}", tmp.display()))?;
        std::fs::rename(&tmp, &file).map_err(|e| format!("{}: {e}", file.display()))?;
    }
    Ok(())
}

/// Applies migrations ([`migrate_fresh`]), then starts `wrangler dev --local` on 127.0.0.1:`port` with state in
/// `persist_dir`. `env` entries become worker vars (`--var K:V`), e.g. `MARKETO_BASE_URL`,
/// `MARKETO_CLIENT_SECRET`, `ADMIN_TOKEN`. Output goes to `persist_dir/wrangler.log`, each line
/// stamped with the time. Config, bundle and static assets come from copies taken now
/// ([`snapshot`]). The child leads its own process group: stop it with [`stop`] so
/// workerd goes too.
pub fn start(
    root: &Path,
    persist_dir: &Path,
    port: u16,
    env: &[(String, String)],
) -> Result<Child, String> {
    std::fs::create_dir_all(persist_dir)
        .map_err(|e| format!("create {}: {e}", persist_dir.display()))?;
    std::fs::create_dir_all(root.join("dist")).map_err(|e| format!("create dist/: {e}"))?;
    migrate_fresh(root, persist_dir)?;
    patch_dev_tools(root)?;
    // A build publishing into dist/ at this very moment can make one copy fail: try again.
    let mut snap = snapshot(root, persist_dir);
    for _ in 0..5 {
        if snap.is_ok() {
            break;
        }
        std::thread::sleep(Duration::from_millis(500));
        snap = snapshot(root, persist_dir);
    }
    let (config, script, assets) = snap?;
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(persist_dir.join("wrangler.log"))
        .map_err(|e| format!("wrangler.log: {e}"))?;
    // wrangler's lines carry no time: a thread stamps each one (UTC, ms) so the log can be read
    // next to the browser's request timings.
    let (reader, out) = std::io::pipe().map_err(|e| format!("pipe: {e}"))?;
    let err = out.try_clone().map_err(|e| e.to_string())?;
    std::thread::spawn(move || stamp_lines(reader, log));
    let mut c = Command::new(wrangler(root));
    c.arg("dev")
        .arg(&script)
        .arg("--config")
        .arg(&config)
        .args([
            "--local",
            "--ip",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "--persist-to",
        ])
        .arg(persist_dir)
        .arg("--assets")
        .arg(&assets)
        .args([
            "--show-interactive-dev-session=false",
            "--test-scheduled",
            "--inspector-port",
            &free_port()?.to_string(),
        ])
        .current_dir(root)
        .envs(QUIET_ENV)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err);
    for (k, v) in env {
        c.arg("--var").arg(format!("{k}:{v}"));
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        c.process_group(0);
    }
    c.spawn().map_err(|e| format!("wrangler dev: {e}"))
}

/// `HH:MM:SS.mmm` (UTC) of now.
pub fn clock() -> String {
    let ms = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    let s = ms / 1000;
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        s / 3600 % 24,
        s / 60 % 60,
        s % 60,
        ms % 1000
    )
}

/// Copies `from` into `to` line by line, each line prefixed with [`clock`].
fn stamp_lines(from: impl Read, mut to: std::fs::File) {
    use std::io::BufRead;
    let mut r = std::io::BufReader::new(from);
    let mut line = Vec::new();
    while r
        .read_until(b'\n', &mut line)
        .map(|n| n > 0)
        .unwrap_or(false)
    {
        let text = String::from_utf8_lossy(&line);
        let _ = write!(to, "{} {}", clock(), text);
        if !text.ends_with('\n') {
            let _ = writeln!(to);
        }
        line.clear();
    }
}

/// The last `n` lines of a text file (empty when it cannot be read).
pub fn tail(path: &Path, n: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// A port that was free a moment ago on 127.0.0.1.
pub fn free_port() -> Result<u16, String> {
    let l = std::net::TcpListener::bind(("127.0.0.1", 0)).map_err(|e| format!("bind: {e}"))?;
    l.local_addr().map(|a| a.port()).map_err(|e| e.to_string())
}

/// Stops a worker started by [`start`]: SIGTERM to its process group, then SIGKILL.
pub fn stop(child: &mut Child) {
    let pid = child.id() as i32;
    let _ = Command::new("kill")
        .args(["-TERM", "--", &format!("-{pid}")])
        .stderr(Stdio::null())
        .status();
    for _ in 0..50 {
        if let Ok(Some(_)) = child.try_wait() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{pid}")])
        .stderr(Stdio::null())
        .status();
    let _ = child.wait();
}

/// Polls `GET /health` until the worker answers 200 (at most 300 s: a loaded CI machine can take minutes to boot workerd).
pub fn wait_ready(port: u16) -> Result<(), String> {
    let start = Instant::now();
    let mut last = String::new();
    while start.elapsed() < Duration::from_secs(300) {
        match http(port, "GET", "/health", &[], None) {
            Ok((200, _)) => return Ok(()),
            Ok((s, b)) => last = format!("{s} {b}"),
            Err(e) => last = e,
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    Err(format!(
        "worker on port {port} not ready after 300 s: {last}"
    ))
}

/// A minimal HTTP/1.1 client (std only) for xtask and the harness: returns (status, body).
pub fn http(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Result<(u16, String), String> {
    let mut s =
        TcpStream::connect(("127.0.0.1", port)).map_err(|e| format!("connect {port}: {e}"))?;
    s.set_read_timeout(Some(Duration::from_secs(60)))
        .map_err(|e| e.to_string())?;
    let mut req =
        format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if let Some(b) = body {
        if !headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
        {
            req.push_str("Content-Type: application/json\r\n");
        }
        req.push_str(&format!("Content-Length: {}\r\n", b.len()));
    }
    req.push_str("\r\n");
    if let Some(b) = body {
        req.push_str(b);
    }
    s.write_all(req.as_bytes()).map_err(|e| e.to_string())?;
    // Read up to the end of the answer as its headers frame it, not to the end of the stream:
    // `wrangler dev` ignores `Connection: close` and holds the socket until its 5 s idle timer
    // fires, which cost every `wait_ready` (so every test worker's start) 5 s.
    let mut raw = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    while !answer_complete(&raw, method == "HEAD") {
        let n = s.read(&mut buf).map_err(|e| e.to_string())?;
        if n == 0 {
            break;
        }
        raw.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&raw);
    let (head, rest) = text.split_once("\r\n\r\n").ok_or("malformed HTTP answer")?;
    let status: u16 = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or("no status")?;
    let chunked = head.lines().any(|l| {
        l.to_ascii_lowercase().starts_with("transfer-encoding:")
            && l.to_ascii_lowercase().contains("chunked")
    });
    let body = if chunked {
        dechunk(rest)
    } else {
        rest.to_string()
    };
    Ok((status, body))
}

/// True when `raw` holds a whole HTTP/1.1 answer: its headers, and then the body their
/// `Content-Length` or chunked encoding delimits (none for `HEAD`, 1xx, 204 and 304). An answer
/// with neither is delimited by the close of the connection, so it is never complete here.
pub fn answer_complete(raw: &[u8], head: bool) -> bool {
    let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") else {
        return false;
    };
    let header = String::from_utf8_lossy(&raw[..end]).to_ascii_lowercase();
    let body = &raw[end + 4..];
    let status = header.split(' ').nth(1).unwrap_or_default();
    if head || status.starts_with('1') || status == "204" || status == "304" {
        return true;
    }
    let value = |name: &str| {
        header
            .lines()
            .find_map(|l| l.strip_prefix(name).map(|v| v.trim().to_string()))
    };
    if value("transfer-encoding:").is_some_and(|v| v.contains("chunked")) {
        return chunked_complete(body);
    }
    match value("content-length:").map(|v| v.parse::<usize>()) {
        Some(Ok(n)) => body.len() >= n,
        _ => false,
    }
}

/// True when a chunked body has reached its last (zero-size) chunk and the blank line after it.
fn chunked_complete(mut b: &[u8]) -> bool {
    loop {
        let Some(eol) = b.windows(2).position(|w| w == b"\r\n") else {
            return false;
        };
        let size = String::from_utf8_lossy(&b[..eol]);
        let size = size.split(';').next().unwrap_or_default().trim();
        let Ok(n) = usize::from_str_radix(size, 16) else {
            return false;
        };
        b = &b[eol + 2..];
        if n == 0 {
            // Trailer fields (rare) end with a blank line too.
            return b.starts_with(b"\r\n") || b.windows(4).any(|w| w == b"\r\n\r\n");
        }
        if b.len() < n + 2 {
            return false;
        }
        b = &b[n + 2..];
    }
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        s = rest[n..].trim_start_matches("\r\n");
    }
    out
}

/// Seeds the demo site `acme` (allowed origins 127.0.0.1:8080 and localhost:8080) and publishes
/// every `examples/*.json` dialogue through the admin API.
pub fn seed_demo(root: &Path, port: u16, admin_token: &str) -> Result<(), String> {
    let auth = format!("Bearer {admin_token}");
    let h = [("Authorization", auth.as_str())];
    let site = serde_json::json!({
        "name": "ACME (demo)",
        "allowed_origins": ["http://127.0.0.1:8080", "http://localhost:8080"],
        "config": {"bot_name": "Ada from Northwind", "primary_color": "#1d4ed8", "position": "right", "welcome": "Questions about pricing? I can help.", "consent_required": false, "launcher_always": true, "privacy_url": "/site/index.html#privacy"},
        "marketo": {"program_id": 1001, "program_status": "Engaged"}
    });
    let (st, b) = http(
        port,
        "PUT",
        "/admin/sites/acme",
        &h,
        Some(&site.to_string()),
    )?;
    if st != 200 {
        return Err(format!("PUT /admin/sites/acme: {st} {b}"));
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(root.join("examples"))
        .map_err(|e| format!("examples/: {e}"))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err("no examples/*.json to publish".into());
    }
    for f in files {
        let text = std::fs::read_to_string(&f).map_err(|e| format!("{}: {e}", f.display()))?;
        let (st, b) = http(port, "POST", "/admin/sites/acme/dialogues", &h, Some(&text))?;
        if st != 201 {
            return Err(format!("publish {}: {st} {b}", f.display()));
        }
    }
    let (st, b) = http(port, "POST", "/admin/marketo/setup", &h, Some("{}"))?;
    if st != 200 {
        eprintln!("warning: Marketo activity-type setup: {st} {b} (is the Marketo peer running?)");
    }
    Ok(())
}
