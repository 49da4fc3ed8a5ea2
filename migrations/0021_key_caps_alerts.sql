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

-- Usage alerts (POST /v1/usage/alerts): when an account's spend in a UTC day or month reaches
-- a threshold (an amount in minor units, or a percentage of the account's cap for the period).
CREATE TABLE usage_alerts (
  id TEXT PRIMARY KEY,
  account_id TEXT NOT NULL REFERENCES accounts(id),
  period TEXT NOT NULL CHECK (period IN ('daily', 'monthly')),
  threshold INTEGER CHECK (threshold IS NULL OR threshold > 0),
  percent_of_cap INTEGER CHECK (percent_of_cap IS NULL OR percent_of_cap BETWEEN 1 AND 100),
  created_at INTEGER NOT NULL,
  CHECK ((threshold IS NULL) <> (percent_of_cap IS NULL))
);
CREATE INDEX usage_alerts_account ON usage_alerts(account_id, period);

-- Each crossing of an alert, once per period (its primary key): written by the triggers below
-- inside the charge's own batch, so parallel charges that cross together record one. The
-- scheduled pass turns each into a `usage.threshold_crossed` webhook event (notified_at).
CREATE TABLE usage_notices (
  alert_id TEXT NOT NULL,
  account_id TEXT NOT NULL,
  period TEXT NOT NULL,
  spent INTEGER NOT NULL,
  threshold INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  notified_at INTEGER,
  PRIMARY KEY (alert_id, period)
);
CREATE INDEX usage_notices_account ON usage_notices(account_id, created_at);
CREATE INDEX usage_notices_pending ON usage_notices(created_at) WHERE notified_at IS NULL;

-- An account's first charge of a period, and each later one: the alerts of that period whose
-- threshold the spend reaches now, and had not before, are crossed. A percentage is of the
-- cap the charge was checked against (spend.cap); the time is the charge's ledger row's.
CREATE TRIGGER usage_crossed_first AFTER INSERT ON spend
WHEN NEW.scope_kind = 'account' AND NEW.amount > 0
BEGIN
  INSERT OR IGNORE INTO usage_notices (alert_id, account_id, period, spent, threshold, created_at)
  SELECT a.id, a.account_id, NEW.period, NEW.amount,
    COALESCE(a.threshold, NEW.cap * a.percent_of_cap / 100),
    (SELECT created_at FROM ledger WHERE account_id = NEW.scope_id ORDER BY seq DESC LIMIT 1)
  FROM usage_alerts a
  WHERE a.account_id = NEW.scope_id
    AND a.period = CASE WHEN NEW.period LIKE 'd:%' THEN 'daily' ELSE 'monthly' END
    AND COALESCE(a.threshold, NEW.cap * a.percent_of_cap / 100) <= NEW.amount; END;
CREATE TRIGGER usage_crossed AFTER UPDATE OF amount ON spend
WHEN NEW.scope_kind = 'account' AND NEW.amount > OLD.amount
BEGIN
  INSERT OR IGNORE INTO usage_notices (alert_id, account_id, period, spent, threshold, created_at)
  SELECT a.id, a.account_id, NEW.period, NEW.amount,
    COALESCE(a.threshold, NEW.cap * a.percent_of_cap / 100),
    (SELECT created_at FROM ledger WHERE account_id = NEW.scope_id ORDER BY seq DESC LIMIT 1)
  FROM usage_alerts a
  WHERE a.account_id = NEW.scope_id
    AND a.period = CASE WHEN NEW.period LIKE 'd:%' THEN 'daily' ELSE 'monthly' END
    AND COALESCE(a.threshold, NEW.cap * a.percent_of_cap / 100) > OLD.amount
    AND COALESCE(a.threshold, NEW.cap * a.percent_of_cap / 100) <= NEW.amount; END;
