//! The audit log, read back: the operator's across every account, a customer's of its own
//! account only. Rows are written by the operations that make the changes (`store::audit`).
use super::App;
use crate::domain::audit::{Event, Filter, PAGE};
use crate::domain::error::AppError;
use crate::domain::ids::AccountId;
use crate::store::audit as store;

/// A page of the audit log, newest first, and the cursor of the next (`None`: the last).
pub struct AuditPage {
    pub events: Vec<Event>,
    pub next_cursor: Option<i64>,
}

async fn page(app: &App, filter: &Filter) -> Result<AuditPage, AppError> {
    let events = store::list(&app.db()?, filter).await?;
    let full = events.len() == PAGE as usize;
    let next_cursor = events.last().filter(|_| full).map(|e| e.id);
    Ok(AuditPage {
        events,
        next_cursor,
    })
}

/// The operator's view: every row `filter` selects (any account, or the one it names).
pub async fn all_accounts(app: &App, filter: &Filter) -> Result<AuditPage, AppError> {
    page(app, filter).await
}

/// A customer's view: its own account's rows only, whatever else the filter says.
pub async fn own(app: &App, account: &AccountId, filter: Filter) -> Result<AuditPage, AppError> {
    let mine = Filter {
        account_id: Some(account.as_str().to_owned()),
        ..filter
    };
    page(app, &mine).await
}
