//! A [`Session`]'s stored JSON, read and written by hand (the same text serde's derive gives), so
//! the browser keeps conversations across page loads without serde_json.

use super::session::*;
use super::why::Mismatch;
use crate::compile::CompiledFlow;
use crate::i18n::lang_tag;
use crate::json::{self, Need, Out, J};
use crate::textmap::TextMap;

fn status_name(s: Status) -> &'static str {
    match s {
        Status::New => "new",
        Status::Active => "active",
        Status::Completed => "completed",
        Status::Dropped => "dropped",
    }
}

fn wait_name(w: Wait) -> &'static str {
    match w {
        Wait::Nothing => "nothing",
        Wait::Answer => "answer",
        Wait::Slot => "slot",
        Wait::Booking => "booking",
    }
}

impl Status {
    /// The stored name: `new`, `active`, `completed` or `dropped`.
    pub fn name(self) -> &'static str {
        status_name(self)
    }
}

fn int<T: TryFrom<i64>>(v: &J) -> Option<T> {
    T::try_from(v.int()?).ok()
}

fn read(v: &J) -> Option<Session> {
    let n = Need::default();
    let status = match n.get(v, "status").str() {
        Some("new") => Status::New,
        Some("active") => Status::Active,
        Some("completed") => Status::Completed,
        Some("dropped") => Status::Dropped,
        _ => return None,
    };
    let wait = match n.get(v, "wait").str() {
        Some("nothing") => Wait::Nothing,
        Some("answer") => Wait::Answer,
        Some("slot") => Wait::Slot,
        Some("booking") => Wait::Booking,
        _ => return None,
    };
    let mut answers = TextMap::new();
    for (k, v) in n.of(n.get(v, "answers").obj()) {
        let i = json::parse_int(k).and_then(|i| u16::try_from(i).ok());
        answers.insert(n.of(i), n.of(text(v)));
    }
    let meeting = v.opt("meeting").map(|m| Meeting {
        id: n.of(text(n.get(m, "id"))),
        agent: n.of(text(n.get(m, "agent"))),
        time: n.of(text(n.get(m, "time"))),
    });
    let booking = v.opt("booking").map(|b| match b.arr() {
        Some([s, e]) => (n.of(s.int()), n.of(e.int())),
        _ => n.or(None, (0, 0)),
    });
    let s = |k: &str| n.of(text(n.get(v, k)));
    n.then(Session {
        v: n.of(int(n.get(v, "v"))),
        id: s("id"),
        flow: s("flow"),
        lang: match v.get("lang") {
            None => "en".to_string(),
            Some(l) => lang_tag(n.of(l.str())),
        },
        status,
        at: v.opt("at").map(|a| n.of(int(a))),
        wait,
        answers,
        lead: n.of(TextMap::from_json(n.get(v, "lead"))),
        company: match v.get("company") {
            None => TextMap::new(),
            Some(c) => n.of(TextMap::from_json(c)),
        },
        tries: n.of(int(n.get(v, "tries"))),
        goals: n.of(n.get(v, "goals").list(&int)),
        score: n.of(int(n.get(v, "score"))),
        engaged: n.of(n.get(v, "engaged").bool()),
        meeting,
        booking,
        started_ms: n.of(n.get(v, "started_ms").int()),
        last_ms: n.of(n.get(v, "last_ms").int()),
    })
}

fn text(v: &J) -> Option<String> {
    v.str().map(str::to_string)
}

impl Session {
    /// Reads a stored session; refuses other versions and other flows (`Session::check`, the
    /// check `step` makes too).
    pub fn from_json(text: &str, flow: &CompiledFlow) -> Result<Session, Mismatch> {
        let s = json::parse(text)
            .as_ref()
            .and_then(read)
            .ok_or(Mismatch::Unreadable)?;
        s.check(flow)?;
        Ok(s)
    }

    /// Serialises to JSON (members in declaration order, `lang` when English, empty `company`, no `meeting` and no
    /// `booking` left out: the text serde's derive writes).
    pub fn to_json(&self) -> String {
        let mut o = Out::new();
        o.int("v", i64::from(self.v))
            .str("id", &self.id)
            .str("flow", &self.flow);
        if self.lang != "en" {
            o.str("lang", &self.lang);
        }
        o.str("status", status_name(self.status));
        match self.at {
            Some(a) => o.int("at", i64::from(a)),
            None => o.raw("at", "null"),
        };
        o.str("wait", wait_name(self.wait));
        let mut answers = Out::new();
        for (k, v) in &self.answers {
            answers.str(&json::int_string(i64::from(*k)), v);
        }
        o.raw("answers", &answers.finish());
        o.map(
            "lead",
            self.lead.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        );
        if !self.company.is_empty() {
            o.map(
                "company",
                self.company.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            );
        }
        o.int("tries", i64::from(self.tries));
        // Written in place, not joined (`join` on `String`s is a second `join_generic_copy`).
        let mut goals = String::from("[");
        for (i, g) in self.goals.iter().enumerate() {
            if i > 0 {
                goals.push(',');
            }
            json::write_int(&mut goals, i64::from(*g));
        }
        goals.push(']');
        o.raw("goals", &goals)
            .int("score", i64::from(self.score))
            .bool("engaged", self.engaged);
        if let Some(m) = &self.meeting {
            let mut mo = Out::new();
            mo.str("id", &m.id)
                .str("agent", &m.agent)
                .str("time", &m.time);
            o.raw("meeting", &mo.finish());
        }
        if let Some((s, e)) = self.booking {
            let mut b = String::from("[");
            json::write_int(&mut b, s);
            b.push(',');
            json::write_int(&mut b, e);
            b.push(']');
            o.raw("booking", &b);
        }
        o.int("started_ms", self.started_ms)
            .int("last_ms", self.last_ms)
            .finish()
    }
}
