//! One module per front door's dialect. Each parses its wire request, calls ONE operation
//! of `crate::app`, and renders the answer; none imports `store`, `durable` or another
//! dialect. Error envelopes are chosen per path in `http::envelope`. A dialect's pure parts
//! (parsing, rendering) compile natively too, for their unit tests.
pub mod smsactivate;
pub mod twilio_verify;

/// The dialects that call operations only (they build for the Worker alone).
macro_rules! worker_only {
    ($($name:ident),*) => {
        $(
            #[cfg(target_arch = "wasm32")]
            pub mod $name;
        )*
    };
}

worker_only!(accounts, admin, callbacks, fraud, getotp, numberotp, otpwall, webhooks, whatotp);
