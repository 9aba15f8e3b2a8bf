//! The experiment variants each dialogue of a site accepts on events and leads (those of any of
//! its stored versions, so a visitor still running an older version is accepted), cached per
//! isolate until the site's bundle ETag changes (every publish changes it).

use super::site::Site;
use super::store::experiments;
use crate::error::ApiError;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use worker::D1Database;

type Lists = Rc<HashMap<String, Vec<String>>>;

/// Sites an isolate keeps before it forgets them all (a bound, not a tuning knob).
const MAX_SITES: usize = 1_024;

thread_local! {
    static LISTS: RefCell<HashMap<String, (String, Lists)>> = RefCell::new(HashMap::new());
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
