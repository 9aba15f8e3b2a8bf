-- dynchat D1 schema (issue 14, part 3): the initial sync also caches each exported lead's
-- company (account) record, read through the Companies API (Marketo has no bulk extract for
-- companies) by the lead's company name, at most 300 names per call. How many exported leads
-- got their company record, for the progress on the Marketo page.
ALTER TABLE marketo_initial_sync ADD COLUMN companies_done INTEGER NOT NULL DEFAULT 0;
