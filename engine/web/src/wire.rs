//! The chat module's JSON, read and written with the engine's small JSON reader and writer (no
//! serde in the browser): the state saved between page loads and the host's messages (known
//! lead fields, slots, booking results).

use crate::state::{Saved, SavedRef, Slot, SlotsReply};
use crate::view::Entry;
use dynchat_engine::json::{self, Need, Out, J};
use dynchat_engine::Booking;
use dynchat_engine::TextMap;

fn text(v: &J) -> Option<String> {
    v.str().map(str::to_string)
}

/// A member that may be missing (then `d`); present, it must read with `f`.
fn or<T>(v: &J, k: &str, d: T, f: impl Fn(&J) -> Option<T>) -> Option<T> {
    match v.get(k) {
        None => Some(d),
        Some(x) => f(x),
    }
}

/// `{name: text}`; `None` when it is not an object of strings (the engine's reader, which the
/// session's fields use too: one copy in the wasm).
pub(super) fn text_map(v: &J) -> Option<TextMap<String>> {
    TextMap::from_json(v)
}

/// `{field: value}` from the host (known lead, `identify`); anything else reads as no fields.
pub(super) fn fields(s: &str) -> TextMap<String> {
    json::parse(s)
        .as_ref()
        .and_then(text_map)
        .unwrap_or_default()
}

fn entry(v: &J) -> Option<Entry> {
    let n = Need::default();
    let link = v.opt("link").map(|l| match l.arr() {
        Some([u, t]) => (n.of(text(u)), n.of(text(t))),
        _ => n.of(None),
    });
    n.then(Entry {
        who: n.of(text(n.get(v, "who"))),
        card: n.of(or(v, "card", String::new(), text)),
        text: n.of(text(n.get(v, "text"))),
        image: v.opt("image").map(|i| n.of(text(i))),
        link,
    })
}

fn entry_json(e: &Entry) -> String {
    let mut o = Out::new();
    o.str("who", &e.who);
    if !e.card.is_empty() {
        o.str("card", &e.card);
    }
    o.str("text", &e.text);
    if let Some(i) = &e.image {
        o.str("image", i);
    }
    if let Some((u, l)) = &e.link {
        let mut a = String::from("[");
        json::write_str(&mut a, u);
        a.push(',');
        json::write_str(&mut a, l);
        a.push(']');
        o.raw("link", &a);
    }
    o.finish()
}

impl Saved {
    /// Reads a state `Host.save` stored; `None` when it is not one.
    pub(super) fn from_json(s: &str) -> Option<Saved> {
        let v = json::parse(s)?;
        let n = Need::default();
        let int = |k: &str| n.of(n.get(&v, k).int().and_then(|i| u32::try_from(i).ok()));
        let t = |k: &str| n.of(text(n.get(&v, k)));
        n.then(Saved {
            v: int("v"),
            dialogue: t("dialogue"),
            hash: t("hash"),
            session: t("session"),
            transcript: n.of(n.get(&v, "transcript").list(&entry)),
            fields: n.of(or(&v, "fields", TextMap::new(), text_map)),
            overwrite: n.of(or(&v, "overwrite", Vec::new(), |a| a.list(&text))),
            leads: match v.get("leads") {
                None => 0,
                Some(_) => int("leads"),
            },
            open: n.of(or(&v, "open", false, J::bool)),
        })
    }

    /// The JSON `Host.save` receives.
    #[cfg(test)]
    pub(super) fn to_json(&self) -> String {
        SavedRef {
            v: self.v,
            dialogue: &self.dialogue,
            hash: &self.hash,
            session: &self.session,
            transcript: &self.transcript,
            fields: &self.fields,
            overwrite: &self.overwrite,
            leads: self.leads,
            open: self.open,
        }
        .to_json()
    }
}

impl SavedRef<'_> {
    /// The JSON `Host.save` receives (members in the order the state always had).
    pub(super) fn to_json(&self) -> String {
        // Written in place: a `join` of the entries would be a second copy of `join_generic_copy`
        // (one for `String` items next to the one for `&str`) in the browser's module.
        let mut transcript = String::from("[");
        for (i, e) in self.transcript.iter().enumerate() {
            if i > 0 {
                transcript.push(',');
            }
            transcript.push_str(&entry_json(e));
        }
        transcript.push(']');
        let mut o = Out::new();
        o.int("v", i64::from(self.v))
            .str("dialogue", self.dialogue)
            .str("hash", self.hash)
            .str("session", self.session)
            .raw("transcript", &transcript)
            .map(
                "fields",
                self.fields.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            )
            .strs("overwrite", self.overwrite.iter().map(String::as_str))
            .int("leads", i64::from(self.leads))
            .bool("open", self.open)
            .finish()
    }
}

fn slot(v: &J) -> Option<Slot> {
    Some(Slot {
        start_ms: v.get("start_ms")?.int()?,
        end_ms: v.get("end_ms")?.int()?,
        day: text(v.get("day")?)?,
        time: text(v.get("time")?)?,
        label: or(v, "label", String::new(), text)?,
    })
}

/// `{"tz","slots":[{"start_ms","end_ms","day","time","label"}]}` or `{"error":".."}`.
pub(super) fn slots_reply(s: &str) -> Option<SlotsReply> {
    let v = json::parse(s)?;
    Some(SlotsReply {
        tz: or(&v, "tz", String::new(), text)?,
        slots: or(&v, "slots", Vec::new(), |a| a.list(&slot))?,
        error: match v.opt("error") {
            None => None,
            Some(e) => Some(text(e)?),
        },
    })
}

/// A booking result in the engine's `Booking` form (`{"status":"booked",..}`).
pub(super) fn booking(s: &str) -> Option<Booking> {
    let v = json::parse(s)?;
    let t = |k: &str| text(v.get(k)?);
    Some(match v.get("status")?.str()? {
        "booked" => Booking::Booked {
            meeting_id: t("meeting_id")?,
            agent: t("agent")?,
            time: t("time")?,
        },
        "slot_taken" => Booking::SlotTaken,
        "no_slots" => Booking::NoSlots,
        "declined" => Booking::Declined,
        "failed" => Booking::Failed {
            reason: t("reason")?,
        },
        _ => return None,
    })
}

/// The `video` link a booking answer carries, if any.
pub(super) fn video(s: &str) -> Option<String> {
    text(json::parse(s)?.get("video")?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saved_state_reads_back_and_reads_older_states() {
        let s = Saved {
            v: 1,
            dialogue: "d".into(),
            hash: "h".into(),
            session: r#"{"v":1}"#.into(),
            transcript: vec![
                Entry {
                    who: "bot".into(),
                    card: "c1".into(),
                    text: "Hi \"there\"\n".into(),
                    image: Some("https://x.test/a.png".into()),
                    link: Some(("https://x.test/d.pdf".into(), "Doc".into())),
                },
                Entry {
                    who: "me".into(),
                    card: String::new(),
                    text: "yes".into(),
                    image: None,
                    link: None,
                },
            ],
            fields: [("email".to_string(), "a@b.test".to_string())].into(),
            overwrite: vec!["email".into()],
            leads: 2,
            open: true,
        };
        let j = s.to_json();
        assert_eq!(
            &j[..60],
            r#"{"v":1,"dialogue":"d","hash":"h","session":"{\"v\":1}","tran"#
        );
        let Some(back) = Saved::from_json(&j) else {
            panic!("unreadable: {j}")
        };
        assert_eq!(back.to_json(), j);
        assert_eq!(back.transcript, s.transcript);
        // A state written before `fields` .. `open` existed.
        let old = r#"{"v":1,"dialogue":"d","hash":"h","session":"{}","transcript":[{"who":"me","text":"x"}]}"#;
        let Some(o) = Saved::from_json(old) else {
            panic!("old state unreadable")
        };
        assert!(o.fields.is_empty() && !o.open && o.leads == 0);
        assert!(Saved::from_json(r#"{"v":1,"dialogue":"d"}"#).is_none());
    }

    #[test]
    fn host_messages() {
        assert_eq!(
            booking(r#"{"status":"booked","meeting_id":"m","agent":"A","time":"T"}"#),
            Some(Booking::Booked {
                meeting_id: "m".into(),
                agent: "A".into(),
                time: "T".into()
            })
        );
        assert_eq!(
            booking(r#"{"status":"slot_taken"}"#),
            Some(Booking::SlotTaken)
        );
        assert_eq!(booking(r#"{"status":"failed"}"#), None);
        let r = slots_reply(
            r#"{"tz":"Europe/Paris","slots":[{"start_ms":1000,"end_ms":2000,"day":"Mon","time":"10:00"}]}"#,
        );
        let Some(r) = r else {
            panic!("slots unreadable")
        };
        assert_eq!(
            (r.tz.as_str(), r.slots.len(), r.slots[0].end_ms),
            ("Europe/Paris", 1, 2000)
        );
        assert_eq!(
            slots_reply(r#"{"error":"down"}"#).and_then(|r| r.error),
            Some("down".into())
        );
        assert_eq!(fields(r#"{"email":"a@b.test"}"#).len(), 1);
        assert!(fields(r#"{"email":"a@b.test","n":1}"#).is_empty());
    }

    #[test]
    fn booking_video_link() {
        let b = r#"{"status":"booked","meeting_id":"m","agent":"A","time":"T","video":"https://meet.example/x"}"#;
        assert_eq!(video(b).as_deref(), Some("https://meet.example/x"));
        assert!(matches!(booking(b), Some(Booking::Booked { .. })));
        assert_eq!(video(r#"{"status":"booked","meeting_id":"m"}"#), None);
        assert_eq!(video(r#"{"status":"booked","video":7}"#), None);
    }
}
