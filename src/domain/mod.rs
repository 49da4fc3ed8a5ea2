//! Pure domain logic: no `worker` types, unit-tested natively with `cargo test`.
pub mod activation;
pub mod crypto;
pub mod delivery;
pub mod ids;
pub mod idempotency;
pub mod money;
pub mod otp;
pub mod otp_check;
pub mod pagination;
pub mod phone;
pub mod ratelimit;
pub mod sms;
pub mod template;
pub mod time;
pub mod webhook;
