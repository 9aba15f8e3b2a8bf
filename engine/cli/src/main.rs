//! `dynchat` command line: `validate`, `simulate`, `compile`, `migrate` and `schema` for dialogues kept as files in git (and `launcher`).

use dynchat_engine::simulate::{header, options_from_header};
use dynchat_engine::{
    compile_with, parse_answers, schema_json, simulate_script, Diagnostic, Options, Severity,
};
use std::io::Write;
use std::process::ExitCode;

const USAGE: &str = "usage:
  dynchat validate <dialogue.json>... [--lead-fields <file|a,b,c>] [--json]
  dynchat simulate <dialogue.json> --answers <file|a;b;c> [--lead Field=value]... [--now <ms>] [--lang <tag>]
  dynchat migrate <dialogue.json>... [--write]   (prints, or rewrites, each file in format version 2)
  dynchat compile <dialogue.json|->      (prints the compiled flow's wire form, as the worker ships it)
  dynchat launcher <config.json|->       (prints the bundle's `launcher` for a site config)
  dynchat schema
A value that names an existing file is read from it; otherwise it must be a list (with at least
one `;` for answers, `,` for lead fields: `yes;` is one answer). A missing file is an error.";

/// Why the command could not run (exit 2): a usage error also prints the usage.
enum Fail {
    Usage(String),
    Input(String),
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(code) => code,
        Err(Fail::Usage(msg)) => {
            eprintln!("dynchat: {msg}\n{USAGE}");
            ExitCode::from(2)
        }
        Err(Fail::Input(msg)) => {
            eprintln!("dynchat: {msg}");
            ExitCode::from(2)
        }
    }
}

/// Reads a text file; the error says why, for a message that names the path.
fn read_text(path: &str) -> Result<String, String> {
    let bytes = std::fs::read(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".to_string(),
        _ => format!("cannot read: {e}"),
    })?;
    String::from_utf8(bytes).map_err(|e| {
        format!(
            "not UTF-8 text (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        )
    })
}

/// Reads a text file; every error names the path.
fn read(path: &str) -> Result<String, String> {
    read_text(path).map_err(|why| format!("{path}: {why}"))
}

/// Where a `file-or-list` value came from.
enum Source {
    File(String),
    List(Vec<String>),
}

/// A value that names an existing file is that file's text; otherwise it must be a list holding
/// `sep`. Anything else is a mistyped path, never data.
fn file_or_list(flag: &str, v: &str, sep: char) -> Result<Source, Fail> {
    let p = std::path::Path::new(v);
    if p.is_file() {
        return read(v).map(Source::File).map_err(Fail::Input);
    }
    if p.exists() {
        return Err(Fail::Input(format!("{flag} {v}: not a file")));
    }
    if !v.contains(sep) {
        return Err(Fail::Input(format!(
            "{flag} {v}: no such file (an inline list needs at least one `{sep}`, e.g. `{v}{sep}`)"
        )));
    }
    Ok(Source::List(
        v.split(sep)
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect(),
    ))
}

/// A command's arguments: positionals in order and `--flag value` pairs (`--flag=value` too).
struct Args {
    positional: Vec<String>,
    values: Vec<(String, String)>,
    switches: Vec<String>,
}

impl Args {
    /// Splits `rest` by the flags the command knows; an unknown flag or one without its value is
    /// a usage error (a mistyped flag must not turn its value into a dialogue path).
    fn parse(rest: &[String], with_value: &[&str], switches: &[&str]) -> Result<Args, Fail> {
        let mut a = Args {
            positional: Vec::new(),
            values: Vec::new(),
            switches: Vec::new(),
        };
        let mut it = rest.iter();
        while let Some(arg) = it.next() {
            if arg == "-" || !arg.starts_with('-') {
                a.positional.push(arg.clone());
                continue;
            }
            let (name, inline) = match arg.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (arg.as_str(), None),
            };
            if with_value.contains(&name) {
                let v = match inline {
                    Some(v) => v,
                    None => it
                        .next()
                        .filter(|v| !v.starts_with("--"))
                        .cloned()
                        .ok_or_else(|| Fail::Usage(format!("{name} needs a value")))?,
                };
                a.values.push((name.to_string(), v));
            } else if switches.contains(&name) && inline.is_none() {
                a.switches.push(name.to_string());
            } else {
                return Err(Fail::Usage(format!("unknown option `{arg}`")));
            }
        }
        Ok(a)
    }

    fn all(&self, name: &str) -> Vec<&str> {
        self.values
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The value of a flag given at most once.
    fn one(&self, name: &str) -> Result<Option<&str>, Fail> {
        match self.all(name).as_slice() {
            [] => Ok(None),
            [one] => Ok(Some(one)),
            _ => Err(Fail::Usage(format!("{name} is given more than once"))),
        }
    }

    fn switch(&self, name: &str) -> bool {
        self.switches.iter().any(|s| s == name)
    }

    fn none_positional(&self, cmd: &str) -> Result<(), Fail> {
        match self.positional.first() {
            Some(p) => Err(Fail::Usage(format!("{cmd} takes no argument `{p}`"))),
            None => Ok(()),
        }
    }

    /// Exactly one positional argument.
    fn single(&self, cmd: &str, what: &str) -> Result<&str, Fail> {
        match self.positional.as_slice() {
            [one] => Ok(one),
            [] => Err(Fail::Usage(format!("{cmd} needs {what}"))),
            [_, extra, ..] => Err(Fail::Usage(format!(
                "{cmd} takes one dialogue file; unexpected `{extra}`"
            ))),
        }
    }
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

fn run(args: &[String]) -> Result<ExitCode, Fail> {
    let cmd = args
        .first()
        .ok_or_else(|| Fail::Usage("missing command".into()))?;
    let rest = &args[1..];
    match cmd.as_str() {
        "schema" => {
            Args::parse(rest, &[], &[])?.none_positional("schema")?;
            print!("{}", schema_json());
            Ok(ExitCode::SUCCESS)
        }
        "validate" => validate(&Args::parse(rest, &["--lead-fields"], &["--json"])?),
        "simulate" => simulate_cmd(&Args::parse(
            rest,
            &["--answers", "--lead", "--now", "--lang"],
            &[],
        )?),
        "migrate" => migrate_cmd(&Args::parse(rest, &[], &["--write"])?),
        "compile" => compile_cmd(&Args::parse(rest, &[], &[])?),
        "launcher" => {
            let file = Args::parse(rest, &[], &[])?;
            let text = input(file.single("launcher", "a site config file (or - for stdin)")?)?;
            let _ = writeln!(
                std::io::stdout(),
                "{}",
                dynchat_engine::launcher::launcher(&text)
            );
            Ok(ExitCode::SUCCESS)
        }
        "-h" | "--help" | "help" => {
            println!("{USAGE}");
            Ok(ExitCode::SUCCESS)
        }
        other => Err(Fail::Usage(format!("unknown command `{other}`"))),
    }
}

/// Validates every file given; an unreadable one is reported and the others are still checked.
fn validate(a: &Args) -> Result<ExitCode, Fail> {
    let json = a.switch("--json");
    let lead_fields = match a.one("--lead-fields")? {
        None => None,
        Some(v) => Some(match file_or_list("--lead-fields", v, ',')? {
            Source::File(text) => text
                .lines()
                .map(|l| l.trim().to_string())
                .filter(|l| !l.is_empty())
                .collect(),
            Source::List(l) => l,
        }),
    };
    let opts = Options { lead_fields };
    if a.positional.is_empty() {
        return Err(Fail::Usage("validate needs at least one file".into()));
    }
    let mut failed = 0;
    for f in &a.positional {
        let text = match read_text(f) {
            Ok(t) => t,
            Err(why) => {
                failed += 1;
                let d = Diagnostic::error("$", "unreadable", why);
                print_diags(f, &[d], json);
                continue;
            }
        };
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

fn parse_now(v: &str, from: &str) -> Result<i64, Fail> {
    v.trim().parse().map_err(|_| {
        Fail::Input(format!(
            "{from} must be milliseconds since the epoch, not `{v}`"
        ))
    })
}

fn lead_pair(kv: &str, from: &str) -> Result<(String, String), Fail> {
    kv.split_once('=')
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .filter(|(k, _)| !k.is_empty())
        .ok_or_else(|| Fail::Input(format!("{from} needs Field=value, not `{kv}`")))
}

/// Runs a scripted visitor. An answers file's `# lead: Field=value` and `# now: ms` lines apply
/// (as in the golden tests); `--lead` and `--now` on the command line come after them and win.
fn simulate_cmd(a: &Args) -> Result<ExitCode, Fail> {
    let file = a.single("simulate", "a dialogue file")?;
    let answers_arg = a
        .one("--answers")?
        .ok_or_else(|| Fail::Usage("simulate needs --answers".into()))?;
    let source = file_or_list("--answers", answers_arg, ';')?;
    let script = match source {
        Source::File(_) => answers_arg,
        Source::List(_) => "--answers",
    };
    let (answers, mut opts) = match source {
        Source::File(text) => {
            for n in header(&text, "now") {
                parse_now(&n, &format!("{answers_arg}: `# now:`"))?;
            }
            for kv in header(&text, "lead") {
                lead_pair(&kv, &format!("{answers_arg}: `# lead:`"))?;
            }
            (parse_answers(&text), options_from_header(&text))
        }
        Source::List(l) => (l, Default::default()),
    };
    if let Some(n) = a.one("--now")? {
        opts.now_ms = parse_now(n, "--now")?;
    }
    for kv in a.all("--lead") {
        opts.lead.push(lead_pair(kv, "--lead")?);
    }
    if let Some(l) = a.one("--lang")? {
        let tag = dynchat_engine::i18n::lang_tag(l);
        if tag == "en" && !l.trim().to_ascii_lowercase().starts_with("en") {
            return Err(Fail::Input(format!(
                "--lang must be a language tag such as `de`, not `{l}`"
            )));
        }
        opts.lang = Some(l.to_string());
    }
    let text = read(file).map_err(Fail::Input)?;
    let flow = match compile_with(&text, &Options::default()) {
        Ok(f) => f,
        Err(diags) => {
            print_diags(file, &diags, false);
            return Ok(ExitCode::from(1));
        }
    };
    match simulate_script(&flow, &answers, &opts) {
        Ok(t) => {
            print!("{t}");
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            print!("{}", e.transcript);
            Err(Fail::Input(format!("{script}: {}", e.reason)))
        }
    }
}

/// Writes version-1 dialogues in format version 2 (the same dialogue: version 2 only adds
/// `languages` and `translations`). Each file is checked first; one that does not compile is
/// reported and left alone.
fn migrate_cmd(a: &Args) -> Result<ExitCode, Fail> {
    if a.positional.is_empty() {
        return Err(Fail::Usage("migrate needs at least one file".into()));
    }
    let write = a.switch("--write");
    let mut failed = 0;
    for f in &a.positional {
        let text = read(f).map_err(Fail::Input)?;
        let flow = match compile_with(&text, &Options::default()) {
            Ok(flow) => flow,
            Err(diags) => {
                failed += 1;
                print_diags(f, &diags, false);
                continue;
            }
        };
        let out = serde_json::to_string_pretty(&flow.source)
            .map_err(|e| Fail::Input(format!("{f}: {e}")))?
            + "\n";
        if write {
            std::fs::write(f, out).map_err(|e| Fail::Input(format!("cannot write {f}: {e}")))?;
            eprintln!("{f}: written as format version {}", flow.source.version);
        } else {
            let _ = write!(std::io::stdout(), "{out}");
        }
    }
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// A file's text, or stdin's for `-`.
fn input(file: &str) -> Result<String, Fail> {
    if file == "-" {
        let mut t = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut t)
            .map_err(|e| Fail::Input(format!("cannot read stdin: {e}")))?;
        Ok(t)
    } else {
        read(file).map_err(Fail::Input)
    }
}

fn compile_cmd(a: &Args) -> Result<ExitCode, Fail> {
    let file = a.single("compile", "a dialogue file (or - for stdin)")?;
    let text = input(file)?;
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
