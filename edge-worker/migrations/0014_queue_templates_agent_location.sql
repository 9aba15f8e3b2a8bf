-- dynchat D1 schema v14: an invitation template per queue, a meeting location per agent.

-- A queue's own invitation texts (same tokens as meeting_templates); without a row the site's
-- template (or the default) is used. The site's location stays the meeting link.
CREATE TABLE queue_templates (
  site TEXT NOT NULL,
  queue TEXT NOT NULL,
  subject TEXT NOT NULL,
  body TEXT NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (site, queue)
);

-- Where the agent meets visitors ("Office Amsterdam, room 3", a phone number): the invitation's
-- and the ICS LOCATION when set; NULL: the site template's location.
ALTER TABLE agents ADD COLUMN location TEXT;
