//! HTTP: routing, auth, rate limits, one module per dialect, error rendering.
//! Handlers are thin: parse → domain → store → render.
pub mod body;
pub mod error;
pub mod routes;

#[cfg(target_arch = "wasm32")]
mod admin;
#[cfg(target_arch = "wasm32")]
mod auth;
#[cfg(target_arch = "wasm32")]
mod callbacks;
#[cfg(target_arch = "wasm32")]
mod getotp;
#[cfg(target_arch = "wasm32")]
mod numberotp;
#[cfg(target_arch = "wasm32")]
mod otp;
#[cfg(target_arch = "wasm32")]
mod otpwall;
#[cfg(target_arch = "wasm32")]
mod ratelimit;
#[cfg(target_arch = "wasm32")]
mod server;
#[cfg(target_arch = "wasm32")]
mod twilio_verify;
#[cfg(target_arch = "wasm32")]
mod webhooks;
#[cfg(target_arch = "wasm32")]
mod whatotp;

#[cfg(target_arch = "wasm32")]
pub use server::{handle, Ctx, Reply};
