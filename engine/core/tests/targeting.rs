//! Targeting table tests: operators, wildcard edge cases, UTM and query parameters, time-zone and weekday rules, selection.

use dynchat_engine::model::{Audience, Display};
use dynchat_engine::targeting::{
    audience_checks, compile_audience, Candidate, Context, PageInput, Seen, Targeting,
    MAX_AUDIENCE_DEPTH,
};
use dynchat_engine::Severity;

// 2027-01-04T09:00:00Z is a Monday.
const MON_0900_UTC: i64 = 1_799_053_200_000;

fn ctx(url: &str) -> PageInput {
    PageInput {
        url: url.into(),
        now_ms: MON_0900_UTC,
        visits: 1,
        device: "desktop".into(),
        ..PageInput::default()
    }
}

fn audience(json: &str) -> dynchat_engine::targeting::CompiledAudience {
    let a: Audience = serde_json::from_str(json).expect("audience json");
    let mut d = Vec::new();
    let c = compile_audience(&a, "$", &|_| None, &mut d);
    assert!(d.is_empty(), "{d:?}");
    c
}

fn check(rule: &str, page: PageInput, expected: bool) {
    let a = audience(rule);
    assert_eq!(
        a.eval(&Context::new(page.clone())),
        expected,
        "rule {rule} on {page:?}"
    );
}

#[test]
fn wildcards() {
    let table: &[(&str, &str, bool)] = &[
        ("*/pricing*", "https://acme.com/pricing", true),
        (
            "*/pricing*",
            "https://acme.com/pricing/enterprise?x=1",
            true,
        ),
        ("*/pricing*", "https://acme.com/PRICING", true),
        ("*/pricing*", "https://acme.com/about", false),
        ("*/pricing", "https://acme.com/pricing/", false),
        ("acme.com/*", "https://acme.com/blog", true),
        ("acme.com/*", "https://evil.com/acme.com/x", false),
        ("https://acme.com/blog/*", "https://acme.com/blog/", true),
        ("https://acme.com/blog/*", "https://acme.com/blog", false),
        ("*", "", false),
        ("*", "https://x.io/", true),
        ("**/a**", "https://x.io/a", true),
        ("https://acme.com/p?ge", "https://acme.com/page", true),
        ("https://acme.com/p?ge", "https://acme.com/pge", false),
        ("*/café*", "https://acme.com/CAFÉ/menu", true),
        ("*/?*", "https://acme.com/é", true),
        ("*.pdf", "https://acme.com/guide.PDF", true),
        ("*a*a*a*", "https://x.io/banana", true),
        ("*a*a*a*a*", "https://x.io/banana", false),
    ];
    for (pat, url, want) in table {
        check(
            &format!(r#"{{"all":[{{"field":"page.url","op":"matches","value":"{pat}"}}]}}"#),
            ctx(url),
            *want,
        );
        check(
            &format!(r#"{{"all":[{{"field":"page.url","op":"not_matches","value":"{pat}"}}]}}"#),
            ctx(url),
            !*want && !url.is_empty() || url.is_empty(),
        );
    }
}

#[test]
fn operators_on_page_and_person_fields() {
    let mut p =
        ctx("https://acme.com/pricing?utm_source=LinkedIn&utm_campaign=spring%20launch&plan=pro");
    p.title = "Pricing — Acme".into();
    p.referrer = "https://www.google.com/search?q=acme".into();
    p.lead.insert("Email".into(), "Ann@Acme.com".into());
    p.lead.insert("numberOfEmployees".into(), "750".into());
    p.company.insert("industry".into(), "Software".into());
    p.country = "NL".into();
    p.visits = 3;
    let table: &[(&str, bool)] = &[
        (
            r#"{"field":"page.utm.source","op":"is","value":"linkedin"}"#,
            true,
        ),
        (
            r#"{"field":"page.utm.campaign","op":"is","value":"spring launch"}"#,
            true,
        ),
        (
            r#"{"field":"page.query.plan","op":"in_list","value":["free","pro"]}"#,
            true,
        ),
        (r#"{"field":"page.query.missing","op":"is_empty"}"#, true),
        (r#"{"field":"page.query.plan","op":"is_not_empty"}"#, true),
        (
            r#"{"field":"page.title","op":"contains","value":"pricing"}"#,
            true,
        ),
        (
            r#"{"field":"page.title","op":"not_contains","value":"pricing"}"#,
            false,
        ),
        (
            r#"{"field":"page.referrer","op":"starts_with","value":"https://www.google."}"#,
            true,
        ),
        (
            r#"{"field":"page.referrer","op":"matches","value":"*google.*"}"#,
            true,
        ),
        (
            r#"{"field":"page.path","op":"is","value":"/pricing"}"#,
            true,
        ),
        (
            r#"{"field":"page.visits","op":"greater_than","value":2}"#,
            true,
        ),
        (
            r#"{"field":"page.visits","op":"less_than","value":3}"#,
            false,
        ),
        (
            r#"{"field":"page.device","op":"is","value":"mobile"}"#,
            false,
        ),
        (
            r#"{"field":"page.device","op":"is_not","value":"mobile"}"#,
            true,
        ),
        (
            r#"{"field":"page.country","op":"in_list","value":"de, nl, be"}"#,
            true,
        ),
        (r#"{"field":"lead.email","op":"is_empty"}"#, false),
        (
            r#"{"field":"lead.EMAIL","op":"is","value":"ann@acme.com"}"#,
            true,
        ),
        (r#"{"field":"lead.FirstName","op":"is_empty"}"#, true),
        (
            r#"{"field":"lead.firstname","op":"is_not","value":"x"}"#,
            true,
        ),
        (
            r#"{"field":"lead.numberOfEmployees","op":"greater_than","value":500}"#,
            true,
        ),
        (
            r#"{"field":"lead.numberOfEmployees","op":"between","value":[100, 1000]}"#,
            true,
        ),
        (
            r#"{"field":"lead.firstName","op":"greater_than","value":1}"#,
            false,
        ),
        (
            r#"{"field":"company.industry","op":"is","value":"software"}"#,
            true,
        ),
        (
            r#"{"field":"page.exit_intent","op":"is","value":true}"#,
            false,
        ),
    ];
    for (cond, want) in table {
        check(&format!(r#"{{"all":[{cond}]}}"#), p.clone(), *want);
    }
}

#[test]
fn anonymous_visitor_rule() {
    check(
        r#"{"all":[{"field":"lead.email","op":"is_empty"}]}"#,
        ctx("https://a.io/"),
        true,
    );
    let mut known = ctx("https://a.io/");
    known.lead.insert("email".into(), "x@y.io".into());
    check(
        r#"{"all":[{"field":"lead.email","op":"is_empty"}]}"#,
        known,
        false,
    );
}

#[test]
fn local_time_and_weekday_in_visitor_and_fixed_zones() {
    // Monday 09:00 UTC. Visitor in UTC+5:30 sees 14:30 Monday; in UTC-10 sees 23:00 Sunday.
    let at = |offset: i32| PageInput {
        tz_offset_minutes: offset,
        ..ctx("https://a.io/")
    };
    let table: &[(&str, i32, bool)] = &[
        (
            r#"{"field":"page.local_time","op":"between","value":"09:00-17:00"}"#,
            0,
            true,
        ),
        (
            r#"{"field":"page.local_time","op":"between","value":"09:00-17:00"}"#,
            330,
            true,
        ),
        (
            r#"{"field":"page.local_time","op":"between","value":"09:00-17:00"}"#,
            -600,
            false,
        ),
        (
            r#"{"field":"page.local_time","op":"between","value":"22:00-06:00"}"#,
            -600,
            true,
        ),
        (
            r#"{"field":"page.local_time","op":"between","value":"22:00-06:00"}"#,
            0,
            false,
        ),
        (
            r#"{"field":"page.local_time","op":"between","value":"09:00-17:00"}"#,
            480,
            false,
        ),
        (
            r#"{"field":"page.local_time","op":"less_than","value":"09:01"}"#,
            0,
            true,
        ),
        (
            r#"{"field":"page.local_time","op":"greater_than","value":"09:00"}"#,
            0,
            false,
        ),
        (
            r#"{"field":"page.weekday","op":"is","value":"mon"}"#,
            0,
            true,
        ),
        (
            r#"{"field":"page.weekday","op":"is","value":"mon"}"#,
            330,
            true,
        ),
        (
            r#"{"field":"page.weekday","op":"is","value":"sun"}"#,
            -600,
            true,
        ),
        (
            r#"{"field":"page.weekday","op":"in_list","value":["sat","sun"]}"#,
            -600,
            true,
        ),
        (
            r#"{"field":"page.weekday","op":"in_list","value":["sat","sun"]}"#,
            840,
            false,
        ),
        // A fixed zone on the rule wins over the visitor's: 09:00 UTC is 04:00 in New York (UTC-5).
        (
            r#"{"field":"page.local_time","op":"between","value":"09:00-17:00","utc_offset_minutes":-300}"#,
            0,
            false,
        ),
        (
            r#"{"field":"page.local_time","op":"between","value":"09:00-17:00","utc_offset_minutes":60}"#,
            -600,
            true,
        ),
        (
            r#"{"field":"page.weekday","op":"is","value":"mon","utc_offset_minutes":-600}"#,
            0,
            false,
        ),
    ];
    for (cond, off, want) in table {
        check(&format!(r#"{{"all":[{cond}]}}"#), at(*off), *want);
    }
}

#[test]
fn all_and_any_groups_nest() {
    let rule = r#"{"all":[{"field":"page.url","op":"matches","value":"*/pricing*"},
        {"any":[{"field":"page.utm.source","op":"is","value":"ads"},{"all":[{"field":"page.visits","op":"greater_than","value":2},{"field":"page.device","op":"is","value":"desktop"}]}]}]}"#;
    check(rule, ctx("https://a.io/pricing?utm_source=ads"), true);
    check(rule, ctx("https://a.io/pricing"), false);
    check(
        rule,
        PageInput {
            visits: 5,
            ..ctx("https://a.io/pricing")
        },
        true,
    );
    check(
        rule,
        PageInput {
            visits: 5,
            ..ctx("https://a.io/about")
        },
        false,
    );
    check(r#"{"any":[]}"#, ctx("https://a.io/"), true);
}

fn cand(id: &str, priority: i32, rule: &str, display: Display) -> Candidate {
    Candidate {
        id: id.into(),
        priority,
        audience: audience(rule),
        display,
    }
}

#[test]
fn selection_by_priority_frequency_and_completion() {
    let everywhere = r#"{}"#;
    let pricing = r#"{"all":[{"field":"page.url","op":"matches","value":"*/pricing*"}]}"#;
    let scroll = r#"{"all":[{"field":"page.scroll_depth","op":"greater_than","value":50},{"field":"page.time_on_page","op":"greater_than","value":10}]}"#;
    let t = Targeting::new(vec![
        cand("generic", 1, everywhere, Display::default()),
        cand(
            "pricing",
            10,
            pricing,
            Display {
                max_times: Some(2),
                min_interval_minutes: Some(30),
                ..Display::default()
            },
        ),
        cand("engaged-reader", 20, scroll, Display::default()),
    ]);
    let none = |_: &str| None;
    let c = Context::new(ctx("https://a.io/pricing"));
    let s = t.select(&c, &none);
    assert_eq!(s.dialogue.as_deref(), Some("pricing"));
    assert_eq!(s.watch.scroll_depth_pct, vec![51]);
    assert_eq!(s.watch.time_on_page_s, vec![11]);
    // Later, after scrolling and reading: the higher-priority dialogue wins.
    let mut c2 = c.clone();
    c2.set_dynamic(12, 60, false, MON_0900_UTC + 12_000);
    assert_eq!(
        t.select(&c2, &none).dialogue.as_deref(),
        Some("engaged-reader")
    );
    // Completed pricing: not again; generic instead.
    let done = |id: &str| {
        (id == "pricing").then_some(Seen {
            shown: 1,
            last_shown_ms: Some(0),
            completed: true,
        })
    };
    assert_eq!(t.select(&c, &done).dialogue.as_deref(), Some("generic"));
    // Shown 5 minutes ago: inside the 30-minute interval.
    let recent = |id: &str| {
        (id == "pricing").then_some(Seen {
            shown: 1,
            last_shown_ms: Some(MON_0900_UTC - 300_000),
            completed: false,
        })
    };
    assert_eq!(t.select(&c, &recent).dialogue.as_deref(), Some("generic"));
    // Shown twice long ago: max_times reached.
    let twice = |id: &str| {
        (id == "pricing").then_some(Seen {
            shown: 2,
            last_shown_ms: Some(0),
            completed: false,
        })
    };
    assert_eq!(t.select(&c, &twice).dialogue.as_deref(), Some("generic"));
    // Shown once long ago: allowed again.
    let once = |id: &str| {
        (id == "pricing").then_some(Seen {
            shown: 1,
            last_shown_ms: Some(0),
            completed: false,
        })
    };
    assert_eq!(t.select(&c, &once).dialogue.as_deref(), Some("pricing"));
    // Nothing matches: no dialogue, but the watch list tells the browser what could change that.
    let t2 = Targeting::new(vec![cand("engaged-reader", 20, scroll, Display::default())]);
    let s2 = t2.select(&c, &none);
    assert_eq!(s2.dialogue, None);
    assert!(!s2.watch.is_empty());
}

/// A priority tie is broken by dialogue id (byte order), whatever order the host lists them in.
#[test]
fn equal_priority_picks_the_id_that_sorts_first() {
    let c = Context::new(ctx("https://a.io/"));
    for order in [["b-pricing", "a-campaign"], ["a-campaign", "b-pricing"]] {
        let t = Targeting::new(
            order
                .iter()
                .map(|id| cand(id, 5, "{}", Display::default()))
                .chain([cand("z-low", 1, "{}", Display::default())])
                .collect(),
        );
        assert_eq!(
            t.select(&c, &|_| None).dialogue.as_deref(),
            Some("a-campaign"),
            "{order:?}"
        );
    }
}

#[test]
fn an_exclusion_inside_any_is_a_warning() {
    let a: Audience = serde_json::from_str(
        r#"{"any":[{"field":"page.path","op":"not_matches","value":"/admin*"},
                   {"field":"page.visits","op":"greater_than","value":1}],
            "all":[{"any":[{"field":"page.path","op":"is_not","value":"/x"}]},
                   {"field":"page.path","op":"not_contains","value":"/y"},
                   {"any":[{"field":"page.visits","op":"less_than","value":3},
                           {"field":"page.url","op":"not_contains","value":"ad"}]}]}"#,
    )
    .expect("audience json");
    let mut d = Vec::new();
    compile_audience(&a, "$.audience", &|_| None, &mut d);
    assert!(
        d.is_empty(),
        "compiling is not where authors are warned: {d:?}"
    );
    audience_checks(&a, "$.audience", &mut d);
    let found: Vec<(&str, &str, Severity)> = d
        .iter()
        .map(|x| (x.code.as_str(), x.path.as_str(), x.severity))
        .collect();
    // Only the exclusion in an `any` of several entries; one alone in `any`, or in `all`, excludes.
    assert_eq!(
        found,
        vec![
            (
                "exclusion_in_any",
                "$.audience.all[2].any[1]",
                Severity::Warning
            ),
            ("exclusion_in_any", "$.audience.any[0]", Severity::Warning)
        ]
    );
    // A warning: the dialogue still compiles, and says so.
    let json = r#"{"version":1,"id":"d","name":"D","audience":{"any":[
        {"field":"page.path","op":"not_matches","value":"/admin*"},
        {"field":"page.visits","op":"greater_than","value":1}]},
        "cards":[{"id":"e","type":"end"}]}"#;
    let f = dynchat_engine::compile(json).expect("a warning does not reject");
    assert!(f.warnings.iter().any(|w| w.code == "exclusion_in_any"));
    // In a branch rule too.
    let branch = r#"{"version":1,"id":"d","name":"D","cards":[
        {"id":"b","type":"branch","rules":[{"when":{"any":[
            {"field":"lead.country","op":"is_not","value":"nl"},
            {"field":"lead.email","op":"is_empty"}]},"next":"e"}],"otherwise":"e"},
        {"id":"e","type":"end"}]}"#;
    let f = dynchat_engine::compile(branch).expect("compiles");
    let paths: Vec<&str> = f.warnings.iter().map(|w| w.path.as_str()).collect();
    assert_eq!(paths, ["$.cards[0].rules[0].when.any[0]"]);
}

#[test]
fn audiences_nest_at_most_the_shared_depth() {
    let nested = |depth: usize| {
        let mut a = r#"{"field":"page.visits","op":"greater_than","value":0}"#.to_string();
        for _ in 0..depth {
            a = format!(r#"{{"all":[{a}]}}"#);
        }
        let a: Audience = serde_json::from_str(&format!(r#"{{"all":[{a}]}}"#)).expect("json");
        let mut d = Vec::new();
        audience_checks(&a, "$.audience", &mut d);
        d
    };
    assert!(nested(MAX_AUDIENCE_DEPTH).is_empty());
    let d = nested(MAX_AUDIENCE_DEPTH + 1);
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0].code, "too_deep");
    assert!(d[0].path.starts_with("$.audience.all[0].all[0]"));
    // Through `compile`, in the audience and in a branch rule's `when`.
    let deep = |depth: usize| {
        let mut a = r#"{"field":"lead.email","op":"is_empty"}"#.to_string();
        for _ in 0..depth {
            a = format!(r#"{{"any":[{a}]}}"#);
        }
        format!(r#"{{"all":[{a}]}}"#)
    };
    let dialogue = |audience: &str, when: &str| {
        format!(
            r#"{{"version":1,"id":"d","name":"D","audience":{audience},"cards":[
              {{"id":"b","type":"branch","rules":[{{"when":{when},"next":"e"}}],"otherwise":"e"}},
              {{"id":"e","type":"end"}}]}}"#
        )
    };
    let ok = deep(MAX_AUDIENCE_DEPTH);
    let bad = deep(MAX_AUDIENCE_DEPTH + 1);
    dynchat_engine::compile(&dialogue(&ok, &ok)).expect("at the limit");
    for (json, at) in [
        (dialogue(&bad, &ok), "$.audience.all[0]"),
        (dialogue(&ok, &bad), "$.cards[0].rules[0].when.all[0]"),
    ] {
        let d = dynchat_engine::compile(&json).expect_err("one group too deep");
        assert!(
            d.iter()
                .any(|x| x.code == "too_deep" && x.path.starts_with(at)),
            "{d:?}"
        );
    }
}

#[test]
fn activity_within_the_last_n_days() {
    let day = 86_400_000;
    let eval = |rule: &str, activity: &[(&str, i64)]| {
        let mut c = Context::new(ctx("https://acme.test/"));
        c.set_activity(
            activity
                .iter()
                .map(|(n, ago)| (n.to_string(), MON_0900_UTC - ago))
                .collect(),
        );
        audience(rule).eval(&c)
    };
    let rule = r#"{"all":[{"field":"activity.Filled_Out_Form","op":"within_days","value":30}]}"#;
    assert!(eval(rule, &[("filled_out_form", 29 * day)]));
    assert!(eval(rule, &[("filled_out_form", 30 * day)]));
    assert!(!eval(rule, &[("filled_out_form", 30 * day + 1)]));
    assert!(!eval(rule, &[("clicked_email", day)]));
    assert!(!eval(rule, &[]));
    let ever = r#"{"all":[{"field":"activity.clicked_email","op":"is_not_empty"}]}"#;
    assert!(!eval(ever, &[]));
    assert!(eval(ever, &[("clicked_email", day)]));
}

#[test]
fn activity_rules_are_checked_when_compiled() {
    let diags = |json: &str| {
        let a: Audience = serde_json::from_str(json).expect("audience json");
        let mut d = Vec::new();
        compile_audience(&a, "$", &|_| None, &mut d);
        d.iter()
            .map(|x| format!("{} {} {}", x.code, x.path, x.message))
            .collect::<Vec<_>>()
    };
    let bad_type =
        diags(r#"{"all":[{"field":"activity.visited_moon","op":"within_days","value":3}]}"#);
    assert!(
        bad_type[0].starts_with("unknown_field $.all[0].field")
            && bad_type[0].contains("visited_web_page"),
        "{bad_type:?}"
    );
    let op = diags(r#"{"all":[{"field":"activity.visited_web_page","op":"is","value":"x"}]}"#);
    assert!(op[0].starts_with("bad_operator $.all[0].op"), "{op:?}");
    let op = diags(r#"{"all":[{"field":"lead.email","op":"within_days","value":3}]}"#);
    assert!(op[0].starts_with("bad_operator $.all[0].op"), "{op:?}");
    for v in ["0", "91", "2.5", "\"soon\""] {
        let d = diags(&format!(
            r#"{{"all":[{{"field":"activity.opened_email","op":"within_days","value":{v}}}]}}"#
        ));
        assert!(d[0].starts_with("bad_value $.all[0].value"), "{v}: {d:?}");
    }
    assert!(
        diags(r#"{"all":[{"field":"activity.opened_email","op":"within_days","value":90}]}"#)
            .is_empty()
    );
}

#[test]
fn operator_all_lists_every_operator_under_its_file_name() {
    use dynchat_engine::model::Operator;
    let schema: serde_json::Value =
        serde_json::from_str(&dynchat_engine::schema_json()).expect("schema is JSON");
    let defs = schema
        .get("definitions")
        .or_else(|| schema.get("$defs"))
        .expect("schema definitions");
    let mut in_schema: Vec<String> = defs["Operator"]["oneOf"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v["enum"][0].as_str().or(v["const"].as_str()))
                .map(str::to_string)
                .collect()
        })
        .or_else(|| {
            defs["Operator"]["enum"].as_array().map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
        })
        .unwrap_or_default();
    in_schema.sort();
    let mut listed: Vec<String> = Operator::ALL.iter().map(|o| o.name().to_string()).collect();
    listed.sort();
    assert_eq!(
        listed, in_schema,
        "Operator::ALL covers every operator once"
    );
    for op in Operator::ALL {
        let back: Operator = serde_json::from_value(serde_json::json!(op.name())).expect("name");
        assert_eq!(back, op, "{} reads back as itself", op.name());
    }
}

#[test]
fn a_number_that_overflows_to_infinity_is_refused_when_compiled() {
    // "1e400" reads as infinity: JSON cannot carry it back in the wire form, so it is no number.
    let diags = |v: &str| {
        let a: Audience = serde_json::from_str(&format!(
            r#"{{"all":[{{"field":"lead.numberOfEmployees","op":"less_than","value":{v}}}]}}"#
        ))
        .expect("audience json");
        let mut d = Vec::new();
        compile_audience(&a, "$", &|_| None, &mut d);
        d.iter().map(|x| x.message.clone()).collect::<Vec<_>>()
    };
    for v in [r#""1e400""#, r#""-1e400""#] {
        let d = diags(v);
        assert_eq!(d.len(), 1, "{v}: {d:?}");
        assert!(d[0].contains("a number"), "{v}: {d:?}");
    }
    assert!(diags(r#""1e300""#).is_empty());
    assert!(diags("500").is_empty());
}
