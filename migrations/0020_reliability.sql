-- What the scheduled pass (src/app/upkeep.rs) also looks for, by index.
-- Template messages still queued, by expiry: a message whose delivery job never settled it
-- (the queue refused the job and the request's fallback was cut off) is failed and refunded.
CREATE INDEX messages_queued_expiry ON messages(expires_at) WHERE status = 'queued';
-- OTP sessions the scheduled pass has brought in line with their object after their end
-- (`settled_at`): each ended session is asked of its object once, which mirrors any state D1
-- lacks (a mirror lost when the object was evicted). Sessions ended before this migration
-- count as settled (their objects' own sweeps mirrored them).
ALTER TABLE otp_sessions ADD COLUMN settled_at INTEGER;
UPDATE otp_sessions SET settled_at = expires_at;
CREATE INDEX otp_sessions_unsettled ON otp_sessions(expires_at) WHERE settled_at IS NULL;
