//! Free/busy request builders and parsers for Google, Microsoft Graph and CalDAV answers.

use chrono::{DateTime, Duration, Utc};
use dynchat_scheduling::freebusy::graph::{MAX_DAYS_PER_CALL, MAX_SCHEDULES_PER_CALL};
use dynchat_scheduling::{
    caldav_calendar_query, caldav_freebusy_query, google_calendar_busy, google_freebusy_request,
    graph_schedule_requests, merge_graph_answers, parse_caldav_events, parse_caldav_freebusy,
    parse_google_freebusy, parse_graph_schedule, Busy, Interval,
};

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .unwrap_or_else(|e| panic!("bad test time {s}: {e}"))
        .with_timezone(&Utc)
}

fn span(s: &str, e: &str) -> Interval {
    Interval::new(utc(s), utc(e))
}

fn known(b: &Busy) -> Vec<Interval> {
    match b {
        Busy::Known(v) => v.clone(),
        Busy::Unknown => panic!("expected known busy time, got Unknown"),
    }
}

#[test]
fn google_request_and_answer() {
    let body = google_freebusy_request(
        &["primary", "team@x.org"],
        utc("2027-03-01T00:00:00Z"),
        utc("2027-03-15T00:00:00Z"),
    );
    let v: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
    assert_eq!(v["timeMin"], "2027-03-01T00:00:00Z");
    assert_eq!(v["timeMax"], "2027-03-15T00:00:00Z");
    assert_eq!(v["timeZone"], "UTC");
    assert_eq!(v["items"][1]["id"], "team@x.org");

    let answer = r#"{
      "kind": "calendar#freeBusy",
      "timeMin": "2027-03-01T00:00:00.000Z",
      "timeMax": "2027-03-15T00:00:00.000Z",
      "calendars": {
        "primary": {"busy": [
          {"start": "2027-03-01T10:00:00Z", "end": "2027-03-01T11:00:00Z"},
          {"start": "2027-03-01T12:30:00+01:00", "end": "2027-03-01T13:00:00+01:00"},
          {"start": "2027-03-01T10:30:00Z", "end": "2027-03-01T10:45:00Z"}
        ]},
        "team@x.org": {"errors": [{"domain": "global", "reason": "notFound"}]},
        "empty@x.org": {"busy": []}
      }
    }"#;
    let parsed = parse_google_freebusy(answer).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        known(&parsed["primary"]),
        vec![
            span("2027-03-01T10:00:00Z", "2027-03-01T11:00:00Z"),
            span("2027-03-01T11:30:00Z", "2027-03-01T12:00:00Z")
        ]
    );
    assert_eq!(parsed["team@x.org"], Busy::Unknown);
    assert_eq!(parsed["empty@x.org"], Busy::Known(vec![]));
    assert_eq!(google_calendar_busy(&parsed, "not-asked"), Busy::Unknown);

    let bad_time = r#"{"calendars":{"primary":{"busy":[{"start":"yesterday","end":"2027-03-01T11:00:00Z"}]}}}"#;
    assert_eq!(
        parse_google_freebusy(bad_time).unwrap_or_default()["primary"],
        Busy::Unknown
    );
    let error_body = r#"{"error":{"code":401,"message":"Invalid Credentials"}}"#;
    let e = parse_google_freebusy(error_body)
        .err()
        .unwrap_or_else(|| panic!("accepted an error body"));
    assert_eq!(e.http_status(), 502);
    assert!(parse_google_freebusy("<html>").is_err());
}

#[test]
fn graph_requests_are_chunked_by_20_schedules_and_62_days() {
    let names: Vec<String> = (0..45).map(|i| format!("agent{i}@x.org")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let from = utc("2027-01-01T00:00:00Z");
    let to = from + Duration::days(130);
    let reqs = graph_schedule_requests(&refs, from, to, 15);
    assert_eq!(
        reqs.len(),
        3 * 3,
        "3 groups of schedules x 3 windows (62 + 62 + 6 days)"
    );
    for r in &reqs {
        let v: serde_json::Value = serde_json::from_str(&r.body).unwrap_or_default();
        let n = v["schedules"].as_array().map_or(0, Vec::len);
        assert!((1..=MAX_SCHEDULES_PER_CALL).contains(&n));
        assert_eq!(n, r.schedules.len());
        assert!(r.end - r.start <= Duration::days(MAX_DAYS_PER_CALL));
        assert_eq!(v["startTime"]["timeZone"], "UTC");
        assert_eq!(
            v["startTime"]["dateTime"],
            r.start.format("%Y-%m-%dT%H:%M:%S").to_string()
        );
        assert_eq!(v["availabilityViewInterval"], 15);
    }
    // Every schedule is covered over the whole range exactly once.
    for name in &names {
        let mut windows: Vec<(DateTime<Utc>, DateTime<Utc>)> = reqs
            .iter()
            .filter(|r| r.schedules.contains(name))
            .map(|r| (r.start, r.end))
            .collect();
        windows.sort();
        assert_eq!(windows.first().map(|w| w.0), Some(from));
        assert_eq!(windows.last().map(|w| w.1), Some(to));
        assert!(
            windows.windows(2).all(|w| w[0].1 == w[1].0),
            "{name}: gaps or overlaps"
        );
    }
    assert!(graph_schedule_requests(&refs, to, from, 15).is_empty());
}

const GRAPH_ANSWER: &str = r#"{
  "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#Collection(microsoft.graph.scheduleInformation)",
  "value": [
    {
      "scheduleId": "Alice@Contoso.com",
      "availabilityView": "0022000110",
      "scheduleItems": [
        {"isPrivate": false, "status": "busy", "subject": "Plan", "location": "",
         "start": {"dateTime": "2026-11-25T09:00:00.0000000", "timeZone": "UTC"},
         "end": {"dateTime": "2026-11-25T09:30:00.0000000", "timeZone": "UTC"}},
        {"status": "free", "start": {"dateTime": "2026-11-25T10:00:00.0000000", "timeZone": "UTC"},
         "end": {"dateTime": "2026-11-25T11:00:00.0000000", "timeZone": "UTC"}},
        {"status": "workingElsewhere", "start": {"dateTime": "2026-11-25T11:00:00.0000000", "timeZone": "UTC"},
         "end": {"dateTime": "2026-11-25T12:00:00.0000000", "timeZone": "UTC"}},
        {"status": "tentative", "start": {"dateTime": "2026-11-25T13:00:00.0000000", "timeZone": "UTC"},
         "end": {"dateTime": "2026-11-25T13:30:00.0000000", "timeZone": "UTC"}},
        {"status": "oof", "start": {"dateTime": "2026-11-26T00:00:00.0000000", "timeZone": "UTC"},
         "end": {"dateTime": "2026-11-27T00:00:00.0000000", "timeZone": "UTC"}},
        {"status": "somethingNew", "start": {"dateTime": "2026-11-25T15:00:00.0000000", "timeZone": "UTC"},
         "end": {"dateTime": "2026-11-25T15:15:00.0000000", "timeZone": "UTC"}}
      ]
    },
    {
      "scheduleId": "bob@contoso.com",
      "availabilityView": "",
      "error": {"message": "The user is not found.", "responseCode": "ErrorMailboxNotFound"}
    },
    {
      "scheduleId": "carol@contoso.com",
      "scheduleItems": [
        {"status": "busy", "start": {"dateTime": "2026-11-25T09:00:00.0000000", "timeZone": "Pacific Standard Time"},
         "end": {"dateTime": "2026-11-25T10:00:00.0000000", "timeZone": "Pacific Standard Time"}}
      ]
    },
    {
      "scheduleId": "dave@contoso.com",
      "scheduleItems": [
        {"status": "busy", "start": {"dateTime": "2026-11-25T09:00:00", "timeZone": "Europe/Amsterdam"},
         "end": {"dateTime": "2026-11-25T10:00:00", "timeZone": "Europe/Amsterdam"}}
      ]
    },
    {"scheduleId": "erin@contoso.com", "scheduleItems": []},
    {"scheduleId": "frank@contoso.com"}
  ]
}"#;

#[test]
fn graph_answer_statuses_errors_and_zones() {
    let parsed = parse_graph_schedule(GRAPH_ANSWER).unwrap_or_else(|e| panic!("{e}"));
    // busy, tentative, oof and unknown statuses are busy; free and workingElsewhere are not.
    assert_eq!(
        known(&parsed["alice@contoso.com"]),
        vec![
            span("2026-11-25T09:00:00Z", "2026-11-25T09:30:00Z"),
            span("2026-11-25T13:00:00Z", "2026-11-25T13:30:00Z"),
            span("2026-11-25T15:00:00Z", "2026-11-25T15:15:00Z"),
            span("2026-11-26T00:00:00Z", "2026-11-27T00:00:00Z"),
        ]
    );
    assert_eq!(
        parsed["bob@contoso.com"],
        Busy::Unknown,
        "per-schedule error"
    );
    assert_eq!(
        parsed["carol@contoso.com"],
        Busy::Unknown,
        "Windows zone name not understood"
    );
    assert_eq!(
        known(&parsed["dave@contoso.com"]),
        vec![span("2026-11-25T08:00:00Z", "2026-11-25T09:00:00Z")]
    );
    assert_eq!(parsed["erin@contoso.com"], Busy::Known(vec![]));
    assert_eq!(
        parsed["frank@contoso.com"],
        Busy::Unknown,
        "no items at all"
    );
    assert!(parse_graph_schedule(r#"{"error":{"code":"InvalidAuthenticationToken"}}"#).is_err());
}

#[test]
fn graph_chunks_merge_and_a_failed_chunk_makes_its_schedules_unknown() {
    let from = utc("2026-11-01T00:00:00Z");
    let reqs = graph_schedule_requests(
        &["alice@contoso.com", "erin@contoso.com"],
        from,
        from + Duration::days(70),
        15,
    );
    assert_eq!(reqs.len(), 2);
    let first = parse_graph_schedule(GRAPH_ANSWER).ok();
    let second = r#"{"value":[
        {"scheduleId":"alice@contoso.com","scheduleItems":[{"status":"busy",
          "start":{"dateTime":"2027-01-05T09:00:00.0000000","timeZone":"UTC"},
          "end":{"dateTime":"2027-01-05T10:00:00.0000000","timeZone":"UTC"}}]},
        {"scheduleId":"erin@contoso.com","scheduleItems":[]}]}"#;
    let merged = merge_graph_answers(&[
        (reqs[0].clone(), first.clone()),
        (reqs[1].clone(), parse_graph_schedule(second).ok()),
    ]);
    assert_eq!(known(&merged["alice@contoso.com"]).len(), 5);
    assert_eq!(merged["erin@contoso.com"], Busy::Known(vec![]));
    // The second call failed: both schedules unknown.
    let merged = merge_graph_answers(&[(reqs[0].clone(), first), (reqs[1].clone(), None)]);
    assert_eq!(merged["alice@contoso.com"], Busy::Unknown);
    assert_eq!(merged["erin@contoso.com"], Busy::Unknown);
}

#[test]
fn caldav_request_bodies() {
    let fb = caldav_freebusy_query(utc("2027-03-01T00:00:00Z"), utc("2027-03-15T00:00:00Z"));
    assert!(fb.contains("<C:free-busy-query xmlns:C=\"urn:ietf:params:xml:ns:caldav\">"));
    assert!(fb.contains("<C:time-range start=\"20270301T000000Z\" end=\"20270315T000000Z\"/>"));
    let q = caldav_calendar_query(utc("2027-03-01T00:00:00Z"), utc("2027-03-15T00:00:00Z"));
    assert!(q.contains("<C:expand start=\"20270301T000000Z\" end=\"20270315T000000Z\"/>"));
    assert!(q.contains("<C:comp-filter name=\"VEVENT\">"));
    // Both are well-formed XML.
    for body in [fb, q] {
        let mut r = quick_xml::Reader::from_str(&body);
        let mut depth = 0i32;
        for _ in 0..1000 {
            match r.read_event() {
                Ok(quick_xml::events::Event::Start(_)) => depth += 1,
                Ok(quick_xml::events::Event::End(_)) => depth -= 1,
                Ok(quick_xml::events::Event::Eof) => break,
                Ok(_) => {}
                Err(e) => panic!("malformed XML: {e}\n{body}"),
            }
        }
        assert_eq!(depth, 0);
    }
}

#[test]
fn caldav_vfreebusy_answer() {
    let body = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Example Corp.//CalDAV Server//EN\r\n\
        BEGIN:VFREEBUSY\r\nDTSTAMP:20270301T000000Z\r\nDTSTART:20270301T000000Z\r\nDTEND:20270315T000000Z\r\n\
        FREEBUSY;FBTYPE=BUSY:20270301T090000Z/20270301T100000Z,20270301T120000Z/PT30M\r\n\
        FREEBUSY;FBTYPE=BUSY-TENTATIVE:20270302T090000Z/\r\n 20270302T093000Z\r\n\
        FREEBUSY;FBTYPE=FREE:20270303T090000Z/20270303T170000Z\r\n\
        FREEBUSY:20270304T090000Z/PT1H\r\n\
        FREEBUSY;FBTYPE=BUSY-UNAVAILABLE:20270305T000000Z/P1D\r\n\
        END:VFREEBUSY\r\nEND:VCALENDAR\r\n";
    let busy = parse_caldav_freebusy(body).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        known(&busy),
        vec![
            span("2027-03-01T09:00:00Z", "2027-03-01T10:00:00Z"),
            span("2027-03-01T12:00:00Z", "2027-03-01T12:30:00Z"),
            span("2027-03-02T09:00:00Z", "2027-03-02T09:30:00Z"),
            span("2027-03-04T09:00:00Z", "2027-03-04T10:00:00Z"),
            span("2027-03-05T00:00:00Z", "2027-03-06T00:00:00Z"),
        ]
    );
    let empty = "BEGIN:VCALENDAR\r\nBEGIN:VFREEBUSY\r\nDTSTART:20270301T000000Z\r\nEND:VFREEBUSY\r\nEND:VCALENDAR\r\n";
    assert_eq!(parse_caldav_freebusy(empty).ok(), Some(Busy::Known(vec![])));
    let garbled = "BEGIN:VCALENDAR\r\nBEGIN:VFREEBUSY\r\nFREEBUSY:tomorrow\r\nEND:VFREEBUSY\r\nEND:VCALENDAR\r\n";
    assert_eq!(parse_caldav_freebusy(garbled).ok(), Some(Busy::Unknown));
    assert!(parse_caldav_freebusy("<html>500</html>").is_err());
    assert!(parse_caldav_freebusy("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n").is_err());
}

fn multistatus(calendars: &[&str]) -> String {
    let mut s = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<multistatus xmlns=\"DAV:\" xmlns:C=\"urn:ietf:params:xml:ns:caldav\">\n");
    for (i, c) in calendars.iter().enumerate() {
        s.push_str(&format!(
            "<response><href>/cal/agent/ev{i}.ics</href><propstat><prop><C:calendar-data>{c}</C:calendar-data></prop>\
             <status>HTTP/1.1 200 OK</status></propstat></response>\n"
        ));
    }
    s.push_str("</multistatus>\n");
    s
}

fn vevent(lines: &str) -> String {
    format!("BEGIN:VCALENDAR&#13;\nVERSION:2.0&#13;\nBEGIN:VEVENT&#13;\nUID:x&#13;\n{lines}END:VEVENT&#13;\nEND:VCALENDAR&#13;\n")
}

#[test]
fn caldav_calendar_query_answer() {
    let ams = chrono_tz::Europe::Amsterdam;
    let opaque = vevent("DTSTART:20270301T090000Z&#13;\nDTEND:20270301T100000Z&#13;\nSUMMARY:Sales &amp; marketing&#13;\n");
    let transparent = vevent(
        "DTSTART:20270301T110000Z&#13;\nDTEND:20270301T120000Z&#13;\nTRANSP:TRANSPARENT&#13;\n",
    );
    let cancelled = vevent(
        "DTSTART:20270301T130000Z&#13;\nDTEND:20270301T140000Z&#13;\nSTATUS:CANCELLED&#13;\n",
    );
    let zoned = vevent("DTSTART;TZID=Europe/Amsterdam:20270302T090000&#13;\nDURATION:PT45M&#13;\n");
    let all_day = vevent("DTSTART;VALUE=DATE:20270303&#13;\nDTEND;VALUE=DATE:20270304&#13;\n");
    let cdata = "<![CDATA[BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART:20270304T150000Z\r\nDTEND:20270304T153000Z\r\nRECURRENCE-ID:20270304T150000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n]]>";
    let body = multistatus(&[&opaque, &transparent, &cancelled, &zoned, &all_day, cdata]);
    let busy = parse_caldav_events(&body, ams).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        known(&busy),
        vec![
            span("2027-03-01T09:00:00Z", "2027-03-01T10:00:00Z"),
            span("2027-03-02T08:00:00Z", "2027-03-02T08:45:00Z"),
            // An all-day event blocks the agent's local day.
            span("2027-03-02T23:00:00Z", "2027-03-03T23:00:00Z"),
            span("2027-03-04T15:00:00Z", "2027-03-04T15:30:00Z"),
        ]
    );
    // An unexpanded recurring event: the answer cannot be trusted.
    let recurring = vevent(
        "DTSTART:20270301T090000Z&#13;\nDTEND:20270301T100000Z&#13;\nRRULE:FREQ=DAILY&#13;\n",
    );
    assert_eq!(
        parse_caldav_events(&multistatus(&[&opaque, &recurring]), ams).ok(),
        Some(Busy::Unknown)
    );
    // Unknown TZID: unknown, not free.
    let odd_zone = vevent("DTSTART;TZID=Mars Standard:20270301T090000&#13;\nDTEND;TZID=Mars Standard:20270301T100000&#13;\n");
    assert_eq!(
        parse_caldav_events(&multistatus(&[&odd_zone]), ams).ok(),
        Some(Busy::Unknown)
    );
    assert_eq!(
        parse_caldav_events(&multistatus(&[]), ams).ok(),
        Some(Busy::Known(vec![]))
    );
    assert!(parse_caldav_events("<html><body>Login</body></html>", ams).is_err());
    // A truncated answer is an error, not an empty calendar.
    let truncated = &body[..body.len() / 2];
    assert!(parse_caldav_events(truncated, ams).is_err());
    assert!(parse_caldav_events("<multistatus xmlns=\"DAV:\"><response>", ams).is_err());
}
