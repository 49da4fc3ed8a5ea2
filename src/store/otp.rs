//! OTP sessions (KV) and their serialized checks.
