-- A/B experiments (issue 16): a booked meeting carries the experiment variant the visitor ran
-- (sent with POST /book, checked against the dialogue's variants like events and leads), so the
-- experiment report counts each variant's meetings from the meeting rows themselves.
ALTER TABLE meetings ADD COLUMN variant TEXT;
CREATE INDEX meetings_experiment ON meetings (site, dialogue, variant) WHERE variant IS NOT NULL;
