//! An account's spend caps (per UTC day and UTC month) and what it spent against them. The
//! caps are enforced by the debit's own batch (`store::limits`); this only reads and sets them.
use super::App;
use crate::domain::error::AppError;
use crate::domain::ids::AccountId;
use crate::domain::money::Money;
use crate::store::limits::{self as store, Limits};

/// The account's caps and its spend today and this month (UTC).
pub async fn get(app: &App, account: &AccountId) -> Result<Limits, AppError> {
    Ok(store::get(&app.db()?, account.as_str(), app.now_ms).await?)
}

/// Sets both caps (`None`: no cap), in force from the next charge; answers the new state.
pub async fn put(
    app: &App,
    account: &AccountId,
    daily: Option<Money>,
    monthly: Option<Money>,
) -> Result<Limits, AppError> {
    let db = app.db()?;
    let (daily, monthly) = (daily.map(Money::minor), monthly.map(Money::minor));
    store::put(&db, account.as_str(), daily, monthly, app.now_ms).await?;
    Ok(store::get(&db, account.as_str(), app.now_ms).await?)
}
