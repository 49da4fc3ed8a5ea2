-- The times of api_keys, wallets and ledger become integer ms since the epoch, as in every
-- other table (they were RFC 3339 text, compared as strings). Every row is kept: each time
-- column gets an integer twin filled from its text, the text column is dropped and the
-- twin takes its name (no index, trigger or constraint names these columns).

ALTER TABLE api_keys ADD COLUMN created_ms INTEGER NOT NULL DEFAULT 0;
UPDATE api_keys SET created_ms = CAST(round((julianday(created_at) - 2440587.5) * 86400000) AS INTEGER);
ALTER TABLE api_keys DROP COLUMN created_at;
ALTER TABLE api_keys RENAME COLUMN created_ms TO created_at;

ALTER TABLE api_keys ADD COLUMN revoked_ms INTEGER;
UPDATE api_keys SET revoked_ms = CAST(round((julianday(revoked_at) - 2440587.5) * 86400000) AS INTEGER);
ALTER TABLE api_keys DROP COLUMN revoked_at;
ALTER TABLE api_keys RENAME COLUMN revoked_ms TO revoked_at;

ALTER TABLE api_keys ADD COLUMN last_used_ms INTEGER;
UPDATE api_keys SET last_used_ms = CAST(round((julianday(last_used_at) - 2440587.5) * 86400000) AS INTEGER);
ALTER TABLE api_keys DROP COLUMN last_used_at;
ALTER TABLE api_keys RENAME COLUMN last_used_ms TO last_used_at;

ALTER TABLE wallets ADD COLUMN updated_ms INTEGER NOT NULL DEFAULT 0;
UPDATE wallets SET updated_ms = CAST(round((julianday(updated_at) - 2440587.5) * 86400000) AS INTEGER);
ALTER TABLE wallets DROP COLUMN updated_at;
ALTER TABLE wallets RENAME COLUMN updated_ms TO updated_at;

ALTER TABLE ledger ADD COLUMN created_ms INTEGER NOT NULL DEFAULT 0;
UPDATE ledger SET created_ms = CAST(round((julianday(created_at) - 2440587.5) * 86400000) AS INTEGER);
ALTER TABLE ledger DROP COLUMN created_at;
ALTER TABLE ledger RENAME COLUMN created_ms TO created_at;
