-- An API key's own spend caps, in minor units per UTC day and UTC month (NULL: no cap),
-- checked with the account's in the debit's batch (store::limits::spend_statement).
ALTER TABLE api_keys ADD COLUMN spend_cap_daily INTEGER
  CHECK (spend_cap_daily IS NULL OR spend_cap_daily >= 0);
ALTER TABLE api_keys ADD COLUMN spend_cap_monthly INTEGER
  CHECK (spend_cap_monthly IS NULL OR spend_cap_monthly >= 0);

-- The API key that paid a charge (NULL: a session, the operator, a credit): a refund gives
-- the spend back to the caps of the charge's key.
ALTER TABLE ledger ADD COLUMN key_id TEXT;

-- The spend table again, with a key's caps named apart from the account's so a refusal
-- says which cap refused it. Every row is kept.
CREATE TABLE spend_by_scope (
  scope_kind TEXT NOT NULL CHECK (scope_kind IN ('account', 'key')),
  scope_id TEXT NOT NULL,
  period TEXT NOT NULL,
  amount INTEGER NOT NULL,
  cap INTEGER,
  PRIMARY KEY (scope_kind, scope_id, period),
  CONSTRAINT spend_cap_daily CHECK (cap IS NULL OR scope_kind <> 'account'
    OR period NOT LIKE 'd:%' OR amount <= cap),
  CONSTRAINT spend_cap_monthly CHECK (cap IS NULL OR scope_kind <> 'account'
    OR period NOT LIKE 'm:%' OR amount <= cap),
  CONSTRAINT key_spend_cap_daily CHECK (cap IS NULL OR scope_kind <> 'key'
    OR period NOT LIKE 'd:%' OR amount <= cap),
  CONSTRAINT key_spend_cap_monthly CHECK (cap IS NULL OR scope_kind <> 'key'
    OR period NOT LIKE 'm:%' OR amount <= cap)
);
INSERT INTO spend_by_scope (scope_kind, scope_id, period, amount, cap)
  SELECT scope_kind, scope_id, period, amount, cap FROM spend;
DROP TABLE spend;
ALTER TABLE spend_by_scope RENAME TO spend;
