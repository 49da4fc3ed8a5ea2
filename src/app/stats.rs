//! Statistics: OTP conversion and spend, activation success, per account (its owner) or
//! across accounts (the operator), read from the rollups (`store::stats`) so a query costs
//! the same however long the history; and Twilio Verify's Verification Attempts (the
//! caller's sends through that door) and their summary.
use super::verify::Caller;
use super::App;
use crate::domain::error::AppError;
use crate::domain::ids::AccountId;
use crate::domain::stats::{split, ActivationGroup, ActivationStats, Attempt, AttemptFilter};
use crate::domain::stats::{Conversion, OtpGroup, OtpStats, PageToken, Range};
use crate::domain::twilio_verify::Paging;
use crate::store::{attempts, stats as stored};

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

/// A page of the caller's Twilio Verify attempts, newest first (`token`: after that attempt,
/// else from `paging`'s offset), and whether a further page has rows.
pub async fn attempts(
    app: &App,
    caller: &Caller,
    filter: &AttemptFilter,
    paging: Paging,
    token: Option<&PageToken>,
) -> Result<(Vec<Attempt>, bool), AppError> {
    let offset = if token.is_some() { 0 } else { paging.offset() };
    let size = i64::from(paging.size);
    let db = app.db()?;
    let account = caller.account.as_str();
    let mut rows = attempts::list(&db, account, filter, token, offset, size + 1).await?;
    let has_next = rows.len() > paging.size as usize;
    rows.truncate(paging.size as usize);
    Ok((rows, has_next))
}

/// One of the caller's attempts (404 when it has none of that sid).
pub async fn attempt(app: &App, caller: &Caller, sid: &str) -> Result<Attempt, AppError> {
    let found = attempts::find(&app.db()?, caller.account.as_str(), sid).await?;
    found.ok_or_else(|| AppError::not_found("attempt"))
}

/// The caller's attempts and conversions under `filter`: whole UTC days from the rollups
/// (unless a service is named, which the rollups do not hold), the rest from the sends.
pub async fn attempts_summary(
    app: &App,
    caller: &Caller,
    filter: &AttemptFilter,
) -> Result<Conversion, AppError> {
    let db = app.db()?;
    let account = caller.account.as_str();
    if filter.service_sid.is_some() {
        return Ok(attempts::count(&db, account, filter).await?);
    }
    let parts = split(filter.after_ms, filter.before_ms);
    let mut total = match &parts.days {
        Some(days) => stored::twilio_conversion(&db, account, days, filter).await?,
        None => Conversion::default(),
    };
    for (after_ms, before_ms) in parts.spans {
        let edge = AttemptFilter {
            after_ms,
            before_ms,
            ..filter.clone()
        };
        let counted = attempts::count(&db, account, &edge).await?;
        total.attempts += counted.attempts;
        total.converted += counted.converted;
    }
    Ok(total)
}
