-- dynchat D1 schema v1: sites, published dialogue versions, events and daily rollups,
-- the lead outbox with delivery state, dead letters, chat activities, Marketo sync cache.

CREATE TABLE sites (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  allowed_origins TEXT NOT NULL DEFAULT '[]',   -- JSON array of origins
  config TEXT NOT NULL DEFAULT '{}',            -- look and feel, consent_required, ...
  lead_fields TEXT NOT NULL DEFAULT '[]',       -- JSON array of Marketo field names offered to authors
  trait_fields TEXT NOT NULL DEFAULT '[]',      -- lead./company. fields the published dialogues read
  program_id INTEGER,                           -- Marketo program for membership
  program_status TEXT,
  rate_site_per_minute INTEGER,
  rate_ip_per_minute INTEGER,
  bundle_etag TEXT NOT NULL DEFAULT '""',
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);

-- Every version ever published; immutable, addressed by content hash.
CREATE TABLE dialogue_versions (
  site TEXT NOT NULL,
  hash TEXT NOT NULL,
  dialogue TEXT NOT NULL,
  json TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (site, hash)
);

-- Which version of each dialogue is live.
CREATE TABLE published (
  site TEXT NOT NULL,
  dialogue TEXT NOT NULL,
  hash TEXT NOT NULL,
  priority INTEGER NOT NULL DEFAULT 0,
  published_at INTEGER NOT NULL,
  PRIMARY KEY (site, dialogue)
);

CREATE TABLE events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  site TEXT NOT NULL,
  visitor TEXT NOT NULL,
  session TEXT NOT NULL,
  type TEXT NOT NULL,
  dialogue TEXT NOT NULL,
  hash TEXT,
  card TEXT,
  value TEXT,
  at INTEGER NOT NULL,          -- client time (informative)
  day INTEGER NOT NULL,         -- server day number (days since epoch, UTC)
  received_at INTEGER NOT NULL
);
CREATE INDEX events_day ON events (day);
CREATE INDEX events_session ON events (site, session);

CREATE TABLE metrics_daily (
  site TEXT NOT NULL,
  dialogue TEXT NOT NULL,
  day INTEGER NOT NULL,
  triggered INTEGER NOT NULL DEFAULT 0,
  engaged INTEGER NOT NULL DEFAULT 0,
  completed INTEGER NOT NULL DEFAULT 0,
  captured INTEGER NOT NULL DEFAULT 0,
  meetings INTEGER NOT NULL DEFAULT 0,
  goals INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (site, dialogue, day)
);
CREATE INDEX metrics_day ON metrics_daily (day);

-- The outbox: source of truth for delivery to Marketo.
-- status: queued -> delivered | dead. next_attempt_at doubles as the gate's lease.
CREATE TABLE leads (
  id TEXT PRIMARY KEY,
  site TEXT NOT NULL,
  idem_key TEXT NOT NULL,
  body_hash TEXT NOT NULL,
  visitor TEXT NOT NULL,
  session TEXT NOT NULL,
  dialogue TEXT NOT NULL,
  hash TEXT,
  email TEXT NOT NULL,
  record TEXT NOT NULL,          -- JSON object sent to leads.json
  transcript TEXT NOT NULL DEFAULT '',
  mkto_trk TEXT,
  status TEXT NOT NULL DEFAULT 'queued',
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL DEFAULT 0,
  marketo_id INTEGER,
  member_status TEXT NOT NULL DEFAULT 'pending',   -- pending | done | none
  last_error TEXT,
  created_at INTEGER NOT NULL,
  delivered_at INTEGER,
  UNIQUE (site, idem_key)
);
CREATE INDEX leads_due ON leads (status, next_attempt_at);
CREATE INDEX leads_member ON leads (member_status, marketo_id);
CREATE INDEX leads_visitor ON leads (site, visitor);

CREATE TABLE dead_letters (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  kind TEXT NOT NULL,            -- lead | activity
  ref TEXT NOT NULL,             -- lead id or activity id
  site TEXT NOT NULL,
  code TEXT NOT NULL,            -- Marketo reason code, e.g. 1003
  reason TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  retried_at INTEGER
);

-- Chat activities waiting for their lead's Marketo id, then delivered.
CREATE TABLE activities (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  site TEXT NOT NULL,
  lead_id TEXT NOT NULL,
  type_api TEXT NOT NULL,
  primary_value TEXT NOT NULL,
  attributes TEXT NOT NULL,      -- JSON [[name, value], ...]
  at INTEGER NOT NULL,
  status TEXT NOT NULL DEFAULT 'queued',   -- queued | delivered | dead
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL DEFAULT 0,
  last_error TEXT,
  UNIQUE (lead_id, type_api, primary_value, at)
);
CREATE INDEX activities_due ON activities (status, next_attempt_at);

-- Custom activity type ids in the Marketo subscription, filled by the setup command.
CREATE TABLE activity_types (
  api_name TEXT PRIMARY KEY,
  type_id INTEGER NOT NULL,
  approved INTEGER NOT NULL DEFAULT 0
);

-- Known visitors for targeting: by tracking cookie or email, with freshness.
CREATE TABLE marketo_cache (
  key_type TEXT NOT NULL,        -- cookie | email
  key TEXT NOT NULL,
  lead_id INTEGER,               -- NULL: Marketo does not know this visitor
  fields TEXT NOT NULL DEFAULT '{}',
  fetched_at INTEGER NOT NULL,
  PRIMARY KEY (key_type, key)
);
CREATE INDEX marketo_cache_lead ON marketo_cache (lead_id);

CREATE TABLE settings (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
