-- The 5sim protocol (/v1/user/*, /v1/guest/*) names countries and products by 5sim's own
-- lower-case names ("england", "telegram"); its orders are the activations' integer ids
-- (numeric_ids, migration 0006).

-- 5sim's name for a country and a service. NULL: not offered on that protocol.
ALTER TABLE countries ADD COLUMN fivesim_name TEXT CHECK (fivesim_name IS NULL OR fivesim_name = lower(fivesim_name));
CREATE UNIQUE INDEX countries_fivesim_name ON countries(fivesim_name) WHERE fivesim_name IS NOT NULL;
ALTER TABLE services ADD COLUMN fivesim_product TEXT CHECK (fivesim_product IS NULL OR fivesim_product = lower(fivesim_product));
CREATE UNIQUE INDEX services_fivesim_product ON services(fivesim_product) WHERE fivesim_product IS NOT NULL;

-- An account's price ceiling per service for purchases on any operator
-- (GET|POST|DELETE /v1/user/max-prices), in minor units.
CREATE TABLE fivesim_max_prices (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  account_id TEXT NOT NULL REFERENCES accounts(id),
  service TEXT NOT NULL REFERENCES services(code),
  price INTEGER NOT NULL CHECK (price > 0),
  created_at INTEGER NOT NULL,
  UNIQUE (account_id, service)
);

-- Activations cancelled as banned (GET /v1/user/ban/{id}): the number had been used for the
-- service before. The cancel and its refund are the activation's own; a number is never sold
-- twice for one service (activations_number_service), so it stays out of sale for it.
CREATE TABLE activation_bans (
  activation_id TEXT PRIMARY KEY REFERENCES activations(id),
  created_at INTEGER NOT NULL
);

-- An account's sms-activate webhook (PUT|GET|DELETE /v1/webhook/sms-activate): every SMS of
-- its activations and rents is POSTed there in sms-activate's shape, through the same
-- outbox (webhook_events, event types 'sms_activate.*') and dispatcher as its other events.
CREATE TABLE sms_activate_webhooks (
  account_id TEXT PRIMARY KEY REFERENCES accounts(id),
  url TEXT NOT NULL CHECK (length(url) BETWEEN 9 AND 2048),
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
