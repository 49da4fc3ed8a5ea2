-- What an API key may do: its scopes, a space-separated list of scope names
-- (domain::scope). NULL: every scope (keys made before scopes existed, or made without any).
ALTER TABLE api_keys ADD COLUMN scopes TEXT;

-- An account's spend caps, in minor units per UTC day and UTC month (NULL: no cap).
CREATE TABLE account_limits (
  account_id TEXT PRIMARY KEY REFERENCES accounts(id),
  spend_cap_daily INTEGER CHECK (spend_cap_daily IS NULL OR spend_cap_daily >= 0),
  spend_cap_monthly INTEGER CHECK (spend_cap_monthly IS NULL OR spend_cap_monthly >= 0),
  updated_at INTEGER NOT NULL
);

-- What was spent in each UTC day ('d:YYYY-MM-DD') and month ('m:YYYY-MM') by a scope: a
-- whole account ('account', its id) or one key ('key', its id; room for per-key caps). Charges
-- add, refunds give back to the period of the charge they return. Written in the same batch
-- as the ledger row (store::limits::spend_statement), with the cap in force copied in: the
-- named CHECKs refuse a charge past a cap, and so roll the whole batch back.
CREATE TABLE spend (
  scope_kind TEXT NOT NULL CHECK (scope_kind IN ('account', 'key')),
  scope_id TEXT NOT NULL,
  period TEXT NOT NULL,
  amount INTEGER NOT NULL,
  cap INTEGER,
  PRIMARY KEY (scope_kind, scope_id, period),
  CONSTRAINT spend_cap_daily CHECK (cap IS NULL OR period NOT LIKE 'd:%' OR amount <= cap),
  CONSTRAINT spend_cap_monthly CHECK (cap IS NULL OR period NOT LIKE 'm:%' OR amount <= cap)
);
