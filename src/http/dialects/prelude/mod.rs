//! The Prelude Verify v2 dialect (`/v2/verification…`): `Authorization: Bearer` with an
//! otpedge API key, JSON bodies, Prelude's shapes and error envelope. A verification is a
//! number's window (`app::windows`): a create while it is open is a retry with a fresh code.
//! `verification` serves create and check, `management` the allow and block lists; `params`
//! and `errors` are the pure wire format, unit-tested natively.
pub mod errors;
pub mod params;

#[cfg(target_arch = "wasm32")]
pub mod management;
#[cfg(target_arch = "wasm32")]
pub mod verification;

/// The paths this dialect serves start with this.
pub const PATH_PREFIX: &str = "/v2/verification";

/// Serves one of the dialect's routes.
#[cfg(target_arch = "wasm32")]
pub async fn serve(
    ctx: &crate::http::server::Ctx,
    resource: crate::http::routes::PreludeResource,
) -> Result<crate::http::Reply, crate::domain::error::AppError> {
    use crate::http::routes::PreludeResource as R;
    match resource {
        R::Verification => verification::create(ctx).await,
        R::Check => verification::check(ctx).await,
        R::PhoneNumbers { action } => management::phone_numbers(ctx, &action).await,
    }
}
