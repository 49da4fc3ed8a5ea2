//! The Twilio Verify v2 dialect (`/v2/Services…`): HTTP Basic with an `AC…` or `SK…` sid
//! and an otpedge API key, form-urlencoded bodies with Twilio's PascalCase fields, Twilio's
//! JSON shapes and error envelope. `resources` serves each route (parse its form, call ONE
//! operation of `app::verify`, render Twilio's answer with `render`); `params`, `shapes`
//! and `errors` are the pure wire format, unit-tested natively.
pub mod attempt_params;
pub mod errors;
pub mod params;
pub mod shapes;

#[cfg(target_arch = "wasm32")]
mod attempts;
#[cfg(target_arch = "wasm32")]
mod limits;
#[cfg(target_arch = "wasm32")]
mod render;
#[cfg(target_arch = "wasm32")]
mod resources;

pub use errors::{error_body, ErrorCode};
#[cfg(target_arch = "wasm32")]
pub use resources::serve;

/// The origin every `url` and `links` entry points at: the configured `PUBLIC_ORIGIN`, never
/// a Host header a client chose; unset (local development), the request's own origin.
#[cfg(target_arch = "wasm32")]
fn origin(ctx: &crate::http::server::Ctx) -> String {
    match &ctx.app.config.public_origin {
        Some(o) => o.clone(),
        None => shapes::origin(ctx.url.as_str()).to_owned(),
    }
}
