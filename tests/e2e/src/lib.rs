//! Shared harness for the end-to-end tests: builds the worker once, starts it under
//! `wrangler dev` (via the same functions as `cargo xtask`) on a free port with a fresh persist
//! directory, starts the real Marketo peer, and offers small HTTP helpers.

#[allow(dead_code)]
#[path = "../../../xtask/src/worker.rs"]
pub mod worker;

pub mod clock;
pub mod console;
pub mod meeting_stack;
pub mod peers;

use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

/// The admin bearer token the harness gives the worker.
pub const ADMIN_TOKEN: &str = "e2e-admin-token";

/// The repository root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap_or_else(|_| PathBuf::from("../.."))
}

/// The repository root, for a test of the widget on the demo site: the widget must be built
/// (`dist/widget`).
pub fn root_with_widget() -> PathBuf {
    let root = root();
    assert!(
        root.join("dist/widget/loader.js").exists(),
        "dist/widget is missing: build the widget first (cargo xtask widget)"
    );
    root
}

static BUILD: OnceLock<Result<(), String>> = OnceLock::new();
static SERIAL: Mutex<()> = Mutex::new(());

/// One worker at a time: each is a wrangler + workerd pair and the machine is small.
pub fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|p| p.into_inner())
}

/// Builds the worker once per test binary.
pub fn ensure_built() {
    let r = BUILD.get_or_init(|| worker::build(&root()));
    if let Err(e) = r {
        panic!("worker build failed: {e}");
    }
}

/// A fresh log file for a peer's stderr under `target/e2e/logs/`.
pub fn peer_log(name: &str) -> (PathBuf, std::fs::File) {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let dir = root().join("target/e2e/logs");
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join(format!("{name}-{}-{n}.log", std::process::id()));
    let file =
        std::fs::File::create(&path).unwrap_or_else(|e| panic!("create {}: {e}", path.display()));
    (path, file)
}

/// When the test is failing (unwinding), prints the last lines of a process's log.
pub fn print_tail_if_failing(what: &str, log: &Path) {
    if std::thread::panicking() {
        eprintln!(
            "\n--- {what}: last 60 lines of {} ---\n{}",
            log.display(),
            worker::tail(log, 60)
        );
    }
}

/// A running Marketo peer.
pub struct Peer {
    child: Child,
    pub port: u16,
    /// The peer's stderr (its request log).
    pub log: PathBuf,
}

impl Peer {
    /// Starts `tests/peers/marketo_peer.py` with extra flags; waits for its ready line.
    pub fn start(extra: &[&str]) -> Peer {
        let (log, log_file) = peer_log("marketo_peer");
        let mut child = Command::new("python3")
            .arg(root().join("tests/peers/marketo_peer.py"))
            .args([
                "--port",
                "0",
                "--client-id",
                "dynchat",
                "--client-secret",
                "secret",
            ])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(log_file)
            .spawn()
            .expect("python3 tests/peers/marketo_peer.py");
        let out = child.stdout.take().expect("peer stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let mut r = BufReader::new(out);
            let _ = r.read_line(&mut line);
            let _ = tx.send(line);
            // Keep draining so the peer never blocks on a full pipe.
            let mut sink = String::new();
            while r.read_line(&mut sink).map(|n| n > 0).unwrap_or(false) {
                sink.clear();
            }
        });
        let line = rx
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| {
                panic!(
                    "no ready line from the Marketo peer within 30 s; {}:\n{}",
                    log.display(),
                    worker::tail(&log, 40)
                )
            });
        let port: u16 = line
            .trim()
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("unexpected peer line: {line}"));
        Peer { child, port, log }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// `GET /_peer/state`.
    pub fn state(&self) -> Value {
        get_json(&format!("{}/_peer/state", self.url()))
    }

    /// `POST /_peer/config` (faults, limits).
    pub fn config(&self, body: Value) {
        if let Err(e) = ureq::post(&format!("{}/_peer/config", self.url())).send_json(body) {
            panic!("peer config: {e}");
        }
    }

    /// `POST /_peer/seed`.
    pub fn seed(&self, body: Value) -> Value {
        let r = ureq::post(&format!("{}/_peer/seed", self.url())).send_json(body);
        match r {
            Ok(r) => r.into_json().unwrap_or(Value::Null),
            Err(ureq::Error::Status(s, r)) => {
                panic!("peer seed {s}: {}", r.into_string().unwrap_or_default())
            }
            Err(e) => panic!("peer seed: {e}"),
        }
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        print_tail_if_failing("Marketo peer", &self.log);
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn get_json(url: &str) -> Value {
    ureq::get(url)
        .timeout(Duration::from_secs(30))
        .call()
        .expect(url)
        .into_json()
        .expect("json")
}

/// A running worker (wrangler dev) with its persist directory.
pub struct Worker {
    child: Option<Child>,
    pub port: u16,
    pub persist: PathBuf,
    vars: Vec<(String, String)>,
}

/// An HTTP answer: status, headers (lower-case names), body text.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|_| panic!("not JSON ({}): {}", self.status, self.body))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

impl Worker {
    /// Starts a worker pointed at `peer` with extra vars; fresh persist dir named after `name`.
    pub fn start(name: &str, peer: Option<&Peer>, extra: &[(&str, &str)]) -> Worker {
        ensure_built();
        let persist = root()
            .join("target/e2e")
            .join(format!("{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&persist);
        let mut vars: Vec<(String, String)> = vec![
            ("ADMIN_TOKEN".into(), ADMIN_TOKEN.into()),
            ("MARKETO_CLIENT_ID".into(), "dynchat".into()),
            ("MARKETO_CLIENT_SECRET".into(), "secret".into()),
            (
                "MARKETO_BASE_URL".into(),
                peer.map(Peer::url)
                    .unwrap_or_else(|| "http://127.0.0.1:9".into()),
            ),
            ("MARKETO_BACKOFF_MS".into(), "300".into()),
        ];
        for (k, v) in extra {
            vars.retain(|(x, _)| x != k);
            vars.push((k.to_string(), v.to_string()));
        }
        let mut w = Worker {
            child: None,
            port: 0,
            persist,
            vars,
        };
        w.boot();
        w
    }

    fn boot(&mut self) {
        self.port = worker::free_port().expect("free port");
        let child =
            worker::start(&root(), &self.persist, self.port, &self.vars).expect("start worker");
        self.child = Some(child);
        if let Err(e) = worker::wait_ready(self.port) {
            let log = self.persist.join("wrangler.log");
            panic!(
                "{e}\n--- {} (tail) ---\n{}",
                log.display(),
                worker::tail(&log, 80)
            );
        }
    }

    /// Stops and starts again on the same persist directory (a "worker restart").
    pub fn restart(&mut self) {
        if let Some(mut c) = self.child.take() {
            worker::stop(&mut c);
        }
        self.boot();
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Any request; never panics on a status.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&str>,
    ) -> Answer {
        let mut r = ureq::request(method, &self.url(path)).timeout(Duration::from_secs(60));
        for (k, v) in headers {
            r = r.set(k, v);
        }
        let res = match body {
            Some(b) => r.send_string(b),
            None => r.call(),
        };
        let resp = match res {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(e) => panic!("{method} {path}: {e}"),
        };
        let status = resp.status();
        let headers = resp
            .headers_names()
            .into_iter()
            .filter_map(|n| {
                resp.header(&n)
                    .map(|v| (n.to_ascii_lowercase(), v.to_string()))
            })
            .collect();
        let body = resp.into_string().unwrap_or_default();
        Answer {
            status,
            headers,
            body,
        }
    }

    /// POST JSON to a public path.
    pub fn post(&self, path: &str, body: &Value, headers: &[(&str, &str)]) -> Answer {
        let mut h = vec![("Content-Type", "application/json")];
        h.extend_from_slice(headers);
        self.request("POST", path, &h, Some(&body.to_string()))
    }

    /// An admin call with the bearer token.
    pub fn admin(&self, method: &str, path: &str, body: Option<&Value>) -> Answer {
        let auth = format!("Bearer {ADMIN_TOKEN}");
        let mut h = vec![("Authorization", auth.as_str())];
        if body.is_some() {
            h.push(("Content-Type", "application/json"));
        }
        let text = body.map(Value::to_string);
        self.request(method, path, &h, text.as_deref())
    }

    /// Creates a site and publishes dialogues (JSON texts); returns (id, hash) per dialogue.
    pub fn site(&self, site: &str, settings: Value, dialogues: &[&str]) -> Vec<(String, String)> {
        let a = self.admin("PUT", &format!("/admin/sites/{site}"), Some(&settings));
        assert_eq!(a.status, 200, "PUT site: {}", a.body);
        dialogues
            .iter()
            .map(|d| {
                let v: Value = serde_json::from_str(d).expect("dialogue JSON");
                let a = self.admin("POST", &format!("/admin/sites/{site}/dialogues"), Some(&v));
                assert_eq!(a.status, 201, "publish: {}", a.body);
                let j = a.json();
                (
                    j["id"].as_str().unwrap_or_default().to_string(),
                    j["hash"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect()
    }

    /// Runs the every-minute cron (outbox sweep + sync) as Cloudflare would.
    pub fn cron_minute(&self) {
        let a = self.request("GET", "/__scheduled?cron=*/1+*+*+*+*", &[], None);
        assert!(a.status < 500, "cron: {} {}", a.status, a.body);
    }

    /// Site stats from the admin API (counts by status).
    pub fn stats(&self, site: &str) -> Value {
        self.admin("GET", &format!("/admin/sites/{site}/stats"), None)
            .json()
    }

    /// Polls `check` every 500 ms, running the minute cron every 5 s, for at most `limit`.
    pub fn wait_until(&self, limit: Duration, what: &str, mut check: impl FnMut() -> bool) {
        let start = Instant::now();
        let mut last_cron = Instant::now();
        let mut rounds = 0u32;
        while start.elapsed() < limit && rounds < 100_000 {
            rounds += 1;
            if check() {
                return;
            }
            if last_cron.elapsed() > Duration::from_secs(5) {
                self.cron_minute();
                last_cron = Instant::now();
            }
            std::thread::sleep(Duration::from_millis(500));
        }
        let log = self.persist.join("wrangler.log");
        let tail = worker::tail(&log, 40);
        panic!(
            "timed out waiting for {what}\n--- {} (tail) ---\n{tail}",
            log.display()
        );
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        print_tail_if_failing("worker (wrangler dev)", &self.persist.join("wrangler.log"));
        if let Some(mut c) = self.child.take() {
            worker::stop(&mut c);
        }
    }
}

/// A small dialogue using person fields (for traits) and a capture card mapping to `chatInterest`.
pub fn demo_dialogue(id: &str) -> String {
    json!({
        "version": 1, "id": id, "name": "E2E demo",
        "audience": {"all": [{"field": "lead.email", "op": "is_empty"}, {"field": "company.industry", "op": "is_not", "value": "Gov"}]},
        "cards": [
            {"type": "message", "id": "hello", "text": "Hi {{lead.firstName:there}}", "next": "interest"},
            {"type": "question", "id": "interest", "text": "What brings you here?", "field": "chatInterest",
             "buttons": [{"label": "Pricing", "value": "pricing"}, {"label": "Demo", "value": "demo"}], "next": "email"},
            {"type": "capture", "id": "email", "text": "Your email?", "kind": "email", "field": "email", "next": "goal"},
            {"type": "goal", "id": "goal", "name": "qualified", "score": 10, "next": "end"},
            {"type": "end", "id": "end", "text": "Thanks!"}
        ]
    })
    .to_string()
}

/// Site settings used by most tests.
pub fn site_settings(program: Option<i64>) -> Value {
    let mut v = json!({"name": "E2E", "allowed_origins": ["http://127.0.0.1:8080", "http://localhost:8080"], "config": {"bot_name": "Ada"}});
    if let Some(p) = program {
        v["marketo"] = json!({"program_id": p, "program_status": "Engaged"});
    }
    v
}
