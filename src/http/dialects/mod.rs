//! One module per front door's dialect. Each parses its wire request, calls ONE operation
//! of `crate::app`, and renders the answer; none imports `store`, `durable` or another
//! dialect. Error envelopes are chosen per path in `http::envelope`.
pub mod accounts;
pub mod admin;
pub mod callbacks;
pub mod getotp;
pub mod numberotp;
pub mod otpwall;
pub mod smsactivate;
pub mod twilio_verify;
pub mod webhooks;
pub mod whatotp;
