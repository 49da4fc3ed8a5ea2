//! The fraud guard: an account's policy (in D1, copied into its guard object), the decision
//! on each send (`guard`, called by every send path before anything is charged or sent),
//! the live blocks and the safe list. The rules are `domain::fraud`; the counters live in
//! the account's `FraudGuard` object, near the caller.
use super::{webhooks, App};
use crate::domain::audit::{Actor, Change};
use crate::domain::error::{AppError, Code};
use crate::domain::events;
use crate::domain::fraud::{parse_policy, prefix, Block, Policy, Reason, Safe, Scope, Verdict};
use crate::domain::ids::{new_id, AccountId};
use crate::domain::phone::Phone;
use crate::domain::twilio_verify::{new_sid, SidKind};
use crate::domain::verify_limits::Take;
use crate::durable::fraud_guard::{call, Answer, Decide, Op};
use crate::store::stats::{blocked_statement, Blocked};
use crate::store::webhooks::{event_statement, Event};
use crate::store::{self, audit, fraud as stored};
use serde_json::Value;
use worker::console_error;

/// Blocks per page of `GET /v1/fraud/blocks`.
pub const BLOCKS_PAGE: usize = 50;

fn unexpected(what: &str) -> AppError {
    AppError::internal(format!("fraud guard: unexpected answer to {what}"))
}

/// The account's policy (its guard's copy).
pub async fn policy(app: &App, account: &AccountId) -> Result<Policy, AppError> {
    match call(&app.env, account.as_str(), Op::Policy).await? {
        Answer::Policy { policy } => Ok(policy),
        _ => Err(unexpected("policy")),
    }
}

/// Replaces the account's policy (400 naming the field at fault): D1 first (in one batch
/// with the audit row, `fraud.policy`, the policy before and after), then its guard, before
/// the answer, so the next send is judged by it.
pub async fn set_policy(
    app: &App,
    account: &AccountId,
    body: &Value,
    actor: &Actor,
) -> Result<Policy, AppError> {
    let policy = parse_policy(body).map_err(AppError::invalid)?;
    let encode = |p: &Policy| {
        serde_json::to_value(p).map_err(|e| AppError::internal(format!("policy encode: {e}")))
    };
    let after = encode(&policy)?;
    let before = encode(&self::policy(app, account).await?)?;
    let json = after.to_string();
    let change = Change {
        account_id: Some(account.as_str()),
        action: "fraud.policy",
        resource_type: "fraud_policy",
        resource_id: Some(account.as_str()),
        before: Some(before),
        after: Some(after),
        reason: None,
    };
    let db = app.db()?;
    let row = audit::append(&db, actor, &change, app.now_ms)?;
    stored::set_policy(&db, account.as_str(), &json, app.now_ms, row).await?;
    let op = Op::SetPolicy {
        policy: policy.clone(),
    };
    call(&app.env, account.as_str(), op).await?;
    Ok(policy)
}

/// A send about to be made: who sends what, from which front door.
pub struct Attempt<'a> {
    pub account_id: &'a str,
    pub phone: &'a Phone,
    pub channel: &'a str,
    pub dialect: &'a str,
}

/// Decides a send before anything is charged or sent (one call to the account's guard,
/// near). A refusal records `otp.blocked` after the answer and is the error to answer
/// (`SendBlocked` with its reason); in monitor mode the reason a refusal would have had is
/// returned and the send goes on.
pub async fn guard(app: &App, a: &Attempt<'_>) -> Result<Option<Reason>, AppError> {
    guard_limited(app, a, &[], true).await
}

/// `guard`, with the tokens of the rate limits the request named taken first, in the same
/// call and all or none (`domain::verify_limits`): a spent bucket refuses the send (429,
/// `RateLimited`, with the seconds until it frees) before the fraud rules count it. With
/// `risk_check` false only the tokens are taken.
pub async fn guard_limited(
    app: &App,
    a: &Attempt<'_>,
    limits: &[Take],
    risk_check: bool,
) -> Result<Option<Reason>, AppError> {
    let op = Op::Decide(Decide {
        phone: a.phone.e164().to_owned(),
        country: a.phone.country().map(str::to_owned),
        limits: limits.to_vec(),
        risk_check,
    });
    let verdict = match call(&app.env, a.account_id, op).await? {
        Answer::Decided { verdict } => verdict,
        Answer::Limited { retry_after_s } => {
            let message = "Too many requests: a bucket of the rate limits this request \
                           names is spent";
            return Err(AppError::new(Code::RateLimited, message).with_retry_after(retry_after_s));
        }
        _ => return Err(unexpected("decide")),
    };
    match verdict {
        Verdict::Allow => Ok(None),
        Verdict::Flag(reason) => Ok(Some(reason)),
        Verdict::Refuse(reason) => {
            record_blocked(app, a, reason);
            Err(AppError::blocked(reason.as_str(), reason.message()))
        }
    }
}

/// Records `otp.blocked` after the answer (the refusal waits on nothing far), with its
/// count in the statistics (`store::stats`) in the same batch.
fn record_blocked(app: &App, a: &Attempt<'_>, reason: Reason) {
    let data = events::otp_blocked(a.phone.e164(), a.channel, reason.as_str(), a.dialect);
    let (env, account_id, now) = (app.env.clone(), a.account_id.to_owned(), app.now_ms);
    let (country, channel) = (a.phone.country(), a.channel.to_owned());
    let (prefix, door) = (prefix(a.phone.e164()).to_owned(), a.dialect.to_owned());
    let Ok(object_id) = new_id("blocked") else {
        return;
    };
    let work = async move {
        let event = Event {
            account_id: &account_id,
            event_type: "otp.blocked",
            object_id: &object_id,
            version: 0,
            data,
        };
        let counted = Blocked {
            account_id: &account_id,
            country,
            channel: &channel,
            prefix: &prefix,
            door: &door,
            at_ms: now,
        };
        let statements = |db: &worker::D1Database| {
            Ok::<_, store::StoreError>(vec![
                event_statement(db, &event, now)?,
                blocked_statement(db, &counted)?,
            ])
        };
        let recorded = match store::db(&env) {
            Ok(db) => match statements(&db) {
                Ok(s) => store::batch(&db, s).await.map(|_| ()),
                Err(e) => Err(e),
            },
            Err(e) => Err(e),
        };
        match recorded {
            Ok(()) => {
                if let Err(e) = webhooks::kick_env(&env, &account_id).await {
                    console_error!("otp.blocked kick: {}", e.detail());
                }
            }
            Err(e) => console_error!("otp.blocked not recorded: {e}"),
        }
    };
    app.later(work);
}

/// The account's live blocks after `cursor`, and the cursor of the next page.
pub async fn blocks(
    app: &App,
    account: &AccountId,
    cursor: Option<String>,
) -> Result<(Vec<Block>, Option<String>), AppError> {
    let op = Op::Blocks {
        cursor,
        limit: BLOCKS_PAGE,
    };
    match call(&app.env, account.as_str(), op).await? {
        Answer::Blocks {
            blocks,
            next_cursor,
        } => Ok((blocks, next_cursor)),
        _ => Err(unexpected("blocks")),
    }
}

/// Records a change the account's guard object has made (its state lives in the object, so
/// there is no D1 batch to share: the row is written once the object confirmed the change).
async fn record(
    app: &App,
    actor: &Actor,
    account: &AccountId,
    (action, resource_type, resource_id): (&str, &str, &str),
) -> Result<(), AppError> {
    let change = Change {
        account_id: Some(account.as_str()),
        action,
        resource_type,
        resource_id: Some(resource_id),
        ..Change::default()
    };
    let db = app.db()?;
    store::run(audit::append(&db, actor, &change, app.now_ms)?).await?;
    Ok(())
}

/// Lifts a block (404 when there is none by that id); its range starts counting afresh.
pub async fn lift(
    app: &App,
    account: &AccountId,
    id: &str,
    actor: &Actor,
) -> Result<Block, AppError> {
    let op = Op::Lift { id: id.to_owned() };
    match call(&app.env, account.as_str(), op).await? {
        Answer::Lifted { block: Some(b) } => {
            record(app, actor, account, ("fraud.block_lift", "fraud_block", id)).await?;
            Ok(b)
        }
        Answer::Lifted { block: None } => Err(AppError::not_found("Block")),
        _ => Err(unexpected("lift")),
    }
}

/// A safe-listed number.
pub struct SafeNumber {
    pub phone: String,
    pub sid: String,
    pub created_at: i64,
}

fn safe_number((phone, s): (String, Safe)) -> SafeNumber {
    SafeNumber {
        phone,
        sid: s.sid,
        created_at: s.created_at,
    }
}

async fn safe_call(app: &App, account: &AccountId, op: Op) -> Result<Option<SafeNumber>, AppError> {
    match call(&app.env, account.as_str(), op).await? {
        Answer::SafeOne { entry } => Ok(entry.map(safe_number)),
        _ => Err(unexpected("safe list")),
    }
}

/// The account's safe list, by number.
pub async fn safe_list(app: &App, account: &AccountId) -> Result<Vec<SafeNumber>, AppError> {
    match call(&app.env, account.as_str(), Op::SafeList).await? {
        Answer::Safe { entries } => Ok(entries.into_iter().map(safe_number).collect()),
        _ => Err(unexpected("safe list")),
    }
}

/// What is done with a number's safe-list entry: read, or changed (audited).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum SafeOp {
    Get,
    Add,
    Remove,
}

/// A number's safe-list entry, after `op`: adding a number already there answers its entry;
/// reading or removing one not on the list is a 404. A change's audit row (the `actor`'s) is
/// written once the account's guard object confirmed it.
pub async fn safe_entry(
    app: &App,
    account: &AccountId,
    phone: &Phone,
    op: SafeOp,
    actor: &Actor,
) -> Result<SafeNumber, AppError> {
    let e164 = phone.e164().to_owned();
    let (command, action) = match op {
        SafeOp::Get => (Op::SafeGet { phone: e164 }, None),
        SafeOp::Add => {
            let sid = new_sid(SidKind::SafeList)?;
            (
                Op::SafeAdd { phone: e164, sid },
                Some("fraud.safe_list_add"),
            )
        }
        SafeOp::Remove => (
            Op::SafeRemove { phone: e164 },
            Some("fraud.safe_list_remove"),
        ),
    };
    let entry = match safe_call(app, account, command).await? {
        Some(entry) => entry,
        None if op == SafeOp::Add => return Err(unexpected("safe add")),
        None => return Err(AppError::not_found("Safe list number")),
    };
    if let Some(action) = action {
        record(
            app,
            actor,
            account,
            (action, "safe_list_number", phone.e164()),
        )
        .await?;
    }
    Ok(entry)
}

/// An account's fraud guard as the operator sees it: the policy, the first page of live
/// blocks and the safe list.
pub struct Overview {
    pub policy: Policy,
    pub blocks: Vec<Block>,
    pub safe_list: Vec<SafeNumber>,
}

/// The operator's view of an account's guard (three calls to the account's guard object).
pub async fn overview(app: &App, account: &AccountId) -> Result<Overview, AppError> {
    Ok(Overview {
        policy: policy(app, account).await?,
        blocks: blocks(app, account, None).await?.0,
        safe_list: safe_list(app, account).await?,
    })
}

/// The numbers blocked by hand (`block_phone`), oldest first.
pub async fn phone_blocks(app: &App, account: &AccountId) -> Result<Vec<Block>, AppError> {
    let mut out = Vec::new();
    let mut cursor = None;
    loop {
        let (page, next) = blocks(app, account, cursor).await?;
        out.extend(page.into_iter().filter(is_phone_block));
        match next {
            Some(next) => cursor = Some(next),
            None => return Ok(out),
        }
    }
}

fn is_phone_block(b: &Block) -> bool {
    b.scope == Scope::Phone && b.reason == Reason::Manual
}

/// Blocks a number by hand, until lifted: every send to it is refused (`manual`). Blocking
/// a number already blocked so answers its block.
pub async fn block_phone(
    app: &App,
    account: &AccountId,
    phone: &Phone,
    actor: &Actor,
) -> Result<Block, AppError> {
    let op = Op::BlockPhone {
        phone: phone.e164().to_owned(),
        id: format!("blk_{:013}{}", app.now_ms, new_id("")?),
    };
    match call(&app.env, account.as_str(), op).await? {
        Answer::Lifted { block: Some(b) } => {
            record(
                app,
                actor,
                account,
                ("fraud.block_phone", "fraud_block", &b.id),
            )
            .await?;
            Ok(b)
        }
        _ => Err(unexpected("block phone")),
    }
}

/// Lifts the number's block by hand, if it has one (true when it had).
pub async fn unblock_phone(
    app: &App,
    account: &AccountId,
    phone: &Phone,
    actor: &Actor,
) -> Result<bool, AppError> {
    let blocks = phone_blocks(app, account).await?;
    match blocks.into_iter().find(|b| b.value == phone.e164()) {
        Some(b) => lift(app, account, &b.id, actor).await.map(|_| true),
        None => Ok(false),
    }
}
