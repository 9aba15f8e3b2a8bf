-- A/B experiments (issue 16): the variant a visitor ran rides on their events and leads (a
-- meeting counts for the variant of its session's conversation); each stored dialogue version
-- lists its experiment's variant ids (comma-separated, '' without an experiment) so the public
-- API can refuse an unknown variant with a 400.
ALTER TABLE dialogue_versions ADD COLUMN variants TEXT NOT NULL DEFAULT '';
ALTER TABLE events ADD COLUMN variant TEXT;
ALTER TABLE leads ADD COLUMN variant TEXT;
-- The experiment report groups one dialogue's conversations by variant.
CREATE INDEX events_experiment ON events (site, dialogue, variant, session) WHERE variant IS NOT NULL;
-- ...and counts each conversation's meetings by its session.
CREATE INDEX IF NOT EXISTS meetings_session ON meetings (site, session, dialogue);
