//! Card-to-field mappings of dialogue versions, cached per isolate: a version (site + content
//! hash) never changes once stored, so the lead path reads and parses its JSON once per isolate
//! instead of once per lead.

use crate::marketo::mapping;
use serde_json::Value;
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;

/// Card id -> lead field of one version.
pub type AnswerFields = Rc<BTreeMap<String, String>>;

/// Versions an isolate keeps before it forgets them all (a bound, not a tuning knob).
const MAX_VERSIONS: usize = 2_048;

thread_local! {
    static FIELDS: RefCell<HashMap<(String, String, String), AnswerFields>> = RefCell::new(HashMap::new());
}

/// The cached mapping of `hash` as a version of `dialogue`, if this isolate has read it.
pub fn cached(site: &str, dialogue: &str, hash: &str) -> Option<AnswerFields> {
    FIELDS.with(|m| m.borrow().get(&key(site, dialogue, hash)).cloned())
}

fn key(site: &str, dialogue: &str, hash: &str) -> (String, String, String) {
    (site.to_string(), dialogue.to_string(), hash.to_string())
}

/// The mapping of a version's JSON; kept for later leads when the version is named by its hash
/// (the published version of a dialogue, named by nothing, can change and is not kept).
pub fn from_json(site: &str, dialogue: &str, hash: Option<&str>, json: &str) -> AnswerFields {
    let fields = Rc::new(
        serde_json::from_str::<Value>(json)
            .map(|d| mapping::answer_fields(&d))
            .unwrap_or_default(),
    );
    if let Some(k) = hash.map(|h| key(site, dialogue, h)) {
        FIELDS.with(|m| {
            let mut m = m.borrow_mut();
            if m.len() >= MAX_VERSIONS {
                m.clear();
            }
            m.insert(k, fields.clone());
        });
    }
    fields
}
