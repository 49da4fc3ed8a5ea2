-- Outbound webhooks: one endpoint per account, delivery state on each event of the outbox
-- (webhook_events, created with the OTP tables), and every attempt recorded.

CREATE TABLE webhook_endpoints (
  account_id TEXT PRIMARY KEY REFERENCES accounts(id),
  url TEXT NOT NULL CHECK (length(url) BETWEEN 9 AND 2048),
  -- The signing secret is derived from SERVER_KEY, the account id and this version.
  secret_version INTEGER NOT NULL DEFAULT 1 CHECK (secret_version >= 1),
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);

ALTER TABLE webhook_events ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0);
ALTER TABLE webhook_events ADD COLUMN next_attempt_at INTEGER;
ALTER TABLE webhook_events ADD COLUMN failed_at INTEGER;
CREATE INDEX webhook_events_queue ON webhook_events(account_id, seq) WHERE delivered_at IS NULL AND failed_at IS NULL;

CREATE TABLE webhook_attempts (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  event_id TEXT NOT NULL REFERENCES webhook_events(id),
  account_id TEXT NOT NULL REFERENCES accounts(id),
  attempt INTEGER NOT NULL CHECK (attempt >= 1),
  url TEXT NOT NULL,
  status_code INTEGER,
  error TEXT,
  duration_ms INTEGER NOT NULL,
  succeeded INTEGER NOT NULL CHECK (succeeded IN (0, 1)),
  created_at INTEGER NOT NULL,
  next_attempt_at INTEGER,
  UNIQUE (event_id, attempt, created_at)
);
CREATE INDEX webhook_attempts_account ON webhook_attempts(account_id, seq);

-- One event per (object, type, version): an activation reports every transition (its Durable
-- Object's version counter), other objects use version 0 (once per type).
ALTER TABLE webhook_events ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
DROP INDEX webhook_events_once;
CREATE UNIQUE INDEX webhook_events_once ON webhook_events(object_id, event_type, version);
