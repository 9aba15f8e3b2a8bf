-- dynchat D1 schema v4: the meetings mail outbox. Invitations, agent notifications and
-- cancellations are recorded here in the same batch as the meeting, then delivered over SMTP
-- by the QueueRouter's alarm; a refused or unreachable relay means a retry later (backoff),
-- never a lost invitation. A lease makes a message go out once even if two senders look.

CREATE TABLE mail_outbox (
  id TEXT PRIMARY KEY,                    -- meeting id ':' kind ':' sequence
  site TEXT NOT NULL,
  meeting TEXT NOT NULL,
  kind TEXT NOT NULL,                     -- invitation | notification | cancellation
  mail_from TEXT NOT NULL,                -- envelope sender
  rcpt TEXT NOT NULL,                     -- envelope recipient
  subject TEXT NOT NULL DEFAULT '',       -- shown to the admin while pending
  message TEXT NOT NULL,                  -- the complete RFC 5322 message
  status TEXT NOT NULL,                   -- pending | sent | failed
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  lease_until INTEGER NOT NULL DEFAULT 0, -- a sender holds the message until then
  last_error TEXT,
  created_at INTEGER NOT NULL,
  sent_at INTEGER
);
CREATE INDEX mail_outbox_due ON mail_outbox (status, next_attempt_at);
CREATE INDEX mail_outbox_site ON mail_outbox (site, status, created_at);
