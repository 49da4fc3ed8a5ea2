-- Twilio Verify v2 compatibility (/v2/Services…): Twilio-style ids for accounts and API
-- keys, Verify services, and verifications mapped onto OTP sessions (otp_sessions stays the
-- one place where codes are checked, attempts counted and sends charged).
-- Times are INTEGER Unix milliseconds.

-- Every account gets `AC` + 32 lowercase hex (HTTP Basic username of the Twilio dialect and
-- `twilio_account_sid` in the profile); every API key `SK` + 32 hex (the other accepted
-- username). Existing rows are backfilled; new rows get theirs from the triggers below, so
-- no code path that creates accounts or keys has to know about them.
ALTER TABLE accounts ADD COLUMN twilio_sid TEXT;
UPDATE accounts SET twilio_sid = 'AC' || lower(hex(randomblob(16))) WHERE twilio_sid IS NULL;
CREATE UNIQUE INDEX accounts_twilio_sid ON accounts(twilio_sid);
CREATE TRIGGER accounts_twilio_sid_new AFTER INSERT ON accounts WHEN NEW.twilio_sid IS NULL BEGIN UPDATE accounts SET twilio_sid = 'AC' || lower(hex(randomblob(16))) WHERE id = NEW.id; END;

ALTER TABLE api_keys ADD COLUMN twilio_sid TEXT;
UPDATE api_keys SET twilio_sid = 'SK' || lower(hex(randomblob(16))) WHERE twilio_sid IS NULL;
CREATE UNIQUE INDEX api_keys_twilio_sid ON api_keys(twilio_sid);
CREATE TRIGGER api_keys_twilio_sid_new AFTER INSERT ON api_keys WHEN NEW.twilio_sid IS NULL BEGIN UPDATE api_keys SET twilio_sid = 'SK' || lower(hex(randomblob(16))) WHERE id = NEW.id; END;

-- Verify services (`VA…`) of an account. A deleted service keeps its row (deleted_at) so
-- its verifications stay attributable; it is invisible to every route.
CREATE TABLE verify_services (
  sid TEXT PRIMARY KEY CHECK (length(sid) = 34 AND substr(sid, 1, 2) = 'VA'),
  account_id TEXT NOT NULL REFERENCES accounts(id),
  friendly_name TEXT NOT NULL CHECK (length(friendly_name) BETWEEN 1 AND 255),
  code_length INTEGER NOT NULL DEFAULT 6 CHECK (code_length BETWEEN 4 AND 10),
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  deleted_at INTEGER
);
CREATE INDEX verify_services_account ON verify_services(account_id, created_at);

-- Verifications (`VE…`). Their state is not stored here but read from the OTP session of
-- their latest send (approved = verified, max_attempts_reached = attempts spent, expired),
-- except a cancel, which is the verification's own.
CREATE TABLE verify_verifications (
  sid TEXT PRIMARY KEY CHECK (length(sid) = 34 AND substr(sid, 1, 2) = 'VE'),
  service_sid TEXT NOT NULL REFERENCES verify_services(sid),
  account_id TEXT NOT NULL REFERENCES accounts(id),
  to_phone TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  canceled_at INTEGER
);
CREATE INDEX verify_verifications_to ON verify_verifications(service_sid, to_phone, created_at);

-- Each send of a verification (the first and every resend) is one OTP session, whose id is
-- the send's `VL…` attempt sid. A row whose session was never recorded (the send was
-- refused: resend rules, wallet, price) matches no otp_sessions row and is ignored.
CREATE TABLE verify_sends (
  session_id TEXT PRIMARY KEY CHECK (length(session_id) = 34 AND substr(session_id, 1, 2) = 'VL'),
  verification_sid TEXT NOT NULL REFERENCES verify_verifications(sid),
  channel TEXT NOT NULL CHECK (channel IN ('sms', 'call', 'whatsapp')),
  created_at INTEGER NOT NULL
);
CREATE INDEX verify_sends_verification ON verify_sends(verification_sid, created_at);
