//! otpedge: virtual-number activations and OTP dispatch/verification as a Cloudflare Worker.
//!
//! Layers, each using only those below it: `http` (the pipeline and one module per
//! dialect) → `app` (one async fn per operation) → `store` (D1/KV), `durable` (Durable
//! Objects), `providers` (delivery) → `domain` (pure rules and the error type). `domain`,
//! the route table and the envelopes are pure Rust, unit-tested natively; everything that
//! touches the Workers runtime is compiled for wasm32 only.
#![cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]

pub mod domain;
pub mod http;

#[cfg(test)]
mod proptests;

#[cfg(target_arch = "wasm32")]
mod app;

#[cfg(target_arch = "wasm32")]
mod config;
#[cfg(target_arch = "wasm32")]
mod durable;
#[cfg(target_arch = "wasm32")]
mod outbound;
#[cfg(target_arch = "wasm32")]
mod providers;
#[cfg(target_arch = "wasm32")]
mod store;

#[cfg(target_arch = "wasm32")]
pub use durable::activation_object::Activation;
#[cfg(target_arch = "wasm32")]
pub use durable::watch::ObjectWatch;
#[cfg(target_arch = "wasm32")]
pub use durable::webhook_dispatcher::WebhookDispatcher;
#[cfg(target_arch = "wasm32")]
pub use durable::{api_key::ApiKey, otp_session::OtpSession};

#[cfg(target_arch = "wasm32")]
#[worker::event(fetch)]
async fn fetch(
    // The runtime's request as is: `worker::Request` would read and parse its URL, method
    // and `cf` object on every request, which the pipeline does not need.
    req: worker::worker_sys::web_sys::Request,
    env: worker::Env,
    ctx: worker::Context,
) -> worker::Result<worker::worker_sys::web_sys::Response> {
    http::handle(req, env, ctx).await
}

// The store's constraint parser is pure: its unit tests run natively too.
#[cfg(all(test, not(target_arch = "wasm32")))]
#[path = "store/constraint.rs"]
mod store_constraint;
