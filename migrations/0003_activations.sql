-- Number inventory, suppliers, activations, rents and inbound SMS.
-- "A number is never in two live activations/rents" is number_leases' primary key;
-- "never sold twice for one service" is the unique index on activations(number_id, service).

-- A supplier's secret (the HMAC key it signs inbound SMS with) is never stored: it is
-- derived from the SERVER_KEY secret, the supplier id and secret_version.
CREATE TABLE suppliers (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 255),
  secret_version INTEGER NOT NULL DEFAULT 1 CHECK (secret_version >= 1),
  created_at TEXT NOT NULL
);

CREATE TABLE numbers (
  id TEXT PRIMARY KEY,
  number TEXT NOT NULL UNIQUE,
  country TEXT NOT NULL REFERENCES countries(code),
  operator TEXT NOT NULL,
  -- When set, only this supplier may push SMS for the number.
  supplier_id TEXT REFERENCES suppliers(id),
  created_at TEXT NOT NULL,
  FOREIGN KEY (country, operator) REFERENCES operators(country, id)
);
CREATE INDEX numbers_country_operator ON numbers(country, operator);

-- The live holder of a number: one row per held number. An activation's lease is removed by
-- its Durable Object when it ends; a rent's lease is dead once expires_at has passed and is
-- removed by the next purchase of that number.
CREATE TABLE number_leases (
  number_id TEXT PRIMARY KEY REFERENCES numbers(id),
  kind TEXT NOT NULL CHECK (kind IN ('activation', 'rent')),
  object_id TEXT NOT NULL UNIQUE,
  expires_at INTEGER NOT NULL
);

CREATE TABLE activations (
  id TEXT PRIMARY KEY,
  account_id TEXT NOT NULL REFERENCES accounts(id),
  number_id TEXT NOT NULL REFERENCES numbers(id),
  number TEXT NOT NULL,
  country TEXT NOT NULL,
  service TEXT NOT NULL,
  operator TEXT NOT NULL,
  cost INTEGER NOT NULL CHECK (cost > 0),
  -- A mirror of the Durable Object's state (the object is authoritative).
  status TEXT NOT NULL CHECK (status IN ('waiting', 'received', 'complete', 'cancelled', 'expired')),
  created_at INTEGER NOT NULL,
  cancel_allowed_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  -- The object's transition counter: an older mirror write never overwrites a newer one.
  version INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX activations_number_service ON activations(number_id, service);
CREATE INDEX activations_account ON activations(account_id, created_at);

CREATE TABLE rents (
  id TEXT PRIMARY KEY,
  account_id TEXT NOT NULL REFERENCES accounts(id),
  number_id TEXT NOT NULL REFERENCES numbers(id),
  number TEXT NOT NULL,
  country TEXT NOT NULL,
  service TEXT NOT NULL,
  operator TEXT NOT NULL,
  hours INTEGER NOT NULL CHECK (hours > 0),
  cost INTEGER NOT NULL CHECK (cost > 0),
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE INDEX rents_account ON rents(account_id, created_at);

-- Every accepted inbound SMS, once per (supplier, sms_id). target_kind/target_id say where it
-- went; NULL means unmatched (no live activation or rent held the number).
CREATE TABLE inbound_sms (
  id TEXT PRIMARY KEY,
  supplier_id TEXT NOT NULL REFERENCES suppliers(id),
  sms_id TEXT NOT NULL,
  number TEXT NOT NULL,
  sender TEXT NOT NULL,
  text TEXT NOT NULL,
  code TEXT,
  received_at TEXT NOT NULL,
  target_kind TEXT CHECK (target_kind IN ('activation', 'rent')),
  target_id TEXT,
  -- 1 once the target's Durable Object has it (a redelivered SMS is forwarded again until then).
  delivered INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  UNIQUE (supplier_id, sms_id)
);
CREATE INDEX inbound_sms_target ON inbound_sms(target_kind, target_id, created_at);
CREATE INDEX inbound_sms_unmatched ON inbound_sms(number, created_at) WHERE target_id IS NULL;
