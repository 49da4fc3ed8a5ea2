//! otpedge: virtual-number activations and OTP dispatch/verification as a Cloudflare Worker.
//!
//! `domain` is pure Rust, unit-tested natively. Everything that touches the Workers runtime
//! (`http` glue, `store`, `durable`) is compiled for wasm32 only.
#![cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]

pub mod domain;
pub mod http;

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
pub use durable::activation::Activation;
#[cfg(target_arch = "wasm32")]
pub use durable::webhook_dispatcher::WebhookDispatcher;
#[cfg(target_arch = "wasm32")]
pub use durable::{api_key::ApiKey, otp_session::OtpSession};

#[cfg(target_arch = "wasm32")]
#[worker::event(fetch)]
async fn fetch(req: worker::Request, env: worker::Env, ctx: worker::Context) -> worker::Result<worker::Response> {
    http::handle(req, env, ctx).await
}
