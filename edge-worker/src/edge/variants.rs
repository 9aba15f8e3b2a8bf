//! The experiment variants each dialogue of a site accepts on events and leads (those of any of
//! its stored versions, so a visitor still running an older version is accepted), cached per
//! isolate until the site's bundle ETag changes (every publish changes it); and each version's
//! experiment (id and weighted variants), cached per isolate (a version never changes).

use super::site::Site;
use super::store::{dialogues, experiments};
use crate::error::ApiError;
use dynchat_engine::experiment::Variant;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use worker::D1Database;

type Lists = Rc<HashMap<String, Vec<String>>>;

/// Sites an isolate keeps before it forgets them all (a bound, not a tuning knob).
const MAX_SITES: usize = 1_024;

/// A version's experiment: its id and variants (`None`: the version has none).
type Arms = Rc<Option<(String, Vec<Variant>)>>;

thread_local! {
    static LISTS: RefCell<HashMap<String, (String, Lists)>> = RefCell::new(HashMap::new());
    static ARMS: RefCell<HashMap<(String, String), Arms>> = RefCell::new(HashMap::new());
}

/// The experiment of the site's version `hash` (one D1 read and compile per isolate), or 404.
pub async fn arms(database: &D1Database, site: &str, hash: &str) -> Result<Arms, ApiError> {
    let key = (site.to_string(), hash.to_string());
    if let Some(hit) = ARMS.with(|m| m.borrow().get(&key).cloned()) {
        return Ok(hit);
    }
    let row = dialogues::version(database, site, hash)
        .await?
        .ok_or_else(|| ApiError::NotFound("flow".into()))?;
    let arms: Arms = Rc::new(
        dynchat_engine::compile(&row.json)
            .ok()
            .and_then(|f| f.experiment_arms().map(|(x, a)| (x.to_string(), a))),
    );
    ARMS.with(|m| {
        let mut m = m.borrow_mut();
        if m.len() >= MAX_SITES {
            m.clear();
        }
        m.insert(key, arms.clone());
    });
    Ok(arms)
}

/// Whether `variant` is a variant of `dialogue`'s experiment on `site` (one D1 read per isolate
/// and bundle ETag).
pub async fn accepts(
    database: &D1Database,
    site: &Site,
    dialogue: &str,
    variant: &str,
) -> Result<bool, ApiError> {
    let hit = LISTS.with(|m| {
        m.borrow()
            .get(&site.id)
            .filter(|(etag, _)| *etag == site.etag)
            .map(|(_, l)| l.clone())
    });
    let lists = match hit {
        Some(l) => l,
        None => {
            let l: Lists = Rc::new(experiments::variant_lists(database, &site.id).await?);
            LISTS.with(|m| {
                let mut m = m.borrow_mut();
                if m.len() >= MAX_SITES {
                    m.clear();
                }
                m.insert(site.id.clone(), (site.etag.clone(), l.clone()));
            });
            l
        }
    };
    Ok(lists
        .get(dialogue)
        .is_some_and(|l| crate::experiments::accepts(l, variant)))
}
