//! The installation check on the bundle path: remembers, per isolate, when it last wrote each
//! (site, page origin) and writes one row at most every [`crate::install::RECORD_EVERY_MS`],
//! after the answer (`wait_until`), so the bundle stays one cached read.

use super::reply::header;
use super::store::install;
use crate::cors::{self, OriginCheck};
use std::cell::RefCell;
use std::collections::HashMap;
use worker::{Context, Env, Request};

thread_local! {
    /// (site, origin) -> when this isolate last wrote it (ms).
    static WRITTEN: RefCell<HashMap<(String, String), i64>> = RefCell::new(HashMap::new());
}

/// Notes a bundle request of `site` for the installation check (never fails the request).
pub fn note_bundle(req: &Request, env: &Env, ctx: &Context, site: &str, allowed: &[String]) {
    let Some(origin) = crate::install::page_origin(
        header(req, "Origin").as_deref(),
        header(req, "Referer").as_deref(),
    ) else {
        return;
    };
    let now = super::db::real_now();
    let key = (site.to_string(), origin);
    let due = WRITTEN.with(|w| {
        let mut w = w.borrow_mut();
        if !crate::install::due(w.get(&key).copied(), now) {
            return false;
        }
        if w.len() >= crate::install::MAX_REMEMBERED {
            w.clear();
        }
        w.insert(key.clone(), now);
        true
    });
    if !due {
        return;
    }
    let ok = matches!(cors::check(Some(&key.1), allowed), OriginCheck::Allowed(_));
    let env = env.clone();
    ctx.wait_until(async move {
        let (site, origin) = key;
        let written = match super::db::database(&env) {
            Ok(database) => install::record(&database, &site, &origin, ok, now).await,
            Err(e) => Err(e),
        };
        if let Err(e) = written {
            // Try again on the next request rather than in five minutes.
            WRITTEN.with(|w| w.borrow_mut().remove(&(site.clone(), origin.clone())));
            worker::console_error!("install check ({site}, {origin}): {e}");
        }
    });
}
