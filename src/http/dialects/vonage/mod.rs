//! The Vonage Verify v2 dialect (`/v2/verify`): Vonage's JSON bodies, its RFC 7807 problems
//! (`application/problem+json`) and its auth (an application's RS256 JWT, or HTTP Basic).
//! A request's `workflow` runs on the workflow engine (`durable::otp_session`'s
//! `workflow`): the first channel at once, the next ones after `channel_timeout` while the
//! code stays unverified, the same code throughout. `params` and `problems` are the pure
//! wire format, unit-tested natively; `handlers` serves the routes.
pub mod params;
pub mod problems;

#[cfg(target_arch = "wasm32")]
mod handlers;

#[cfg(target_arch = "wasm32")]
pub use handlers::serve;
