//! The wallet and its ledger: balances, the transaction list, the operator's top-ups.
use super::accounts;
use super::idempotency::{self, Answer, Idem};
use super::{App, Listed};
use crate::domain::audit::{Actor, Change};
use crate::domain::error::{AppError, Code};
use crate::domain::ids::{AccountId, KeyHash};
use crate::domain::money::Money;
use crate::domain::pagination::Slice;
use crate::domain::scope::Scope;
use crate::domain::wallet::{check_topup, LedgerEntry};
use crate::store::wallet::{self as store, Delta, Entry, Kind};
use crate::store::{audit, batch, ConstraintKind};

pub struct Balance {
    pub balance: Money,
    pub currency: String,
    /// The account may move money (NumberOTP's `isApproved`).
    pub approved: bool,
}

/// The wallet of the presented key's account, read in the same round trip as the key check.
pub async fn balance(app: &App, key: &KeyHash) -> Result<Balance, AppError> {
    match store::wallet_for_key(&app.db()?, key.as_str(), Scope::WalletRead).await? {
        Some(w) => {
            // Found live: the key's use is recorded after the answer.
            accounts::remember_owner(key.as_str(), &AccountId(w.account_id));
            Ok(Balance {
                balance: Money::from_minor(w.balance),
                currency: w.currency,
                approved: w.approved == 1,
            })
        }
        None => {
            accounts::require_scope(app, key, Scope::WalletRead).await?;
            let missing = AppError::internal("a live key's account has no wallet");
            Err(accounts::unauthorized_or(app, key, missing).await)
        }
    }
}

/// One page of the ledger, newest first, and the total row count.
pub async fn transactions(app: &App, account: &AccountId, slice: &Slice) -> Listed<LedgerEntry> {
    super::listed(store::transactions(&app.db()?, account.as_str(), slice).await?)
}

/// A credit by the operator: a top-up (positive, idempotent on its reference) or an
/// adjustment (a correction of either sign, which must say why).
pub struct TopUp {
    pub amount: Money,
    /// `None`: an adjustment (ledger kind `adjustment`).
    pub reference: Option<String>,
    pub description: String,
    pub reason: Option<String>,
}

pub struct ToppedUp {
    pub account_id: String,
    pub transaction_id: String,
    pub reference: Option<String>,
    pub amount: Money,
    pub balance: Money,
    pub currency: String,
}

/// Credits a wallet (a top-up), or corrects it (an adjustment: any sign, a reason required),
/// in one batch with the ledger row and the audit row. A top-up is idempotent on
/// `reference` (per account): a repeat with the same amount answers exactly as the first
/// did; with another amount, 409 (2013). An adjustment that would overdraw is 402.
pub async fn topup(
    app: &App,
    account_id: &str,
    topup: TopUp,
    (idem, actor): (Idem<'_, ToppedUp>, &Actor),
) -> Result<Answer<ToppedUp>, AppError> {
    let kind = match &topup.reference {
        Some(_) => Kind::Topup,
        None => Kind::Adjustment,
    };
    if kind == Kind::Topup {
        check_topup(topup.amount)?;
    } else if topup.amount.minor() == 0 || topup.reason.is_none() {
        let m = "an adjustment needs an amount other than 0 and a reason";
        return Err(AppError::new(Code::InvalidAmount, m));
    }
    idempotency::run(app, idem, |done| async move {
        let account = accounts::existing(app, account_id).await?;
        let db = app.db()?;
        let entry = Entry {
            account_id: account.as_str(),
            kind,
            reference: topup.reference.as_deref(),
            object_id: None,
            description: &topup.description,
            key_hash: None,
        };
        let (tx_id, mut statements) =
            store::change_statements(&db, &entry, Delta::Amount(topup.amount.minor()), app.now_ms)?;
        let mut answer = ToppedUp {
            account_id: account.0.clone(),
            transaction_id: tx_id.clone(),
            reference: topup.reference.clone(),
            amount: topup.amount,
            balance: Money::from_minor(0),
            currency: app.config.currency.clone(),
        };
        let change = credit_change(&topup, account.as_str(), &tx_id);
        statements.push(audit::append_money(
            &db, actor, &change, &tx_id, app.now_ms,
        )?);
        statements.extend(done.statement(&db, &answer, Some(&tx_id))?);
        statements.push(store::balance_after_statement(&db, &tx_id)?);
        match batch(&db, statements).await {
            Ok(results) => {
                answer.balance = Money::from_minor(store::balance_after_of(&results)?);
                return Ok(answer);
            }
            Err(e) if e.on_constraint(ConstraintKind::Unique, "ledger.reference") => {}
            Err(e) if e.is_overdraft() && topup.amount.minor() < 0 => {
                return Err(AppError::of(Code::InsufficientFunds));
            }
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
        let answer = earlier_topup(app, &db, account, &topup).await?;
        done.store_now(&db, &answer).await?;
        Ok(answer)
    })
    .await
}

/// A credit as the audit log records it (`wallet.topup` or `wallet.adjust`).
fn credit_change<'a>(topup: &'a TopUp, account_id: &'a str, tx_id: &'a str) -> Change<'a> {
    Change {
        account_id: Some(account_id),
        action: match topup.reference {
            Some(_) => "wallet.topup",
            None => "wallet.adjust",
        },
        resource_type: "ledger",
        resource_id: Some(tx_id),
        after: Some(serde_json::json!({
            "amount_minor": topup.amount.minor(),
            "reference": topup.reference,
            "description": topup.description,
        })),
        reason: topup.reason.as_deref(),
        ..Change::default()
    }
}

/// The answer of an earlier top-up with this reference, from its ledger row (409 when it
/// was for another amount).
async fn earlier_topup(
    app: &App,
    db: &worker::D1Database,
    account: AccountId,
    topup: &TopUp,
) -> Result<ToppedUp, AppError> {
    let reference = topup.reference.as_deref().unwrap_or_default();
    let row = store::topup_by_reference(db, account.as_str(), reference).await?;
    let row = row.ok_or_else(|| AppError::internal("top-up row missing after conflict"))?;
    if row.amount != topup.amount.minor() {
        let message = format!(
            "reference '{reference}' was already used for a top-up of {}",
            Money::from_minor(row.amount)
        );
        return Err(AppError::new(Code::Conflict, message));
    }
    Ok(ToppedUp {
        account_id: account.0,
        transaction_id: row.id,
        reference: row.reference,
        amount: Money::from_minor(row.amount),
        balance: Money::from_minor(row.balance_after),
        currency: app.config.currency.clone(),
    })
}
