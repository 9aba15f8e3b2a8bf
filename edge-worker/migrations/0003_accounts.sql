-- dynchat D1 schema v3: console accounts (admin / agent), sessions, the login limiter, and the
-- console's Marketo connection (secret only encrypted) and per-dialogue Marketo programs.

CREATE TABLE accounts (
  id TEXT PRIMARY KEY,
  email TEXT NOT NULL UNIQUE,        -- lower-case
  name TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('admin', 'agent')),
  agent_id TEXT,                     -- for agents: the agent record they own (agents.id)
  password_hash TEXT NOT NULL,       -- pbkdf2-sha256$<iterations>$<salt>$<hash>
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);

-- A session is stored by the SHA-256 of its cookie token, never the token itself.
CREATE TABLE console_sessions (
  token_digest TEXT PRIMARY KEY,
  account_id TEXT NOT NULL,
  csrf TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE INDEX console_sessions_account ON console_sessions (account_id);

-- Failed logins per (IP, account) in the current window.
CREATE TABLE login_attempts (
  key TEXT PRIMARY KEY,              -- sha256(ip, email)
  window_start INTEGER NOT NULL,
  failures INTEGER NOT NULL
);

-- One Marketo connection as set in the console. The secret is AES-256-GCM with the CONSOLE_KEY
-- secret: base64(nonce || ciphertext); no API returns it.
CREATE TABLE marketo_connection (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  endpoint TEXT NOT NULL,
  client_id TEXT NOT NULL,
  secret TEXT,
  tested_at INTEGER,
  test_ok INTEGER,
  test_message TEXT,
  updated_at INTEGER NOT NULL
);

-- Marketo program and member statuses per dialogue (console).
CREATE TABLE dialogue_marketo (
  site TEXT NOT NULL,
  dialogue TEXT NOT NULL,
  program_id INTEGER,
  statuses TEXT NOT NULL DEFAULT '{}',  -- {"engaged": "..", "captured": "..", "meeting": ".."}
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (site, dialogue)
);
