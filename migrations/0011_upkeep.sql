-- What the scheduled pass (src/app/upkeep.rs) looks for, by index, so that each bounded pass
-- reads only the rows it acts on.
-- Activations D1 still shows live, by the end of their lifetime.
CREATE INDEX activations_live_expiry ON activations(expires_at) WHERE status IN ('waiting', 'received');
-- Template messages whose delivery failed (no provider took them), by age: refunds owed.
CREATE INDEX messages_failed_undelivered ON messages(created_at) WHERE status = 'failed' AND provider_message_id IS NULL;
-- Retention: idempotency records and outbox rows by age, login sessions by idle expiry and
-- revocation, throttle rows by window, OTP sessions by their end.
CREATE INDEX idempotency_created ON idempotency(created_at);
CREATE INDEX sessions_idle_expiry ON sessions(idle_expires_at);
CREATE INDEX sessions_revoked ON sessions(revoked_at) WHERE revoked_at IS NOT NULL;
CREATE INDEX login_throttle_window ON login_throttle(window_start);
CREATE INDEX outbox_created ON outbox(created_at);
CREATE INDEX otp_sessions_expiry ON otp_sessions(expires_at);
