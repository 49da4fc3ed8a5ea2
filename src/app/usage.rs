//! Usage alerts: an account's thresholds of spend per UTC day or month, and their crossings.
//! A crossing is recorded inside the charge that makes it (`store::usage`), once per alert
//! and period however many charges cross together; the scheduled pass (`notify_crossings`)
//! sends each as a `usage.threshold_crossed` webhook event through the account's dispatcher.
use super::webhooks::kick_env;
use super::App;
use crate::domain::error::{AppError, Code};
use crate::domain::events;
use crate::domain::ids::AccountId;
use crate::domain::usage::{self, Period, Trigger, MAX_ALERTS};
use crate::domain::usage::{Alert, Notice};
use crate::store::usage as store;
use crate::store::webhooks::Event;
use worker::console_error;

/// Crossings turned into webhook events per pass.
pub const NOTICES_PER_PASS: u32 = 100;
/// Crossings an account's listing shows.
const NOTICES_SHOWN: u32 = 20;

/// The account's alerts (each with when it crossed in the current period) and its latest
/// crossings.
pub async fn list(app: &App, account: &AccountId) -> Result<(Vec<Alert>, Vec<Notice>), AppError> {
    let db = app.db()?;
    let now = app.now_ms;
    let (day, month) = (Period::Daily.key(now), Period::Monthly.key(now));
    let alerts = store::list(&db, account.as_str(), (&day, &month)).await?;
    let notices = store::notices(&db, account.as_str(), NOTICES_SHOWN).await?;
    Ok((alerts, notices))
}

/// A new alert (409 past `MAX_ALERTS`); answers its id.
pub async fn create(
    app: &App,
    account: &AccountId,
    trigger: Trigger,
    period: Period,
) -> Result<String, AppError> {
    let amounts = match trigger {
        Trigger::Threshold(m) => (Some(m.minor()), None),
        Trigger::PercentOfCap(p) => (None, Some(i64::from(p))),
    };
    let db = app.db()?;
    let id = store::create(
        &db,
        account.as_str(),
        period.as_str(),
        amounts,
        MAX_ALERTS,
        app.now_ms,
    )
    .await?;
    id.ok_or_else(|| {
        let m = format!("an account has at most {MAX_ALERTS} usage alerts; delete one first");
        AppError::new(Code::Conflict, m)
    })
}

/// Deletes one of the account's alerts (404 when it has none with this id).
pub async fn delete(app: &App, account: &AccountId, id: &str) -> Result<(), AppError> {
    if store::delete(&app.db()?, account.as_str(), id).await? {
        Ok(())
    } else {
        Err(AppError::not_found("usage alert"))
    }
}

/// The webhook event of a crossing: one per alert and period (its `version`).
fn event<'a>(app: &App, n: &'a Notice) -> Event<'a> {
    let data = events::usage_threshold_crossed(n, &app.config.currency);
    Event {
        account_id: &n.account_id,
        event_type: "usage.threshold_crossed",
        object_id: &n.alert_id,
        version: usage::period_number(&n.period),
        data,
    }
}

/// Sends the crossings not sent yet as webhook events (to accounts with an endpoint), and
/// wakes each account's dispatcher; returns how many it sent.
pub async fn notify_crossings(app: &App) -> usize {
    let db = match app.db() {
        Ok(db) => db,
        Err(e) => return log(e.detail(), 0),
    };
    let pending = match store::unnotified(&db, NOTICES_PER_PASS).await {
        Ok(p) => p,
        Err(e) => return log(&e.to_string(), 0),
    };
    let mut accounts: Vec<&str> = Vec::new();
    for n in &pending {
        match store::notify(&db, n, &event(app, n), app.now_ms).await {
            Ok(()) => accounts.push(&n.account_id),
            Err(e) => console_error!("upkeep: usage alert {}: {e}", n.alert_id),
        }
    }
    let sent = accounts.len();
    accounts.sort_unstable();
    accounts.dedup();
    for account in &accounts {
        if let Err(e) = kick_env(&app.env, account).await {
            console_error!("upkeep: webhook kick: {}", e.detail());
        }
    }
    sent
}

fn log(detail: &str, n: usize) -> usize {
    console_error!("upkeep: usage alerts: {detail}");
    n
}
