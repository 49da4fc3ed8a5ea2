-- OTP sessions, templates, messages, the sandbox outbox, and result events for webhooks.
-- Times are INTEGER Unix milliseconds; costs INTEGER minor units (1/10000).

-- Templates (global, managed by the operator). id is a UUID.
CREATE TABLE templates (
  id TEXT PRIMARY KEY CHECK (length(id) = 36),
  name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 255),
  channel TEXT NOT NULL CHECK (channel IN ('sms', 'whatsapp', 'voice')),
  body TEXT NOT NULL CHECK (length(body) BETWEEN 1 AND 1000),
  created_at INTEGER NOT NULL
);

-- One row per OTP send. The code itself lives only as an HMAC in KV (OTP_SESSIONS); this
-- row is what serializes the checks: every check is ONE conditional UPDATE of it.
-- send_allowed is filled by a scalar subquery that is NULL when the resend rules refuse the
-- send, so the NOT NULL constraint fails the whole batch (charge included).
CREATE TABLE otp_sessions (
  id TEXT PRIMARY KEY,
  account_id TEXT NOT NULL REFERENCES accounts(id),
  phone TEXT NOT NULL,
  channel TEXT NOT NULL CHECK (channel IN ('sms', 'whatsapp', 'voice')),
  dialect TEXT NOT NULL CHECK (dialect IN ('whatotp', 'getotp', 'message')),
  sender TEXT,
  template_id TEXT,
  payload TEXT,
  cost INTEGER NOT NULL CHECK (cost >= 0),
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  max_attempts INTEGER NOT NULL CHECK (max_attempts > 0),
  verified_at INTEGER,
  send_allowed INTEGER NOT NULL
);
CREATE INDEX otp_sessions_phone ON otp_sessions(account_id, phone, created_at);

-- Template messages (POST /v1/messages/send). The text is never stored here (it may hold a
-- code); it is rendered, handed to the provider, and only the outcome is recorded.
CREATE TABLE messages (
  id TEXT PRIMARY KEY,
  account_id TEXT NOT NULL REFERENCES accounts(id),
  template_id TEXT NOT NULL REFERENCES templates(id),
  phone TEXT NOT NULL,
  channel TEXT NOT NULL CHECK (channel IN ('sms', 'whatsapp', 'voice')),
  status TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sent', 'failed')),
  session_id TEXT,
  cost INTEGER NOT NULL CHECK (cost >= 0),
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  sent_at INTEGER,
  error TEXT
);
CREATE INDEX messages_account ON messages(account_id, created_at);

-- The sandbox provider's outbox: every text it "delivers", in full.
CREATE TABLE outbox (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  to_phone TEXT NOT NULL,
  channel TEXT NOT NULL,
  sender TEXT,
  text TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'delivered',
  object_id TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX outbox_to ON outbox(to_phone, seq);

-- Result events for the account's webhook (delivered by the webhooks feature): at most one
-- event of each type per object.
CREATE TABLE webhook_events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  account_id TEXT NOT NULL REFERENCES accounts(id),
  event_type TEXT NOT NULL,
  object_id TEXT NOT NULL,
  data TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  delivered_at INTEGER
);
CREATE UNIQUE INDEX webhook_events_once ON webhook_events(object_id, event_type);
