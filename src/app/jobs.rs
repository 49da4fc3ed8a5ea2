//! Work that must happen after the answer, on a Cloudflare Queue (`JOBS` in wrangler.toml),
//! instead of on a `waitUntil` that the platform may cut off. A job is JSON, idempotent by
//! its object's id (running it twice changes nothing the second time), retried with backoff
//! by the consumer (`scripts/entry.mjs`: `queue`), and after its last try moved to the dead
//! letter queue, whose consumer runs it again with a longer backoff and logs each failure.
//!
//! Jobs: `refund` (a charge given back after a delivery failed, when the inline refund did
//! not commit): the ledger's one-refund-per-object index makes it happen once;
//! `workflow_step` (a session's fallback step fell due): its object lets it go out once.
use crate::domain::error::AppError;
use crate::durable::otp_session::StepDue;
use crate::store::wallet::{self, Entry, Kind};
use crate::store::{batch, ConstraintKind};
use serde::{Deserialize, Serialize};
use worker::{console_error, D1Database, Env};

/// The queue binding of `wrangler.toml`.
const QUEUE: &str = "JOBS";

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "job", rename_all = "snake_case")]
pub enum Job {
    Refund(Refund),
    /// A workflow step fell due (queued by its session's object; run by
    /// `app::workflow::run`, which the entry calls: this module does not know workflows).
    WorkflowStep(StepDue),
}

/// A charge to give back: `cost` (minor units) to `account_id`, for `object_id`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Refund {
    pub account_id: String,
    pub kind: RefundKind,
    pub cost: i64,
    pub object_id: String,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefundKind {
    OtpRefund,
    MessageRefund,
}

/// Whether a refund is in the wallet now, or owed by a queued job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refunded {
    Now,
    Queued,
}

impl Refund {
    /// Gives the charge back, once: a refund already in the ledger counts as done.
    pub async fn apply(&self, db: &D1Database, now_ms: i64) -> Result<(), AppError> {
        let kind = match self.kind {
            RefundKind::OtpRefund => Kind::OtpRefund,
            RefundKind::MessageRefund => Kind::MessageRefund,
        };
        let entry = Entry {
            account_id: &self.account_id,
            kind,
            amount: self.cost,
            reference: None,
            object_id: Some(&self.object_id),
            description: "refund: delivery failed",
        };
        let (_, statements) = wallet::entry_statements(db, &entry, now_ms)?;
        match batch(db, statements).await {
            Ok(_) => Ok(()),
            Err(e) if e.on_constraint(ConstraintKind::Unique, "ledger") => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

/// Gives a charge back now, or, when that fails (or `fail_now`, a test fault), queues the
/// job that will. Err only when neither worked (logged by the caller's answer).
pub async fn refund(
    env: &Env,
    db: &D1Database,
    refund: Refund,
    now_ms: i64,
    fail_now: bool,
) -> Result<Refunded, AppError> {
    let now = match fail_now {
        true => Err(AppError::internal("refund failed (test fault)")),
        false => refund.apply(db, now_ms).await,
    };
    let Err(e) = now else {
        return Ok(Refunded::Now);
    };
    console_error!(
        "refund for {} failed, queued: {}",
        refund.object_id,
        e.detail()
    );
    enqueue(env, &Job::Refund(refund)).await?;
    Ok(Refunded::Queued)
}

/// Puts a job on the queue.
pub async fn enqueue(env: &Env, job: &Job) -> Result<(), AppError> {
    let body = serde_json::to_string(job).map_err(|e| AppError::internal(e.to_string()))?;
    let queue = env
        .queue(QUEUE)
        .map_err(|e| AppError::internal(format!("queue binding {QUEUE}: {e}")))?;
    queue
        .send(body)
        .await
        .map_err(|e| AppError::internal(format!("queue {QUEUE}: {e}")))
}

/// A job from the queue; `None` (logged) for a body that is not one: never runnable,
/// retrying cannot help, so it is dropped.
pub fn parse(body: &str) -> Option<Job> {
    match serde_json::from_str(body) {
        Ok(job) => Some(job),
        Err(e) => {
            console_error!("job dropped, not a job ({e}): {} bytes", body.len());
            None
        }
    }
}

/// Runs one refund job (the consumer acknowledges it on Ok, retries it on Err).
pub async fn run(env: &Env, refund: &Refund) -> Result<(), AppError> {
    let db = crate::store::db(env)?;
    refund.apply(&db, crate::clock::now_ms()).await
}
