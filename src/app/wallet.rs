//! The wallet and its ledger: balances, the transaction list, the operator's top-ups.
use super::accounts;
use super::idempotency::{self, Answer, Idem};
use super::App;
use crate::domain::error::{AppError, Code};
use crate::domain::ids::{AccountId, KeyHash};
use crate::domain::money::Money;
use crate::domain::pagination::Page;
use crate::domain::wallet::{check_topup, LedgerEntry};
use crate::store::wallet::{self as store, Entry, Kind};
use crate::store::{batch, ConstraintKind};

pub struct Balance {
    pub balance: Money,
    pub currency: String,
    /// The account may move money (NumberOTP's `isApproved`).
    pub approved: bool,
}

/// The wallet of the presented key's account, read in the same round trip as the key check.
pub async fn balance(app: &App, key: &KeyHash) -> Result<Balance, AppError> {
    match store::wallet_for_key(&app.db()?, key.as_str()).await? {
        Some(w) => Ok(Balance {
            balance: Money::from_minor(w.balance),
            currency: w.currency,
            approved: w.approved == 1,
        }),
        None => {
            let missing = AppError::internal("a live key's account has no wallet");
            Err(accounts::unauthorized_or(app, key, missing).await)
        }
    }
}

/// One page of the ledger, newest first, and the total row count.
pub async fn transactions(
    app: &App,
    account: &AccountId,
    page: Page,
) -> Result<(Vec<LedgerEntry>, u64), AppError> {
    Ok(store::transactions(&app.db()?, account.as_str(), page).await?)
}

pub struct TopUp {
    pub amount: Money,
    pub reference: String,
    pub description: String,
}

pub struct ToppedUp {
    pub account_id: String,
    pub transaction_id: String,
    pub reference: Option<String>,
    pub amount: Money,
    pub balance: Money,
    pub currency: String,
}

/// Credits a wallet. Idempotent on `reference` (per account): a repeat with the same amount
/// answers exactly as the first did; with another amount, 409 (2013).
pub async fn topup(
    app: &App,
    account_id: &str,
    topup: TopUp,
    idem: Idem<'_, ToppedUp>,
) -> Result<Answer<ToppedUp>, AppError> {
    check_topup(topup.amount)?;
    idempotency::run(app, idem, |done| async move {
        let account = accounts::existing(app, account_id).await?;
        let db = app.db()?;
        let entry = Entry {
            account_id: account.as_str(),
            kind: Kind::Topup,
            amount: topup.amount.minor(),
            reference: Some(&topup.reference),
            object_id: None,
            description: &topup.description,
            key_hash: None,
        };
        let (tx_id, mut statements) = store::entry_statements(&db, &entry, app.now_ms)?;
        let mut answer = ToppedUp {
            account_id: account.0.clone(),
            transaction_id: tx_id.clone(),
            reference: Some(topup.reference.clone()),
            amount: topup.amount,
            balance: Money::from_minor(0),
            currency: app.config.currency.clone(),
        };
        statements.extend(done.statement(&db, &answer, Some(&tx_id))?);
        statements.push(store::balance_after_statement(&db, &tx_id)?);
        match batch(&db, statements).await {
            Ok(results) => {
                answer.balance = Money::from_minor(store::balance_after_of(&results)?);
                return Ok(answer);
            }
            Err(e) if e.on_constraint(ConstraintKind::Unique, "ledger.reference") => {}
            // A credit fails the balance CHECK only at its upper bound: say so (not 402).
            Err(e) if e.is_overdraft() => {
                let message = format!(
                    "the top-up of {} would take the balance past the wallet's maximum of {}",
                    topup.amount,
                    crate::domain::money::MAX_BALANCE
                );
                return Err(AppError::new(Code::WalletMaximum, message));
            }
            Err(e) => return Err(e.into()),
        }
        // An earlier top-up with this reference: answer from its ledger row.
        let row = store::topup_by_reference(&db, account.as_str(), &topup.reference).await?;
        let row = row.ok_or_else(|| AppError::internal("top-up row missing after conflict"))?;
        if row.amount != topup.amount.minor() {
            let message = format!(
                "reference '{}' was already used for a top-up of {}",
                topup.reference,
                Money::from_minor(row.amount)
            );
            return Err(AppError::new(Code::Conflict, message));
        }
        let answer = ToppedUp {
            account_id: account.0,
            transaction_id: row.id,
            reference: row.reference,
            amount: Money::from_minor(row.amount),
            balance: Money::from_minor(row.balance_after),
            currency: app.config.currency.clone(),
        };
        done.store_now(&db, &answer).await?;
        Ok(answer)
    })
    .await
}
