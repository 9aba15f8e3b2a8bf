//! The page and visitor facts targeting reads ([`PageInput`] prepared once into a [`Context`]).

use super::cond::*;
use super::text::*;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// What the browser knows about the page and the visitor, as sent by the host.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct PageInput {
    /// Full URL.
    pub url: String,
    /// Document title.
    pub title: String,
    /// Referrer.
    pub referrer: String,
    /// Seconds on page.
    pub time_on_page_s: u32,
    /// Scroll depth percent.
    pub scroll_depth_pct: u32,
    /// Visits including this one.
    pub visits: u32,
    /// Exit intent seen.
    pub exit_intent: bool,
    /// `desktop` / `tablet` / `mobile`.
    pub device: String,
    /// ISO country from the edge.
    pub country: String,
    /// Current instant, ms since the Unix epoch (UTC).
    pub now_ms: i64,
    /// Visitor's offset from UTC in minutes (local = UTC + offset).
    pub tz_offset_minutes: i32,
    /// Known lead fields.
    pub lead: HashMap<String, String>,
    /// Known company fields.
    pub company: HashMap<String, String>,
}

/// [`PageInput`] borrowed, without the lead and company maps ([`Context::of_page`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct Page<'a> {
    /// Full URL.
    pub url: &'a str,
    /// Document title.
    pub title: &'a str,
    /// Referrer.
    pub referrer: &'a str,
    /// Seconds on page.
    pub time_on_page_s: u32,
    /// Scroll depth percent.
    pub scroll_depth_pct: u32,
    /// Visits including this one.
    pub visits: u32,
    /// Exit intent seen.
    pub exit_intent: bool,
    /// `desktop` / `tablet` / `mobile`.
    pub device: &'a str,
    /// ISO country from the edge.
    pub country: &'a str,
    /// Current instant, ms since the Unix epoch (UTC).
    pub now_ms: i64,
    /// Visitor's offset from UTC in minutes (local = UTC + offset).
    pub tz_offset_minutes: i32,
}

/// A prepared context: lower-cased once, query parsed once, so many rules evaluate cheaply.
#[derive(Debug, Clone, Default)]
pub struct Context {
    url: String,
    path: String,
    title: String,
    referrer: String,
    query: Vec<(String, String)>,
    time_on_page_s: u32,
    scroll_depth_pct: u32,
    visits: u32,
    exit_intent: bool,
    device: String,
    country: String,
    pub(super) now_ms: i64,
    tz_offset_minutes: i32,
    // Few fields: a list (looked up by name) costs less wasm than a hash map.
    lead: Vec<(String, String)>,
    company: Vec<(String, String)>,
    activity: Vec<(String, i64)>,
}

impl Context {
    /// Prepares a context from what the browser sent.
    pub fn new(p: PageInput) -> Self {
        let mut c = Self::of_page(Page {
            url: &p.url,
            title: &p.title,
            referrer: &p.referrer,
            time_on_page_s: p.time_on_page_s,
            scroll_depth_pct: p.scroll_depth_pct,
            visits: p.visits,
            exit_intent: p.exit_intent,
            device: &p.device,
            country: &p.country,
            now_ms: p.now_ms,
            tz_offset_minutes: p.tz_offset_minutes,
        });
        c.set_person(
            p.lead.into_iter().collect(),
            p.company.into_iter().collect(),
        );
        c
    }

    /// Prepares a context from the page alone (no lead or company fields: [`Context::set_person`]
    /// sets them): [`Context::new`] without hash maps, which cost the browser's targeting module
    /// their code.
    pub fn of_page(p: Page<'_>) -> Self {
        let url = lower(p.url);
        // Split at ASCII bytes (whole text on both sides) rather than with `char` patterns,
        // whose searcher and `memchr` the browser's targeting module would carry.
        let no_frag = cut(p.url, b'#').0;
        let (before_q, q) = cut(no_frag, b'?');
        let path = match find_str(before_q, "://").and_then(|i| before_q.get(i + 3..)) {
            Some(rest) => rest
                .bytes()
                .position(|c| c == b'/')
                .and_then(|i| rest.get(i..))
                .unwrap_or("/"),
            None => before_q,
        };
        let path = lower(path);
        let mut query = Vec::new();
        let mut rest = q;
        while let Some(r) = rest {
            let (kv, next) = cut(r, b'&');
            if !kv.is_empty() {
                let (k, v) = cut(kv, b'=');
                query.push((
                    lower(&percent_decode(k)),
                    lower(&percent_decode(v.unwrap_or(""))),
                ));
            }
            rest = next;
        }
        Context {
            url,
            path,
            title: lower(p.title),
            referrer: lower(p.referrer),
            query,
            time_on_page_s: p.time_on_page_s,
            scroll_depth_pct: p.scroll_depth_pct,
            visits: p.visits,
            exit_intent: p.exit_intent,
            device: lower(p.device),
            country: lower(p.country),
            now_ms: p.now_ms,
            tz_offset_minutes: p.tz_offset_minutes,
            lead: Vec::new(),
            company: Vec::new(),
            activity: Vec::new(),
        }
    }

    /// Sets the known visitor's last Marketo activity of each `activity.<type>` name
    /// (`(type name, ms since the epoch)`: what the worker's traits answer sends as `activity`).
    /// Not a `PageInput` field: a map of another type costs the browser's module more code.
    pub fn set_activity(&mut self, activity: Vec<(String, i64)>) {
        self.activity = activity;
    }

    /// Replaces the known lead and company fields (`(name, value)`; names and values are lower-cased
    /// here). Same as passing them in `PageInput`, without building hash maps.
    pub fn set_person(&mut self, lead: Vec<(String, String)>, company: Vec<(String, String)>) {
        self.lead = person(lead);
        self.company = person(company);
    }

    /// Updates the dynamic signals without re-preparing the rest.
    pub fn set_dynamic(
        &mut self,
        time_on_page_s: u32,
        scroll_depth_pct: u32,
        exit_intent: bool,
        now_ms: i64,
    ) {
        self.time_on_page_s = time_on_page_s;
        self.scroll_depth_pct = scroll_depth_pct;
        self.exit_intent = exit_intent;
        self.now_ms = now_ms;
    }

    fn local(&self, offset: Option<i32>) -> i64 {
        self.now_ms + i64::from(offset.unwrap_or(self.tz_offset_minutes)) * 60_000
    }
}

/// `s` split at the first `b` (an ASCII byte, so both sides are whole text): the text before it,
/// and after it when there is one.
pub(super) fn cut(s: &str, b: u8) -> (&str, Option<&str>) {
    match s.bytes().position(|c| c == b) {
        Some(i) => (s.get(..i).unwrap_or(s), s.get(i + 1..)),
        None => (s, None),
    }
}

pub(super) fn person(mut m: Vec<(String, String)>) -> Vec<(String, String)> {
    for (k, v) in m.iter_mut() {
        k.make_ascii_lowercase();
        *v = lower(v);
    }
    m
}

pub(super) fn field<'a>(m: &'a [(String, String)], k: &str) -> Val<'a> {
    m.iter()
        .find(|(n, _)| n == k)
        .map_or(Val::Missing, |(_, v)| Val::Text(v))
}

impl Facts for Context {
    fn get(&self, f: &FieldRef, offset: Option<i32>) -> Val<'_> {
        fn t(s: &str) -> Val<'_> {
            if s.is_empty() {
                Val::Missing
            } else {
                Val::Text(s)
            }
        }
        match f {
            FieldRef::Url => t(&self.url),
            FieldRef::Path => t(&self.path),
            FieldRef::Title => t(&self.title),
            FieldRef::Referrer => t(&self.referrer),
            FieldRef::Query(k) => self
                .query
                .iter()
                .find(|(n, _)| n == k)
                .map_or(Val::Missing, |(_, v)| Val::Text(v)),
            FieldRef::TimeOnPage => Val::Num(self.time_on_page_s as f64),
            FieldRef::ScrollDepth => Val::Num(self.scroll_depth_pct as f64),
            FieldRef::Visits => Val::Num(self.visits as f64),
            FieldRef::ExitIntent => Val::Bool(self.exit_intent),
            FieldRef::Device => t(&self.device),
            FieldRef::Country => t(&self.country),
            FieldRef::LocalTime => Val::Num(minute_of_day(self.local(offset)) as f64),
            FieldRef::Weekday => Val::Text(WEEKDAYS[weekday_index(self.local(offset))]),
            FieldRef::Lead(k) => field(&self.lead, k),
            FieldRef::Company(k) => field(&self.company, k),
            // Days since the last one (fractional), so `within_days` compares whole days.
            FieldRef::Activity(k) => self
                .activity
                .iter()
                .find(|(n, _)| n == k)
                .map_or(Val::Missing, |(_, at)| {
                    Val::Num((self.now_ms - at) as f64 / 86_400_000.0)
                }),
            FieldRef::Answer(_) => Val::Missing,
        }
    }
}
