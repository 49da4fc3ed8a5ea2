//! Activations: buying a number for one service's SMS, its status, and the customer's
//! status changes (complete, cancel, retry), which its Durable Object applies.
use super::catalog::{self, Offer};
use super::idempotency::{self, Answer, Completion, Idem};
use super::{accounts, App, Listed};
pub use crate::domain::activation::View;
use crate::domain::activation::{Change, Command, Refusal};
use crate::domain::error::{AppError, Code};
use crate::domain::ids::{new_id, AccountId, KeyHash};
use crate::domain::live::LongPoll;
use crate::domain::money::Money;
use crate::domain::pagination::Slice;
use crate::domain::scope::Scope;
use crate::domain::time::rfc3339;
use crate::durable::activation_object::{self, Op, Outcome};
use crate::store::account_slice;
use crate::store::activations::{self as store, NewActivation, Sale};
use crate::store::batch;
use crate::store::dashboard as lists;
use crate::store::smsactivate::{num_of, num_statement};
use std::future::Future;
use worker::{console_error, D1Database, D1PreparedStatement, D1Result};

/// A purchase (or a rent) tries this many free numbers when parallel buyers take the ones
/// it picked.
const PICK_ATTEMPTS: usize = 6;

/// What one try at taking a picked number came to.
pub(super) enum Took<T> {
    Done(T),
    /// A parallel buyer took the number first: pick another.
    Lost,
}

/// Commits a purchase (or a rent) batch; `Lost` when a parallel buyer took the number first.
pub(super) async fn commit_unless_lost(
    db: &D1Database,
    statements: Vec<D1PreparedStatement>,
) -> Result<Took<Vec<D1Result>>, AppError> {
    match batch(db, statements).await {
        Ok(results) => Ok(Took::Done(results)),
        Err(e) if store::lost_the_number(&e) => Ok(Took::Lost),
        Err(e) => Err(e.into()),
    }
}

/// The one pick-and-retry loop of buy and rent: picks a free number (`none` when there is
/// none), tries to take it, and picks again when a parallel buyer was faster.
pub(super) async fn take_a_free_number<C, T, P, PF, B, BF>(
    mut pick: P,
    mut take: B,
    none: impl Fn() -> AppError,
    raced: &str,
) -> Result<T, AppError>
where
    P: FnMut() -> PF,
    PF: Future<Output = Result<Option<C>, AppError>>,
    B: FnMut(C) -> BF,
    BF: Future<Output = Result<Took<T>, AppError>>,
{
    for _ in 0..PICK_ATTEMPTS {
        let candidate = pick().await?.ok_or_else(&none)?;
        if let Took::Done(t) = take(candidate).await? {
            return Ok(t);
        }
    }
    Err(AppError::new(Code::NoNumbers, raced))
}

pub struct BuyOrder {
    pub offer: Offer,
    pub max_price: Option<Money>,
}

/// A bought activation, as it starts.
pub struct Bought {
    pub activation_id: String,
    /// The activation's integer id (the sms-activate protocol's), read in the buy's batch.
    pub num: i64,
    pub number: String,
    pub service: String,
    pub country: String,
    pub operator: String,
    pub cost: Money,
    pub expires_at_ms: i64,
    pub cancel_allowed_at_ms: i64,
}

/// Buys the cheapest free number for (country, service[, operator]). The charge, the lease
/// on the number, the activation row and the stored answer commit in one D1 batch.
pub async fn buy(
    app: &App,
    account: &AccountId,
    order: BuyOrder,
    idem: Idem<'_, Bought>,
) -> Result<Answer<Bought>, AppError> {
    let offer = catalog::resolve_offer(app, &order.offer).await?;
    idempotency::run(app, idem, |done| async move {
        let db = app.db()?;
        let o = &offer;
        if !store::is_offered(&db, &o.wanted(None)).await? {
            return Err(AppError::of(Code::NotOffered));
        }
        let (db, done) = (&db, &done);
        let buyer = Buyer {
            app,
            db,
            account,
            offer: o,
            max_price: order.max_price,
        };
        let pick = || async move {
            Ok(store::pick_for_activation(db, &o.wanted(None), app.now_ms).await?)
        };
        let bought = take_a_free_number(
            pick,
            |candidate| async move { buyer.take(done, candidate).await },
            || no_numbers(&offer, "numbers"),
            "the free numbers were taken by parallel purchases; try again",
        )
        .await?;
        arm_expiry(app, &bought.activation_id).await;
        Ok(bought)
    })
    .await
}

/// One purchase's parts, for its tries at taking a picked number.
#[derive(Clone, Copy)]
struct Buyer<'a> {
    app: &'a App,
    db: &'a D1Database,
    account: &'a AccountId,
    offer: &'a Offer,
    max_price: Option<Money>,
}

impl Buyer<'_> {
    /// Takes a picked number: the purchase's batch with its stored answer; `Lost` when a
    /// parallel buyer took the number first.
    async fn take(
        self,
        done: &Completion<'_, Bought>,
        candidate: store::Candidate,
    ) -> Result<Took<Bought>, AppError> {
        let (app, db, o) = (self.app, self.db, self.offer);
        within_max_price(candidate.cost, self.max_price)?;
        let mut bought = Bought {
            activation_id: new_id("act")?,
            num: 0,
            number: candidate.number.clone(),
            service: o.service.clone(),
            country: o.country.clone(),
            operator: candidate.operator.clone(),
            cost: Money::from_minor(candidate.cost),
            expires_at_ms: app.now_ms + app.config.activation_lifetime_ms,
            cancel_allowed_at_ms: app.now_ms + app.config.activation_cancel_lock_ms,
        };
        let new = NewActivation {
            sale: Sale {
                id: &bought.activation_id,
                account_id: self.account.as_str(),
                what: o.wanted(None),
                now_ms: app.now_ms,
                expires_at_ms: bought.expires_at_ms,
                key_hash: app.spender(),
            },
            candidate: &candidate,
            cancel_allowed_at_ms: bought.cancel_allowed_at_ms,
        };
        let mut statements = store::buy_statements(db, &new)?;
        statements.extend(done.statement(db, &bought, None)?);
        statements.push(num_statement(db, &bought.activation_id)?);
        Ok(match commit_unless_lost(db, statements).await? {
            Took::Done(mut results) => {
                bought.num = num_of(results.pop().as_ref())?;
                Took::Done(bought)
            }
            Took::Lost => Took::Lost,
        })
    }
}

/// Arms a bought activation's expiry alarm as soon as the purchase committed (whatever
/// happens to the request after it); if this fails the object initialises on its first
/// event, or the scheduled pass (`upkeep`) ends it once its lifetime is over.
async fn arm_expiry(app: &App, id: &str) {
    if app.fault == Some(super::Fault::ActivationUnarmed) {
        console_error!("activation {id} init skipped (test fault)");
    } else if let Err(e) = activation_object::call(&app.env, id, Op::Init).await {
        console_error!("activation {id} init failed: {}", e.detail());
    }
}

/// A purchase through a protocol without idempotency keys (sms-activate's, 5sim's): a
/// client's retry is a new purchase.
pub async fn buy_keyless(
    app: &App,
    account: &AccountId,
    order: BuyOrder,
) -> Result<Bought, AppError> {
    let request = idempotency::keyless(account.as_str());
    let idem = Idem::new(&request, &idempotency::unsaved);
    idempotency::fresh(buy(app, account, order, idem).await?)
}

/// A number costing `cost` (minor units) may be bought under `max_price`, if one is set.
fn within_max_price(cost: i64, max_price: Option<Money>) -> Result<(), AppError> {
    match max_price {
        Some(max) if cost > max.minor() => {
            let m = format!(
                "the cheapest available number costs {}, above max_price {}",
                Money::from_minor(cost),
                max
            );
            Err(AppError::new(Code::PriceAboveMax, m))
        }
        _ => Ok(()),
    }
}

pub(super) fn no_numbers(offer: &Offer, what: &str) -> AppError {
    let m = format!(
        "no free {} {what} in {} right now",
        offer.service, offer.country
    );
    AppError::new(Code::NoNumbers, m)
}

/// The caller's activation, or 404 (another account's id looks the same as no id).
/// The activation is the key's and the key holds `scope` (one D1 read); else 403 for a
/// live key without the scope, 401 for a key that is not live, 404.
async fn owned(app: &App, key: &KeyHash, id: &str, scope: Scope) -> Result<(), AppError> {
    if let Some(account) = store::owned_by_key(&app.db()?, id, key.as_str(), scope).await? {
        // Found live: the key's use is recorded after the answer.
        accounts::remember_owner(key.as_str(), &AccountId(account));
        return Ok(());
    }
    accounts::require_scope(app, key, scope).await?;
    Err(accounts::unauthorized_or(app, key, AppError::not_found("activation")).await)
}

/// The activation as its object holds it (authoritative).
pub async fn status(app: &App, key: &KeyHash, id: &str) -> Result<View, AppError> {
    owned(app, key, id, Scope::ActivationsRead).await?;
    match activation_object::call(&app.env, id, Op::Get).await? {
        Outcome::Ok { view } | Outcome::Refused { view, .. } | Outcome::Changes { view, .. } => {
            Ok(view)
        }
        Outcome::NotFound => Err(AppError::not_found("activation")),
    }
}

/// The activation's status, or with a long-poll, the activation once its `seq` is past
/// `since` — at once if it already is (or the activation has ended), else at its next
/// change, else after `wait_secs` (≤ 55) unchanged. The waiting happens in its object.
pub async fn wait_status(
    app: &App,
    key: &KeyHash,
    id: &str,
    poll: Option<LongPoll>,
) -> Result<View, AppError> {
    let Some(poll) = poll else {
        return status(app, key, id).await;
    };
    owned(app, key, id, Scope::ActivationsRead).await?;
    let wait_ms = u64::from(poll.wait_secs) * 1000;
    Ok(next_changes(&app.env, id, Some(poll.since), wait_ms)
        .await?
        .view)
}

/// What a change feed (an event stream) answers: the state now, and the changes the client
/// is owed (None: it gets a snapshot of now).
pub struct Changes {
    pub view: View,
    pub changes: Option<Vec<Change>>,
}

/// Opens a change feed on the caller's activation: the changes after `since` (the client's
/// `Last-Event-ID`; None for a first connection), without waiting.
pub async fn follow(
    app: &App,
    key: &KeyHash,
    id: &str,
    since: Option<u64>,
) -> Result<Changes, AppError> {
    owned(app, key, id, Scope::ActivationsRead).await?;
    next_changes(&app.env, id, since, 0).await
}

/// The next changes of an activation whose feed `follow` opened (only the bindings are
/// needed, so a stream can ask again after its request's context is gone): at once if there are any
/// after `since` (or it has ended), else at its next change, else after `wait_ms` with none.
pub async fn next_changes(
    env: &worker::Env,
    id: &str,
    since: Option<u64>,
    wait_ms: u64,
) -> Result<Changes, AppError> {
    let op = Op::Changes { since, wait_ms };
    match activation_object::call(env, id, op).await? {
        Outcome::Changes { view, changes } => Ok(Changes { view, changes }),
        Outcome::Ok { view } | Outcome::Refused { view, .. } => Ok(Changes {
            view,
            changes: None,
        }),
        Outcome::NotFound => Err(AppError::not_found("activation")),
    }
}

/// The account's activations, newest first (status as D1 mirrors it).
pub async fn list(
    app: &App,
    account: &AccountId,
    slice: &Slice,
) -> Listed<crate::domain::activation::Activation> {
    let db = app.db()?;
    super::listed(account_slice(&db, &lists::ACTIVATIONS, account.as_str(), slice).await?)
}

fn refusal_error(r: Refusal) -> AppError {
    match r {
        Refusal::AlreadyTerminal { status } => AppError::new(
            Code::ActivationEnded,
            format!(
                "the activation has already ended: it is {}",
                status.as_str()
            ),
        ),
        Refusal::CancelTooEarly { allowed_at_ms } => AppError::new(
            Code::CancelTooEarly,
            format!("cancel is allowed from {}", rfc3339(allowed_at_ms)),
        ),
        Refusal::SmsAlreadyReceived => AppError::of(Code::SmsAlreadyReceived),
        Refusal::NoSmsYet => AppError::new(
            Code::NoSmsYet,
            "no SMS has been received yet: wait for one, or cancel",
        ),
    }
}

/// Complete, cancel or retry: the new state, or the rule that refuses it.
pub async fn set_status(
    app: &App,
    key: &KeyHash,
    id: &str,
    command: Command,
) -> Result<View, AppError> {
    owned(app, key, id, Scope::ActivationsWrite).await?;
    let outcome = activation_object::call(&app.env, id, Op::Set { command }).await?;
    app.object_answered()?;
    match outcome {
        Outcome::Ok { view } | Outcome::Changes { view, .. } => Ok(view),
        Outcome::Refused { refusal, .. } => Err(refusal_error(refusal)),
        Outcome::NotFound => Err(AppError::not_found("activation")),
    }
}
