//! Rents: a number held for hours, every SMS to it kept; charged at once.
use super::activations::{commit_unless_lost, no_numbers, take_a_free_number, Took};
use super::catalog::{self, Offer};
use super::idempotency::{self, Answer, Idem};
use super::{App, Listed};
use crate::domain::activation::Rent;
use crate::domain::error::{AppError, Code};
use crate::domain::ids::{new_id, AccountId};
use crate::domain::live::LongPoll;
use crate::domain::money::Money;
use crate::domain::pagination::Slice;
use crate::domain::sms::InboundSms;
use crate::durable::watch;
use crate::store::activations::{self as store, NewRent, Sale};
use crate::store::dashboard as lists;
use crate::store::smsactivate::{num_of, num_statement};
use crate::store::wallet::{balance_after_of, balance_after_statement};

pub struct RentOrder {
    pub offer: Offer,
    /// The rent's duration; `None` for the shortest offered.
    pub hours: Option<i64>,
}

pub struct Rented {
    pub id: String,
    /// The rent's integer id (the sms-activate protocol's), read in the rent's batch.
    pub num: i64,
    pub number: String,
    pub service: String,
    pub country: String,
    pub operator: String,
    pub hours: i64,
    pub cost: Money,
    pub expires_at_ms: i64,
    /// The wallet's balance right after the charge.
    pub balance_after: Money,
}

/// Holds a free number for the rent's duration. The charge (ledger kind `rent`), the lease,
/// the rent row and the stored answer commit in one batch, which also reads the balance
/// after the charge (no round trip after the commit); 402 when the wallet cannot pay.
pub async fn rent(
    app: &App,
    account: &AccountId,
    order: RentOrder,
    idem: Idem<'_, Rented>,
) -> Result<Answer<Rented>, AppError> {
    let hours = order.hours;
    let offer = catalog::resolve_offer(app, &order.offer).await?;
    idempotency::run(app, idem, |done| async move {
        let db = app.db()?;
        let o = &offer;
        if !store::is_rent_offered(&db, &o.wanted(hours)).await? {
            let m = "no rent price for this service, country, operator and duration";
            return Err(AppError::new(Code::NotOffered, m));
        }
        let (db, done) = (&db, &done);
        take_a_free_number(
            || async move { Ok(store::pick_for_rent(db, &o.wanted(hours), app.now_ms).await?) },
            |chosen| async move {
                let mut rented = Rented {
                    id: new_id("rent")?,
                    num: 0,
                    number: chosen.number.clone(),
                    service: o.service.clone(),
                    country: o.country.clone(),
                    operator: chosen.operator.clone(),
                    hours: chosen.hours,
                    cost: Money::from_minor(chosen.cost),
                    expires_at_ms: app.now_ms + chosen.hours * 3_600_000,
                    balance_after: Money::ZERO,
                };
                let new = NewRent {
                    sale: Sale {
                        id: &rented.id,
                        account_id: account.as_str(),
                        what: o.wanted(hours),
                        now_ms: app.now_ms,
                        expires_at_ms: rented.expires_at_ms,
                        key_hash: app.spender(),
                    },
                    offer: &chosen,
                };
                let (tx_id, mut statements) = store::rent_statements(db, &new)?;
                statements.extend(done.statement(db, &rented, Some(&tx_id))?);
                statements.push(balance_after_statement(db, &tx_id)?);
                statements.push(num_statement(db, &rented.id)?);
                Ok(match commit_unless_lost(db, statements).await? {
                    Took::Done(mut results) => {
                        rented.num = num_of(results.pop().as_ref())?;
                        rented.balance_after = Money::from_minor(balance_after_of(&results)?);
                        Took::Done(rented)
                    }
                    Took::Lost => Took::Lost,
                })
            },
            || no_numbers(&offer, "numbers to rent"),
            "the free numbers were taken by parallel rents; try again",
        )
        .await
    })
    .await
}

/// A rent of the account and every SMS its number received.
pub struct RentView {
    pub rent: Rent,
    pub sms: Vec<InboundSms>,
    pub active: bool,
}

/// The rent's watch (`durable::watch`): its `seq` is the number of SMS received.
fn watch_name(id: &str) -> String {
    format!("rent:{id}")
}

/// Wakes the rent's long-polls after an SMS for it was written to D1.
pub async fn sms_arrived(app: &App, id: &str) -> Result<(), AppError> {
    let count = store::rent_sms(&app.db()?, id).await?.len() as u64;
    watch::bump(&app.env, &watch_name(id), count)
        .await
        .map_err(|e| AppError::internal(format!("rent watch: {e}")))?;
    Ok(())
}

/// The rent and its SMS, or with a long-poll on its SMS: at once if more than `since` SMS
/// arrived (or the rent is over), else at the next SMS, else after `wait_secs` (≤ 55). The
/// rent's watch holds the waiting request; D1 is read before it waits, so no SMS slips
/// between the two.
pub async fn wait_status(
    app: &App,
    account: &AccountId,
    id: &str,
    poll: Option<LongPoll>,
) -> Result<RentView, AppError> {
    let view = status(app, account, id).await?;
    let Some(poll) = poll else {
        return Ok(view);
    };
    let left = u64::try_from(view.rent.expires_at - app.now_ms).unwrap_or(0);
    if view.sms.len() as u64 > poll.since || left == 0 {
        return Ok(view);
    }
    let wait_ms = (u64::from(poll.wait_secs) * 1000).min(left);
    watch::wait(&app.env, &watch_name(id), poll.since, wait_ms)
        .await
        .map_err(|e| AppError::internal(format!("rent watch: {e}")))?;
    let db = app.db()?;
    let sms = store::rent_sms(&db, id).await?;
    let active = crate::clock::now_ms() < view.rent.expires_at;
    Ok(RentView {
        rent: view.rent,
        sms,
        active,
    })
}

/// The account's rents, newest first.
pub async fn list(app: &App, account: &AccountId, slice: &Slice) -> Listed<Rent> {
    super::listed(lists::rents(&app.db()?, account.as_str(), slice).await?)
}

pub async fn status(app: &App, account: &AccountId, id: &str) -> Result<RentView, AppError> {
    let db = app.db()?;
    let rent = store::rent(&db, id)
        .await?
        .filter(|r| r.account_id == account.as_str());
    let rent = rent.ok_or_else(|| AppError::not_found("rent"))?;
    let sms = store::rent_sms(&db, id).await?;
    let active = app.now_ms < rent.expires_at;
    Ok(RentView { rent, sms, active })
}
