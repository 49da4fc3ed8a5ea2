//! Statistics: OTP conversion and spend, activation success, per account (its owner) or
//! across accounts (the operator), read from the rollups (`store::stats`) so a query costs
//! the same however long the history.
use super::App;
use crate::domain::error::AppError;
use crate::domain::ids::AccountId;
use crate::domain::stats::{ActivationGroup, ActivationStats, OtpGroup, OtpStats, Range};
use crate::store::stats as stored;

/// OTP sends, conversions, refusals and spend in the range, grouped (`None`: every account).
pub async fn otp(
    app: &App,
    account: Option<&AccountId>,
    group: OtpGroup,
    range: &Range,
) -> Result<Vec<OtpStats>, AppError> {
    let account = account.map(AccountId::as_str);
    Ok(stored::otp(&app.db()?, account, group, range).await?)
}

/// Activation orders, outcomes and spend in the range, grouped (`None`: every account).
pub async fn activations(
    app: &App,
    account: Option<&AccountId>,
    group: ActivationGroup,
    range: &Range,
) -> Result<Vec<ActivationStats>, AppError> {
    let account = account.map(AccountId::as_str);
    Ok(stored::activations(&app.db()?, account, group, range).await?)
}
