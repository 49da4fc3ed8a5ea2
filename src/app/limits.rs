//! An account's spend caps (per UTC day and UTC month) and what it spent against them. The
//! caps are enforced by the debit's own batch (`store::limits`); this only reads and sets them.
use super::App;
use crate::domain::account::Spending;
use crate::domain::audit::{Actor, Change};
use crate::domain::error::AppError;
use crate::domain::ids::AccountId;
use crate::domain::money::Money;
use crate::store::audit;
use crate::store::limits as store;
use serde_json::json;

/// The account's caps and its spend today and this month (UTC).
pub async fn get(app: &App, account: &AccountId) -> Result<Spending, AppError> {
    Ok(store::get(&app.db()?, account.as_str(), app.now_ms).await?)
}

/// Sets both caps (`None`: no cap), in force from the next charge, in one batch with the
/// audit row (`limits.spend_caps`: the caps before and after, in minor units); answers the
/// new state.
pub async fn put(
    app: &App,
    account: &AccountId,
    (daily, monthly): (Option<Money>, Option<Money>),
    actor: &Actor,
) -> Result<Spending, AppError> {
    let db = app.db()?;
    let (daily, monthly) = (daily.map(Money::minor), monthly.map(Money::minor));
    let was = store::get(&db, account.as_str(), app.now_ms).await?;
    let caps = |d: Option<i64>, m: Option<i64>| json!({"daily_minor": d, "monthly_minor": m});
    let change = Change {
        account_id: Some(account.as_str()),
        action: "limits.spend_caps",
        resource_type: "account_limits",
        resource_id: Some(account.as_str()),
        before: Some(caps(was.caps.daily, was.caps.monthly)),
        after: Some(caps(daily, monthly)),
        reason: None,
    };
    let row = audit::append(&db, actor, &change, app.now_ms)?;
    store::put(&db, account.as_str(), daily, monthly, app.now_ms, row).await?;
    Ok(store::get(&db, account.as_str(), app.now_ms).await?)
}
