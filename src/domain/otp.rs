//! OTP codes: generation, hashing, checking rules.
