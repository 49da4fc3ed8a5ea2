-- What an API key may do: its scopes, a space-separated list of scope names
-- (domain::scope). NULL: every scope (keys made before scopes existed, or made without any).
ALTER TABLE api_keys ADD COLUMN scopes TEXT;
