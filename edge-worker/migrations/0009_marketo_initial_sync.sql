-- dynchat D1 schema (issue 14, part 3): the one-time initial Marketo sync through Bulk Lead
-- Extract. One row (id 1): where the sync is, so a worker restart resumes it exactly where it
-- stopped. The rows of a file page and the new `file_offset` are written in one D1 batch, so a
-- page is never counted twice and never lost.
CREATE TABLE marketo_initial_sync (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  phase TEXT NOT NULL,                  -- create | enqueue | wait | read | done | failed
  since_ms INTEGER NOT NULL,            -- start of the first createdAt window
  until_ms INTEGER NOT NULL,            -- end of the last window (when the sync was started)
  window_start_ms INTEGER NOT NULL,     -- the window being exported
  windows_total INTEGER NOT NULL,
  windows_done INTEGER NOT NULL DEFAULT 0,
  fields TEXT NOT NULL,                 -- JSON list: Marketo field names exported
  export_id TEXT,                       -- the window's job
  file_size INTEGER,                    -- bytes of the window's file (when Completed)
  file_offset INTEGER NOT NULL DEFAULT 0, -- bytes of the file read and stored
  header TEXT,                          -- JSON list: the file's column names
  window_rows INTEGER NOT NULL DEFAULT 0, -- rows stored from the current window's file
  rows_done INTEGER NOT NULL DEFAULT 0,   -- rows stored, all windows
  rows_skipped INTEGER NOT NULL DEFAULT 0, -- rows without an email (not cached)
  bytes_done INTEGER NOT NULL DEFAULT 0,
  jobs_created INTEGER NOT NULL DEFAULT 0,
  calls INTEGER NOT NULL DEFAULT 0,
  errors INTEGER NOT NULL DEFAULT 0,
  last_error TEXT,
  next_at INTEGER NOT NULL DEFAULT 0,   -- nothing before this time (queue full, daily quota)
  started_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  finished_at INTEGER
);
