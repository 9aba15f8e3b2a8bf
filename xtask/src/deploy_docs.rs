//! The deployment docs cannot drift (part of `cargo xtask tidy`): every var and secret that
//! `docs/deploy.md` or `wrangler.toml` names is read by the worker, every one the worker reads
//! is documented in `docs/deploy.md`, and the format the docs give a key (hex or base64) is the
//! one the worker parses.
//!
//! What the worker reads is found in `edge-worker/src` by the call shapes it uses:
//! `config::string(env, "NAME", ..)` / `config::number(env, "NAME", ..)` (also unqualified inside
//! `config.rs`, and through a closure over them such as `let v = |k, d| config::string(env, k,
//! d)` then `v("NAME", ..)`), `env.var("NAME")`, `env.secret("NAME")`; key formats by
//! `Key::from_base64("NAME", ..)` and `Key::from_hex_or_text("NAME", ..)`, or a parser given a
//! binding of the read (`let text = config::string(env, "NAME", ..)` then `from_hex(&text)`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// How the worker parses a key var.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyFormat {
    Hex,
    Base64,
}

impl KeyFormat {
    fn word(self) -> &'static str {
        match self {
            KeyFormat::Hex => "hex",
            KeyFormat::Base64 => "base64",
        }
    }
}

/// What the worker's source reads.
#[derive(Debug, Default)]
struct Reads {
    /// Var or secret name -> first file that reads it.
    names: BTreeMap<String, String>,
    /// Names read by `config::number`.
    numbers: BTreeSet<String>,
    /// Key vars and the format the worker parses.
    keys: BTreeMap<String, KeyFormat>,
}

fn is_var_name(s: &str) -> bool {
    s.len() >= 2
        && s.starts_with(|c: char| c.is_ascii_uppercase())
        && s.chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

/// Every string literal of `text` that looks like a var name, with the code before it
/// (without whitespace, at most 80 characters). A small lexer: comments, char literals
/// (`'"'`), escapes and raw strings (`r#"..."#`) do not confuse it.
fn literals(text: &str) -> Vec<(String, String)> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut code = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
            continue;
        }
        if c == '/' && next == Some('*') {
            i += 2;
            while i + 1 < chars.len() && !(chars[i] == '*' && chars[i + 1] == '/') {
                i += 1;
            }
            i += 2;
            continue;
        }
        if c == '\'' {
            // A char literal ('"', '\'', '\\') or a lifetime ('a): skip the literal only.
            let close = if next == Some('\\') { i + 3 } else { i + 2 };
            if chars.get(close) == Some(&'\'') {
                code.push_str("' '");
                i = close + 1;
                continue;
            }
        }
        if c == '"'
            || (c == 'r' && matches!(next, Some('"') | Some('#')) && !prev_is_ident(&chars, i))
        {
            let (lit, after) = if c == 'r' {
                let mut j = i + 1;
                let mut hashes = 0;
                while chars.get(j) == Some(&'#') {
                    hashes += 1;
                    j += 1;
                }
                if chars.get(j) != Some(&'"') {
                    code.push(c);
                    i += 1;
                    continue;
                }
                let closing = format!("\"{}", "#".repeat(hashes));
                let body: String = chars[j + 1..].iter().collect();
                match body.find(&closing) {
                    Some(k) => {
                        let lit: String = body[..k].to_string();
                        let len = lit.chars().count();
                        (lit, j + 1 + len + hashes + 1)
                    }
                    None => break,
                }
            } else {
                let mut j = i + 1;
                let mut lit = String::new();
                while j < chars.len() && chars[j] != '"' {
                    if chars[j] == '\\' {
                        j += 1;
                    }
                    if let Some(&ch) = chars.get(j) {
                        lit.push(ch);
                    }
                    j += 1;
                }
                (lit, j + 1)
            };
            if is_var_name(&lit) {
                let skip = code.chars().count().saturating_sub(80);
                out.push((lit, code.chars().skip(skip).collect()));
            }
            code.push_str("\"\"");
            i = after;
            continue;
        }
        if !c.is_whitespace() {
            code.push(c);
        }
        if code.len() > 4096 {
            let keep = code.chars().count() - 200;
            code = code.chars().skip(keep).collect();
        }
        i += 1;
    }
    out
}

fn prev_is_ident(chars: &[char], i: usize) -> bool {
    i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_')
}

/// Closures of `text` that forward their first argument to `config::string` / `number`
/// (`let v = |k: &str, d: &str| config::string(env, k, d)...`), by name.
fn forwarding_closures(text: &str) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    for line in text.lines() {
        let l = line.trim();
        let Some(rest) = l.strip_prefix("let ") else {
            continue;
        };
        let Some((name, body)) = rest.split_once('=') else {
            continue;
        };
        let body = body.trim();
        if !body.starts_with('|') {
            continue;
        }
        let number = body.contains("config::number(env");
        if number || body.contains("config::string(env") {
            out.push((name.trim().to_string(), number));
        }
    }
    out
}

/// Key formats of reads parsed through a binding: `let text = config::string(env, "NAME", ..)`
/// then `LinkKey::from_hex(&text)` (or `from_base64(..)`), matched to the nearest binding before.
fn bound_keys(text: &str) -> Vec<(String, KeyFormat)> {
    let code: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    let mut out = Vec::new();
    for (call, format) in [
        ("from_hex(", KeyFormat::Hex),
        ("from_base64(", KeyFormat::Base64),
    ] {
        for (at, _) in code.match_indices(call) {
            let arg = code[at + call.len()..].trim_start_matches('&');
            let id: String = arg.chars().take_while(|&c| ident(c)).collect();
            if id.is_empty() || id.starts_with(|c: char| c.is_ascii_digit()) {
                continue;
            }
            let before = &code[..at];
            let binding = ["let", "letmut"]
                .iter()
                .flat_map(|l| {
                    [
                        "=config::string(env,\"",
                        "=string(env,\"",
                        "=config::string(&env,\"",
                    ]
                    .map(|r| format!("{l}{id}{r}"))
                })
                .filter_map(|pat| before.rfind(&pat).map(|p| (p, p + pat.len())))
                .filter(|(p, _)| !before[..*p].ends_with(ident))
                .max();
            if let Some((_, start)) = binding {
                let name: String = before[start..].chars().take_while(|&c| c != '"').collect();
                if is_var_name(&name) {
                    out.push((name, format));
                }
            }
        }
    }
    out
}

/// What the worker reads, from `(file, text)` pairs of its source.
fn reads(sources: &[(String, String)]) -> Reads {
    let mut r = Reads::default();
    for (file, text) in sources {
        let closures = forwarding_closures(text);
        r.keys.extend(bound_keys(text));
        for (name, before) in literals(text) {
            let number = before.ends_with("number(env,") || before.ends_with("number(&env,");
            let string = before.ends_with("string(env,") || before.ends_with("string(&env,");
            let env_call = before.ends_with("env.var(") || before.ends_with("env.secret(");
            let closure = closures.iter().find(|(c, _)| {
                before
                    .strip_suffix(&format!("{c}("))
                    .is_some_and(|b| !b.ends_with(|x: char| x.is_alphanumeric() || x == '_'))
            });
            let key = if before.ends_with("from_base64(") {
                Some(KeyFormat::Base64)
            } else if before.ends_with("from_hex_or_text(") || before.ends_with("from_hex(") {
                Some(KeyFormat::Hex)
            } else {
                None
            };
            if let Some(k) = key {
                r.keys.insert(name.clone(), k);
            }
            if number || string || env_call || closure.is_some() {
                if number || closure.is_some_and(|(_, n)| *n) {
                    r.numbers.insert(name.clone());
                }
                r.names.entry(name).or_insert_with(|| file.clone());
            }
        }
    }
    r
}

/// Backticked var names (`NAME` or `NAME = value`) in `deploy.md` outside code blocks, each
/// with the text of the lines that name it.
fn documented(deploy_md: &str) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, String> = BTreeMap::new();
    let mut fenced = false;
    for line in deploy_md.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        for (i, part) in line.split('`').enumerate() {
            // `NAME` or `NAME = value`.
            let part = part.split([' ', '=']).next().unwrap_or("");
            if i % 2 == 1 && is_var_name(part) {
                out.entry(part.to_string())
                    .and_modify(|l| {
                        l.push('\n');
                        l.push_str(line);
                    })
                    .or_insert_with(|| line.to_string());
            }
        }
    }
    out
}

/// The `[vars]` of `wrangler.toml`: name -> value text.
fn wrangler_vars(toml: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut in_vars = false;
    for line in toml.lines() {
        let l = line.trim();
        if l.starts_with('[') {
            in_vars = l == "[vars]";
            continue;
        }
        if !in_vars || l.starts_with('#') {
            continue;
        }
        if let Some((k, v)) = l.split_once('=') {
            let k = k.trim();
            if is_var_name(k) {
                out.insert(k.to_string(), v.trim().trim_matches('"').to_string());
            }
        }
    }
    out
}

/// Every disagreement between the worker's source, `docs/deploy.md` and `wrangler.toml`.
fn problems(sources: &[(String, String)], deploy_md: &str, wrangler_toml: &str) -> Vec<String> {
    let r = reads(sources);
    let docs = documented(deploy_md);
    let vars = wrangler_vars(wrangler_toml);
    let mut out = Vec::new();
    // A name without `_` may be a binding (`DB`, `OUTBOX`) rather than a var.
    for name in docs.keys().filter(|n| n.contains('_')) {
        if !r.names.contains_key(name) {
            out.push(format!(
                "docs/deploy.md names `{name}`, which the worker never reads"
            ));
        }
    }
    for name in vars.keys() {
        if !r.names.contains_key(name) {
            out.push(format!(
                "wrangler.toml [vars] sets `{name}`, which the worker never reads"
            ));
        }
    }
    for (name, file) in &r.names {
        if !docs.contains_key(name) {
            out.push(format!(
                "{file} reads `{name}`, which docs/deploy.md does not document"
            ));
        }
    }
    for name in &r.numbers {
        if let Some(v) = vars.get(name) {
            if v.parse::<i64>().is_err() {
                out.push(format!(
                    "wrangler.toml sets `{name}` = \"{v}\", but the worker reads a number"
                ));
            }
        }
    }
    for (name, format) in &r.keys {
        let word = format.word();
        match docs.get(name) {
            Some(lines) if lines.to_ascii_lowercase().contains(word) => {}
            Some(_) => out.push(format!(
                "docs/deploy.md does not say that `{name}` is {word}, the format the worker parses"
            )),
            None => {} // reported above as undocumented
        }
    }
    out
}

fn rust_sources(dir: &Path, root: &Path, out: &mut Vec<(String, String)>) -> Result<(), String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_sources(&p, root, out)?;
        } else if p.extension().is_some_and(|x| x == "rs") {
            let text = std::fs::read_to_string(&p).map_err(|e| format!("{}: {e}", p.display()))?;
            let rel = p.strip_prefix(root).unwrap_or(&p).display().to_string();
            out.push((rel, text));
        }
    }
    Ok(())
}

/// Checks the repository at `root`.
pub fn check(root: &Path) -> Result<(), String> {
    let mut sources = Vec::new();
    rust_sources(&root.join("edge-worker/src"), root, &mut sources)?;
    sources.sort();
    let read = |p: &str| std::fs::read_to_string(root.join(p)).map_err(|e| format!("{p}: {e}"));
    let found = problems(&sources, &read("docs/deploy.md")?, &read("wrangler.toml")?);
    if found.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "deployment docs out of step with the worker:\n  {}",
            found.join("\n  ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOURCE: &str = r#"
        pub fn smtp(env: &Env) -> SmtpSender {
            let user = config::string(env, "SMTP_USERNAME", "");
            let port = config::number(
                env,
                "SMTP_PORT",
                2525,
            );
            let v = |k: &str, d: &str| config::string(env, k, d).trim_end_matches('/').to_string();
            let base = v("GRAPH_BASE", "https://graph.microsoft.com");
            let key = Key::from_hex_or_text("CALENDAR_KEY", &config::string(env, "CALENDAR_KEY", ""));
            let token = env.secret("ADMIN_TOKEN");
            let text = config::string(env, "LINK_KEY", "");
            let link = LinkKey::from_hex(&text);
            let text = config::string(env, "PLAIN_TEXT", "");
            let plain = text.trim();
            let not_a_var = smtp.command("QUIT");
        }
    "#;

    const DOCS: &str = "# Deploy\n\n| name | kind | what |\n|---|---|---|\n\
        | `SMTP_USERNAME` / `SMTP_PASSWORD_X` | secret | relay |\n\
        | `SMTP_PORT` | var | port |\n| `GRAPH_BASE` | var | Graph |\n\
        | `CALENDAR_KEY` | secret | 64 hex digits |\n| `ADMIN_TOKEN` | secret | bearer |\n\
        | `LINK_KEY` | secret | a hex key, signs links |\n| `PLAIN_TEXT` | var | text |\n\
        \n```sh\nnpx wrangler secret put `NOT_CHECKED_IN_CODE_BLOCKS`\n```\n";

    const TOML: &str = "[vars]\nSMTP_PORT = \"2525\"\n# COMMENTED = \"x\"\n[other]\nX_Y = 1\n";

    fn sources(text: &str) -> Vec<(String, String)> {
        vec![("edge-worker/src/config.rs".to_string(), text.to_string())]
    }

    #[test]
    fn finds_every_read_shape() {
        let r = reads(&sources(SOURCE));
        let names: Vec<&str> = r.names.keys().map(String::as_str).collect();
        assert_eq!(
            names,
            [
                "ADMIN_TOKEN",
                "CALENDAR_KEY",
                "GRAPH_BASE",
                "LINK_KEY",
                "PLAIN_TEXT",
                "SMTP_PORT",
                "SMTP_USERNAME"
            ]
        );
        assert!(r.numbers.contains("SMTP_PORT") && !r.numbers.contains("GRAPH_BASE"));
        assert_eq!(r.keys.get("CALENDAR_KEY"), Some(&KeyFormat::Hex));
        // Parsed through a binding, not given the name (issue 14); the nearest binding counts.
        assert_eq!(r.keys.get("LINK_KEY"), Some(&KeyFormat::Hex));
        assert_eq!(r.keys.get("PLAIN_TEXT"), None);
    }

    #[test]
    fn a_misnamed_var_in_the_docs_fails_the_check() {
        // Docs say SMTP_PASSWORD_X, nothing reads it; everything else agrees.
        let found = problems(&sources(SOURCE), DOCS, TOML);
        assert_eq!(
            found,
            ["docs/deploy.md names `SMTP_PASSWORD_X`, which the worker never reads"],
            "{found:#?}"
        );
        // The issue's case: the docs say SMTP_USER where the code reads SMTP_USERNAME.
        let docs = DOCS
            .replace("`SMTP_USERNAME`", "`SMTP_USER`")
            .replace(" / `SMTP_PASSWORD_X`", "");
        let found = problems(&sources(SOURCE), &docs, TOML);
        assert_eq!(found.len(), 2, "{found:#?}");
        assert!(found[0].contains("`SMTP_USER`, which the worker never reads"));
        assert!(found[1].contains("reads `SMTP_USERNAME`, which docs/deploy.md does not document"));
    }

    #[test]
    fn wrangler_vars_and_key_formats_are_checked() {
        let docs = DOCS.replace(" / `SMTP_PASSWORD_X`", "");
        assert!(problems(&sources(SOURCE), &docs, TOML).is_empty());
        let toml = "[vars]\nSMTP_PORT = \"many\"\nSMTP_USER = \"x\"\n";
        let found = problems(&sources(SOURCE), &docs, toml);
        assert_eq!(found.len(), 2, "{found:#?}");
        assert!(found[0].contains("sets `SMTP_USER`, which the worker never reads"));
        assert!(found[1].contains("`SMTP_PORT` = \"many\", but the worker reads a number"));
        let base64 = docs.replace("64 hex digits", "32 bytes, base64");
        let found = problems(&sources(SOURCE), &base64, TOML);
        assert_eq!(
            found,
            ["docs/deploy.md does not say that `CALENDAR_KEY` is hex, the format the worker parses"]
        );
        // The issue's case: the docs call LINK_KEY base64 where the worker parses hex.
        let base64 = docs.replace("a hex key, signs links", "32 bytes, base64: signs links");
        let found = problems(&sources(SOURCE), &base64, TOML);
        assert_eq!(
            found,
            ["docs/deploy.md does not say that `LINK_KEY` is hex, the format the worker parses"]
        );
    }

    #[test]
    fn the_repository_passes() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        if let Err(e) = check(&root) {
            panic!("{e}");
        }
    }
}
