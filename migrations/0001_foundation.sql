-- Accounts, API keys (SHA-256 only), wallets, ledger, idempotency records.
-- Money is INTEGER minor units of 1/10000. Constraints are the last line of defence.

CREATE TABLE accounts (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 255),
  status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
  created_at TEXT NOT NULL
);

CREATE TABLE api_keys (
  id TEXT PRIMARY KEY,
  account_id TEXT NOT NULL REFERENCES accounts(id),
  key_hash TEXT NOT NULL UNIQUE CHECK (length(key_hash) = 64),
  prefix TEXT NOT NULL,
  created_at TEXT NOT NULL,
  revoked_at TEXT
);
CREATE INDEX api_keys_account ON api_keys(account_id);

CREATE TABLE wallets (
  account_id TEXT PRIMARY KEY REFERENCES accounts(id),
  balance INTEGER NOT NULL DEFAULT 0 CHECK (balance >= 0 AND balance <= 1000000000000000),
  currency TEXT NOT NULL DEFAULT 'USD' CHECK (length(currency) = 3),
  updated_at TEXT NOT NULL
);

CREATE TABLE ledger (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  account_id TEXT NOT NULL REFERENCES accounts(id),
  kind TEXT NOT NULL CHECK (kind IN ('topup', 'purchase', 'refund', 'rent', 'rent_refund', 'otp_send', 'otp_refund', 'message_send', 'message_refund', 'adjustment')),
  amount INTEGER NOT NULL CHECK (amount <> 0),
  balance_after INTEGER NOT NULL CHECK (balance_after >= 0),
  reference TEXT,
  object_id TEXT,
  description TEXT NOT NULL,
  created_at TEXT NOT NULL,
  CHECK ((kind IN ('topup', 'refund', 'rent_refund', 'otp_refund', 'message_refund') AND amount > 0) OR (kind IN ('purchase', 'rent', 'otp_send', 'message_send') AND amount < 0) OR kind = 'adjustment')
);
CREATE INDEX ledger_account_seq ON ledger(account_id, seq);
-- One top-up per reference per account.
CREATE UNIQUE INDEX ledger_topup_reference ON ledger(account_id, reference) WHERE kind = 'topup';
-- At most one charge and one refund per object (activation, rent, OTP session, message).
CREATE UNIQUE INDEX ledger_object_kind ON ledger(object_id, kind) WHERE object_id IS NOT NULL;

CREATE TABLE idempotency (
  scope TEXT NOT NULL,
  idem_key TEXT NOT NULL CHECK (length(idem_key) BETWEEN 1 AND 255),
  fingerprint TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  status INTEGER,
  body TEXT,
  PRIMARY KEY (scope, idem_key)
);
