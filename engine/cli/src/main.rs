//! `dynchat` command line: `validate`, `simulate`, `compile` and `schema` for dialogues kept as files in git.

use dynchat_engine::{
    compile_with, parse_answers, schema_json, simulate, Diagnostic, Options, Severity, SimOptions,
};
use std::io::Write;
use std::process::ExitCode;

const USAGE: &str = "usage:
  dynchat validate <dialogue.json>... [--lead-fields <file|a,b,c>] [--json]
  dynchat simulate <dialogue.json> --answers <file|a;b;c> [--lead Field=value]... [--now <ms>]
  dynchat compile <dialogue.json|->      (prints the compiled flow's wire form, as the worker ships it)
  dynchat schema";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(code) => code,
        Err(msg) => {
            eprintln!("dynchat: {msg}\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

fn read(path: &str) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))
}

/// A value that is a file path if such a file exists, else the literal list.
fn file_or_list(v: &str, sep: char) -> Result<Vec<String>, String> {
    if std::path::Path::new(v).is_file() {
        let text = read(v)?;
        return Ok(if sep == ';' {
            parse_answers(&text)
        } else {
            text.lines()
                .map(|l| l.trim().to_string())
                .filter(|l| !l.is_empty())
                .collect()
        });
    }
    Ok(v.split(sep)
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect())
}

fn flag<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(String::as_str)
}

fn print_diags(file: &str, diags: &[Diagnostic], json: bool) {
    if json {
        let v = serde_json::json!({ "file": file, "diagnostics": diags });
        println!("{v}");
        return;
    }
    for d in diags {
        let sev = if d.severity == Severity::Error {
            "error"
        } else {
            "warning"
        };
        eprintln!("{file}: {sev}[{}] {}: {}", d.code, d.path, d.message);
    }
}

fn run(args: &[String]) -> Result<ExitCode, String> {
    let cmd = args.first().ok_or("missing command")?;
    let rest = &args[1..];
    match cmd.as_str() {
        "schema" => {
            print!("{}", schema_json());
            Ok(ExitCode::SUCCESS)
        }
        "validate" => {
            let json = rest.iter().any(|a| a == "--json");
            let opts = Options {
                lead_fields: flag(rest, "--lead-fields")
                    .map(|v| file_or_list(v, ','))
                    .transpose()?,
            };
            let mut files = Vec::new();
            let mut skip = false;
            for a in rest {
                if skip {
                    skip = false;
                } else if a == "--lead-fields" {
                    skip = true;
                } else if !a.starts_with("--") {
                    files.push(a.as_str());
                }
            }
            if files.is_empty() {
                return Err("validate needs at least one file".into());
            }
            let mut failed = 0;
            for f in &files {
                let text = read(f)?;
                match compile_with(&text, &opts) {
                    Ok(flow) => {
                        print_diags(f, &flow.warnings, json);
                        if !json {
                            println!(
                                "{f}: ok — {} ({} cards, version {})",
                                flow.id,
                                flow.cards.len(),
                                flow.hash
                            );
                        }
                    }
                    Err(diags) => {
                        failed += 1;
                        print_diags(f, &diags, json);
                    }
                }
            }
            Ok(if failed == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        "simulate" => {
            let file = rest
                .first()
                .filter(|a| !a.starts_with("--"))
                .ok_or("simulate needs a dialogue file")?;
            let answers = file_or_list(
                flag(rest, "--answers").ok_or("simulate needs --answers")?,
                ';',
            )?;
            let text = read(file)?;
            let flow = match compile_with(&text, &Options::default()) {
                Ok(f) => f,
                Err(diags) => {
                    print_diags(file, &diags, false);
                    return Ok(ExitCode::from(1));
                }
            };
            let mut opts = SimOptions::default();
            if let Some(n) = flag(rest, "--now") {
                opts.now_ms = n.parse().map_err(|_| {
                    format!("--now must be milliseconds since the epoch, not `{n}`")
                })?;
            }
            for (i, a) in rest.iter().enumerate() {
                if a == "--lead" {
                    let kv = rest.get(i + 1).ok_or("--lead needs Field=value")?;
                    let (k, v) = kv
                        .split_once('=')
                        .ok_or_else(|| format!("--lead needs Field=value, not `{kv}`"))?;
                    opts.lead.push((k.to_string(), v.to_string()));
                }
            }
            print!("{}", simulate(&flow, &answers, &opts));
            Ok(ExitCode::SUCCESS)
        }
        "compile" => {
            let file = rest
                .first()
                .ok_or("compile needs a dialogue file (or - for stdin)")?;
            let text = if file == "-" {
                let mut t = String::new();
                std::io::Read::read_to_string(&mut std::io::stdin(), &mut t)
                    .map_err(|e| format!("cannot read stdin: {e}"))?;
                t
            } else {
                read(file)?
            };
            match compile_with(&text, &Options::default()) {
                Ok(flow) => {
                    // A closed pipe (`| head`) is not an error worth a panic.
                    let _ = writeln!(std::io::stdout(), "{}", flow.to_wire());
                    Ok(ExitCode::SUCCESS)
                }
                Err(diags) => {
                    print_diags(file, &diags, false);
                    Ok(ExitCode::from(1))
                }
            }
        }
        "-h" | "--help" | "help" => {
            println!("{USAGE}");
            Ok(ExitCode::SUCCESS)
        }
        other => Err(format!("unknown command `{other}`")),
    }
}
