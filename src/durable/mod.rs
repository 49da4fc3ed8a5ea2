//! Durable Objects, one file each.
pub mod activation_object;
pub mod api_key;
pub mod command;
mod fraud_counts;
pub mod fraud_guard;
pub mod otp_session;
pub mod signal;
mod verify_limits;
pub mod watch;
pub mod webhook_dispatcher;
