-- After a lead is delivered, its Munchkin tracking cookie (mkto_trk) is tied to it in Marketo
-- (POST /rest/v1/leads/{id}/associate.json), so the visitor is known by cookie next time.
ALTER TABLE leads ADD COLUMN assoc_status TEXT NOT NULL DEFAULT 'none';   -- none | pending | done | failed
ALTER TABLE leads ADD COLUMN assoc_next_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE leads ADD COLUMN assoc_attempts INTEGER NOT NULL DEFAULT 0;
CREATE INDEX leads_assoc ON leads (assoc_status, assoc_next_at);
-- The gate claims due leads oldest first: the index serves that order without a sort.
DROP INDEX leads_due;
CREATE INDEX leads_due ON leads (status, next_attempt_at, created_at);
