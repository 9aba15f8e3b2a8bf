-- dynchat D1 schema v2: agents, calendar connections, queues, meetings, assignment log.
-- Credentials are stored only encrypted (AES-256-GCM, key from the CALENDAR_KEY secret) and are
-- never returned by any API.

CREATE TABLE agents (
  site TEXT NOT NULL,
  id TEXT NOT NULL,
  name TEXT NOT NULL,
  email TEXT NOT NULL,
  settings TEXT NOT NULL,                 -- dynchat-scheduling AgentSettingsInput JSON
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (site, id)
);

-- One calendar per agent.
CREATE TABLE calendar_connections (
  site TEXT NOT NULL,
  agent TEXT NOT NULL,
  provider TEXT NOT NULL,                 -- google | graph | caldav
  account TEXT NOT NULL DEFAULT '',       -- account email or CalDAV collection URL (not secret)
  secret TEXT,                            -- base64(nonce || AES-GCM ciphertext) of the credentials JSON
  state TEXT NOT NULL,                    -- pending | connected | disconnected
  reason TEXT,                            -- why disconnected (e.g. invalid_grant)
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (site, agent)
);

-- OAuth consent in flight: the state parameter, one use, short-lived.
CREATE TABLE oauth_states (
  state TEXT PRIMARY KEY,
  site TEXT NOT NULL,
  agent TEXT NOT NULL,
  provider TEXT NOT NULL,
  redirect_uri TEXT NOT NULL,
  created_at INTEGER NOT NULL
);

CREATE TABLE queues (
  site TEXT NOT NULL,
  id TEXT NOT NULL,
  name TEXT NOT NULL,
  agents TEXT NOT NULL DEFAULT '[]',      -- JSON array of agent ids, in rotation order
  last_agent TEXT,                        -- mirror of the QueueRouter's pointer (informative)
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (site, id)
);

-- Invitation texts per site (tokens: visitor.name, agent.name, meeting.time, meeting.link).
CREATE TABLE meeting_templates (
  site TEXT PRIMARY KEY,
  subject TEXT NOT NULL,
  body TEXT NOT NULL,
  location TEXT,
  updated_at INTEGER NOT NULL
);

-- status: pending (a hold while the event is being created) -> scheduled -> no_show | cancelled.
-- "completed" is derived: scheduled and ended.
CREATE TABLE meetings (
  id TEXT PRIMARY KEY,
  site TEXT NOT NULL,
  idem_key TEXT NOT NULL,
  body_hash TEXT NOT NULL,
  route TEXT NOT NULL,
  agent TEXT NOT NULL,
  lead_email TEXT NOT NULL,
  lead_name TEXT NOT NULL DEFAULT '',
  lead_fields TEXT NOT NULL DEFAULT '{}',
  dialogue TEXT NOT NULL DEFAULT '',
  session TEXT NOT NULL DEFAULT '',
  start_ms INTEGER NOT NULL,
  end_ms INTEGER NOT NULL,
  tz TEXT NOT NULL,
  status TEXT NOT NULL,
  provider TEXT NOT NULL,
  event_id TEXT,
  uid TEXT NOT NULL,
  sequence INTEGER NOT NULL DEFAULT 0,
  invite_status TEXT NOT NULL DEFAULT 'none',   -- sent | by_provider | failed: .. | none
  notify_status TEXT NOT NULL DEFAULT 'none',
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  UNIQUE (site, idem_key)
);
CREATE INDEX meetings_agent_time ON meetings (site, agent, start_ms);
CREATE INDEX meetings_site_time ON meetings (site, start_ms);

-- Why each booking went to whom: every agent asked before the chosen one, with the reason.
CREATE TABLE assignment_log (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  site TEXT NOT NULL,
  route TEXT NOT NULL,
  meeting TEXT,
  slot_start INTEGER NOT NULL,
  slot_end INTEGER NOT NULL,
  next_in_line TEXT,
  chosen TEXT,
  skipped TEXT NOT NULL DEFAULT '[]',     -- JSON [{"agent","reason"}]
  outcome TEXT NOT NULL,                  -- booked | slot_taken | failed: ..
  at INTEGER NOT NULL
);
CREATE INDEX assignment_log_site ON assignment_log (site, id);
