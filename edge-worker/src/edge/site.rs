//! The site record as the public API needs it, cached per isolate for a few seconds so the hot
//! paths (bundle, events, leads) do not read it on every request.

use super::db::real_now;
use super::store::sites;
use crate::error::ApiError;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use worker::D1Database;

/// A site as the public API needs it.
#[derive(Debug, Clone)]
pub struct Site {
    pub id: String,
    pub allowed_origins: Vec<String>,
    pub config: String,
    pub trait_fields: Vec<String>,
    pub program_id: Option<i64>,
    pub rate_site_per_minute: Option<i64>,
    pub rate_ip_per_minute: Option<i64>,
    pub etag: String,
    pub dialogue_ids: Vec<String>,
    /// The bundle's `launcher` member (`dynchat_engine::launcher`, JSON), made once with the copy:
    /// the ETag covers it and the bundle serves it.
    pub launcher: String,
}

/// How long an isolate trusts its copy (admin changes in this isolate drop it at once).
const SITE_CACHE_MS: i64 = 2_000;

thread_local! {
    static SITES: RefCell<HashMap<String, (i64, Rc<Site>)>> = RefCell::new(HashMap::new());
}

/// Drops a cached site (after an admin change in this isolate).
pub fn forget_site(id: &str) {
    SITES.with(|m| m.borrow_mut().remove(id));
}

/// Loads a site, or 404: one D1 batch, then cached per isolate for [`SITE_CACHE_MS`].
pub async fn site(db: &D1Database, id: &str) -> Result<Rc<Site>, ApiError> {
    if !crate::validate::valid_id(id) {
        return Err(ApiError::NotFound("site".into()));
    }
    let now = real_now();
    if let Some(hit) = SITES.with(|m| {
        m.borrow()
            .get(id)
            .filter(|(t, _)| now - *t < SITE_CACHE_MS)
            .map(|(_, s)| s.clone())
    }) {
        return Ok(hit);
    }
    let (row, ids) = sites::public(db, id)
        .await?
        .ok_or_else(|| ApiError::NotFound("site".into()))?;
    // Made before any 304: the launcher member (engine head, markup, catalogues) is in the ETag.
    let launcher = dynchat_engine::launcher::launcher(&row.config);
    let etag = crate::bundle::served_etag(&row.bundle_etag, &launcher);
    let site = Rc::new(Site {
        id: row.id,
        allowed_origins: serde_json::from_str(&row.allowed_origins).unwrap_or_default(),
        config: row.config,
        trait_fields: serde_json::from_str(&row.trait_fields).unwrap_or_default(),
        program_id: row.program_id,
        rate_site_per_minute: row.rate_site_per_minute,
        rate_ip_per_minute: row.rate_ip_per_minute,
        etag,
        dialogue_ids: ids,
        launcher,
    });
    SITES.with(|m| m.borrow_mut().insert(id.to_string(), (now, site.clone())));
    Ok(site)
}
