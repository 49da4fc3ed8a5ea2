-- Indexes so that no statement reads a growing table whole (tests/query-plans.test.mjs).
-- The admin account list walks accounts newest first, ties by insertion (an index on
-- created_at alone carries the rowid, in order).
CREATE INDEX accounts_newest ON accounts(created_at);
-- The foreign-key checks of a change to an account look up its child rows by account.
CREATE INDEX verify_verifications_account ON verify_verifications(account_id);
CREATE INDEX webhook_events_account ON webhook_events(account_id);
