//! HTTP: the pipeline (rate limit → route → body → dialect → envelope), auth, and one thin
//! module per dialect (`dialects/`). Dialects parse their wire request, call ONE operation
//! of the application layer (`crate::app`), and render its answer; `envelope` renders
//! errors per front door. Only this layer knows statuses, headers and envelopes.
pub mod basic;
pub mod body;
pub mod envelope;
pub mod error;
pub mod form;
pub mod parts;
pub mod reply;
pub mod routes;

pub use reply::Reply;

/// The dialects: natively, their pure wire formats only (for `envelope` and unit tests).
mod dialects;

#[cfg(target_arch = "wasm32")]
mod auth;
#[cfg(target_arch = "wasm32")]
mod dispatch;
#[cfg(target_arch = "wasm32")]
mod forward;
#[cfg(target_arch = "wasm32")]
mod head;
#[cfg(target_arch = "wasm32")]
mod input;
#[cfg(target_arch = "wasm32")]
mod live;
#[cfg(target_arch = "wasm32")]
mod ratelimit;
#[cfg(target_arch = "wasm32")]
mod server;

#[cfg(target_arch = "wasm32")]
pub use server::{finish, handle, Ctx};
