//! The demo site and the admin console: `build_site` renders `demo-site/site/` into `dist/site/`,
//! `build_console` compiles `demo-site/console` (Rust -> wasm) into `dist/console/`, and
//! `seed_accounts` creates the demo admin and agent accounts through the worker's console API.
//!
//! Std-only (plus serde_json) on purpose: `tests/e2e` includes this file with `#[path]` (next to `worker.rs`) so the
//! console tests build and seed exactly as `cargo xtask demo` does.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

// Included here (not from main.rs) so the e2e tests that include this file get it too.
#[allow(clippy::duplicate_mod)]
#[path = "stage.rs"]
mod stage;
use stage::{publish, run, stage_dir};

/// The demo admin (also printed by `cargo xtask demo`).
pub const DEMO_ADMIN: (&str, &str) = ("admin@northwind.example", "demo-admin-pass");
/// The demo agent: may see and edit only their own calendar, queue membership and meetings.
pub const DEMO_AGENT: (&str, &str) = ("alex.morgan@northwind.example", "demo-agent-pass");

/// Pages of the demo site: (file stem, nav key). The nav key marks the current page.
const PAGES: [&str; 5] = ["index", "product", "pricing", "contact", "thanks"];

/// Renders one page into the layout. Templates: `{{title}}`, `{{description}}`, `{{content}}`,
/// `{{current:<page>}}` (becomes ` aria-current="page"` on the page itself, else nothing).
/// A page starts with `<!-- title: .. -->` and `<!-- description: .. -->` lines.
pub fn render_page(layout: &str, page: &str, source: &str) -> Result<String, String> {
    let mut title = None;
    let mut description = None;
    let mut body = Vec::new();
    for line in source.lines() {
        let meta = line
            .trim()
            .strip_prefix("<!--")
            .and_then(|l| l.strip_suffix("-->"))
            .map(str::trim);
        match meta {
            Some(m) if m.starts_with("title:") => {
                title = Some(m["title:".len()..].trim().to_string())
            }
            Some(m) if m.starts_with("description:") => {
                description = Some(m["description:".len()..].trim().to_string())
            }
            _ => body.push(line),
        }
    }
    let title = title.ok_or_else(|| format!("page {page}: missing <!-- title: .. --> line"))?;
    let description =
        description.ok_or_else(|| format!("page {page}: missing <!-- description: .. --> line"))?;
    let mut out = layout
        .replace("{{title}}", &title)
        .replace("{{description}}", &description);
    for p in PAGES {
        let mark = if p == page {
            " aria-current=\"page\""
        } else {
            ""
        };
        out = out.replace(&format!("{{{{current:{p}}}}}"), mark);
    }
    out = out.replace("{{content}}", body.join("\n").trim());
    if let Some(i) = out.find("{{") {
        return Err(format!(
            "page {page}: unknown template at {}",
            &out[i..(i + 30).min(out.len())]
        ));
    }
    Ok(out)
}

/// Builds `dist/site/` (index, product, pricing, contact, thanks + styles.css) from `demo-site/site/`.
pub fn build_site(root: &Path) -> Result<(), String> {
    let src = root.join("demo-site/site");
    let out = stage_dir(root, "site")?;
    let layout = read(&src.join("layout.html"))?;
    for page in PAGES {
        let source = read(&src.join("pages").join(format!("{page}.html")))?;
        let html = render_page(&layout, page, &source)?;
        fs::write(out.join(format!("{page}.html")), html)
            .map_err(|e| format!("write {page}.html: {e}"))?;
    }
    fs::copy(src.join("styles.css"), out.join("styles.css"))
        .map_err(|e| format!("copy styles.css: {e}"))?;
    publish(&out, &root.join("dist/site"))
}

fn read(p: &Path) -> Result<String, String> {
    fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))
}

/// Builds the console (crate `dynchat-console`, `--release` for wasm32) with wasm-bindgen
/// `--target web` into `dist/console/` next to its `index.html`, `boot.js` and `console.css`.
pub fn build_console(root: &Path) -> Result<(), String> {
    let out = stage_dir(root, "console")?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    run(Command::new(cargo).current_dir(root).args([
        "build",
        "--release",
        "--target",
        "wasm32-unknown-unknown",
        "-p",
        "dynchat-console",
    ]))?;
    let wasm: PathBuf = root.join("target/wasm32-unknown-unknown/release/dynchat_console.wasm");
    run(Command::new("wasm-bindgen")
        .args([
            "--target",
            "web",
            "--no-typescript",
            "--out-name",
            "console",
            "--out-dir",
        ])
        .arg(&out)
        .arg(&wasm))?;
    let static_dir = root.join("demo-site/console/static");
    for f in ["index.html", "boot.js", "console.css"] {
        fs::copy(static_dir.join(f), out.join(f)).map_err(|e| format!("copy {f}: {e}"))?;
    }
    publish(&out, &root.join("dist/console"))
}

/// Creates (or updates) the demo admin and agent accounts with the setup bearer token
/// (`POST /admin/console/accounts`). Idempotent.
pub fn seed_accounts(port: u16, admin_token: &str) -> Result<(), String> {
    let auth = format!("Bearer {admin_token}");
    let h = [("Authorization", auth.as_str())];
    for (email, password, role, name, agent) in [
        (DEMO_ADMIN.0, DEMO_ADMIN.1, "admin", "Dana Admin", None),
        (
            DEMO_AGENT.0,
            DEMO_AGENT.1,
            "agent",
            "Alex Morgan",
            Some("alex-morgan"),
        ),
    ] {
        let body = format!(
            "{{\"email\":{},\"password\":{},\"role\":{},\"name\":{},\"agent_id\":{}}}",
            json_str(email),
            json_str(password),
            json_str(role),
            json_str(name),
            agent.map(json_str).unwrap_or_else(|| "null".into())
        );
        let (st, b) =
            super::worker::http(port, "POST", "/admin/console/accounts", &h, Some(&body))?;
        if st != 200 && st != 201 {
            return Err(format!("seed account {email}: {st} {b}"));
        }
    }
    Ok(())
}

/// Adds the worker's own origin (`http://127.0.0.1:{port}`) to the demo site's allowed embed
/// origins, so the demo site served by the worker at `/site/` may send events and leads.
pub fn allow_demo_origin(port: u16, admin_token: &str) -> Result<(), String> {
    let auth = format!("Bearer {admin_token}");
    let h = [("Authorization", auth.as_str())];
    let (st, body) = super::worker::http(port, "GET", "/admin/sites/acme", &h, None)?;
    if st != 200 {
        return Err(format!("GET /admin/sites/acme: {st} {body}"));
    }
    let mut site: serde_json::Value =
        serde_json::from_str(&body).map_err(|e| format!("site JSON: {e}"))?;
    let own = format!("http://127.0.0.1:{port}");
    let mut origins: Vec<serde_json::Value> = site["allowed_origins"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if !origins.iter().any(|o| o.as_str() == Some(own.as_str())) {
        origins.push(serde_json::Value::String(own));
    }
    let put = serde_json::json!({"name": site["name"].take(), "allowed_origins": origins, "config": site["config"].take(),
                                  "lead_fields": site["lead_fields"].take(), "marketo": site["marketo"].take()});
    let (st, body) =
        super::worker::http(port, "PUT", "/admin/sites/acme", &h, Some(&put.to_string()))?;
    if st != 200 {
        return Err(format!("PUT /admin/sites/acme: {st} {body}"));
    }
    Ok(())
}

fn json_str(s: &str) -> String {
    let mut o = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            c if (c as u32) < 0x20 => o.push_str(&format!("\\u{:04x}", c as u32)),
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

/// What `cargo xtask demo` prints about the demo site and the console.
pub fn banner(base: &str) -> String {
    format!(
        "demo site:  {base}/site/index.html  (pricing: {base}/site/pricing.html, campaign: {base}/site/index.html?utm_campaign=spring-launch)\n\
         console:    {base}/console/\n\
         admin:      {} / {}\n\
         agent:      {} / {}",
        DEMO_ADMIN.0, DEMO_ADMIN.1, DEMO_AGENT.0, DEMO_AGENT.1
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_renders_title_and_marks_current_nav() {
        let layout = "<title>{{title}}</title><meta content=\"{{description}}\"><a{{current:pricing}}>P</a><a{{current:index}}>H</a>{{content}}";
        let html = render_page(
            layout,
            "pricing",
            "<!-- title: Pricing -->\n<!-- description: Plans -->\n<h1>x</h1>",
        )
        .unwrap_or_default();
        assert_eq!(html, "<title>Pricing</title><meta content=\"Plans\"><a aria-current=\"page\">P</a><a>H</a><h1>x</h1>");
    }

    #[test]
    fn page_without_title_or_with_unknown_template_fails() {
        assert!(render_page("{{content}}", "index", "<h1>x</h1>").is_err());
        assert!(render_page(
            "{{nope}}{{content}}",
            "index",
            "<!-- title: a -->\n<!-- description: b -->"
        )
        .is_err());
    }
}
