//! The installation check's table `install_seen`: page origins that requested a site's bundle.

use crate::edge::db::{self, n, s};
use crate::error::ApiError;
use crate::install::{Seen, MAX_UNLISTED_ORIGINS};
use worker::D1Database;

/// Records a bundle request from `origin`. An allowed origin is always written; another one
/// only while the site has fewer than [`MAX_UNLISTED_ORIGINS`] rows of not-allowed origins, so
/// foreign pages cannot fill the table.
pub async fn record(
    database: &D1Database,
    site: &str,
    origin: &str,
    allowed: bool,
    now: i64,
) -> Result<(), ApiError> {
    let allowed = i64::from(allowed);
    db::exec(
        database,
        "INSERT INTO install_seen (site, origin, allowed, first_at, last_at) \
         SELECT ?, ?, ?, ?, ? WHERE ? = 1 OR (SELECT COUNT(*) FROM install_seen WHERE site = ? AND allowed = 0) < ? \
         ON CONFLICT(site, origin) DO UPDATE SET allowed = excluded.allowed, last_at = excluded.last_at",
        &[s(site), s(origin), n(allowed), n(now), n(now), n(allowed), s(site), n(MAX_UNLISTED_ORIGINS)],
    )
    .await?;
    Ok(())
}

/// The recorded origins of a site, newest first.
pub async fn seen(database: &D1Database, site: &str) -> Result<Vec<Seen>, ApiError> {
    db::rows(
        database,
        "SELECT origin, allowed, first_at, last_at FROM install_seen WHERE site = ? ORDER BY last_at DESC LIMIT 100",
        &[s(site)],
    )
    .await
}
