//! Deterministic simulation: runs a flow against a scripted visitor and prints a transcript (CLI, golden tests, wasm tests).

use crate::compile::CRoute;
use crate::compile::CompiledFlow;
use crate::machine::{step, Booking, Effect, Input, Prompt, Session, Status};
use std::fmt::Write;

/// Simulation settings.
#[derive(Debug, Clone)]
pub struct SimOptions {
    /// Clock at start (ms since epoch); each answer advances it by 5 s.
    pub now_ms: i64,
    /// Lead fields known before the conversation.
    pub lead: Vec<(String, String)>,
    /// The conversation's language (`None`: English), as [`Session::in_lang`] takes it.
    pub lang: Option<String>,
}

impl Default for SimOptions {
    fn default() -> Self {
        // 2027-01-04T09:00:00Z, a Monday.
        SimOptions {
            now_ms: 1_799_053_200_000,
            lead: Vec::new(),
            lang: None,
        }
    }
}

/// Settings read from `# key: value` header lines of an answers file (`dialogue`, `lead`, `now`,
/// `lang`).
pub fn header(text: &str, key: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.trim().strip_prefix('#'))
        .filter_map(|l| l.split_once(':'))
        .filter(|(k, _)| k.trim() == key)
        .map(|(_, v)| v.trim().to_string())
        .collect()
}

/// Builds simulation options from an answers file's header (`# lead: Field=value`, `# now: ms`,
/// `# lang: de`).
pub fn options_from_header(text: &str) -> SimOptions {
    let mut o = SimOptions::default();
    if let Some(n) = header(text, "now").first().and_then(|n| n.parse().ok()) {
        o.now_ms = n;
    }
    for kv in header(text, "lead") {
        if let Some((k, v)) = kv.split_once('=') {
            o.lead.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    o.lang = header(text, "lang").into_iter().next();
    o
}

/// Splits an answers file: one answer per line; `#` starts a comment line; blank lines are skipped.
pub fn parse_answers(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim_end)
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .map(str::to_string)
        .collect()
}

fn fmt_utc(ms: i64) -> String {
    let rem = ms.rem_euclid(86_400_000) / 60_000;
    let day = crate::date::ymd(ms.div_euclid(86_400_000));
    format!("{day} {:02}:{:02} UTC", rem / 60, rem % 60)
}

/// The slots the simulated calendar offers: tomorrow at 10:00, 11:00 and 14:00 UTC, 30 minutes each.
pub fn sim_slots(now_ms: i64) -> Vec<(i64, i64)> {
    let day = now_ms.div_euclid(86_400_000) + 1;
    [10, 11, 14]
        .iter()
        .map(|h| {
            let s = day * 86_400_000 + h * 3_600_000;
            (s, s + 30 * 60_000)
        })
        .collect()
}

/// Runs the flow with the scripted answers and returns the transcript; a script line that names
/// no input ends it with a `! ...` line (see [`simulate_script`]).
pub fn simulate(flow: &CompiledFlow, answers: &[String], opts: &SimOptions) -> String {
    simulate_script(flow, answers, opts).unwrap_or_else(|e| {
        let mut t = e.transcript;
        let _ = writeln!(t, "! {}", e.reason);
        t
    })
}

/// A script line that names no input: the transcript up to it and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptError {
    /// The transcript before the line.
    pub transcript: String,
    /// Which line (1-based, among the answers) and why it names nothing.
    pub reason: String,
}

/// Runs the flow with the scripted answers and returns the transcript.
///
/// Answer lines: a button label (or value, or `@N` for the N-th button, from 1), typed text,
/// for meetings `slot N` (N-th offered slot, from 1; `slot` alone is the first), `taken` (lose
/// the race), `none` (no slots), `skip` (decline); anywhere `close`, `timeout`, or `(empty)` for
/// an empty answer. `@N` naming no button (`@0`, or past the last) and, at a meeting card, any
/// other line are errors, not answers.
pub fn simulate_script(
    flow: &CompiledFlow,
    answers: &[String],
    opts: &SimOptions,
) -> Result<String, ScriptError> {
    let mut t = String::new();
    let mut now = opts.now_ms;
    let mut s = Session::new(flow, "sim", &opts.lead, now);
    if let Some(l) = &opts.lang {
        s = s.in_lang(l);
    }
    let _ = write!(
        t,
        "# dialogue {} ({}) version {}",
        flow.id, flow.name, flow.hash
    );
    // English, the language of every transcript before languages, is not named.
    let _ = match s.lang.as_str() {
        "en" => writeln!(t),
        l => writeln!(t, " lang {l}"),
    };
    let mut prompt: Option<Prompt> = None;
    let mut slots: Vec<(i64, i64)> = Vec::new();
    let mut effects = step(flow, &mut s, Input::Start, now);
    let total = answers.len();
    let mut answers = answers.iter();
    let mut booked = 0u32;
    loop {
        for e in &effects {
            write_effect(&mut t, e, &mut prompt, &mut slots, now);
        }
        if s.status != Status::Active {
            break;
        }
        // A pending booking: the simulated calendar accepts unless the script says otherwise.
        let pending_book = effects.iter().find_map(|e| match e {
            Effect::Book {
                route, start_ms, ..
            } => Some((route.clone(), *start_ms)),
            _ => None,
        });
        now += 5_000;
        if let Some((route, start_ms)) = pending_book {
            booked += 1;
            let agent = match route {
                CRoute::Queue(q) => format!("Agent {booked} of queue {q}"),
                CRoute::Agent(a) => a,
                CRoute::Rules { default } => {
                    format!("Agent {booked} of queue {default} (by rules)")
                }
            };
            let result = Booking::Booked {
                meeting_id: format!("m{booked}"),
                agent,
                time: fmt_utc(start_ms),
            };
            effects = step(flow, &mut s, Input::BookingResult { result }, now);
            continue;
        }
        let Some(a) = answers.next() else {
            let at =
                s.at.map(|i| flow.card_ids[usize::from(i)].clone())
                    .unwrap_or_default();
            let _ = writeln!(t, "… waiting for the visitor at `{at}`");
            return Ok(t);
        };
        let input = match to_input(a, prompt.as_ref(), &slots) {
            Ok(i) => i,
            Err(why) => {
                let n = total - answers.len();
                return Err(ScriptError {
                    transcript: t,
                    reason: format!("answer {n} `{a}`: {why}"),
                });
            }
        };
        let shown = match &input {
            Input::Button { index } => match &prompt {
                Some(Prompt::Choices { buttons, .. }) => buttons
                    .get(*index)
                    .map(|b| b.label.clone())
                    .unwrap_or_default(),
                _ => a.clone(),
            },
            Input::SlotChosen { start_ms, .. } => fmt_utc(*start_ms),
            _ => a.clone(),
        };
        let _ = writeln!(t, "visitor: {shown}");
        effects = step(flow, &mut s, input, now);
    }
    let rest = answers.count();
    let _ = writeln!(t, "= {:?}, score {}", s.status, s.score);
    if rest > 0 {
        let _ = writeln!(t, "({rest} answer(s) left unused)");
    }
    Ok(t)
}

/// The N of `@N` / `slot N` when it names one of `count` items (1-based), else why not.
fn nth(n: &str, count: usize, what: &str) -> Result<usize, String> {
    match n.trim().parse::<usize>() {
        Ok(i) if (1..=count).contains(&i) => Ok(i - 1),
        _ => Err(format!("{what} are numbered from 1 to {count}")),
    }
}

fn to_input(a: &str, prompt: Option<&Prompt>, slots: &[(i64, i64)]) -> Result<Input, String> {
    let a = if a.trim() == "(empty)" { "" } else { a };
    let l = a.trim().to_lowercase();
    match l.as_str() {
        "close" => return Ok(Input::Close),
        "timeout" => return Ok(Input::Timeout),
        _ => {}
    }
    Ok(match prompt {
        Some(Prompt::Choices { buttons, .. }) => {
            if let Some(n) = l.strip_prefix('@') {
                let index = nth(n, buttons.len(), "buttons")?;
                return Ok(Input::Button { index });
            }
            match buttons
                .iter()
                .position(|b| b.label.to_lowercase() == l || b.value.to_lowercase() == l)
            {
                Some(index) => Input::Button { index },
                None => Input::Text {
                    text: a.to_string(),
                },
            }
        }
        Some(Prompt::Slots) => {
            let result = match l.as_str() {
                "taken" => Booking::SlotTaken,
                "none" => Booking::NoSlots,
                "skip" => Booking::Declined,
                "slot" => {
                    let (start_ms, end_ms) = *slots.first().ok_or("no slots were offered")?;
                    return Ok(Input::SlotChosen { start_ms, end_ms });
                }
                _ => {
                    let n = l.strip_prefix("slot").ok_or(
                        "at a meeting card write `slot N`, `taken`, `none`, `skip`, `close` or `timeout`",
                    )?;
                    let (start_ms, end_ms) = slots[nth(n, slots.len(), "slots")?];
                    return Ok(Input::SlotChosen { start_ms, end_ms });
                }
            };
            Input::BookingResult { result }
        }
        _ => Input::Text {
            text: a.to_string(),
        },
    })
}

fn write_effect(
    t: &mut String,
    e: &Effect,
    prompt: &mut Option<Prompt>,
    slots: &mut Vec<(i64, i64)>,
    now: i64,
) {
    let _ = match e {
        Effect::Show {
            text, link, image, ..
        } => {
            let mut line = format!("bot: {text}");
            if let Some((url, label)) = link {
                let _ = write!(line, " [{label}]({url})");
            }
            if let Some(i) = image {
                let _ = write!(line, " (image {i})");
            }
            writeln!(t, "{line}")
        }
        Effect::Ask { prompt: p, .. } => {
            *prompt = Some(p.clone());
            match p {
                Prompt::Choices { buttons, free_text } => {
                    let b: Vec<String> = buttons.iter().map(|b| format!("[{}]", b.label)).collect();
                    let ft = if free_text.is_some() {
                        " or type an answer"
                    } else {
                        ""
                    };
                    writeln!(t, "  choices: {}{ft}", b.join(" "))
                }
                Prompt::Field { field, .. } => writeln!(t, "  input: {field:?}").map(|_| ()),
                Prompt::Slots => Ok(()),
            }
        }
        Effect::RequestSlots { route, .. } => {
            *slots = sim_slots(now);
            let list: Vec<String> = slots.iter().map(|s| fmt_utc(s.0)).collect();
            let who = match route {
                CRoute::Queue(q) => format!("queue {q}"),
                CRoute::Agent(a) => format!("agent {a}"),
                // The simulated visitor has no worker: the rules' default stands in.
                CRoute::Rules { default } => format!("the routing rules (default queue {default})"),
            };
            writeln!(t, "  slots for {who}: {}", list.join(", "))
        }
        Effect::Reprompt { message, .. } => writeln!(t, "bot (re-prompt): {message}"),
        Effect::Answer { card, value } => writeln!(t, "  answer {card} = {value}"),
        Effect::Capture {
            field,
            value,
            overwrite,
        } => {
            writeln!(
                t,
                "  capture {field} = {value}{}",
                if *overwrite { " (overwrite)" } else { "" }
            )
        }
        Effect::Book { start_ms, .. } => writeln!(t, "  book {}", fmt_utc(*start_ms)),
        Effect::Goal { name, score, .. } => writeln!(t, "  goal {name} (+{score})"),
        Effect::Emit { event } => writeln!(
            t,
            "  event {}",
            serde_json::to_string(event)
                .unwrap_or_default()
                .trim_matches('"')
        ),
        Effect::Complete => writeln!(t, "  completed"),
        Effect::Drop { card } => writeln!(t, "  dropped at {}", card.as_deref().unwrap_or("-")),
        Effect::Ignored { reason } => writeln!(t, "  (ignored: {reason})"),
    };
}
