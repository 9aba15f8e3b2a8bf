//! Bookable slots of one agent or of a queue, in UTC, and their labels in the visitor's zone.
//!
//! Working hours are local wall-clock times in the agent's zone: on a daylight-saving day a
//! 09:00-17:00 day is still 09:00-17:00 local. Slot starts step through the wall clock from the
//! range's start; a local start time that does not exist (the spring-forward gap) is skipped; an
//! ambiguous one (the fall-back hour) takes the earlier instant. Ends are absolute: a slot lasts
//! the meeting length in real time from its start and must end by the instant the range ends
//! (so on a fall-back night a range holds one more real hour than its wall-clock length). A
//! range that runs past midnight (a night shift) belongs to the day it starts.
//!
//! A queue offers each start once, whichever agents are free at it, each for their own meeting
//! length ([`queue_slots`]); [`slot_at`] is the same rule for one agent at one start, for the
//! booking.
use crate::error::SchedulingError;
use crate::ids::AgentId;
use crate::settings::{AgentSettings, DAY_MINUTES};
use chrono::{
    DateTime, Datelike, Days, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone,
    Utc,
};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A half-open span of time `[start, end)` in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Interval {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl Interval {
    pub fn new(start: DateTime<Utc>, end: DateTime<Utc>) -> Self {
        Interval { start, end }
    }

    /// Whether the two half-open spans share any instant.
    pub fn overlaps(&self, other: &Interval) -> bool {
        self.start < other.end && other.start < self.end
    }
}

/// What a calendar said about an agent's time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "busy", rename_all = "snake_case")]
pub enum Busy {
    /// The calendar answered: these spans are busy, everything else is free.
    Known(Vec<Interval>),
    /// The calendar failed or answered something unreadable: no time is known to be free.
    Unknown,
}

impl Busy {
    pub fn is_unknown(&self) -> bool {
        matches!(self, Busy::Unknown)
    }

    /// Both calendars' busy time together (an agent with several calendars); unknown wins.
    pub fn union(self, other: Busy) -> Busy {
        match (self, other) {
            (Busy::Known(mut a), Busy::Known(b)) => {
                a.extend(b);
                Busy::Known(normalize(&a))
            }
            _ => Busy::Unknown,
        }
    }

    /// Whether `span` is known to be free.
    pub fn is_free(&self, span: &Interval) -> bool {
        match self {
            Busy::Known(list) => !list.iter().any(|b| b.overlaps(span)),
            Busy::Unknown => false,
        }
    }
}

/// Sorted, merged, without empty or inverted spans.
pub(crate) fn normalize(list: &[Interval]) -> Vec<Interval> {
    let mut v: Vec<Interval> = list.iter().copied().filter(|i| i.start < i.end).collect();
    v.sort_unstable();
    let mut out: Vec<Interval> = Vec::with_capacity(v.len());
    for i in v {
        match out.last_mut() {
            Some(last) if i.start <= last.end => {
                if i.end > last.end {
                    last.end = i.end;
                }
            }
            _ => out.push(i),
        }
    }
    out
}

/// Whether `[lo, hi)` misses every span of a normalized busy list.
fn free_in(busy: &[Interval], lo: DateTime<Utc>, hi: DateTime<Utc>) -> bool {
    let first_ending_after = busy.partition_point(|b| b.end <= lo);
    busy.get(first_ending_after).is_none_or(|b| b.start >= hi)
}

/// One bookable slot of one agent, in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Slot {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl Slot {
    pub fn interval(&self) -> Interval {
        Interval::new(self.start, self.end)
    }
}

/// One start of a queue and the agents free at it, in the order the agents were given.
///
/// Agents may have different meeting lengths: each agent listed is free for their own length
/// from `start`, and the meeting booked at this start lasts the length of the agent who gets
/// it. `end` is the latest of those ends (what the visitor should keep free); for a queue whose
/// agents share one length it is simply the slot's end.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueSlot {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub free_agents: Vec<AgentId>,
}

impl QueueSlot {
    /// The offer as one span, `start` to `end` (the latest end among the free agents).
    pub fn slot(&self) -> Slot {
        Slot {
            start: self.start,
            end: self.end,
        }
    }
}

/// The local date-time `minute` minutes after `date`'s midnight (past 1440: on a later date).
fn local_time(date: NaiveDate, minute: u16) -> Option<NaiveDateTime> {
    let date = date.checked_add_days(Days::new(u64::from(minute / DAY_MINUTES)))?;
    let minute = minute % DAY_MINUTES;
    let time = NaiveTime::from_hms_opt(u32::from(minute / 60), u32::from(minute % 60), 0)?;
    Some(date.and_time(time))
}

/// The UTC instant of a local wall-clock time: `None` in a gap, the earlier one when ambiguous.
fn local_to_utc(tz: Tz, date: NaiveDate, minute_of_day: u16) -> Option<DateTime<Utc>> {
    match tz.from_local_datetime(&local_time(date, minute_of_day)?) {
        LocalResult::Single(t) => Some(t.with_timezone(&Utc)),
        LocalResult::Ambiguous(a, b) => Some(a.min(b).with_timezone(&Utc)),
        LocalResult::None => None,
    }
}

/// The first instant at which the local clock reads `minute_of_day` on `date` or later
/// (`1440` is the next midnight, `1560` 02:00 the next day): the earlier instant when
/// ambiguous, the end of the gap when that time does not exist.
fn wall_clock_instant(tz: Tz, date: NaiveDate, minute_of_day: u16) -> Option<DateTime<Utc>> {
    let base = local_time(date, minute_of_day)?;
    // Gaps last at most a day (Samoa skipped 30 Dec 2011); look minute by minute, bounded.
    (0..=24 * 60).find_map(|k| {
        tz.from_local_datetime(&(base + Duration::minutes(k)))
            .earliest()
            .map(|t| t.with_timezone(&Utc))
    })
}

/// The agent's free slots that start in `[from_utc, to_utc)`, sorted by start.
///
/// A slot is offered when:
/// - its start is one of a working-hours range's wall-clock steps (every `slot_step` minutes
///   from the range's start, before the range's end) and exists in the agent's zone;
/// - it ends, `meeting_minutes` of real time after its start, no later than the instant the
///   range ends (DST changes inside the range shorten or lengthen it in real time);
/// - it starts at least `min_notice` after `now_utc`;
/// - the day its range starts is no later than the last day of the horizon: today in the
///   agent's zone (the local date at `now_utc`) is day 1, so `horizon_days = 1` offers today's
///   ranges only (see [`AgentSettingsInput::horizon_days`](crate::AgentSettingsInput));
/// - `[start - buffer_before, end + buffer_after)` misses every busy span. Buffers apply to
///   busy events, not to the edges of working hours.
///
/// [`Busy::Unknown`] gives no slots.
pub fn slots(
    agent: &AgentSettings,
    busy: &Busy,
    from_utc: DateTime<Utc>,
    to_utc: DateTime<Utc>,
    now_utc: DateTime<Utc>,
) -> Vec<Slot> {
    let Busy::Known(list) = busy else {
        return Vec::new();
    };
    let busy = normalize(list);
    let tz = agent.tz();
    let length = Duration::minutes(i64::from(agent.meeting_minutes()));
    let before = Duration::minutes(i64::from(agent.buffer_before_minutes()));
    let after = Duration::minutes(i64::from(agent.buffer_after_minutes()));
    let earliest = from_utc.max(now_utc + Duration::minutes(i64::from(agent.min_notice_minutes())));
    if earliest >= to_utc {
        return Vec::new();
    }
    let today = now_utc.with_timezone(&tz).date_naive();
    let Some(last_day) = today.checked_add_days(Days::new(u64::from(agent.horizon_days() - 1)))
    else {
        return Vec::new();
    };
    // A range that started the day before may run past midnight into the first day; one more
    // day of margin on each side because, where a zone changes its offset at midnight, local
    // dates are not monotonic in UTC. Ranges that started before today still count: the
    // horizon limits how far ahead, "now" and the notice how early.
    let earliest_date = earliest.with_timezone(&tz).date_naive();
    let first_date = earliest_date
        .checked_sub_days(Days::new(2))
        .unwrap_or(earliest_date);
    let last_date = to_utc
        .with_timezone(&tz)
        .date_naive()
        .succ_opt()
        .unwrap_or(last_day)
        .min(last_day);
    let step = u16::try_from(agent.slot_step_minutes()).unwrap_or(u16::MAX);

    let mut out = Vec::new();
    for date in first_date.iter_days().take_while(|d| *d <= last_date) {
        for &(range_start, range_end) in agent.ranges(date.weekday()) {
            let Some(range_end_utc) = wall_clock_instant(tz, date, range_end) else {
                continue;
            };
            let mut m = range_start;
            while m < range_end {
                if let Some(start) = local_to_utc(tz, date, m) {
                    let end = start + length;
                    if start >= earliest
                        && start < to_utc
                        && end <= range_end_utc
                        && free_in(&busy, start - before, end + after)
                    {
                        out.push(Slot { start, end });
                    }
                }
                let Some(next) = m.checked_add(step) else {
                    break;
                };
                m = next;
            }
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// The agent's free slot that starts exactly at `start` (for their own meeting length), if
/// any: the booking's check, the same rule as [`slots`] and [`queue_slots`].
pub fn slot_at(
    agent: &AgentSettings,
    busy: &Busy,
    start: DateTime<Utc>,
    now_utc: DateTime<Utc>,
) -> Option<Slot> {
    slots(agent, busy, start, start + Duration::seconds(1), now_utc)
        .into_iter()
        .find(|s| s.start == start)
}

/// The queue's offers: every start at which at least one agent has a free slot of their own
/// length, once, with those agents in the order of `agents` and `end` the latest of their
/// ends (see [`QueueSlot`]). Agents with [`Busy::Unknown`] are never listed as free.
pub fn queue_slots(
    agents: &[(AgentId, AgentSettings, Busy)],
    from_utc: DateTime<Utc>,
    to_utc: DateTime<Utc>,
    now_utc: DateTime<Utc>,
) -> Vec<QueueSlot> {
    let mut by_start: BTreeMap<DateTime<Utc>, QueueSlot> = BTreeMap::new();
    for (id, settings, busy) in agents {
        for slot in slots(settings, busy, from_utc, to_utc, now_utc) {
            let offer = by_start.entry(slot.start).or_insert_with(|| QueueSlot {
                start: slot.start,
                end: slot.end,
                free_agents: Vec::new(),
            });
            offer.end = offer.end.max(slot.end);
            if !offer.free_agents.contains(id) {
                offer.free_agents.push(id.clone());
            }
        }
    }
    by_start.into_values().collect()
}

/// A slot start for the visitor, e.g. `Mon 1 Mar 2027, 10:00 (Asia/Kolkata)`.
///
/// Where the local time happens twice (the hour repeated when the clocks go back), the label
/// names which one: the zone's abbreviation (`Sun 31 Oct 2027, 02:00 CEST (Europe/Amsterdam)`
/// and `02:00 CET`), or the UTC offset where both abbreviations are the same (`01:30 UTC+04:00`
/// and `01:30 UTC+03:00` in Moscow on 26 October 2014, both MSK).
pub fn label(slot_start_utc: DateTime<Utc>, visitor_tz: Tz) -> String {
    let local = slot_start_utc.with_timezone(&visitor_tz);
    let which = match visitor_tz.from_local_datetime(&local.naive_local()) {
        LocalResult::Ambiguous(a, b) => {
            let (abbr, other) = (a.format("%Z").to_string(), b.format("%Z").to_string());
            if abbr != other {
                format!(" {}", local.format("%Z"))
            } else {
                format!(" UTC{}", local.format("%:z"))
            }
        }
        _ => String::new(),
    };
    format!(
        "{}{which} ({})",
        local.format("%a %-d %b %Y, %H:%M"),
        visitor_tz.name()
    )
}

/// An IANA zone name from a request (e.g. the `tz` query parameter); `field` names it in the error.
pub fn parse_tz(name: &str, field: &str) -> Result<Tz, SchedulingError> {
    name.parse().map_err(|_| SchedulingError::InvalidTimeZone {
        field: field.to_owned(),
        value: name.to_owned(),
    })
}
