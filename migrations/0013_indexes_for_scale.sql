-- Indexes so that no statement reads a growing table whole (tests/query-plans.test.mjs).
-- The admin account list walks accounts newest first, ties by insertion (an index on
-- created_at alone carries the rowid, in order).
CREATE INDEX accounts_newest ON accounts(created_at);
-- The foreign-key checks of a change to an account look up its child rows by account.
CREATE INDEX verify_verifications_account ON verify_verifications(account_id);
CREATE INDEX webhook_events_account ON webhook_events(account_id);

-- The account lists page by number: the rows of a page are found by stepping over index
-- entries alone (the index holds every column the order needs), then read by key.
DROP INDEX activations_account;
CREATE INDEX activations_account ON activations(account_id, created_at, id);
DROP INDEX rents_account;
CREATE INDEX rents_account ON rents(account_id, created_at, id);
DROP INDEX otp_sessions_account;
CREATE INDEX otp_sessions_account ON otp_sessions(account_id, created_at, id);

-- How many rows each account has in each paged list, kept by triggers in the transaction
-- that adds or removes the row: a page's total is one row read, however long the history.
CREATE TABLE list_counts (
  account_id TEXT NOT NULL,
  list TEXT NOT NULL,
  n INTEGER NOT NULL CHECK (n >= 0),
  PRIMARY KEY (account_id, list)
) WITHOUT ROWID;
INSERT INTO list_counts (account_id, list, n) SELECT account_id, 'ledger', COUNT(*) FROM ledger GROUP BY account_id;
INSERT INTO list_counts (account_id, list, n) SELECT account_id, 'activations', COUNT(*) FROM activations GROUP BY account_id;
INSERT INTO list_counts (account_id, list, n) SELECT account_id, 'rents', COUNT(*) FROM rents GROUP BY account_id;
INSERT INTO list_counts (account_id, list, n) SELECT account_id, 'otp_sessions', COUNT(*) FROM otp_sessions GROUP BY account_id;
CREATE TRIGGER ledger_counted AFTER INSERT ON ledger BEGIN INSERT INTO list_counts (account_id, list, n) VALUES (NEW.account_id, 'ledger', 1) ON CONFLICT (account_id, list) DO UPDATE SET n = n + 1; END;
CREATE TRIGGER ledger_uncounted AFTER DELETE ON ledger BEGIN UPDATE list_counts SET n = n - 1 WHERE account_id = OLD.account_id AND list = 'ledger'; END;
CREATE TRIGGER activations_counted AFTER INSERT ON activations BEGIN INSERT INTO list_counts (account_id, list, n) VALUES (NEW.account_id, 'activations', 1) ON CONFLICT (account_id, list) DO UPDATE SET n = n + 1; END;
CREATE TRIGGER activations_uncounted AFTER DELETE ON activations BEGIN UPDATE list_counts SET n = n - 1 WHERE account_id = OLD.account_id AND list = 'activations'; END;
CREATE TRIGGER rents_counted AFTER INSERT ON rents BEGIN INSERT INTO list_counts (account_id, list, n) VALUES (NEW.account_id, 'rents', 1) ON CONFLICT (account_id, list) DO UPDATE SET n = n + 1; END;
CREATE TRIGGER rents_uncounted AFTER DELETE ON rents BEGIN UPDATE list_counts SET n = n - 1 WHERE account_id = OLD.account_id AND list = 'rents'; END;
CREATE TRIGGER otp_sessions_counted AFTER INSERT ON otp_sessions BEGIN INSERT INTO list_counts (account_id, list, n) VALUES (NEW.account_id, 'otp_sessions', 1) ON CONFLICT (account_id, list) DO UPDATE SET n = n + 1; END;
CREATE TRIGGER otp_sessions_uncounted AFTER DELETE ON otp_sessions BEGIN UPDATE list_counts SET n = n - 1 WHERE account_id = OLD.account_id AND list = 'otp_sessions'; END;
INSERT INTO list_counts (account_id, list, n) SELECT account_id, 'webhook_attempts', COUNT(*) FROM webhook_attempts GROUP BY account_id;
CREATE TRIGGER webhook_attempts_counted AFTER INSERT ON webhook_attempts BEGIN INSERT INTO list_counts (account_id, list, n) VALUES (NEW.account_id, 'webhook_attempts', 1) ON CONFLICT (account_id, list) DO UPDATE SET n = n + 1; END;
CREATE TRIGGER webhook_attempts_uncounted AFTER DELETE ON webhook_attempts BEGIN UPDATE list_counts SET n = n - 1 WHERE account_id = OLD.account_id AND list = 'webhook_attempts'; END;
