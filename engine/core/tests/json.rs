//! The small JSON reader and writer (`dynchat_engine::json`) against serde_json: what one writes the
//! other reads the same, malformed documents are refused, and stored sessions keep their text.

use dynchat_engine::json::{self, Out, J};
use dynchat_engine::machine::{Meeting, Session, Status, Wait};
use dynchat_engine::{compile, CompiledFlow};

#[test]
fn reads_what_serde_json_reads() {
    let doc = r#" {"a": [1, -2.5, 1e3, true, false, null, "x\"\\\/\n\u00e9\ud83d\ude00"], "b": {}, "c": []} "#;
    let Some(v) = json::parse(doc) else {
        panic!("no parse")
    };
    let Some(a) = v.get("a").and_then(J::arr) else {
        panic!("no a")
    };
    assert_eq!(a[0].int(), Some(1));
    assert_eq!(a[1].num_text(), Some("-2.5"));
    assert_eq!(a[1].int(), None);
    assert_eq!(a[2].num_text(), Some("1e3"));
    assert_eq!(a[3].bool(), Some(true));
    assert_eq!(a[5], J::Null);
    assert_eq!(a[6].str(), Some("x\"\\/\né😀"));
    assert_eq!(v.get("b"), Some(&J::Obj(vec![])));
    assert_eq!(v.opt("missing"), None);
    assert_eq!(
        json::parse(r#"{"k":null}"#).and_then(|v| v.opt("k").cloned()),
        None
    );
}

#[test]
fn rejects_what_serde_json_rejects() {
    for bad in [
        "",
        "{",
        "[1,]",
        "{\"a\"}",
        "{\"a\":1,}",
        "nul",
        "\"\\x\"",
        "\"a",
        "1 2",
        "-",
        "01",
        "1.",
        ".5",
        "1e",
        "+1",
        "\"\u{1}\"",
        "\"\\ud800\"",
        "{1:2}",
    ] {
        assert_eq!(json::parse(bad), None, "{bad}");
        assert!(
            serde_json::from_str::<serde_json::Value>(bad).is_err(),
            "{bad}"
        );
    }
    let unbalanced = "[".repeat(json::MAX_DEPTH + 2) + &"]".repeat(json::MAX_DEPTH + 1);
    assert_eq!(json::parse(&unbalanced), None);
    let crossed = "[".repeat(json::MAX_DEPTH + 2) + "}" + &"]".repeat(json::MAX_DEPTH + 1);
    assert_eq!(json::parse(&crossed), None);
}

#[test]
fn a_deep_part_reads_as_null_and_leaves_the_rest() {
    let deep = "[".repeat(10_000) + "\"]\"" + &"]".repeat(10_000);
    let doc = ["{\"a\":", &deep, ",\"b\":[1,{\"c\":\"d\"}]}"].concat();
    let Some(v) = json::parse(&doc) else {
        panic!("a deep part must not make the document unreadable")
    };
    let Some(mut a) = v.get("a") else {
        panic!("no a")
    };
    for _ in 0..json::MAX_DEPTH {
        let Some(inner) = a.arr().and_then(|x| x.first()) else {
            panic!("built down to MAX_DEPTH")
        };
        a = inner;
    }
    assert_eq!(a, &J::Null);
    assert_eq!(
        v.get("b").and_then(J::arr).and_then(|b| b[1].get("c")),
        Some(&J::Str("d".into()))
    );
}

#[test]
fn writes_strings_and_numbers_as_serde_json_does() {
    let text = "a\"b\\c\u{1}\u{8}\u{c}\n\r\t\u{1f}é😀</";
    let mut s = String::new();
    json::write_str(&mut s, text);
    assert_eq!(s, serde_json::to_string(text).unwrap_or_default());
    for n in [0, 7, -1, i64::MIN, i64::MAX, 1_700_000_000_000] {
        assert_eq!(json::int_string(n), n.to_string());
        assert_eq!(json::parse_int(&n.to_string()), Some(n));
    }
    assert_eq!(json::parse_int("9223372036854775808"), None);
    for n in [
        0,
        9,
        10,
        -10,
        i128::from(u32::MAX) + 1,
        i128::from(u64::MAX),
        i128::from(u64::MAX) + 1,
        i128::from(u64::MAX) * 10 + 9,
        i128::MAX,
        i128::MIN,
    ] {
        let mut s = String::new();
        json::write_wide_int(&mut s, n);
        assert_eq!(s, n.to_string());
    }
    for n in [0, 9, 10, -1, -10, 1 << 40, i64::MAX, i64::MIN] {
        let mut s = String::new();
        json::write_int(&mut s, n);
        assert_eq!(s, n.to_string());
        assert_eq!(json::int_string(n), n.to_string());
    }
    let o = Out::new()
        .str("s", "x")
        .int("n", -3)
        .bool("b", true)
        .opt_str("o", None)
        .map("m", [("k", "v")])
        .strs("l", ["a", "b"])
        .finish();
    assert_eq!(
        o,
        r#"{"s":"x","n":-3,"b":true,"o":null,"m":{"k":"v"},"l":["a","b"]}"#
    );
}

const FLOW: &str = r#"{"version":1,"id":"d","name":"D","cards":[
  {"type":"question","id":"q","text":"Pick","buttons":[{"label":"A","value":"a"}],"next":"e"},
  {"type":"end","id":"e","text":"Bye"}]}"#;

fn flow() -> CompiledFlow {
    compile(FLOW).unwrap_or_else(|d| panic!("{d:?}"))
}

/// Every shape a stored session takes: the hand-written JSON is serde's text, and reads back.
#[test]
fn sessions_are_stored_as_serde_stores_them() {
    let f = flow();
    let known = [("FirstName".to_string(), "Ann \"A\"".to_string())];
    let mut s = Session::new(&f, "s-1", &known, 1_700_000_000_000);
    let mut shapes = vec![s.clone()];
    s.status = Status::Active;
    s.at = Some(0);
    s.wait = Wait::Answer;
    s.answers.insert(0, "a\nb".into());
    s.company.insert("name".into(), "Acme".into());
    s.goals.push(1);
    s.goals.push(3);
    s.score = -4;
    s.tries = 2;
    s.engaged = true;
    shapes.push(s.clone());
    s.meeting = Some(Meeting {
        id: "m1".into(),
        agent: "Bo".into(),
        time: "Mon 10:00".into(),
    });
    s.booking = Some((1, 2));
    shapes.push(s);
    for s in shapes {
        let text = s.to_json();
        assert_eq!(text, serde_json::to_string(&s).unwrap_or_default());
        let Ok(back) = serde_json::from_str::<Session>(&text) else {
            panic!("serde cannot read {text}")
        };
        assert_eq!(back, s);
        if s.check(&f).is_ok() {
            assert_eq!(Session::from_json(&text, &f), Ok(s.clone()));
        }
    }
}

#[test]
fn damaged_or_foreign_sessions_are_refused() {
    let f = flow();
    let s = Session::new(&f, "s", &[], 0).to_json();
    assert!(Session::from_json(&s, &f).is_ok());
    for bad in [
        s.replace(r#""v":1"#, r#""v":2"#),
        s.replace(r#""status":"new""#, r#""status":"paused""#),
        s.replace(r#""tries":0"#, r#""tries":300"#),
        s.replace(r#""answers":{}"#, r#""answers":{"x":"y"}"#),
        s.replace(r#""answers":{}"#, r#""answers":{"9":"y"}"#),
        s.replace(&f.hash, "other"),
        "{}".to_string(),
        // Members read in any order: a damaged one anywhere refuses the whole session.
        s.replace(r#""goals":[]"#, r#""goals":["x"]"#),
        s.replace(r#""lead":{}"#, r#""lead":{"a":1}"#),
        s.replace(r#""engaged":false"#, r#""engaged":0"#),
        s.replace(r#""last_ms":0"#, r#""last_ms":"0""#),
        s.replace(
            r#""tries":0"#,
            r#""tries":0,"meeting":{"id":"m","agent":"A"}"#,
        ),
        s.replace(r#""tries":0"#, r#""tries":0,"booking":[1,2,3]"#),
        s.replace(r#""tries":0"#, r#""tries":0,"booking":[1,"2"]"#),
    ] {
        assert!(Session::from_json(&bad, &f).is_err(), "{bad}");
    }
}

/// Every condition and card kind survives the wire form read without serde.
const EVERY_KIND: &str = r#"{"version":1,"id":"k","name":"K","priority":3,
  "display":{"hide_after_completion":false,"max_times":2,"min_interval_minutes":30},
  "audience":{"all":[{"field":"page.path","op":"matches","value":"/Pricing*"},
    {"field":"page.time_on_page","op":"greater_than","value":12.5},
    {"field":"page.scroll_depth","op":"less_than","value":90},
    {"field":"page.local_time","op":"between","value":"09:00-17:30","utc_offset_minutes":-300},
    {"field":"page.utm.source","op":"in_list","value":["A","b"]},
    {"field":"lead.Company","op":"is_not_empty"},
    {"field":"page.country","op":"not_matches","value":"n?"}],
   "any":[{"field":"page.title","op":"contains","value":"X"},{"any":[{"field":"page.visits","op":"is","value":2},
    {"field":"page.referrer","op":"starts_with","value":"https://"},{"field":"page.exit_intent","op":"is","value":true},
    {"field":"company.size","op":"not_contains","value":"s"},{"field":"page.device","op":"is_empty"}]}]},
  "cards":[
  {"type":"message","id":"m","text":"Hi {{lead.FirstName:there}}, {{company.Name:}}","image":"https://x.test/a.png","next":"q"},
  {"type":"question","id":"q","text":"Pick","buttons":[{"label":"A","value":"a","next":"c"},{"label":"B","value":"b"}],
   "free_text":{"placeholder":"Other"},"field":"choice","next":"b"},
  {"type":"branch","id":"b","rules":[{"when":{"all":[{"field":"answer.q","op":"is","value":"b"}]},"next":"g"}],"otherwise":"c"},
  {"type":"capture","id":"c","text":"Zip?","kind":"text","field":"zip","pattern":"[0-9]{4}","error":"Like 1234 for {{answer.q:}}","placeholder":"1234","skip_if_known":true,"next":"mt"},
  {"type":"meeting","id":"mt","text":"Book?","route":{"queue":"sales"},"confirmation":"With {{meeting.agent}} at {{meeting.time}}","on_skip":"d","next":"d"},
  {"type":"document","id":"d","text":"Read","url":"https://x.test/d.pdf","label":"Doc","next":"g"},
  {"type":"goal","id":"g","name":"lead","score":-5,"next":"e"},
  {"type":"end","id":"e"}]}"#;

#[test]
fn every_kind_of_card_and_condition_reads_back_from_the_wire() {
    let f = compile(EVERY_KIND).unwrap_or_else(|d| panic!("{d:?}"));
    let wire = f.to_wire();
    let back = CompiledFlow::from_wire(&wire).unwrap_or_else(|e| panic!("{e}\n{wire}"));
    assert_eq!(back.to_wire(), wire);
    assert_eq!(back.cards.len(), 8);
    assert_eq!(back.audience, f.audience);
    assert!(!back.display.hide_after_completion);
    for cut in [
        "\"Between\":[",
        "\"InList\":[",
        "\"Wild\":[",
        "\"Gt\":12.5",
        "\"Group\":",
        "\"queue\":\"sales\"",
    ] {
        assert!(wire.contains(cut), "the fixture covers {cut}");
    }
    // A damaged member anywhere makes the whole flow unreadable, never a partial flow.
    for (from, to) in [
        ("\"Gt\":12.5", "\"Gt\":\"x\""),
        ("\"queue\":", "\"room\":"),
        ("\"score\":-5", "\"score\":1e3"),
        ("\"card_ids\":[", "\"card_ids\":[1,"),
        ("\"skip_if_known\":true", "\"skip_if_known\":1"),
        ("\"name\":\"lead\"", "\"name\":null"),
    ] {
        assert!(
            CompiledFlow::from_wire(&wire.replacen(from, to, 1)).is_err(),
            "{to}"
        );
    }
}

#[test]
fn every_one_letter_escape_reads_as_its_character() {
    let j = json::parse(r#""\"\\\/\b\f\n\r\t""#).expect("string");
    assert_eq!(j.str(), Some("\"\\/\u{8}\u{c}\n\r\t"));
    assert_eq!(json::parse(r#""\a""#), None);
    assert_eq!(json::parse(r#""\x""#), None);
}
