//! `simulate(json, answers, options)`: the CLI's scripted visitor (`dynchat simulate`), answers given as an answers file's text (its `# lead:` / `# now:` lines apply) or as a list.

use dynchat_engine::simulate::header;
use dynchat_engine::{compile, parse_answers, simulate_script, Diagnostic, SimOptions};
use serde::Deserialize;
use std::collections::BTreeMap;

/// The answers: an answers file's text, or one answer per entry.
#[derive(Deserialize)]
#[serde(untagged)]
pub enum Answers {
    /// An answers file (`#` lines are comments or `# lead:` / `# now:` settings).
    File(String),
    /// The answers themselves; nothing in them is a comment.
    List(Vec<String>),
}

/// Options that win over the file's header lines, as `--lead` / `--now` do in the CLI.
#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct SimulateOptions {
    lead: BTreeMap<String, String>,
    now: Option<i64>,
}

/// Why a simulation produced no transcript.
#[derive(Debug)]
pub enum SimError {
    /// The dialogue does not compile.
    Invalid(Vec<Diagnostic>),
    /// An answers file's header line is malformed, or an answer names no input; the transcript so far.
    Script { reason: String, transcript: String },
}

fn header_options(text: &str) -> Result<SimOptions, SimError> {
    let bad = |reason: String| SimError::Script {
        reason,
        transcript: String::new(),
    };
    let mut o = SimOptions::default();
    for n in header(text, "now") {
        o.now_ms = n.parse().map_err(|_| {
            bad(format!(
                "`# now: {n}`: expected milliseconds since the epoch"
            ))
        })?;
    }
    for kv in header(text, "lead") {
        match kv.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => {
                o.lead.push((k.trim().to_string(), v.trim().to_string()))
            }
            _ => return Err(bad(format!("`# lead: {kv}`: expected Field=value"))),
        }
    }
    o.lang = header(text, "lang").into_iter().next();
    Ok(o)
}

/// Compiles the dialogue and runs the scripted visitor; the transcript is the CLI's, byte for byte.
pub fn simulate(json: &str, answers: Answers, over: SimulateOptions) -> Result<String, SimError> {
    let flow = compile(json).map_err(SimError::Invalid)?;
    let (lines, mut opts) = match answers {
        Answers::File(text) => (parse_answers(&text), header_options(&text)?),
        Answers::List(l) => (l, SimOptions::default()),
    };
    if let Some(n) = over.now {
        opts.now_ms = n;
    }
    opts.lead.extend(over.lead);
    simulate_script(&flow, &lines, &opts).map_err(|e| SimError::Script {
        reason: e.reason,
        transcript: e.transcript,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const FLOW: &str = r#"{"version":1,"id":"t","name":"T","cards":[
      {"id":"q","type":"question","text":"Hi {{lead.FirstName:you}}?","buttons":[{"label":"Yes","value":"y","next":"e"}]},
      {"id":"e","type":"end","text":"Bye"}]}"#;

    #[test]
    fn header_lines_apply_and_options_win() {
        let file = Answers::File("# lead: FirstName=Ann\n@1\n".into());
        let t = simulate(FLOW, file, SimulateOptions::default()).unwrap_or_default();
        assert!(t.contains("bot: Hi Ann?"), "{t}");
        let file = Answers::File("# lead: FirstName=Ann\n@1\n".into());
        let mut over = SimulateOptions::default();
        over.lead.insert("FirstName".into(), "Bo".into());
        let t = simulate(FLOW, file, over).unwrap_or_default();
        assert!(t.contains("bot: Hi Bo?"), "{t}");
    }

    #[test]
    fn bad_lines_are_errors_not_answers() {
        let r = simulate(FLOW, Answers::List(vec!["@0".into()]), Default::default());
        assert!(
            matches!(&r, Err(SimError::Script { reason, .. }) if reason.contains("buttons are numbered from 1 to 1")),
            "{r:?}"
        );
        let r = simulate(
            FLOW,
            Answers::File("# now: soon\n".into()),
            Default::default(),
        );
        assert!(matches!(r, Err(SimError::Script { .. })), "{r:?}");
        let r = simulate("{}", Answers::List(Vec::new()), Default::default());
        assert!(matches!(r, Err(SimError::Invalid(d)) if !d.is_empty()));
    }
}
