-- A template message reaches its provider at most once: its delivery job first claims it,
-- `queued` → `sending` (with `sending_at`) in one guarded UPDATE, and only the job whose
-- claim moved the row calls the provider; the outcome moves it `sending` → `sent` or
-- `failed`. The status column is rebuilt to allow `sending` (a CHECK cannot be altered):
-- the partial indexes that name it are dropped and made again, every row keeps its status.
DROP INDEX messages_failed_undelivered;
DROP INDEX messages_queued_expiry;
ALTER TABLE messages ADD COLUMN state TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'sending', 'sent', 'failed'));
UPDATE messages SET state = status;
ALTER TABLE messages DROP COLUMN status;
ALTER TABLE messages RENAME COLUMN state TO status;
ALTER TABLE messages ADD COLUMN sending_at INTEGER;
CREATE INDEX messages_failed_undelivered ON messages(created_at) WHERE status = 'failed' AND provider_message_id IS NULL;
CREATE INDEX messages_queued_expiry ON messages(expires_at) WHERE status = 'queued';
-- Claims whose job never settled them (the Worker stopped during the provider call), by age:
-- the scheduled pass fails and refunds them after a bound.
CREATE INDEX messages_sending ON messages(sending_at) WHERE status = 'sending';

-- Refunds owed: a refund of a failed OTP delivery that could not be made on the spot is
-- written here, and the scheduled pass pays it. One row per charged object and refund kind
-- (the key), paid once: the payment's batch holds its ledger row (whose unique index on
-- object and kind refuses a second) and sets `paid_at`.
CREATE TABLE refunds_owed (
  object_id TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('otp_refund', 'message_refund')),
  account_id TEXT NOT NULL REFERENCES accounts(id),
  cost INTEGER NOT NULL CHECK (cost > 0),
  created_at INTEGER NOT NULL,
  paid_at INTEGER,
  PRIMARY KEY (object_id, kind)
);
CREATE INDEX refunds_owed_unpaid ON refunds_owed(created_at) WHERE paid_at IS NULL;
