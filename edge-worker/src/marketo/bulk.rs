//! Marketo's Bulk Lead Extract in plain Rust: the `createdAt` windows an initial sync walks
//! (at most 31 days each), the job states, the errors that make it wait or stop, and the export
//! file read in pages (RFC 4180 CSV, quoted fields may hold commas, quotes and newlines; a page
//! ends at the last complete record, so a resumed read starts exactly where the last one
//! stopped). The calls themselves live in `edge::gate::initial_sync`.

use super::protocol::CallError;

/// One export job's `createdAt` range: 31 days minus a second (Marketo: "31 days or fewer").
pub const WINDOW_MS: i64 = 31 * 86_400_000 - 1_000;

/// Rows and columns an export file may hold before we refuse it (a wrong file, not a lead table).
pub const MAX_COLUMNS: usize = 200;

/// The end of the window starting at `start`, never past `until`.
pub fn window_end(start: i64, until: i64) -> i64 {
    (start + WINDOW_MS).min(until)
}

/// How many windows cover `since..until` (at least one).
pub fn window_count(since: i64, until: i64) -> i64 {
    let span = (until - since).max(0);
    ((span + WINDOW_MS - 1) / WINDOW_MS).max(1)
}

/// A job's `status` as Marketo reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    Created,
    Queued,
    Processing,
    Completed,
    /// Failed or Cancelled: the window needs a new job.
    Gone,
}

impl JobState {
    pub fn parse(s: &str) -> Option<JobState> {
        Some(match s {
            "Created" => JobState::Created,
            "Queued" => JobState::Queued,
            "Processing" => JobState::Processing,
            "Completed" => JobState::Completed,
            "Failed" | "Cancelled" => JobState::Gone,
            _ => return None,
        })
    }
}

/// What an error of a bulk call means for the sync.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BulkTrouble {
    /// 1029 "Too many jobs in queue" (ours or other integrations'): try again in a minute.
    QueueFull,
    /// 1029 "Export daily quota exceeded": nothing until the allocation resets.
    DailyQuota,
    /// The job is unknown (expired after seven days, or another instance): a new job.
    JobLost,
    /// 1035 unsupported filter, 1006 unknown field, 603 access: an admin must act.
    Stop(String),
    /// Anything the gate retries anyway (limits, timeouts, 5xx): try again soon.
    Retry(String),
}

/// Classifies a failed bulk call.
pub fn trouble(e: &CallError) -> BulkTrouble {
    let text = e.text();
    let code = text.split(' ').next().unwrap_or("");
    match (code, e) {
        ("1029", _) if text.to_ascii_lowercase().contains("quota") => BulkTrouble::DailyQuota,
        ("1029", _) => BulkTrouble::QueueFull,
        ("1004", _) => BulkTrouble::JobLost,
        (_, CallError::Quota(_)) => BulkTrouble::DailyQuota,
        (_, CallError::Fatal(_)) => BulkTrouble::Stop(text.to_string()),
        _ => BulkTrouble::Retry(text.to_string()),
    }
}

/// Complete records read from the start of `buf`, and how many bytes they used.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Page {
    pub records: Vec<Vec<String>>,
    pub consumed: usize,
}

/// Parses the complete records at the start of `buf` (each ends with `\n` or `\r\n`; at the
/// end of the file the last may end without one). An incomplete record is left for the next
/// page. Errors name the byte offset within `buf`.
pub fn parse_records(buf: &[u8], at_eof: bool) -> Result<Page, String> {
    let mut page = Page::default();
    let mut record: Vec<String> = Vec::new();
    let mut field: Vec<u8> = Vec::new();
    let mut in_quotes = false;
    let mut quoted = false;
    let mut i = 0;
    let finish_field = |field: &mut Vec<u8>, record: &mut Vec<String>, at: usize| {
        let text = String::from_utf8(std::mem::take(field))
            .map_err(|_| format!("export file: invalid UTF-8 before byte {at}"))?;
        if record.len() >= MAX_COLUMNS {
            return Err(format!("export file: more than {MAX_COLUMNS} columns"));
        }
        record.push(text);
        Ok::<(), String>(())
    };
    while i < buf.len() {
        let b = buf[i];
        if in_quotes {
            if b == b'"' {
                if buf.get(i + 1) == Some(&b'"') {
                    field.push(b'"');
                    i += 2;
                    continue;
                }
                if i + 1 == buf.len() && !at_eof {
                    // `"` at the end of the page: an escaped quote or the closing one.
                    break;
                }
                in_quotes = false;
            } else {
                field.push(b);
            }
            i += 1;
            continue;
        }
        match b {
            b'"' if field.is_empty() && !quoted => {
                in_quotes = true;
                quoted = true;
            }
            b',' => {
                finish_field(&mut field, &mut record, i)?;
                quoted = false;
            }
            b'\r' if buf.get(i + 1) == Some(&b'\n') => {}
            b'\r' if i + 1 == buf.len() && !at_eof => break,
            b'\n' => {
                finish_field(&mut field, &mut record, i)?;
                quoted = false;
                page.records.push(std::mem::take(&mut record));
                page.consumed = i + 1;
            }
            _ if quoted => {
                return Err(format!(
                    "export file: text after a closing quote at byte {i}"
                ))
            }
            _ => field.push(b),
        }
        i += 1;
    }
    if at_eof && i == buf.len() && !in_quotes && (!field.is_empty() || !record.is_empty() || quoted)
    {
        finish_field(&mut field, &mut record, i)?;
        page.records.push(record);
        page.consumed = buf.len();
    } else if at_eof && in_quotes {
        return Err("export file: a quoted field is not closed at the end".into());
    }
    Ok(page)
}

/// A time as Marketo and the admin write it: `YYYY-MM-DD` (midnight UTC) or
/// `YYYY-MM-DDTHH:MM:SSZ` (also with `+00:00` or fractional seconds); ms since the epoch.
pub fn parse_time(s: &str) -> Option<i64> {
    let s = s.trim();
    let day = crate::days::parse_day(s.get(..10)?)?;
    let rest = &s[10..];
    if rest.is_empty() {
        return Some(day * 86_400_000);
    }
    let t = rest.strip_prefix('T')?;
    let clock = t.get(..8)?;
    let zone = &t[8..];
    let zone = match zone.find(['Z', '+']) {
        Some(i) if zone[..i].is_empty() || zone[..i].starts_with('.') => &zone[i..],
        _ => return None,
    };
    if !matches!(zone, "Z" | "+00:00" | "+0000") {
        return None;
    }
    let mut it = clock.split(':');
    let mut part = |max: i64| {
        it.next()
            .filter(|p| p.len() == 2)
            .and_then(|p| p.parse::<i64>().ok())
            .filter(|v| (0..max).contains(v))
    };
    let (h, m, sec) = (part(24)?, part(60)?, part(61)?);
    Some(day * 86_400_000 + (h * 3600 + m * 60 + sec) * 1000)
}

/// Default reach of an initial sync: leads created in the last year.
pub const DEFAULT_SINCE_DAYS: i64 = 365;
/// The farthest back an initial sync may reach: ten years (120 windows).
pub const MAX_SINCE_DAYS: i64 = 3660;

/// Reads `POST /admin/marketo/initial-sync`'s body: `since` (optional `YYYY-MM-DD` or ISO
/// date-time, not in the future, at most ten years back) and `restart` (optional boolean).
/// Answers `(since_ms, restart)`; a bad value is a 400 naming the field.
pub fn parse_start(
    body: &serde_json::Value,
    now: i64,
) -> Result<(i64, bool), crate::error::ApiError> {
    use crate::error::ApiError;
    let obj = body
        .as_object()
        .ok_or_else(|| ApiError::BadJson("the body must be a JSON object".into()))?;
    if let Some(k) = obj.keys().find(|k| *k != "since" && *k != "restart") {
        return Err(ApiError::field(
            k.as_str(),
            "unknown field (since, restart)",
        ));
    }
    let since = match obj.get("since") {
        None | Some(serde_json::Value::Null) => now - DEFAULT_SINCE_DAYS * 86_400_000,
        Some(v) => v.as_str().and_then(parse_time).ok_or_else(|| {
            ApiError::field("since", "a date YYYY-MM-DD or an ISO 8601 UTC date-time")
        })?,
    };
    if since > now {
        return Err(ApiError::field("since", "must not be in the future"));
    }
    if now - since > MAX_SINCE_DAYS * 86_400_000 {
        return Err(ApiError::field("since", "at most ten years back"));
    }
    let restart = match obj.get("restart") {
        None => false,
        Some(v) => v
            .as_bool()
            .ok_or_else(|| ApiError::field("restart", "true or false"))?,
    };
    // Whole seconds: Marketo's filter takes date-times without milliseconds.
    Ok((since - since.rem_euclid(1000), restart))
}

/// The total size in a `Content-Range: bytes a-b/total` header.
pub fn range_total(content_range: &str) -> Option<i64> {
    content_range.rsplit('/').next()?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn windows_cover_the_range_in_31_day_steps() {
        let day = 86_400_000;
        assert_eq!(window_count(0, 40 * day), 2);
        assert_eq!(window_count(0, 10 * day), 1);
        assert_eq!(window_count(0, 0), 1);
        assert_eq!(window_end(0, 40 * day), WINDOW_MS);
        assert_eq!(window_end(WINDOW_MS, 40 * day), 40 * day);
        assert!(WINDOW_MS < 31 * day);
    }

    #[test]
    fn quoted_fields_commas_quotes_and_newlines() {
        let text = b"id,email,firstName\n1,a@x.io,\"Ann, \"\"A\"\"\nB\"\r\n2,b@x.io,\n";
        let p = parse_records(text, true).unwrap_or_default();
        assert_eq!(
            p.records,
            vec![
                rec(&["id", "email", "firstName"]),
                rec(&["1", "a@x.io", "Ann, \"A\"\nB"]),
                rec(&["2", "b@x.io", ""]),
            ]
        );
        assert_eq!(p.consumed, text.len());
    }

    #[test]
    fn a_page_stops_at_the_last_complete_record_and_resumes_there() {
        let text = "id,email\n1,\"a\nb\"\n2,c\n3,\"d\"\"e\"\n".as_bytes();
        let mut all = Vec::new();
        // Every cut point: the pages read back the same records as one read.
        for cut in 1..text.len() {
            all.clear();
            let (mut offset, mut size) = (0, cut);
            for _ in 0..100 {
                if offset == text.len() {
                    break;
                }
                let end = (offset + size).min(text.len());
                let p = parse_records(&text[offset..end], end == text.len()).unwrap_or_default();
                if p.consumed == 0 {
                    size *= 2; // a record longer than the page: the caller reads a longer one
                    continue;
                }
                all.extend(p.records);
                offset += p.consumed;
            }
            assert_eq!(all.len(), 4, "cut {cut}");
            assert_eq!(all[3], rec(&["3", "d\"e"]), "cut {cut}");
        }
    }

    #[test]
    fn last_record_without_newline_and_bad_files() {
        let p = parse_records(b"a,b\n1,2", true).unwrap_or_default();
        assert_eq!(p.records.len(), 2);
        let p = parse_records(b"a,b\n1,2", false).unwrap_or_default();
        assert_eq!((p.records.len(), p.consumed), (1, 4));
        assert!(parse_records(b"a,\"b\n", true).is_err());
        assert!(parse_records(b"a,\"b\"c\n", true).is_err());
        assert!(parse_records(&[b'a', 0xff, b'\n'], true).is_err());
    }

    #[test]
    fn start_body_is_read_strictly() {
        use serde_json::json;
        let now = 20_000 * 86_400_000;
        assert_eq!(
            parse_start(&json!({}), now).ok(),
            Some((now - 365 * 86_400_000, false))
        );
        assert_eq!(
            parse_start(
                &json!({"since": "1970-01-02", "restart": true}),
                86_400_000 * 3
            )
            .ok(),
            Some((86_400_000, true))
        );
        let field = |b: serde_json::Value| match parse_start(&b, now) {
            Err(crate::error::ApiError::BadField { field, .. }) => field,
            other => format!("{other:?}"),
        };
        assert_eq!(field(json!({"since": "soon"})), "since");
        assert_eq!(field(json!({"since": "2100-01-01"})), "since");
        assert_eq!(field(json!({"since": "1990-01-01"})), "since");
        assert_eq!(field(json!({"restart": "yes"})), "restart");
        assert_eq!(field(json!({"sinse": "2020-01-01"})), "sinse");
    }

    #[test]
    fn errors_say_wait_stop_or_recreate() {
        let f = |s: &str| CallError::Fatal(s.into());
        assert_eq!(
            trouble(&f("1029 Too many jobs in queue")),
            BulkTrouble::QueueFull
        );
        assert_eq!(
            trouble(&f("1029 Export daily quota exceeded")),
            BulkTrouble::DailyQuota
        );
        assert_eq!(
            trouble(&f("1004 Export job 'x' not found")),
            BulkTrouble::JobLost
        );
        assert!(matches!(
            trouble(&f("1035 Unsupported filter type")),
            BulkTrouble::Stop(_)
        ));
        assert!(matches!(
            trouble(&CallError::Transient("timeout".into())),
            BulkTrouble::Retry(_)
        ));
        assert_eq!(range_total("bytes 0-99/1234"), Some(1234));
        assert_eq!(parse_time("1970-01-02"), Some(86_400_000));
        assert_eq!(parse_time("1970-01-01T00:01:02Z"), Some(62_000));
        assert_eq!(parse_time("1970-01-01T00:01:02.5+00:00"), Some(62_000));
        assert_eq!(parse_time("1970-01-01T00:01:02+02:00"), None);
        assert_eq!(parse_time("1970-13-01"), None);
        assert_eq!(parse_time("yesterday"), None);
        assert_eq!(JobState::parse("Cancelled"), Some(JobState::Gone));
    }
}
