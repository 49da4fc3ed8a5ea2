//! How the store's failures become application errors: a refused overdraft is the client's
//! 2007, a charge past a spend cap 2411; every other store failure is ours (logged,
//! answered as 2000).
use crate::domain::error::{AppError, Code};
use crate::domain::time::{next_utc_day, next_utc_month, rfc3339};
use crate::store::{CapHit, StoreError};

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> AppError {
        if e.is_overdraft() {
            AppError::of(Code::InsufficientFunds)
        } else if let Some(hit) = e.spend_cap() {
            spend_cap_reached(hit, crate::clock::now_ms())
        } else {
            AppError::internal(e.to_string())
        }
    }
}

/// 402 `spend_cap_reached`: which cap refused the charge and when it resets (the next UTC
/// day or month), with `Retry-After` until then.
pub fn spend_cap_reached(hit: CapHit, now_ms: i64) -> AppError {
    let whose = if hit.key { "API key" } else { "account" };
    let (cap, resets) = if hit.daily {
        ("daily", next_utc_day(now_ms))
    } else {
        ("monthly", next_utc_month(now_ms))
    };
    let message = format!(
        "spend_cap_reached: the {whose}'s {cap} spend cap would be exceeded; it resets at {}",
        rfc3339(resets)
    );
    let wait = u64::try_from((resets - now_ms).div_euclid(1000) + 1).unwrap_or(1);
    AppError::new(Code::SpendCapReached, message).with_retry_after(wait)
}

/// One page of a list's rows and the list's total, or why not.
pub type Listed<T> = Result<(Vec<T>, u64), AppError>;

/// A list's rows and total, or 404 when its `after` names no row of the account's list.
pub fn listed<T>(rows: Option<(Vec<T>, u64)>) -> Listed<T> {
    rows.ok_or_else(|| {
        AppError::new(
            Code::NotFound,
            "after names no row of this list: pass the next_cursor of an earlier page",
        )
    })
}
