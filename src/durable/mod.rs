//! Durable Objects, one file each.
#[cfg(target_arch = "wasm32")]
pub mod activation_object;
#[cfg(target_arch = "wasm32")]
pub mod api_key;
#[cfg(target_arch = "wasm32")]
pub mod command;
pub mod otp_session;
#[cfg(target_arch = "wasm32")]
pub mod signal;
#[cfg(target_arch = "wasm32")]
pub mod watch;
#[cfg(target_arch = "wasm32")]
pub mod webhook_dispatcher;
