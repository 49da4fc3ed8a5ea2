-- The catalog the operator loads with PUT /admin/catalog. Costs are INTEGER minor units (1/10000).

CREATE TABLE countries (
  code TEXT PRIMARY KEY CHECK (length(code) = 2 AND code = upper(code)),
  name TEXT NOT NULL
);

-- Extra names a client may use for a country, e.g. OTPWALL's "pkr" for PK. Stored lower-case.
CREATE TABLE country_aliases (
  alias TEXT PRIMARY KEY CHECK (alias = lower(alias)),
  country TEXT NOT NULL REFERENCES countries(code)
);

CREATE TABLE services (
  code TEXT PRIMARY KEY CHECK (code = lower(code)),
  name TEXT NOT NULL
);

-- An operator is named by its id or its name (case-insensitive) within a country.
CREATE TABLE operators (
  country TEXT NOT NULL REFERENCES countries(code),
  id TEXT NOT NULL,
  name TEXT NOT NULL,
  PRIMARY KEY (country, id)
);
CREATE UNIQUE INDEX operators_name ON operators(country, lower(name));

-- Activation price per (country, service, operator). Stock is derived from the inventory.
CREATE TABLE prices (
  country TEXT NOT NULL,
  service TEXT NOT NULL REFERENCES services(code),
  operator TEXT NOT NULL,
  cost INTEGER NOT NULL CHECK (cost > 0),
  PRIMARY KEY (country, service, operator),
  FOREIGN KEY (country, operator) REFERENCES operators(country, id)
);

-- Rent price per (country, service, operator, duration in hours).
CREATE TABLE rent_prices (
  country TEXT NOT NULL,
  service TEXT NOT NULL REFERENCES services(code),
  operator TEXT NOT NULL,
  hours INTEGER NOT NULL CHECK (hours > 0),
  cost INTEGER NOT NULL CHECK (cost > 0),
  PRIMARY KEY (country, service, operator, hours),
  FOREIGN KEY (country, operator) REFERENCES operators(country, id)
);

-- Price of one OTP send per (destination country, channel).
CREATE TABLE otp_prices (
  country TEXT NOT NULL REFERENCES countries(code),
  channel TEXT NOT NULL CHECK (channel IN ('sms', 'whatsapp', 'voice')),
  cost INTEGER NOT NULL CHECK (cost > 0),
  PRIMARY KEY (country, channel)
);
