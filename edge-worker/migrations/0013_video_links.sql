-- Issue 15: a meeting's video link (Google Meet, Teams, or the agent's fixed link), shown in the
-- visitor's confirmation and kept across a reschedule. Agents' video settings live in their
-- settings JSON (`video`, `video_link`).
ALTER TABLE meetings ADD COLUMN video_url TEXT;
