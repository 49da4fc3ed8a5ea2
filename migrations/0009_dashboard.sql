-- The dashboard's lists: an account's recent OTP sessions (GET /v1/otp/sessions) and its own
-- sandbox outbox (GET /v1/outbox, joined through the session or message that sent each text).
CREATE INDEX otp_sessions_account ON otp_sessions(account_id, created_at);
CREATE INDEX outbox_object ON outbox(object_id);
