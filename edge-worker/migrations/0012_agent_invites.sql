-- dynchat D1 schema v12: agent invitations and the site's default queue.

-- A set-password link sent to an invited agent: stored by the SHA-256 of its token (never the
-- token), single use (used_at), valid until expires_at (72 h after it was sent).
CREATE TABLE agent_invites (
  token_digest TEXT PRIMARY KEY,
  account_id TEXT NOT NULL,          -- accounts.id (role agent)
  site TEXT NOT NULL,
  agent_id TEXT NOT NULL,            -- agents.id
  created_at INTEGER NOT NULL,       -- ms since the epoch (the worker's clock)
  expires_at INTEGER NOT NULL,
  used_at INTEGER
);
CREATE INDEX agent_invites_account ON agent_invites (account_id);

-- The queue an agent joins (at the end of the rotation) when they connect a calendar; NULL: none.
ALTER TABLE sites ADD COLUMN default_queue TEXT;
