-- The audit log: who did what to which resource, and why. One row per change, written in the
-- same D1 batch as the change it records (store::audit). Insert-only: the triggers below
-- refuse every UPDATE and DELETE, so no statement (and no retention pass) can edit history.
-- `account_id` is the account the change concerns (NULL: the platform's own, such as the
-- catalog): a customer reads its account's rows only (GET /v1/audit).
CREATE TABLE audit_events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at INTEGER NOT NULL,
  actor_type TEXT NOT NULL CHECK (actor_type IN ('user', 'api_key', 'admin', 'system')),
  actor_id TEXT,
  ip TEXT,
  account_id TEXT,
  action TEXT NOT NULL CHECK (length(action) BETWEEN 1 AND 64),
  resource_type TEXT NOT NULL CHECK (length(resource_type) BETWEEN 1 AND 64),
  resource_id TEXT,
  before TEXT CHECK (before IS NULL OR json_valid(before)),
  after TEXT CHECK (after IS NULL OR json_valid(after)),
  reason TEXT CHECK (reason IS NULL OR length(reason) BETWEEN 1 AND 500),
  request_id TEXT
);
-- A customer's own rows, newest first.
CREATE INDEX audit_events_account ON audit_events(account_id, id);
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;

-- The operator console's sign-in sessions (the admin token exchanged once for a cookie),
-- stored as the SHA-256 of their token, like the customers' sessions.
CREATE TABLE admin_sessions (
  id TEXT PRIMARY KEY,
  token_hash TEXT NOT NULL UNIQUE CHECK (length(token_hash) = 64),
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  revoked_at INTEGER,
  ip TEXT
);

-- The console's account search: by id, by email prefix (accounts_email) and by name prefix.
CREATE INDEX accounts_name ON accounts(name);
-- The console's inventory page counts each supplier's numbers.
CREATE INDEX numbers_supplier ON numbers(supplier_id);
