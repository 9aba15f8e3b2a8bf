-- The conversation funnel (GET /admin/sites/{site}/metrics) finds the leads of a conversation
-- (site, session, dialogue) for every conversation in the range.
CREATE INDEX IF NOT EXISTS leads_session ON leads (site, session, dialogue);
