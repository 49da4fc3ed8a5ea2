-- The scheduled pass deletes workflow steps and Vonage requests written before the retention
-- cutoff, a bounded number per pass: these indexes let it find them without reading the
-- tables whole. Indexes only: no existing row changes.
CREATE INDEX otp_steps_created ON otp_steps(created_at);
CREATE INDEX vonage_requests_created ON vonage_requests(created_at);
