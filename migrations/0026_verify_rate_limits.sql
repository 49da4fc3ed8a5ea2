-- Twilio Verify service rate limits (`/v2/Services/{VA}/RateLimits…`). A rate limit (`RK…`)
-- names a key a verification request may carry (`RateLimits`: unique name → value); each of
-- its buckets (`BL…`) allows `max` sends per `interval_s` seconds for each value. The counts
-- are not here: the account's fraud guard object keeps them. New tables only: no existing
-- row changes. A unique name is unique per service and an interval per rate limit (the
-- indexes refuse a racing duplicate).
CREATE TABLE verify_rate_limits (
  sid TEXT PRIMARY KEY CHECK (length(sid) = 34 AND substr(sid, 1, 2) = 'RK'),
  service_sid TEXT NOT NULL REFERENCES verify_services(sid),
  account_id TEXT NOT NULL REFERENCES accounts(id),
  unique_name TEXT NOT NULL CHECK (length(unique_name) BETWEEN 1 AND 64),
  description TEXT CHECK (description IS NULL OR length(description) <= 255),
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX verify_rate_limits_name ON verify_rate_limits(service_sid, unique_name);

CREATE TABLE verify_rate_limit_buckets (
  sid TEXT PRIMARY KEY CHECK (length(sid) = 34 AND substr(sid, 1, 2) = 'BL'),
  rate_limit_sid TEXT NOT NULL REFERENCES verify_rate_limits(sid),
  service_sid TEXT NOT NULL REFERENCES verify_services(sid),
  account_id TEXT NOT NULL REFERENCES accounts(id),
  max INTEGER NOT NULL CHECK (max > 0),
  interval_s INTEGER NOT NULL CHECK (interval_s > 0),
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX verify_rate_limit_buckets_interval ON verify_rate_limit_buckets(rate_limit_sid, interval_s);
