-- dynchat D1 schema (issue 14, part 3): the initial sync also caches each exported lead's
-- company (account) record, read through the Companies API (Marketo has no bulk extract for
-- companies) by the lead's company name, at most 300 names per call. How many exported leads
-- got their company record, for the progress on the Marketo page (all windows, and the current
-- window's, taken back when its export job is lost and the window is read again).
ALTER TABLE marketo_initial_sync ADD COLUMN companies_done INTEGER NOT NULL DEFAULT 0;
ALTER TABLE marketo_initial_sync ADD COLUMN window_companies INTEGER NOT NULL DEFAULT 0;
