-- An event may name a URL of its own (Prelude's `options.callback_url`): it is delivered
-- there instead of the account's endpoint, in the account's order, with the same retries.
-- NULL: the account's endpoint, as before.
ALTER TABLE webhook_events ADD COLUMN url TEXT;
