-- Channel fallback (workflow steps) and the Vonage Verify v2 front door.

-- One row per workflow step that went out (the session's first message is the session's own
-- row). Its id is the step's ledger object (one charge per step); `cost` is the catalog's
-- price for its channel, read by the step's insert (NULL: no price, the batch fails);
-- `send_allowed` is NULL when D1 already knows the session verified (the batch fails).
CREATE TABLE otp_steps (
  id TEXT PRIMARY KEY,
  session_id TEXT NOT NULL,
  account_id TEXT NOT NULL REFERENCES accounts(id),
  n INTEGER NOT NULL CHECK (n >= 0),
  channel TEXT NOT NULL,
  cost INTEGER NOT NULL CHECK (cost >= 0),
  created_at INTEGER NOT NULL,
  send_allowed INTEGER NOT NULL
);
CREATE INDEX otp_steps_session ON otp_steps(session_id);

-- Vonage applications: a public key (SPKI, PEM) a customer registered, whose private key
-- signs the JWTs its Vonage SDK sends; `callback_url` receives the status callbacks.
CREATE TABLE vonage_applications (
  id TEXT PRIMARY KEY,
  account_id TEXT NOT NULL REFERENCES accounts(id),
  public_key TEXT NOT NULL CHECK (length(public_key) BETWEEN 1 AND 8192),
  callback_url TEXT,
  created_at INTEGER NOT NULL
);
CREATE INDEX vonage_applications_account ON vonage_applications(account_id);
