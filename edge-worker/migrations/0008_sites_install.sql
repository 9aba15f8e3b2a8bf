-- dynchat D1 schema v8: accounts belong to sites, and the installation check.

-- all_sites = 1: the account sees every site, also ones created later (owners, and every account
-- from before v8, which saw all sites). all_sites = 0: only the sites in account_sites.
ALTER TABLE accounts ADD COLUMN all_sites INTEGER NOT NULL DEFAULT 1;

CREATE TABLE account_sites (
  account_id TEXT NOT NULL,          -- accounts.id
  site TEXT NOT NULL,                -- sites.id
  PRIMARY KEY (account_id, site)
);
CREATE INDEX account_sites_site ON account_sites (site);

-- The installation check: per site and page Origin, when the bundle was first and last requested
-- and whether that origin was allowed then. Written at most once per origin per isolate every few
-- minutes (edge/install.rs); rows of origins that are not allowed are capped per site.
CREATE TABLE install_seen (
  site TEXT NOT NULL,
  origin TEXT NOT NULL,              -- scheme://host[:port], lower-case
  allowed INTEGER NOT NULL,          -- 1 when the origin was in allowed_origins at last_at
  first_at INTEGER NOT NULL,         -- ms since the epoch
  last_at INTEGER NOT NULL,
  PRIMARY KEY (site, origin)
);
