-- The fraud guard's policy, one per account (GET|PUT /v1/fraud/policy). The policy is a JSON
-- object validated by domain::fraud::parse_policy; an account without a row has the defaults.
-- Counters, blocks and the safe list live in the account's FraudGuard Durable Object.
CREATE TABLE fraud_policies (
  account_id TEXT PRIMARY KEY REFERENCES accounts(id),
  policy     TEXT NOT NULL,
  updated_at INTEGER NOT NULL
);
