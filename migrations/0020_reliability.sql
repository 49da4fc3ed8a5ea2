-- What the scheduled pass (src/app/upkeep.rs) also looks for, by index.
-- Template messages still queued, by expiry: a message whose delivery job never settled it
-- (the queue refused the job and the request's fallback was cut off) is failed and refunded.
CREATE INDEX messages_queued_expiry ON messages(expires_at) WHERE status = 'queued';
