//! The sans-IO state machine: `step(&CompiledFlow, &mut Session, Input, Now) -> Vec<Effect>`; the host performs the effects.

use crate::compile::CompiledFlow;

// Layers, top down: this file (`step`) -> answer -> run / capture -> io / session_json -> session.
mod answer;
mod capture;
mod io;
mod run;
mod session;
mod session_json;
mod why;

use answer::on_input;
pub use io::{Booking, BrowserEvent, Choice, Effect, Input, Prompt};
use run::Run;
pub use run::{BranchJudge, NativeJudge};
pub use session::{Meeting, Now, Session, Status, Wait, SESSION_VERSION};
pub use why::{Mismatch, Why};

/// Advances a conversation by one input. Never panics; bad visitor input is a re-prompt.
/// Branch rules are decided by [`NativeJudge`].
pub fn step(flow: &CompiledFlow, s: &mut Session, input: Input, now: Now) -> Vec<Effect> {
    step_with(flow, s, input, now, &NativeJudge)
}

/// [`step`] with branch rules decided by `judge` (the browser's chat module: the page's
/// targeting module, so it links no audience code itself).
pub fn step_with(
    flow: &CompiledFlow,
    s: &mut Session,
    input: Input,
    now: Now,
    judge: &dyn BranchJudge,
) -> Vec<Effect> {
    let mut r = Run {
        flow,
        judge,
        out: Vec::new(),
    };
    if let Err(why) = s.check(flow) {
        r.out.push(Effect::Ignored {
            reason: Why::Session(why),
        });
        return r.out;
    }
    s.last_ms = s.last_ms.max(now);
    let at = s.at;
    match (s.status, input) {
        (Status::New, Input::Start) => {
            s.status = Status::Active;
            s.started_ms = now;
            r.run_from(s, Some(flow.start));
        }
        (Status::Active, Input::Start) => {
            if let Some(i) = at {
                r.ask(s, i, true);
            }
        }
        (Status::New, Input::Close) => r.emit(BrowserEvent::Closed),
        (Status::Active, Input::Close | Input::Timeout) => {
            let card = at.map(|i| r.id(i));
            s.status = Status::Dropped;
            s.at = None;
            s.wait = Wait::Nothing;
            s.booking = None;
            r.emit(BrowserEvent::Closed);
            r.out.push(Effect::Drop { card });
        }
        (Status::Completed | Status::Dropped, Input::Close) => r.emit(BrowserEvent::Closed),
        (Status::Active, input) => {
            let Some(i) = at else {
                r.out.push(Effect::Ignored {
                    reason: Why::NothingAsked,
                });
                return r.out;
            };
            on_input(&mut r, s, i, input);
        }
        (st, _) => r.out.push(Effect::Ignored {
            reason: Why::Is(st.name()),
        }),
    }
    r.out
}
