-- Customers sign themselves up (issue 11): a login on the account (email + password hash),
-- an approval flag, login sessions, named API keys, customer-owned templates, and the state
-- that throttles failed logins. Secrets are never stored: passwords as argon2id PHC strings,
-- session tokens and API keys as SHA-256 (hex).

-- Email: trimmed and lower-cased by the Worker (src/domain/account.rs), one account per
-- email. NULL for an account the operator created without a login (POST /admin/accounts).
ALTER TABLE accounts ADD COLUMN email TEXT CHECK (email IS NULL OR (email = lower(email) AND length(email) BETWEEN 3 AND 254));
-- A PHC string ("$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>"); NULL: no password login.
ALTER TABLE accounts ADD COLUMN password_hash TEXT CHECK (password_hash IS NULL OR length(password_hash) BETWEEN 20 AND 255);
-- 1: may move money. Operator-created and existing accounts are approved; a self-registered
-- one starts at 0 when SIGNUP_APPROVAL = "manual", until POST /admin/accounts/{id}/approve.
ALTER TABLE accounts ADD COLUMN approved INTEGER NOT NULL DEFAULT 1 CHECK (approved IN (0, 1));
ALTER TABLE accounts ADD COLUMN approved_at TEXT;
CREATE UNIQUE INDEX accounts_email ON accounts(email) WHERE email IS NOT NULL;
CREATE INDEX accounts_created ON accounts(created_at, id);

-- API keys get a name (customer-chosen label) and an approximate last use (written at most
-- once a minute per key). `prefix` (the key's first characters) already exists.
ALTER TABLE api_keys ADD COLUMN name TEXT CHECK (name IS NULL OR length(name) BETWEEN 1 AND 100);
ALTER TABLE api_keys ADD COLUMN last_used_at TEXT;

-- Login sessions. The token (256 random bits) is shown once, in the login answer and the
-- cookie; only its SHA-256 is here. A session is live while revoked_at IS NULL and now is
-- before both idle_expires_at (pushed forward on use) and expires_at (absolute). Times are
-- INTEGER Unix milliseconds. `id` is not secret: it names the session in lists.
CREATE TABLE sessions (
  id TEXT PRIMARY KEY,
  account_id TEXT NOT NULL REFERENCES accounts(id),
  token_hash TEXT NOT NULL UNIQUE CHECK (length(token_hash) = 64),
  created_at INTEGER NOT NULL,
  last_seen_at INTEGER NOT NULL,
  idle_expires_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  revoked_at INTEGER,
  user_agent TEXT CHECK (user_agent IS NULL OR length(user_agent) <= 255),
  CHECK (idle_expires_at <= expires_at)
);
CREATE INDEX sessions_account ON sessions(account_id, created_at);

-- Failed-login throttle, one row per subject: "email:<sha256 of the normalized email>" (so
-- an unknown email is throttled exactly like a known one, and no guessed address is stored
-- in the clear) or "ip:<sha256 of the client IP>". Each login attempt is counted up front by
-- one atomic UPSERT (so parallel guesses cannot overrun the limit); a success gives it back.
-- Times are INTEGER Unix milliseconds.
CREATE TABLE login_throttle (
  subject TEXT PRIMARY KEY,
  failures INTEGER NOT NULL CHECK (failures >= 0),
  window_start INTEGER NOT NULL,
  locked_until INTEGER
);

-- Templates belong to a customer (account_id) or, when NULL, are the operator's shared ones
-- that every account may use. Deleting is soft (messages keep referencing their template).
ALTER TABLE templates ADD COLUMN account_id TEXT REFERENCES accounts(id);
ALTER TABLE templates ADD COLUMN deleted_at INTEGER;
CREATE INDEX templates_account ON templates(account_id, created_at);
