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

/// Prelude's word for why the fraud guard refused (or, monitoring, would refuse) a send
/// (`domain::fraud::Reason::as_str`): a number blocked by hand is on the block list, a
/// range sending too fast made repeated attempts, anything else is suspicious.
pub fn reason_word(reason: &str) -> &'static str {
    use crate::domain::fraud::Reason;
    match reason {
        r if r == Reason::Manual.as_str() => "in_block_list",
        r if r == Reason::Velocity.as_str() => "repeated_attempts",
        _ => "suspicious",
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::fraud::Reason;

    #[test]
    fn fraud_reasons_are_prelude_words() {
        assert_eq!(reason_word(Reason::Manual.as_str()), "in_block_list");
        assert_eq!(reason_word(Reason::Velocity.as_str()), "repeated_attempts");
        for r in [Reason::Geo, Reason::CountryCap, Reason::LowConversion] {
            assert_eq!(reason_word(r.as_str()), "suspicious");
        }
    }
}
