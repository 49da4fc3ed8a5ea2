//! The one idempotency entry point for every money-moving operation (buy, rent, OTP send,
//! message send, top-up). The front door names the request (scope, `Idempotency-Key`,
//! fingerprint) and says how it renders a fresh result; `run` claims the key, runs the work,
//! and the work puts `Completion::statement` — the rendered answer — in the SAME D1 batch
//! as the money, so a charge and its replayable answer commit together or not at all.
//! A failure before that commit releases the key (the client may retry); after it, the
//! stored answer stays and a retry replays it.
use super::{App, Fault};
use crate::domain::error::{AppError, Code};
use crate::domain::idempotency::{
    decide, is_expired, validate_key, Decision, Record, ABANDONED_MS, RETENTION_MS,
};
pub use crate::domain::money::BalanceAs;
use crate::store::idempotency as records;
use std::future::Future;
use worker::{console_error, D1Database, D1PreparedStatement};

/// Which request this is, for idempotency: the scope keys live in (an account id, or
/// "admin"), the key the client sent (if any), and the request's fingerprint.
pub struct IdemRequest {
    pub scope: String,
    pub key: Option<String>,
    pub fingerprint: String,
}

/// A rendered answer, as stored and replayed (opaque here: the front door made it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Saved {
    pub status: u16,
    pub body: String,
    /// A field the batch itself computes: set to the balance after the operation's ledger
    /// row, at this JSON path, in this format.
    pub balance_fill: Option<(&'static str, BalanceAs)>,
}

/// What a money-moving operation answers: its fresh result, or the stored answer of the
/// first request with the same key.
pub enum Answer<T> {
    Fresh(T),
    Replay(Saved),
}

/// The identity of a request in a protocol that has no idempotency key (sms-activate's,
/// 5sim's): a client's retry is a new request.
pub fn keyless(scope: &str) -> IdemRequest {
    IdemRequest {
        scope: scope.to_owned(),
        key: None,
        fingerprint: String::new(),
    }
}

/// The render of a keyless request: nothing is stored.
pub fn unsaved<T>(_: &T) -> Saved {
    Saved {
        status: 200,
        body: String::new(),
        balance_fill: None,
    }
}

/// A keyless request's result (there is no replay without a key).
pub fn fresh<T>(answer: Answer<T>) -> Result<T, AppError> {
    match answer {
        Answer::Fresh(value) => Ok(value),
        Answer::Replay(_) => Err(AppError::internal("a replay for a request without a key")),
    }
}

/// The request's idempotency identity and how its fresh result is rendered for the record.
pub struct Idem<'a, T> {
    pub request: &'a IdemRequest,
    pub render: &'a dyn Fn(&T) -> Saved,
}

impl<'a, T> Idem<'a, T> {
    pub fn new(request: &'a IdemRequest, render: &'a dyn Fn(&T) -> Saved) -> Self {
        Idem { request, render }
    }
}

/// A claimed key, handed to the work so that it stores its answer with its money.
pub struct Completion<'a, T> {
    fault: Option<Fault>,
    claim: Option<(&'a str, &'a str)>,
    render: &'a dyn Fn(&T) -> Saved,
}

impl<T> Completion<'_, T> {
    /// Whether the client sent a key (so the answer is to be stored with the money).
    pub fn claimed(&self) -> bool {
        self.claim.is_some()
    }

    /// The statement that stores `value`'s rendered answer, to put in the batch that moves
    /// the money (`None` when the client sent no key). `tx_id` is the batch's ledger row,
    /// for an answer that shows the balance after it.
    pub fn statement(
        &self,
        db: &D1Database,
        value: &T,
        tx_id: Option<&str>,
    ) -> Result<Option<D1PreparedStatement>, AppError> {
        let Some((scope, key)) = self.claim else {
            return Ok(None);
        };
        if matches!(
            self.fault,
            Some(Fault::CompleteRecord | Fault::ReleaseFails)
        ) {
            return Ok(Some(records::failing(db, scope)?));
        }
        let saved = (self.render)(value);
        let fill = saved
            .balance_fill
            .zip(tx_id)
            .map(|((path, format), tx_id)| records::BalanceFill {
                path,
                tx_id,
                format,
            });
        Ok(Some(records::completion(
            db,
            scope,
            key,
            saved.status,
            &saved.body,
            fill,
        )?))
    }

    /// Stores the answer on its own, for a request that moved no money (a top-up whose
    /// reference was already used).
    pub async fn store_now(&self, db: &D1Database, value: &T) -> Result<(), AppError> {
        if let Some(statement) = self.statement(db, value, None)? {
            crate::store::run(statement).await?;
        }
        Ok(())
    }

    /// Drops the stored answer after its work was undone (a delivery failure, refunded), so
    /// that a retry with the key runs again. Best effort: a failure is logged.
    pub async fn forget(&self, db: &D1Database) {
        if let Some((scope, key)) = self.claim {
            if let Err(e) = records::forget(db, scope, key).await {
                console_error!("idempotency record not dropped after a refund: {e}");
            }
        }
    }
}

/// Claims the request's key (or replays / refuses), runs `work`, and releases the key if
/// the work failed before it committed.
pub async fn run<'a, T, F, Fut>(
    app: &'a App,
    idem: Idem<'a, T>,
    work: F,
) -> Result<Answer<T>, AppError>
where
    F: FnOnce(Completion<'a, T>) -> Fut,
    Fut: Future<Output = Result<T, AppError>>,
{
    let db = app.db()?;
    let request = idem.request;
    let claim = match request.key.as_deref() {
        None => None,
        Some(key) => match begin(app, &db, request, key).await? {
            Some(saved) => return Ok(Answer::Replay(saved)),
            None => Some((request.scope.as_str(), key)),
        },
    };
    let completion = Completion {
        fault: app.fault,
        claim,
        render: idem.render,
    };
    let mut result = work(completion).await;
    if result.is_ok() && app.fault == Some(Fault::DbLostAfterCommit) {
        app.db_lost.set(true);
    }
    if result.is_ok() && app.fault == Some(Fault::AfterCommit) {
        result = Err(AppError::internal(
            "injected fault: the request failed after its commit",
        ));
    }
    if let (Err(_), Some((scope, key))) = (&result, claim) {
        // Keeps a record whose answer committed with the money: a retry replays it. A failed
        // release is logged and the work's own error answered; the claim left behind is
        // taken over once abandoned (`ABANDONED_MS`).
        let released = match app.fault {
            Some(Fault::ReleaseFails) => Err(AppError::internal("injected fault: release")),
            _ => records::release(&db, scope, key)
                .await
                .map_err(AppError::from),
        };
        if let Err(e) = released {
            console_error!(
                "idempotency key not released after a failure: {}",
                e.detail()
            );
        }
    }
    result.map(Answer::Fresh)
}

/// Claims `key`: `None` to proceed, `Some` to replay, or 409 / 422.
async fn begin(
    app: &App,
    db: &D1Database,
    request: &IdemRequest,
    key: &str,
) -> Result<Option<Saved>, AppError> {
    validate_key(key).map_err(|m| AppError::new(Code::InvalidIdempotencyKey, m))?;
    let (scope, fp, now) = (&request.scope, &request.fingerprint, app.now_ms);
    let (expired, abandoned) = (now - RETENTION_MS, now - ABANDONED_MS);
    if records::claim(db, scope, key, fp, now, expired, abandoned).await? {
        return Ok(None);
    }
    let Some(row) = records::record(db, scope, key).await? else {
        // Deleted between the two statements (the first request failed): ours to retry.
        return Err(AppError::of(Code::IdempotencyInProgress));
    };
    let record = Record {
        fingerprint: row.fingerprint,
        created_at_ms: row.created_at,
        response: row.status.zip(row.body),
    };
    if is_expired(&record, now) {
        return Err(AppError::of(Code::IdempotencyInProgress));
    }
    match decide(&record, fp) {
        Decision::Replay { status, body } => Ok(Some(Saved {
            status,
            body,
            balance_fill: None,
        })),
        Decision::InProgress => Err(AppError::of(Code::IdempotencyInProgress)),
        Decision::Mismatch => Err(AppError::of(Code::IdempotencyKeyReused)),
    }
}
