//! The local stack for `cargo xtask demo`: the Marketo, Google and Graph peers, Radicale, the mail catcher and the worker on workerd, started in order and stopped together.

use crate::worker;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// Fixed local ports of the demo (the site's allowed embed origin is http://127.0.0.1:8080).
pub const WORKER_PORT: u16 = 8080;
/// Marketo peer.
pub const MARKETO_PORT: u16 = 9101;
/// Google Calendar peer.
pub const GOOGLE_PORT: u16 = 9102;
/// Microsoft Graph peer.
pub const GRAPH_PORT: u16 = 9103;
/// Mail catcher web view.
pub const MAIL_HTTP_PORT: u16 = 9104;
/// Mail catcher SMTP.
pub const SMTP_PORT: u16 = 2525;
/// Radicale CalDAV.
pub const RADICALE_PORT: u16 = 5232;
/// The demo's admin bearer token (local only).
pub const ADMIN_TOKEN: &str = "demo-admin-token";

/// Running processes, stopped in reverse order on drop.
pub struct Stack {
    children: Vec<(String, Child)>,
}

impl Drop for Stack {
    fn drop(&mut self) {
        while let Some((name, mut c)) = self.children.pop() {
            eprintln!("stopping {name}");
            worker::stop(&mut c);
        }
    }
}

/// Starts a Python peer and waits (at most 60 s) for its "listening on" line.
fn peer(root: &Path, name: &str, args: &[String], log: &Path) -> Result<Child, String> {
    let mut c = Command::new("python3");
    c.args(args)
        .current_dir(root)
        .stdin(Stdio::null())
        .stdout(Stdio::piped());
    let err = std::fs::File::create(log).map_err(|e| format!("{}: {e}", log.display()))?;
    c.stderr(err);
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        c.process_group(0);
    }
    let mut child = c.spawn().map_err(|e| format!("start {name}: {e}"))?;
    let out = child.stdout.take().ok_or("no stdout")?;
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if line.contains("listening on") {
                let _ = tx.send(line);
            }
        }
    });
    match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(line) => {
            eprintln!("  {line}");
            Ok(child)
        }
        Err(_) => {
            worker::stop(&mut child);
            Err(format!("{name} did not start; see {}", log.display()))
        }
    }
}

fn s(x: &str) -> String {
    x.to_string()
}

/// Starts everything with state under `.dynchat/` so a restart keeps the data.
pub fn start(root: &Path) -> Result<Stack, String> {
    let state: PathBuf = root.join(".dynchat");
    let logs = state.join("logs");
    std::fs::create_dir_all(&logs).map_err(|e| e.to_string())?;
    let mut stack = Stack {
        children: Vec::new(),
    };
    let st = |f: &str| state.join(f).to_string_lossy().into_owned();
    let peers: Vec<(&str, Vec<String>)> = vec![
        (
            "marketo peer",
            vec![
                s("tests/peers/marketo_peer.py"),
                s("--port"),
                MARKETO_PORT.to_string(),
                s("--state-file"),
                st("marketo.json"),
            ],
        ),
        (
            "google peer",
            vec![
                s("tests/peers/google_peer.py"),
                s("--port"),
                GOOGLE_PORT.to_string(),
                s("--state-file"),
                st("google.json"),
            ],
        ),
        (
            "graph peer",
            vec![
                s("tests/peers/graph_peer.py"),
                s("--port"),
                GRAPH_PORT.to_string(),
                s("--state-file"),
                st("graph.json"),
            ],
        ),
        (
            "radicale",
            vec![
                s("tests/peers/radicale_peer.py"),
                s("--port"),
                RADICALE_PORT.to_string(),
                s("--storage"),
                st("radicale"),
            ],
        ),
        (
            "mail catcher",
            vec![
                s("tests/peers/mail_catcher.py"),
                s("--smtp-port"),
                SMTP_PORT.to_string(),
                s("--http-port"),
                MAIL_HTTP_PORT.to_string(),
                s("--state-file"),
                st("mail.json"),
            ],
        ),
    ];
    for (name, args) in peers {
        eprintln!("starting {name}");
        let log = logs.join(format!("{}.log", name.replace(' ', "-")));
        let child = peer(root, name, &args, &log)?;
        stack.children.push((name.to_string(), child));
    }
    eprintln!("starting the worker on workerd (wrangler dev --local)");
    let env: Vec<(String, String)> = vec![
        (
            s("MARKETO_BASE_URL"),
            format!("http://127.0.0.1:{MARKETO_PORT}"),
        ),
        (s("MARKETO_CLIENT_ID"), s("dynchat")),
        (s("MARKETO_CLIENT_SECRET"), s("secret")),
        (s("ADMIN_TOKEN"), s(ADMIN_TOKEN)),
        (
            s("GOOGLE_BASE_URL"),
            format!("http://127.0.0.1:{GOOGLE_PORT}"),
        ),
        (
            s("GRAPH_BASE_URL"),
            format!("http://127.0.0.1:{GRAPH_PORT}"),
        ),
        (s("SMTP_HOST"), s("127.0.0.1")),
        (s("SMTP_PORT"), SMTP_PORT.to_string()),
    ];
    let child = worker::start(root, &state.join("worker"), WORKER_PORT, &env)?;
    stack.children.push(("worker".into(), child));
    worker::wait_ready(WORKER_PORT)?;
    Ok(stack)
}
