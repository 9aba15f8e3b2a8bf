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

/// Key for the calendar credentials at rest (local demo only; production sets a secret).
const DEMO_CALENDAR_KEY: &str = "6b0d2f4c1e3a5978a1c3e5f70917b3d5f7092b4d6f8103a5c7e9f1b3d5f70911";

/// Key for the Marketo secret saved from the console (32 bytes, base64; local demo only).
const DEMO_CONSOLE_KEY: &str = "/YuE6BdtViHzllzNY9GahDWOFIBp0xAlhb/J5wuk7oU=";

/// The five demo agents: (agent id, Radicale user, name, IANA zone).
pub const AGENTS: [(&str, &str, &str, &str); 5] = [
    ("alex-morgan", "agent1", "Alex Morgan", "Europe/Amsterdam"),
    ("priya-shah", "agent2", "Priya Shah", "Europe/London"),
    ("jonas-weber", "agent3", "Jonas Weber", "Europe/Berlin"),
    ("maria-santos", "agent4", "Maria Santos", "America/New_York"),
    ("kenji-sato", "agent5", "Kenji Sato", "America/Chicago"),
];

/// Radicale with one user per demo agent and believable busy time over the next two weeks:
/// a daily stand-up, a weekly pipeline review and a few customer calls (times in UTC).
fn radicale_args(state: &Path) -> Result<Vec<String>, String> {
    let today = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|e| e.to_string())?
        .as_secs() as i64
        / 86_400;
    let mut events = Vec::new();
    for (n, (_, user, _, zone)) in AGENTS.iter().enumerate() {
        // Stand-up at 09:15 local-ish: UTC hour by zone family.
        let base = if zone.starts_with("America") { 14 } else { 8 };
        let day = dynchat_engine::date::ymd(today);
        events.push(serde_json::json!({"user": user, "uid": format!("standup-{user}"), "summary": "Team stand-up",
            "start": format!("{day}T{:02}:15:00Z", base), "end": format!("{day}T{:02}:30:00Z", base), "rrule": "FREQ=DAILY;COUNT=21"}));
        events.push(serde_json::json!({"user": user, "uid": format!("pipeline-{user}"), "summary": "Pipeline review",
            "start": format!("{}T{:02}:00:00Z", dynchat_engine::date::ymd(today + 1 + n as i64 % 3), base + 4), "end": format!("{}T{:02}:00:00Z", dynchat_engine::date::ymd(today + 1 + n as i64 % 3), base + 5), "rrule": "FREQ=WEEKLY;COUNT=3"}));
        for k in 0..4i64 {
            let d = dynchat_engine::date::ymd(today + 1 + (k * 3 + n as i64) % 10);
            let h = base + 1 + ((k + n as i64) % 6);
            events.push(serde_json::json!({"user": user, "uid": format!("call-{user}-{k}"), "summary": "Customer call",
                "start": format!("{d}T{h:02}:00:00Z"), "end": format!("{d}T{h:02}:45:00Z")}));
        }
    }
    let users: Vec<serde_json::Value> = (1..=AGENTS.len())
        .map(|i| serde_json::json!({"name": format!("agent{i}"), "password": format!("pw{i}")}))
        .collect();
    let seed = state.join("radicale-seed.json");
    std::fs::write(
        &seed,
        serde_json::json!({"users": users, "events": events}).to_string(),
    )
    .map_err(|e| e.to_string())?;
    let mut args = vec![
        s("tests/peers/radicale_peer.py"),
        s("--port"),
        RADICALE_PORT.to_string(),
        s("--storage"),
        state.join("radicale").to_string_lossy().into_owned(),
    ];
    for i in 1..=AGENTS.len() {
        args.push(s("--user"));
        args.push(format!("agent{i}:pw{i}"));
    }
    args.push(s("--seed"));
    args.push(seed.to_string_lossy().into_owned());
    Ok(args)
}

/// Creates the five demo agents (CalDAV calendars in Radicale, weekday hours in their zones)
/// and the round-robin queue `sales` through the admin API.
pub fn seed_agents(port: u16) -> Result<(), String> {
    let auth = format!("Bearer {ADMIN_TOKEN}");
    let h = [
        ("Authorization", auth.as_str()),
        ("Content-Type", "application/json"),
    ];
    let day =
        serde_json::json!([{"start": "09:00", "end": "12:30"}, {"start": "13:30", "end": "17:00"}]);
    let hours = serde_json::json!({"mon": day, "tue": day, "wed": day, "thu": day, "fri": day, "sat": [], "sun": []});
    for (i, (id, user, name, zone)) in AGENTS.iter().enumerate() {
        let settings = serde_json::json!({"time_zone": zone, "working_hours": hours, "meeting_minutes": 30,
            "buffer_before_minutes": 5, "buffer_after_minutes": 10, "min_notice_minutes": 120, "horizon_days": 14});
        let email = format!("{}@northwind.example", id.replace('-', "."));
        let body =
            serde_json::json!({"name": name, "email": email, "settings": settings}).to_string();
        let (st, b) = worker::http(
            port,
            "PUT",
            &format!("/admin/sites/acme/agents/{id}"),
            &h,
            Some(&body),
        )?;
        if st != 200 {
            return Err(format!("agent {id}: {st} {b}"));
        }
        let cal = serde_json::json!({"url": format!("http://127.0.0.1:{RADICALE_PORT}/{user}/calendar/"), "username": user, "password": format!("pw{}", i + 1)}).to_string();
        let (st, b) = worker::http(
            port,
            "PUT",
            &format!("/admin/sites/acme/agents/{id}/calendar"),
            &h,
            Some(&cal),
        )?;
        if st != 200 {
            return Err(format!("calendar of {id}: {st} {b}"));
        }
    }
    let ids: Vec<&str> = AGENTS.iter().map(|a| a.0).collect();
    let q = serde_json::json!({"name": "Sales", "agents": ids}).to_string();
    let (st, b) = worker::http(port, "PUT", "/admin/sites/acme/queues/sales", &h, Some(&q))?;
    if st != 200 {
        return Err(format!("queue sales: {st} {b}"));
    }
    Ok(())
}

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
        ("radicale", radicale_args(&state)?),
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
    let g = format!("http://127.0.0.1:{GOOGLE_PORT}");
    let m = format!("http://127.0.0.1:{GRAPH_PORT}");
    let env: Vec<(String, String)> = vec![
        (
            s("MARKETO_BASE_URL"),
            format!("http://127.0.0.1:{MARKETO_PORT}"),
        ),
        (s("MARKETO_CLIENT_ID"), s("dynchat")),
        (s("MARKETO_CLIENT_SECRET"), s("secret")),
        (s("ADMIN_TOKEN"), s(ADMIN_TOKEN)),
        (s("CALENDAR_KEY"), s(DEMO_CALENDAR_KEY)),
        (s("CONSOLE_KEY"), s(DEMO_CONSOLE_KEY)),
        (s("GOOGLE_AUTH_URL"), format!("{g}/o/oauth2/v2/auth")),
        (s("GOOGLE_TOKEN_URL"), format!("{g}/token")),
        (s("GOOGLE_API_BASE"), g.clone()),
        (s("GOOGLE_CLIENT_ID"), s("dynchat-local-client")),
        (s("GOOGLE_CLIENT_SECRET"), s("dynchat-local-secret")),
        (s("MS_LOGIN_BASE"), m.clone()),
        (s("GRAPH_BASE"), m.clone()),
        (s("MS_CLIENT_ID"), s("dynchat-local-client")),
        (s("MS_CLIENT_SECRET"), s("dynchat-local-secret")),
        (s("SMTP_HOST"), s("127.0.0.1")),
        (s("SMTP_PORT"), SMTP_PORT.to_string()),
        (s("SMTP_FROM"), s("meetings@northwind.example")),
    ];
    let child = worker::start(root, &state.join("worker"), WORKER_PORT, &env)?;
    stack.children.push(("worker".into(), child));
    worker::wait_ready(WORKER_PORT)?;
    Ok(stack)
}
