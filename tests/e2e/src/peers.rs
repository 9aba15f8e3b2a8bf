//! Calendar and mail peers for the meetings tests: the Google and Graph peers, real Radicale
//! (CalDAV) and the real aiosmtpd mail catcher, each started on free ports from its ready line.

use crate::{peer_log, print_tail_if_failing, root};
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A running Python peer and the URLs it printed.
pub struct PyPeer {
    child: Child,
    /// The peer's stderr.
    pub log: PathBuf,
    /// Every `http://127.0.0.1:N` URL of the ready line(s), in order.
    pub urls: Vec<String>,
    /// The full ready lines.
    pub lines: Vec<String>,
}

fn urls_in(line: &str) -> Vec<String> {
    line.split_whitespace()
        .filter(|w| w.starts_with("http://"))
        .map(|w| w.trim_end_matches([',', ')']).to_string())
        .collect()
}

impl PyPeer {
    /// Starts `tests/peers/<script>` with `args`; waits (at most 60 s) for `ready_lines` lines.
    pub fn start(script: &str, args: &[String], ready_lines: usize) -> PyPeer {
        let (log, log_file) = peer_log(script.trim_end_matches(".py"));
        let mut child = Command::new("python3")
            .arg(root().join("tests/peers").join(script))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(log_file)
            .spawn()
            .unwrap_or_else(|e| panic!("python3 tests/peers/{script}: {e}"));
        let out = child.stdout.take().expect("peer stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut r = BufReader::new(out);
            let mut line = String::new();
            while r.read_line(&mut line).map(|n| n > 0).unwrap_or(false) {
                let _ = tx.send(line.clone());
                line.clear();
            }
        });
        let mut lines = Vec::new();
        for _ in 0..ready_lines {
            match rx.recv_timeout(Duration::from_secs(60)) {
                Ok(l) => lines.push(l.trim().to_string()),
                Err(_) => panic!(
                    "{script}: no ready line within 60 s (got {lines:?}); {}:\n{}",
                    log.display(),
                    crate::worker::tail(&log, 40)
                ),
            }
        }
        let urls = lines.iter().flat_map(|l| urls_in(l)).collect();
        PyPeer {
            child,
            log,
            urls,
            lines,
        }
    }

    /// The first URL (the peer's HTTP base).
    pub fn url(&self) -> &str {
        &self.urls[0]
    }
}

impl Drop for PyPeer {
    fn drop(&mut self) {
        print_tail_if_failing("peer", &self.log);
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        for _ in 0..50 {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// GET a peer's JSON.
pub fn get(url: &str) -> Value {
    ureq::get(url)
        .timeout(Duration::from_secs(60))
        .call()
        .unwrap_or_else(|e| panic!("GET {url}: {e}"))
        .into_json()
        .unwrap_or(Value::Null)
}

/// POST JSON to a peer; panics on an error status.
pub fn post(url: &str, body: &Value) -> Value {
    match ureq::post(url)
        .timeout(Duration::from_secs(60))
        .send_json(body.clone())
    {
        Ok(r) => r.into_json().unwrap_or(Value::Null),
        Err(ureq::Error::Status(s, r)) => {
            panic!("POST {url}: {s} {}", r.into_string().unwrap_or_default())
        }
        Err(e) => panic!("POST {url}: {e}"),
    }
}

/// The Google peer (OAuth + Calendar v3) with seeded accounts.
pub fn google(seed: &Value) -> PyPeer {
    let p = PyPeer::start("google_peer.py", &["--port".into(), "0".into()], 1);
    post(&format!("{}/_peer/seed", p.url()), seed);
    p
}

/// The Microsoft identity + Graph peer with seeded accounts.
pub fn graph(seed: &Value) -> PyPeer {
    let p = PyPeer::start("graph_peer.py", &["--port".into(), "0".into()], 1);
    post(&format!("{}/_peer/seed", p.url()), seed);
    p
}

/// The worker vars that point its Google and Microsoft OAuth clients and APIs at these peers.
pub fn oauth_vars(google: &PyPeer, graph: &PyPeer) -> Vec<(&'static str, String)> {
    let (g, m) = (google.url(), graph.url());
    vec![
        ("GOOGLE_AUTH_URL", format!("{g}/o/oauth2/v2/auth")),
        ("GOOGLE_TOKEN_URL", format!("{g}/token")),
        ("GOOGLE_API_BASE", g.to_string()),
        ("GOOGLE_CLIENT_ID", "dynchat-local-client".into()),
        ("GOOGLE_CLIENT_SECRET", "dynchat-local-secret".into()),
        ("MS_LOGIN_BASE", m.to_string()),
        ("GRAPH_BASE", m.to_string()),
        ("MS_CLIENT_ID", "dynchat-local-client".into()),
        ("MS_CLIENT_SECRET", "dynchat-local-secret".into()),
    ]
}

/// Real Radicale with users `agent1..agentN` (password `pwN`); `urls[0]` is the control port,
/// `urls[1]` the CalDAV server.
pub fn radicale(users: usize, name: &str) -> PyPeer {
    let storage: PathBuf = root()
        .join("target/e2e")
        .join(format!("radicale-{name}-{}", std::process::id()));
    let mut args: Vec<String> = vec![
        "--port".into(),
        "0".into(),
        "--control-port".into(),
        "0".into(),
        "--fresh".into(),
        "--storage".into(),
        storage.display().to_string(),
    ];
    for i in 1..=users {
        args.push("--user".into());
        args.push(format!("agent{i}:pw{i}"));
    }
    PyPeer::start("radicale_peer.py", &args, 2)
}

/// The aiosmtpd mail catcher: `urls[0]` is its HTTP view; the SMTP port is in the ready line.
pub fn mail_catcher() -> (PyPeer, u16) {
    let p = PyPeer::start(
        "mail_catcher.py",
        &[
            "--smtp-port".into(),
            "0".into(),
            "--http-port".into(),
            "0".into(),
        ],
        1,
    );
    let smtp = p.lines[0]
        .rsplit("127.0.0.1:")
        .next()
        .and_then(|s| s.trim_end_matches(')').parse().ok())
        .unwrap_or_else(|| panic!("smtp port in {:?}", p.lines));
    (p, smtp)
}
