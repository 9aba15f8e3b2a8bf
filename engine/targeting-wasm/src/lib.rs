//! The loader's targeting module: reads a site bundle's compiled audiences once and picks the dialogue to show.
//!
//! Only `dynchat_engine::targeting` is reachable from here, so link-time optimisation keeps the
//! module small (no dialogue compiler, no state machine). Everything crosses the boundary as JSON
//! strings, and every failure degrades to "show nothing" rather than an exception.
//!
//! No wasm-bindgen: the module exports a few plain functions (`abi.rs`) and its JavaScript glue is
//! hand-written (`js/targeting.js`, bundled into the loader), which keeps wasm-bindgen's runtime (externref table,
//! thread-local access, `RefCell` borrow panics) and its generated glue out of every page.

#[cfg(target_arch = "wasm32")]
mod abi;
mod alloc;

#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOC: alloc::Classes = alloc::Classes::new();

use dynchat_engine::json::{self, J};
use dynchat_engine::model::Display;
#[cfg(test)]
use dynchat_engine::targeting::MAX_AUDIENCE_DEPTH;
use dynchat_engine::targeting::{
    audience_from_wire, int_text, parse_num, Candidate, Context, Page, Seen, Selection, Targeting,
};

// Serde's derives and serde_json's parser would be well over 100 KB of wasm, and compiling authored
// audiences brings the model, its diagnostics and their messages. The worker already ships the
// part of every dialogue's compiled flow that targeting reads (`targeting`, docs/api.md) in the
// bundle: its audience is read with the engine's small JSON reader (`dynchat_engine::json`,
// `targeting::audience_from_wire`), and the answer is written by hand.

fn text(v: &J) -> Option<String> {
    v.str().map(str::to_string)
}

fn num(v: &J) -> Option<f64> {
    parse_num(v.num_text()?)
}

fn small(v: Option<&J>) -> Option<u32> {
    v.and_then(J::int).and_then(|n| u32::try_from(n).ok())
}

fn display(v: Option<&J>) -> Display {
    let mut d = Display::default();
    if let Some(v) = v.filter(|v| v.obj().is_some()) {
        if let Some(b) = v.get("hide_after_completion").and_then(J::bool) {
            d.hide_after_completion = b;
        }
        d.max_times = small(v.get("max_times"));
        d.min_interval_minutes = small(v.get("min_interval_minutes"));
    }
    d
}

/// Turns bundle JSON into candidates: each entry's compiled audience, frequency rules and priority
/// from its `targeting` (the flow's [`dynchat_engine::targeting::FLOW_TARGETING_KEYS`]) or its
/// whole `flow` (the entry's own `priority` first). A dialogue whose entry the browser cannot
/// read (no flow, too deep, malformed) is left out, never the others; the second list names each
/// one left out (its id, or `#n` for its place in the bundle when the id is unreadable).
pub fn candidates(bundle_json: &str) -> (Vec<Candidate>, Vec<String>) {
    let mut skipped = Vec::new();
    let Some(bundle) = json::parse(bundle_json) else {
        return (Vec::new(), skipped);
    };
    let Some(list) = bundle.get("dialogues").and_then(J::arr) else {
        return (Vec::new(), skipped);
    };
    let mut out = Vec::new();
    for (n, e) in list.iter().enumerate() {
        match candidate(e) {
            Some(c) => out.push(c),
            None => skipped.push(e.get("id").and_then(text).unwrap_or_else(|| {
                let mut at = String::from("#");
                at.push_str(&int_text(n as i128));
                at
            })),
        }
    }
    (out, skipped)
}

fn candidate(e: &J) -> Option<Candidate> {
    let id = text(e.get("id")?)?;
    // A bundle entry carries what targeting reads (`targeting`); a whole entry (a draft preview,
    // an older cached bundle) its compiled flow.
    let f = e.get("targeting").or_else(|| e.get("flow"))?;
    let priority = e
        .get("priority")
        .or_else(|| f.get("priority"))
        .and_then(J::int)
        .unwrap_or(0);
    Some(Candidate {
        id,
        priority: i32::try_from(priority).unwrap_or(0),
        audience: audience_from_wire(f.get("audience")?)?,
        display: display(f.get("display")),
    })
}

/// Reads the page context. The host lower-cases text with JavaScript (full Unicode); the engine,
/// built here without its Unicode tables, folds ASCII and common letters again, which is harmless.
fn context(json: &str) -> Context {
    let v = json::parse(json).unwrap_or(J::Null);
    let s = |k: &str| v.get(k).and_then(J::str).unwrap_or("");
    let n = |k: &str| v.get(k).and_then(num).unwrap_or(0.0);
    let mut c = Context::of_page(Page {
        url: s("url"),
        title: s("title"),
        referrer: s("referrer"),
        time_on_page_s: n("time_on_page_s") as u32,
        scroll_depth_pct: n("scroll_depth_pct") as u32,
        visits: n("visits") as u32,
        exit_intent: v.get("exit_intent").and_then(J::bool).unwrap_or(false),
        device: s("device"),
        country: s("country"),
        now_ms: n("now_ms") as i64,
        tz_offset_minutes: n("tz_offset_minutes") as i32,
    });
    c.set_person(members(&v, "lead", &text), members(&v, "company", &text));
    // `activity`: the last time (ms) of each `activity.<type>` the worker's traits answered.
    c.set_activity(members(&v, "activity", &|x| num(x).map(|t| t as i64)));
    c
}

/// The members of object `k` of `v` that `f` reads, in order (none when `k` is no object). A
/// plain loop with `f` behind a reference: `filter_map(..).collect()` brought iterator adapters
/// per use.
fn members<T>(v: &J, k: &str, f: &dyn Fn(&J) -> Option<T>) -> Vec<(String, T)> {
    let mut out = Vec::new();
    for (name, x) in v.get(k).and_then(J::obj).unwrap_or_default() {
        if let Some(t) = f(x) {
            out.push((name.clone(), t));
        }
    }
    out
}

fn seen_map(json: &str) -> Vec<(String, Seen)> {
    let v = json::parse(json).unwrap_or(J::Null);
    let Some(o) = v.obj() else {
        return Vec::new();
    };
    let mut out = Vec::with_capacity(o.len());
    for (id, s) in o {
        let seen = Seen {
            shown: s.get("shown").and_then(num).unwrap_or(0.0) as u32,
            last_shown_ms: s.get("last_shown_ms").and_then(num).map(|x| x as i64),
            completed: s.get("completed").and_then(J::bool).unwrap_or(false),
        };
        out.push((id.clone(), seen));
    }
    out
}

fn write_list(out: &mut String, l: &[u32]) {
    out.push('[');
    for (i, n) in l.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&int_text(i128::from(*n)));
    }
    out.push(']');
}

/// `{"dialogue":..,"watch":{"time_on_page_s":[..],"scroll_depth_pct":[..],"exit_intent":..},"skipped":[..]}`;
/// `skipped` names the dialogues of the bundle this module could not read (the loader warns).
fn selection_json(sel: &Selection, skipped: &[String]) -> String {
    let mut out = String::from("{\"dialogue\":");
    match &sel.dialogue {
        Some(d) => json::write_str(&mut out, d),
        None => out.push_str("null"),
    }
    out.push_str(",\"watch\":{\"time_on_page_s\":");
    write_list(&mut out, &sel.watch.time_on_page_s);
    out.push_str(",\"scroll_depth_pct\":");
    write_list(&mut out, &sel.watch.scroll_depth_pct);
    out.push_str(",\"exit_intent\":");
    out.push_str(if sel.watch.exit_intent {
        "true"
    } else {
        "false"
    });
    out.push_str("},\"skipped\":[");
    for (i, id) in skipped.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        json::write_str(&mut out, id);
    }
    out.push_str("]}");
    out
}

/// A site's compiled targeting plus the latest page context.
pub struct Targeter {
    targeting: Targeting,
    context: Context,
    seen: Vec<(String, Seen)>,
    skipped: Vec<String>,
}

impl Targeter {
    /// Reads the compiled audiences of a bundle (`GET /v1/sites/{site}/bundle` body; the loader
    /// sends its `dialogues` as they came: each entry's `id`, `priority` and `targeting`, or a
    /// whole entry's `flow`, are read here, anything else ignored).
    pub fn new(bundle_json: &str) -> Targeter {
        let (list, skipped) = candidates(bundle_json);
        Targeter {
            targeting: Targeting::new(list),
            context: Context::default(),
            seen: Vec::new(),
            skipped,
        }
    }

    /// Sets the page context (`PageInput` JSON) and what the visitor has seen (`{id: Seen}` JSON), then selects.
    pub fn select(&mut self, page_json: &str, seen_json: &str) -> String {
        self.context = context(page_json);
        self.seen = seen_map(seen_json);
        self.reselect()
    }

    /// Updates only the dynamic signals (time on page, scroll, exit intent, clock) and selects again.
    pub fn update(
        &mut self,
        time_on_page_s: u32,
        scroll_depth_pct: u32,
        exit_intent: bool,
        now_ms: f64,
    ) -> String {
        self.context
            .set_dynamic(time_on_page_s, scroll_depth_pct, exit_intent, now_ms as i64);
        self.reselect()
    }

    fn reselect(&self) -> String {
        let seen = |id: &str| {
            self.seen
                .iter()
                .find(|(n, _)| n == id)
                .map(|(_, s)| s.clone())
        };
        selection_json(&self.targeting.select(&self.context, &seen), &self.skipped)
    }
}

// Not exported to JavaScript (the loader does not use them; each export costs glue and code).
impl Targeter {
    /// Number of dialogues read (for diagnostics and tests).
    pub fn len(&self) -> usize {
        self.targeting.candidates().len()
    }

    /// True when no dialogue was read.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pricing_bundle() -> String {
        let pricing = r#"{"all":[{"field":"page.path","op":"matches","value":"/pricing*"},{"field":"page.scroll_depth","op":"greater_than","value":40}]}"#;
        let broken = r#"{"all":[{"field":"nope.x","op":"is","value":"1"}]}"#;
        bundle(&[
            ("low", 0, dialogue("low", "{}")),
            ("pricing", 5, dialogue("pricing", pricing)),
            ("broken", 0, dialogue("broken", broken)),
        ])
    }

    #[test]
    fn entries_without_a_readable_flow_are_left_out() {
        assert_eq!(Targeter::new(&pricing_bundle()).len(), 2);
        assert!(Targeter::new("not json").is_empty());
        let no_flow = r#"{"dialogues":[{"id":"a","dialogue":{"audience":{}}}]}"#;
        assert!(Targeter::new(no_flow).is_empty());
    }

    /// The loader hands over the bundle's `dialogues` as they came (`{"dialogues": ...}`, the key
    /// absent when the bundle had none): any shape reads as no dialogue, never a failure, and an
    /// unreadable entry is named among the skipped.
    #[test]
    fn the_bundle_as_the_loader_hands_it_over_whatever_its_shape() {
        for b in [
            "{}",
            r#"{"dialogues":null}"#,
            r#"{"dialogues":"x"}"#,
            r#"{"dialogues":{"id":"a"}}"#,
        ] {
            let (list, skipped) = candidates(b);
            assert!(list.is_empty() && skipped.is_empty(), "{b}");
        }
        let (list, skipped) = candidates(r#"{"dialogues":[1,null,"a",{"id":"b"},[]]}"#);
        assert!(list.is_empty());
        assert_eq!(skipped, ["#0", "#1", "#2", "b", "#4"]);
        // A whole entry (an older cached bundle) and a bundle entry read alike, extra keys ignored.
        let wire = dynchat_engine::compile(&dialogue("w", "{}"))
            .map(|f| f.to_wire())
            .unwrap_or_default();
        let both = format!(
            r#"{{"dialogues":[{{"id":"w","hash":"h","flow":{wire}}},{{"id":"t","experiment":true,"targeting":{wire}}}]}}"#
        );
        let (list, skipped) = candidates(&both);
        assert_eq!(list.len(), 2, "{skipped:?}");
    }

    #[test]
    fn selects_by_priority_and_watches_dynamic_rules() {
        let mut t = Targeter::new(&pricing_bundle());
        let page = r#"{"url":"https://acme.test/pricing","visits":1,"now_ms":0}"#;
        let first: serde_json::Value =
            serde_json::from_str(&t.select(page, "{}")).unwrap_or_default();
        assert_eq!(first["dialogue"], "low");
        assert_eq!(first["watch"]["scroll_depth_pct"][0], 41);
        let later: serde_json::Value =
            serde_json::from_str(&t.update(3, 60, false, 1.0)).unwrap_or_default();
        assert_eq!(later["dialogue"], "pricing");
    }

    #[test]
    fn completed_dialogue_is_not_shown_again() {
        let mut t = Targeter::new(&pricing_bundle());
        let out = t.select(
            r#"{"url":"https://acme.test/"}"#,
            r#"{"low":{"completed":true}}"#,
        );
        let v: serde_json::Value = serde_json::from_str(&out).unwrap_or_default();
        assert!(v["dialogue"].is_null());
    }

    #[test]
    fn activity_within_days_reads_the_traits_activity_times() {
        let rule =
            r#"{"all":[{"field":"activity.visited_web_page","op":"within_days","value":7}]}"#;
        let mut t = Targeter::new(&bundle(&[("recent", 0, dialogue("recent", rule))]));
        let day = 86_400_000i64;
        let now = 1_800_000_000_000i64;
        let page = |at: Option<i64>| {
            let activity = at.map_or(String::new(), |a| {
                format!(r#","activity":{{"visited_web_page":{a}}}"#)
            });
            format!(r#"{{"visits":1,"now_ms":{now}{activity}}}"#)
        };
        let pick = |t: &mut Targeter, page: &str| -> Option<String> {
            let v: serde_json::Value =
                serde_json::from_str(&t.select(page, "{}")).unwrap_or_default();
            v["dialogue"].as_str().map(str::to_string)
        };
        assert_eq!(
            pick(&mut t, &page(Some(now - 3 * day))).as_deref(),
            Some("recent")
        );
        assert_eq!(pick(&mut t, &page(Some(now - 8 * day))), None);
        assert_eq!(pick(&mut t, &page(None)), None);
    }

    #[test]
    fn numbers_lists_and_non_ascii_patterns() {
        let big = r#"{"all":[{"field":"lead.employees","op":"greater_than","value":499.5},
            {"field":"page.country","op":"in_list","value":["NL","DE"]}]}"#;
        let cafe = r#"{"all":[{"field":"page.path","op":"matches","value":"/CAFÉ/*"},
            {"field":"page.local_time","op":"between","value":"09:00-17:00","utc_offset_minutes":60}]}"#;
        let bundle = bundle(&[
            (
                "three",
                0,
                dialogue(
                    "three",
                    r#"{"all":[{"field":"page.visits","op":"is","value":3}]}"#,
                ),
            ),
            ("big", 0, dialogue("big", big)),
            ("cafe", 0, dialogue("cafe", cafe)),
        ]);
        let mut t = Targeter::new(&bundle);
        assert_eq!(t.len(), 3);
        let pick = |t: &mut Targeter, page: &str| -> Option<String> {
            let v: serde_json::Value =
                serde_json::from_str(&t.select(page, "{}")).unwrap_or_default();
            v["dialogue"].as_str().map(str::to_string)
        };
        assert_eq!(pick(&mut t, r#"{"visits":3}"#).as_deref(), Some("three"));
        assert_eq!(pick(&mut t, r#"{"visits":2}"#), None);
        let lead = r#"{"visits":1,"country":"nl","lead":{"employees":"500"}}"#;
        assert_eq!(pick(&mut t, lead).as_deref(), Some("big"));
        let small = r#"{"visits":1,"country":"nl","lead":{"employees":"499"}}"#;
        assert_eq!(pick(&mut t, small), None);
        // 2027-01-04T09:00:00Z = 10:00 at UTC+1; the host sends the URL lower-cased.
        let cafe = r#"{"url":"https://acme.test/café/menu","now_ms":1799053200000}"#;
        assert_eq!(pick(&mut t, cafe).as_deref(), Some("cafe"));
        let late = r#"{"url":"https://acme.test/café/menu","now_ms":1799085600000}"#;
        assert_eq!(pick(&mut t, late), None);
    }

    #[test]
    fn answer_is_json_with_escaped_ids() {
        let sel = Selection {
            dialogue: Some("a\"b".into()),
            watch: dynchat_engine::targeting::Watch {
                time_on_page_s: vec![5, 30],
                scroll_depth_pct: vec![],
                exit_intent: true,
            },
        };
        assert_eq!(
            selection_json(&sel, &["x".into()]),
            r#"{"dialogue":"a\"b","watch":{"time_on_page_s":[5,30],"scroll_depth_pct":[],"exit_intent":true},"skipped":["x"]}"#
        );
    }

    /// An audience of `depth` nested groups around one condition, as authored.
    fn nested(depth: usize) -> String {
        let cond = r#"{"field":"page.path","op":"contains","value":"/"}"#;
        let mut a = cond.to_string();
        for _ in 0..depth {
            a = format!(r#"{{"all":[{a}]}}"#);
        }
        format!(r#"{{"all":[{a}]}}"#)
    }

    fn dialogue(id: &str, audience: &str) -> String {
        format!(
            r#"{{"version":1,"id":"{id}","name":"N","audience":{audience},"cards":[{{"id":"e","type":"end"}}]}}"#
        )
    }

    /// A bundle as the worker ships it: authored dialogue and compiled flow per entry.
    fn bundle(dialogues: &[(&str, i32, String)]) -> String {
        let entries: Vec<String> = dialogues
            .iter()
            .map(|(id, p, d)| {
                let flow = dynchat_engine::compile(d)
                    .map(|f| f.to_wire())
                    .unwrap_or_else(|_| "null".into());
                format!(r#"{{"id":"{id}","hash":"h","priority":{p},"dialogue":{d},"flow":{flow}}}"#)
            })
            .collect();
        format!(r#"{{"site":"acme","dialogues":[{}]}}"#, entries.join(","))
    }

    #[test]
    fn validation_and_the_browser_share_one_depth_limit() {
        let deepest = dialogue("deepest", &nested(MAX_AUDIENCE_DEPTH));
        dynchat_engine::compile(&deepest).expect("the deepest audience validate accepts");
        let too_deep = dialogue("too-deep", &nested(MAX_AUDIENCE_DEPTH + 1));
        let diags = dynchat_engine::compile(&too_deep).expect_err("one group deeper");
        assert!(diags.iter().any(|d| d.code == "too_deep"), "{diags:#?}");
        // Everything validate accepts, the browser reads, with the compiled flow next to it (the
        // deepest audience and branch rule again, in wire form) in the same bundle.
        let a = nested(MAX_AUDIENCE_DEPTH);
        let branchy = format!(
            r#"{{"version":1,"id":"branchy","name":"N","audience":{a},"cards":[
              {{"id":"b","type":"branch","rules":[{{"when":{a},"next":"e"}}],"otherwise":"e"}},
              {{"id":"e","type":"end"}}]}}"#
        );
        let b = bundle(&[("deepest", 0, deepest), ("branchy", 0, branchy)]);
        assert!(b.contains(r#""flow":{"#), "both compiled");
        let t = Targeter::new(&b);
        assert_eq!(t.len(), 2);
    }

    /// A bundle entry as nobody can publish it: a compiled flow whose audience is wrapped in
    /// `extra` more groups in its wire form (compile refuses the authored form: `too_deep`).
    fn hand_made(id: &str, groups: usize, extra: usize) -> String {
        let d = dialogue(id, &nested(groups));
        let flow = dynchat_engine::compile(&d).map(|f| f.to_wire());
        let mut flow: serde_json::Value =
            serde_json::from_str(&flow.unwrap_or_default()).unwrap_or_default();
        for _ in 0..extra {
            let inner = flow["audience"].take();
            flow["audience"] = serde_json::json!({"all": [{"Group": inner}], "any": []});
        }
        format!(r#"{{"id":"{id}","hash":"h","priority":9,"dialogue":{d},"flow":{flow}}}"#)
    }

    #[test]
    fn the_browser_reads_no_deeper_than_validation_accepts() {
        // The deepest compiled audience compile accepts is read; one group more (which the JSON
        // reader alone would still read) is left out and named, like any deeper one.
        let readable = dialogue("readable", "{}");
        let readable = format!(
            r#"{{"id":"readable","hash":"h","priority":0,"dialogue":{readable},"flow":{}}}"#,
            dynchat_engine::compile(&readable)
                .map(|f| f.to_wire())
                .unwrap_or_default()
        );
        for (extra, shown, skipped) in [
            (0, "deep", serde_json::json!([])),
            (1, "readable", serde_json::json!(["deep"])),
            (2, "readable", serde_json::json!(["deep"])),
            (30, "readable", serde_json::json!(["deep"])),
        ] {
            let deep = hand_made("deep", MAX_AUDIENCE_DEPTH, extra);
            let b = format!(r#"{{"site":"acme","dialogues":[{deep},{readable}]}}"#);
            let mut t = Targeter::new(&b);
            let v: serde_json::Value =
                serde_json::from_str(&t.select(r#"{"url":"https://acme.test/"}"#, "{}"))
                    .unwrap_or_default();
            assert_eq!(v["dialogue"], shown, "{extra} groups over the limit");
            assert_eq!(v["skipped"], skipped, "{extra} groups over the limit");
        }
    }

    #[test]
    fn an_unreadable_dialogue_is_skipped_and_reported_not_the_others() {
        for depth in [MAX_AUDIENCE_DEPTH + 1, MAX_AUDIENCE_DEPTH + 2, 40, 500] {
            let b = bundle(&[
                ("first", 1, dialogue("first", "{}")),
                ("deep", 9, dialogue("deep", &nested(depth))),
                ("last", 0, dialogue("last", "{}")),
            ]);
            let mut t = Targeter::new(&b);
            assert_eq!(t.len(), 2, "depth {depth}");
            let v: serde_json::Value =
                serde_json::from_str(&t.select(r#"{"url":"https://acme.test/"}"#, "{}"))
                    .unwrap_or_default();
            assert_eq!(v["dialogue"], "first", "depth {depth}");
            assert_eq!(v["skipped"], serde_json::json!(["deep"]), "depth {depth}");
        }
    }
}
