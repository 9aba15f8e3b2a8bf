//! A small iCalendar (RFC 5545) reader: unfolding, content lines, components, date-times, durations.

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

/// One content line: upper-cased name and parameter names, unquoted parameter values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Property {
    pub name: String,
    pub params: Vec<(String, String)>,
    pub value: String,
}

impl Property {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Joins folded lines (a line starting with a space or tab continues the previous one).
pub(crate) fn unfold(text: &str) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for raw in text.split('\n') {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if let Some(rest) = line.strip_prefix([' ', '\t']) {
            if let Some(last) = lines.last_mut() {
                last.push_str(rest);
                continue;
            }
        }
        if !line.is_empty() {
            lines.push(line.to_owned());
        }
    }
    lines
}

/// Parses `NAME;P1=v;P2="q:v":value`; `None` for a line without a colon.
pub(crate) fn parse_line(line: &str) -> Option<Property> {
    let mut chars = line.char_indices().peekable();
    let mut name_end = None;
    while let Some(&(i, c)) = chars.peek() {
        if c == ';' || c == ':' {
            name_end = Some(i);
            break;
        }
        chars.next();
    }
    let name_end = name_end?;
    let name = line[..name_end].to_ascii_uppercase();
    let mut params = Vec::new();
    let mut rest = &line[name_end..];
    loop {
        if let Some(value) = rest.strip_prefix(':') {
            return Some(Property {
                name,
                params,
                value: value.to_owned(),
            });
        }
        let body = rest.strip_prefix(';')?;
        let eq = body.find('=')?;
        let pname = body[..eq].to_ascii_uppercase();
        let after = &body[eq + 1..];
        let (pvalue, remaining) = if let Some(quoted) = after.strip_prefix('"') {
            let close = quoted.find('"')?;
            let mut end = close + 1;
            // Multi-valued parameters: "a","b"; keep the first value only.
            let tail = &quoted[end..];
            let cut = tail.find([';', ':']).unwrap_or(tail.len());
            end += cut;
            (quoted[..close].to_owned(), &quoted[end..])
        } else {
            let cut = after.find([';', ':'])?;
            (after[..cut].to_owned(), &after[cut..])
        };
        params.push((pname, pvalue));
        rest = remaining;
    }
}

/// A component with its own properties and sub-components.
#[derive(Debug, Clone, Default)]
pub(crate) struct Component {
    pub name: String,
    pub props: Vec<Property>,
    pub children: Vec<Component>,
}

impl Component {
    pub fn prop(&self, name: &str) -> Option<&Property> {
        self.props.iter().find(|p| p.name == name)
    }

    /// Every component named `name` at any depth below this one.
    pub fn descendants<'a>(&'a self, name: &str, out: &mut Vec<&'a Component>) {
        for c in &self.children {
            if c.name == name {
                out.push(c);
            }
            c.descendants(name, out);
        }
    }
}

/// Parses an iCalendar stream into a root whose children are its top-level components.
/// `None` when BEGIN/END do not match.
pub(crate) fn parse(text: &str) -> Option<Component> {
    let mut stack: Vec<Component> = vec![Component::default()];
    for line in unfold(text) {
        let Some(p) = parse_line(&line) else {
            continue;
        };
        match p.name.as_str() {
            "BEGIN" => stack.push(Component {
                name: p.value.to_ascii_uppercase(),
                ..Component::default()
            }),
            "END" => {
                let done = stack.pop()?;
                if done.name != p.value.to_ascii_uppercase() {
                    return None;
                }
                stack.last_mut()?.children.push(done);
            }
            _ => stack.last_mut()?.props.push(p),
        }
    }
    if stack.len() == 1 {
        stack.pop()
    } else {
        None
    }
}

fn local_to_utc(tz: Tz, naive: NaiveDateTime) -> Option<DateTime<Utc>> {
    // A time in a spring-forward gap is read as the first instant after the gap.
    tz.from_local_datetime(&naive)
        .earliest()
        .or_else(|| {
            tz.from_local_datetime(&(naive + Duration::hours(1)))
                .earliest()
        })
        .map(|d| d.with_timezone(&Utc))
}

/// A DATE-TIME or DATE value to UTC: `...Z` is UTC, `TZID=` an IANA zone, anything else is
/// read in `floating`. `None` for an unknown TZID or a malformed value.
pub(crate) fn date_time(p: &Property, floating: Tz) -> Option<DateTime<Utc>> {
    let v = p.value.trim();
    if p.param("VALUE") == Some("DATE") || (v.len() == 8 && !v.contains('T')) {
        let d = NaiveDate::parse_from_str(v, "%Y%m%d").ok()?;
        return local_to_utc(floating, d.and_hms_opt(0, 0, 0)?);
    }
    parse_utc_or_local(v, p.param("TZID"), floating)
}

pub(crate) fn parse_utc_or_local(
    v: &str,
    tzid: Option<&str>,
    floating: Tz,
) -> Option<DateTime<Utc>> {
    if let Some(utc) = v.strip_suffix('Z') {
        return NaiveDateTime::parse_from_str(utc, "%Y%m%dT%H%M%S")
            .ok()
            .map(|n| n.and_utc());
    }
    let naive = NaiveDateTime::parse_from_str(v, "%Y%m%dT%H%M%S").ok()?;
    let tz = match tzid {
        // Some servers prefix TZIDs with a slash or a vendor path; take the IANA part.
        Some(id) => id.trim_start_matches('/').parse::<Tz>().ok()?,
        None => floating,
    };
    local_to_utc(tz, naive)
}

/// An RFC 5545 DURATION such as `PT1H30M`, `P1D`, `P2W`; negative durations are `None`.
pub(crate) fn duration(v: &str) -> Option<Duration> {
    let v = v.trim();
    let v = v.strip_prefix('+').unwrap_or(v);
    if v.starts_with('-') {
        return None;
    }
    let body = v.strip_prefix('P')?;
    let mut total = Duration::zero();
    let mut number = String::new();
    let mut in_time = false;
    for c in body.chars() {
        match c {
            '0'..='9' => number.push(c),
            'T' => in_time = true,
            unit => {
                let n: i64 = number.parse().ok()?;
                number.clear();
                total += match (unit, in_time) {
                    ('W', false) => Duration::weeks(n),
                    ('D', false) => Duration::days(n),
                    ('H', true) => Duration::hours(n),
                    ('M', true) => Duration::minutes(n),
                    ('S', true) => Duration::seconds(n),
                    _ => return None,
                };
            }
        }
    }
    if !number.is_empty() {
        return None;
    }
    Some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_params_and_durations() {
        let p = parse_line("ATTENDEE;CN=\"Doe, Jane: CEO\";RSVP=TRUE:mailto:j@x.org")
            .unwrap_or_else(|| panic!("parse"));
        assert_eq!(p.name, "ATTENDEE");
        assert_eq!(p.param("CN"), Some("Doe, Jane: CEO"));
        assert_eq!(p.param("RSVP"), Some("TRUE"));
        assert_eq!(p.value, "mailto:j@x.org");
        assert_eq!(parse_line("no colon here"), None);
        assert_eq!(
            unfold("A:1\r\n 23\r\n\tb\r\nB:2\r\n"),
            vec!["A:123b", "B:2"]
        );
        assert_eq!(duration("PT1H30M"), Some(Duration::minutes(90)));
        assert_eq!(duration("P1DT1S"), Some(Duration::seconds(86401)));
        assert_eq!(duration("P2W"), Some(Duration::weeks(2)));
        assert_eq!(duration("-PT5M"), None);
        assert_eq!(duration("PT5"), None);
        assert_eq!(duration("P5M"), None);
    }
}
