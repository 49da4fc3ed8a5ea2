//! One module per front door's dialect. Each parses its wire request, calls ONE operation
//! of `crate::app`, and renders the answer; none imports `store`, `durable` or another
//! dialect. Error envelopes are chosen per path in `http::envelope`. A dialect's pure parts
//! (parsing, rendering) compile natively too, for their unit tests.
pub mod fivesim;
pub mod prelude;
pub mod smsactivate;
pub mod twilio_verify;
pub mod vonage;

/// The dialects that call operations only (they build for the Worker alone).
#[cfg(target_arch = "wasm32")]
pub mod accounts;
#[cfg(target_arch = "wasm32")]
pub mod admin;
#[cfg(target_arch = "wasm32")]
pub mod audit;
#[cfg(target_arch = "wasm32")]
pub mod callbacks;
#[cfg(target_arch = "wasm32")]
pub mod fraud;
#[cfg(target_arch = "wasm32")]
pub mod getotp;
#[cfg(target_arch = "wasm32")]
pub mod numberotp;
#[cfg(target_arch = "wasm32")]
pub mod otpwall;
#[cfg(target_arch = "wasm32")]
pub mod stats;
#[cfg(target_arch = "wasm32")]
pub mod usage;
#[cfg(target_arch = "wasm32")]
pub mod webhooks;
#[cfg(target_arch = "wasm32")]
pub mod whatotp;
