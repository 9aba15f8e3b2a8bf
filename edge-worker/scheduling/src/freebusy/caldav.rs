//! CalDAV (RFC 4791) free/busy: REPORT bodies and parsers of their answers.
//!
//! Two ways to ask: a `free-busy-query` REPORT answers one VFREEBUSY (`FBTYPE=FREE` periods
//! are ignored, every other type is busy); a `calendar-query` REPORT with `expand` answers a
//! multistatus of expanded VEVENTs (`TRANSP:TRANSPARENT` and `STATUS:CANCELLED` ignored).
//! Send either with `Depth: 1` and `Content-Type: application/xml; charset=utf-8`.

use super::Busy;
use crate::error::SchedulingError;
use crate::ical_read::{self, Component};
use crate::slots::{normalize, Interval};
use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use quick_xml::events::Event;
use quick_xml::Reader;

fn caldav_time(t: DateTime<Utc>) -> String {
    t.format("%Y%m%dT%H%M%SZ").to_string()
}

/// The body of a `free-busy-query` REPORT for `[from, to)`.
pub fn caldav_freebusy_query(from: DateTime<Utc>, to: DateTime<Utc>) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n\
         <C:free-busy-query xmlns:C=\"urn:ietf:params:xml:ns:caldav\">\n\
         \x20 <C:time-range start=\"{}\" end=\"{}\"/>\n\
         </C:free-busy-query>\n",
        caldav_time(from),
        caldav_time(to)
    )
}

/// The body of a `calendar-query` REPORT returning the VEVENTs overlapping `[from, to)`,
/// recurring ones expanded into instances by the server.
pub fn caldav_calendar_query(from: DateTime<Utc>, to: DateTime<Utc>) -> String {
    let (s, e) = (caldav_time(from), caldav_time(to));
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n\
         <C:calendar-query xmlns:D=\"DAV:\" xmlns:C=\"urn:ietf:params:xml:ns:caldav\">\n\
         \x20 <D:prop>\n\
         \x20   <C:calendar-data>\n\
         \x20     <C:expand start=\"{s}\" end=\"{e}\"/>\n\
         \x20   </C:calendar-data>\n\
         \x20 </D:prop>\n\
         \x20 <C:filter>\n\
         \x20   <C:comp-filter name=\"VCALENDAR\">\n\
         \x20     <C:comp-filter name=\"VEVENT\">\n\
         \x20       <C:time-range start=\"{s}\" end=\"{e}\"/>\n\
         \x20     </C:comp-filter>\n\
         \x20   </C:comp-filter>\n\
         \x20 </C:filter>\n\
         </C:calendar-query>\n"
    )
}

fn err(message: impl Into<String>) -> SchedulingError {
    SchedulingError::provider("caldav", message)
}

/// The busy periods of a `free-busy-query` answer (a text/calendar body with a VFREEBUSY).
pub fn parse_caldav_freebusy(body: &str) -> Result<Busy, SchedulingError> {
    let root = ical_read::parse(body).ok_or_else(|| err("free-busy answer is not iCalendar"))?;
    let mut fbs = Vec::new();
    root.descendants("VFREEBUSY", &mut fbs);
    if fbs.is_empty() {
        return Err(err("free-busy answer has no VFREEBUSY"));
    }
    let mut busy = Vec::new();
    for fb in fbs {
        for p in fb.props.iter().filter(|p| p.name == "FREEBUSY") {
            let fbtype = p.param("FBTYPE").unwrap_or("BUSY").to_ascii_uppercase();
            if fbtype == "FREE" {
                continue;
            }
            for period in p.value.split(',') {
                let Some((start, end)) = period.trim().split_once('/') else {
                    return Ok(Busy::Unknown);
                };
                let Some(start) = ical_read::parse_utc_or_local(start, None, Tz::UTC) else {
                    return Ok(Busy::Unknown);
                };
                let end = if end.starts_with(['P', '+', '-']) {
                    ical_read::duration(end).map(|d| start + d)
                } else {
                    ical_read::parse_utc_or_local(end, None, Tz::UTC)
                };
                let Some(end) = end else {
                    return Ok(Busy::Unknown);
                };
                busy.push(Interval::new(start, end));
            }
        }
    }
    Ok(Busy::Known(normalize(&busy)))
}

/// The `calendar-data` texts of a multistatus answer, with entity and character references
/// resolved.
fn calendar_data(xml: &str) -> Result<Vec<String>, SchedulingError> {
    let mut reader = Reader::from_str(xml);
    let mut out = Vec::new();
    let mut current: Option<String> = None;
    let mut saw_multistatus = false;
    let mut depth = 0usize;
    // Bounded: every iteration consumes input, and the body is finite.
    loop {
        match reader.read_event() {
            Err(e) => return Err(err(format!("multistatus XML: {e}"))),
            Ok(Event::Eof) => break,
            Ok(Event::Start(e)) => {
                depth += 1;
                match e.local_name().as_ref() {
                    b"multistatus" => saw_multistatus = true,
                    b"calendar-data" => current = Some(String::new()),
                    _ => {}
                }
            }
            Ok(Event::End(e)) => {
                depth = depth.saturating_sub(1);
                if e.local_name().as_ref() == b"calendar-data" {
                    if let Some(text) = current.take() {
                        out.push(text);
                    }
                }
            }
            Ok(Event::Text(t)) => {
                if let Some(buf) = current.as_mut() {
                    let text = t
                        .decode()
                        .map_err(|e| err(format!("calendar-data text: {e}")))?;
                    buf.push_str(&text);
                }
            }
            Ok(Event::CData(t)) => {
                if let Some(buf) = current.as_mut() {
                    let text = t
                        .decode()
                        .map_err(|e| err(format!("calendar-data CDATA: {e}")))?;
                    buf.push_str(&text);
                }
            }
            Ok(Event::GeneralRef(r)) => {
                if let Some(buf) = current.as_mut() {
                    if let Some(c) = r
                        .resolve_char_ref()
                        .map_err(|e| err(format!("character reference: {e}")))?
                    {
                        buf.push(c);
                    } else {
                        let name = r.decode().map_err(|e| err(format!("entity: {e}")))?;
                        let resolved = quick_xml::escape::resolve_predefined_entity(&name)
                            .ok_or_else(|| err(format!("unknown entity &{name};")))?;
                        buf.push_str(resolved);
                    }
                }
            }
            Ok(_) => {}
        }
    }
    if depth != 0 || current.is_some() {
        return Err(err("multistatus answer is truncated"));
    }
    if !saw_multistatus {
        return Err(err("answer is not a DAV multistatus"));
    }
    Ok(out)
}

/// The busy time of a VEVENT, `None` if it does not block time, `Err(())` if unreadable.
fn event_span(ev: &Component, floating: Tz) -> Result<Option<Interval>, ()> {
    let is = |name: &str, value: &str| {
        ev.prop(name)
            .is_some_and(|p| p.value.trim().eq_ignore_ascii_case(value))
    };
    if is("TRANSP", "TRANSPARENT") || is("STATUS", "CANCELLED") {
        return Ok(None);
    }
    // A recurrence the server did not expand cannot be read safely without an RRULE engine.
    if ev.prop("RRULE").is_some() || ev.prop("RDATE").is_some() {
        return Err(());
    }
    let start_prop = ev.prop("DTSTART").ok_or(())?;
    let start = ical_read::date_time(start_prop, floating).ok_or(())?;
    let all_day = start_prop.param("VALUE") == Some("DATE");
    let end = match (ev.prop("DTEND"), ev.prop("DURATION")) {
        (Some(p), _) => ical_read::date_time(p, floating).ok_or(())?,
        (None, Some(d)) => start + ical_read::duration(&d.value).ok_or(())?,
        (None, None) if all_day => start + Duration::days(1),
        (None, None) => start,
    };
    Ok((start < end).then(|| Interval::new(start, end)))
}

/// The busy time in a `calendar-query` multistatus answer. Floating times and all-day dates
/// are read in `floating` (the agent's zone). An event that cannot be read, or a recurring
/// event the server did not expand, makes the whole answer [`Busy::Unknown`].
pub fn parse_caldav_events(body: &str, floating: Tz) -> Result<Busy, SchedulingError> {
    let mut busy = Vec::new();
    for data in calendar_data(body)? {
        let Some(root) = ical_read::parse(&data) else {
            return Ok(Busy::Unknown);
        };
        let mut events = Vec::new();
        root.descendants("VEVENT", &mut events);
        for ev in events {
            match event_span(ev, floating) {
                Ok(Some(span)) => busy.push(span),
                Ok(None) => {}
                Err(()) => return Ok(Busy::Unknown),
            }
        }
    }
    Ok(Busy::Known(normalize(&busy)))
}
