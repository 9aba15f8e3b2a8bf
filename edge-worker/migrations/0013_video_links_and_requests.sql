-- Issue 15: a meeting's video link (Google Meet, Teams, or the agent's fixed link), shown in the
-- visitor's confirmation and kept across a reschedule. Agents' video settings live in their
-- settings JSON (`video`, `video_link`).
ALTER TABLE meetings ADD COLUMN video_url TEXT;

-- Issue 15: the no-slot fallback. A visitor for whom no offered time fits leaves preferred
-- times; the queue is told by mail through the outbox (ids `<request id>:request:<n>`). The id
-- is derived from the site and the Idempotency-Key, so a retried request is stored once.
CREATE TABLE meeting_requests (
  site TEXT NOT NULL,
  id TEXT NOT NULL,
  idem_key TEXT NOT NULL,
  body_hash TEXT NOT NULL,
  route TEXT NOT NULL,                    -- as resolved (queue:<id> or agent:<id>)
  email TEXT NOT NULL,
  name TEXT NOT NULL DEFAULT '',
  preferred TEXT NOT NULL,                -- the visitor's words, at most 1,000 characters
  days TEXT NOT NULL DEFAULT '[]',        -- JSON list of YYYY-MM-DD
  tz TEXT NOT NULL,
  reason TEXT NOT NULL,                   -- no_slots | none_fit
  session TEXT NOT NULL DEFAULT '',
  dialogue TEXT NOT NULL DEFAULT '',
  notified INTEGER NOT NULL,              -- mails queued for the queue's members
  created_at INTEGER NOT NULL,
  PRIMARY KEY (site, id),
  UNIQUE (site, idem_key)
);
CREATE INDEX meeting_requests_site ON meeting_requests (site, created_at);

-- A queue's address for the no-slot fallback's notices (instead of mailing every member).
CREATE TABLE queue_request_notify (
  site TEXT NOT NULL,
  queue TEXT NOT NULL,
  email TEXT NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (site, queue)
);
