-- OTP sessions name their front door `vonage` (Vonage Verify v2) and `prelude` (Prelude
-- Verify v2) too, so statistics count them per door; Vonage status callbacks, signed with
-- the application's signature secret.

-- The dialect column is rebuilt to admit the two doors (a CHECK cannot be altered): the
-- statistics triggers that name it are dropped and made again as they were; every row keeps
-- its dialect.
DROP TRIGGER otp_stats_sent;
DROP TRIGGER otp_stats_verified;
DROP TRIGGER otp_stats_spent;
ALTER TABLE otp_sessions ADD COLUMN door TEXT NOT NULL DEFAULT 'whatotp' CHECK (door IN ('whatotp', 'getotp', 'message', 'vonage', 'prelude'));
UPDATE otp_sessions SET door = dialect;
ALTER TABLE otp_sessions DROP COLUMN dialect;
ALTER TABLE otp_sessions RENAME COLUMN door TO dialect;
CREATE TRIGGER otp_stats_sent AFTER INSERT ON otp_sessions BEGIN INSERT INTO otp_stats (account_id, day, country, channel, prefix, api_key, door, sends) VALUES (NEW.account_id, strftime('%Y-%m-%d', NEW.created_at / 1000, 'unixepoch'), COALESCE(NEW.country, ''), NEW.channel, substr(NEW.phone, 1, max(length(NEW.phone) - 4, 0)), COALESCE(NEW.api_key_id, ''), CASE WHEN substr(NEW.id, 1, 2) = 'VL' THEN 'twilio' ELSE NEW.dialect END, 1) ON CONFLICT (account_id, day, country, channel, prefix, api_key, door) DO UPDATE SET sends = sends + 1; END;
CREATE TRIGGER otp_stats_verified AFTER UPDATE OF verified_at ON otp_sessions WHEN OLD.verified_at IS NULL AND NEW.verified_at IS NOT NULL BEGIN UPDATE otp_stats SET verified = verified + 1 WHERE account_id = NEW.account_id AND day = strftime('%Y-%m-%d', NEW.created_at / 1000, 'unixepoch') AND country = COALESCE(NEW.country, '') AND channel = NEW.channel AND prefix = substr(NEW.phone, 1, max(length(NEW.phone) - 4, 0)) AND api_key = COALESCE(NEW.api_key_id, '') AND door = CASE WHEN substr(NEW.id, 1, 2) = 'VL' THEN 'twilio' ELSE NEW.dialect END; END;
CREATE TRIGGER otp_stats_spent AFTER INSERT ON ledger WHEN NEW.kind IN ('otp_send', 'otp_refund', 'message_send', 'message_refund') AND NEW.object_id IS NOT NULL BEGIN UPDATE otp_stats SET spend = spend - NEW.amount WHERE (account_id, day, country, channel, prefix, api_key, door) = (SELECT s.account_id, strftime('%Y-%m-%d', s.created_at / 1000, 'unixepoch'), COALESCE(s.country, ''), s.channel, substr(s.phone, 1, max(length(s.phone) - 4, 0)), COALESCE(s.api_key_id, ''), CASE WHEN substr(s.id, 1, 2) = 'VL' THEN 'twilio' ELSE s.dialect END FROM otp_sessions s WHERE s.id = NEW.object_id); END;

-- A Vonage application's signature secret (generated at registration, shown once), sealed
-- under a key derived from SERVER_KEY and the application's id: it signs the application's
-- status callbacks. NULL for an application registered before callbacks were signed (it
-- gets no callbacks; registering it again gives it a secret).
ALTER TABLE vonage_applications ADD COLUMN signature_secret TEXT;

-- A Vonage request started by an application's JWT: where its callbacks go and what the
-- summary reports (the workflow's channels in order, as JSON, and the channel timeout).
CREATE TABLE vonage_requests (
  session_id TEXT PRIMARY KEY,
  account_id TEXT NOT NULL REFERENCES accounts(id),
  application_id TEXT NOT NULL REFERENCES vonage_applications(id),
  channels TEXT NOT NULL,
  channel_timeout INTEGER NOT NULL,
  created_at INTEGER NOT NULL
);

-- How an event's delivery is signed: NULL, Standard Webhooks with the account's secret;
-- 'vonage:<application id>', a Vonage JWT (HS256) with the application's signature secret.
ALTER TABLE webhook_events ADD COLUMN signer TEXT;
