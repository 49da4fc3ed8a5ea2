//! Work that must happen after the answer, on a Cloudflare Queue (`JOBS` in wrangler.toml),
//! instead of on a `waitUntil` that the platform may cut off. A job is JSON, idempotent by
//! its object's id (running it twice changes nothing the second time), retried with backoff
//! by the consumer (`scripts/entry.mjs`: `queue`), and after its last try moved to the dead
//! letter queue, whose consumer runs it again with a longer backoff and logs each failure.
//!
//! Jobs: `refund` (a charge given back after a delivery failed, when the inline refund did
//! not commit): the ledger's one-refund-per-object index makes it happen once. `deliver` (a
//! template message handed to its provider): it acts only on the message it claimed
//! (`queued` → `sending`), records `sent` or `failed` with its webhook event, and refunds a
//! failure (once).
//! `workflow_step` (a session's fallback step fell due): its object lets it go out once.
use super::Fault;
use crate::config::{server_key, Config};
use crate::domain::crypto::{derived_key, from_hex, open, seal, to_hex};
use crate::domain::error::{AppError, Code};
use crate::domain::events;
use crate::domain::tagged::{self, Tagged};
use crate::durable::otp_session::StepDue;
use crate::providers::{self, Outgoing, Provider};
use crate::store::messages as messages_store;
use crate::store::refunds;
use crate::store::wallet::{self, Delta, Entry, Kind};
use crate::store::webhooks::{message_event_statement, Event, MessageStatus};
use crate::store::{batch, ConstraintKind};
use serde::{Deserialize, Deserializer, Serialize};
use worker::{console_error, D1Database, Env};

/// The queue binding of `wrangler.toml`.
const QUEUE: &str = "JOBS";

/// A job travels as one JSON object: `{"job":"refund",...its fields}` (a delivery's message
/// fields inline), read by `domain::tagged`.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "job", rename_all = "snake_case")]
pub enum Job {
    Refund(Refund),
    Deliver(Deliver),
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
    fn ledger_kind(&self) -> Kind {
        match self.kind {
            RefundKind::OtpRefund => Kind::OtpRefund,
            RefundKind::MessageRefund => Kind::MessageRefund,
        }
    }

    /// Gives the charge back, once: a refund already in the ledger counts as done. A refund
    /// owed for it (`refunds_owed`) is marked paid in the same batch as its ledger row.
    pub async fn apply(&self, db: &D1Database, now_ms: i64) -> Result<(), AppError> {
        let kind = self.ledger_kind();
        let entry = Entry {
            account_id: &self.account_id,
            kind,
            reference: None,
            object_id: Some(&self.object_id),
            description: "refund: delivery failed",
            key_hash: None,
        };
        let paid = || refunds::paid_statement(db, &self.object_id, kind, now_ms);
        let (_, mut statements) =
            wallet::change_statements(db, &entry, Delta::Amount(self.cost), now_ms)?;
        statements.push(paid()?);
        match batch(db, statements).await {
            Ok(_) => Ok(()),
            Err(e) if e.on_constraint(ConstraintKind::Unique, "ledger") => {
                batch(db, vec![paid()?]).await?;
                Ok(())
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Keeps the refund owed in KV, for the scheduled pass to pay (when D1 cannot record it).
    async fn owe_in_kv(&self, env: &Env) -> Result<(), AppError> {
        let json = serde_json::to_string(self).map_err(|e| AppError::internal(e.to_string()))?;
        let kind = self.ledger_kind();
        Ok(refunds::owe_in_kv(env, &self.object_id, kind, &json).await?)
    }

    /// Records the refund as owed in D1, for the scheduled pass to pay.
    async fn owe(&self, db: &D1Database, now_ms: i64) -> Result<(), AppError> {
        let (id, kind, account) = (&self.object_id, self.ledger_kind(), &self.account_id);
        Ok(refunds::owe(db, id, kind, account, self.cost, now_ms).await?)
    }
}

/// Gives a charge back now. When that fails, the refund is recorded as owed in D1 (the
/// scheduled pass pays it) and queued as a job (which pays it sooner): either is enough for
/// `Queued`. When both fail, it is kept in KV, which the scheduled pass reads too. Err only
/// when none of the three took it (logged by the caller's answer). `fault` (tests only)
/// fails the refund now (`RefundFails`), the queue too (`RefundUnqueued`), and D1's record
/// as well (`RefundUnrecorded`).
pub async fn refund(
    env: &Env,
    db: &D1Database,
    refund: Refund,
    now_ms: i64,
    fault: Option<Fault>,
) -> Result<Refunded, AppError> {
    let test_fault = |what: &str| Err(AppError::internal(format!("{what} (test fault)")));
    let unqueued = matches!(fault, Some(Fault::RefundUnqueued | Fault::RefundUnrecorded));
    let now = match fault {
        Some(Fault::RefundFails) => test_fault("refund failed"),
        _ if unqueued => test_fault("refund failed"),
        _ => refund.apply(db, now_ms).await,
    };
    let Err(e) = now else {
        return Ok(Refunded::Now);
    };
    let id = refund.object_id.clone();
    console_error!("refund for {id} failed, owed: {}", e.detail());
    let owed = match fault {
        Some(Fault::RefundUnrecorded) => test_fault("refund not recorded"),
        _ => refund.owe(db, now_ms).await,
    };
    let queued = match unqueued {
        true => test_fault("queue refused"),
        false => enqueue(env, &Job::Refund(refund.clone())).await,
    };
    match (owed, queued) {
        (Err(o), Err(q)) => match refund.owe_in_kv(env).await {
            Ok(()) => Ok(Refunded::Queued),
            Err(k) => Err(AppError::internal(format!(
                "refund for {id} neither recorded ({}), queued ({}) nor kept ({})",
                o.detail(),
                q.detail(),
                k.detail()
            ))),
        },
        (Err(e), Ok(())) | (Ok(()), Err(e)) => {
            console_error!(
                "refund for {id}: one of its two records failed: {}",
                e.detail()
            );
            Ok(Refunded::Queued)
        }
        (Ok(()), Ok(())) => Ok(Refunded::Queued),
    }
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
    match tagged::read::<Job>(body) {
        Ok(job) => Some(job),
        Err(e) => {
            console_error!("job dropped, not a job ({e}): {} bytes", body.len());
            None
        }
    }
}

/// A template message to settle: whose, to whom, on which channel, and what it cost.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MessageRef {
    pub account_id: String,
    pub message_id: String,
    pub to: String,
    pub channel: String,
    pub cost: i64,
}

/// A template message to hand to its provider. Its text (which may hold a code) travels
/// sealed under a key derived from `SERVER_KEY` and the message's id: the queue never
/// holds it in the clear.
#[derive(Debug, Clone, Serialize)]
pub struct Deliver {
    #[serde(flatten)]
    pub message: MessageRef,
    pub sealed: String,
}

/// A delivery job's fields as they travel (`Deliver` with its message inline).
#[derive(Deserialize)]
struct DeliverFields {
    account_id: String,
    message_id: String,
    to: String,
    channel: String,
    cost: i64,
    sealed: String,
}

impl From<DeliverFields> for Deliver {
    fn from(f: DeliverFields) -> Deliver {
        let message = MessageRef {
            account_id: f.account_id,
            message_id: f.message_id,
            to: f.to,
            channel: f.channel,
            cost: f.cost,
        };
        Deliver {
            message,
            sealed: f.sealed,
        }
    }
}

impl Tagged for Job {
    const TAG: &'static str = "job";
    const KINDS: &'static [&'static str] = &["refund", "deliver", "workflow_step"];

    fn read<'de, D: Deserializer<'de>>(kind: &str, fields: D) -> Result<Option<Job>, D::Error> {
        Ok(Some(match kind {
            "refund" => Job::Refund(Refund::deserialize(fields)?),
            "deliver" => Job::Deliver(DeliverFields::deserialize(fields)?.into()),
            "workflow_step" => Job::WorkflowStep(StepDue::deserialize(fields)?),
            _ => return Ok(None),
        }))
    }
}

/// What is sealed in a delivery job.
#[derive(Serialize, Deserialize)]
struct Text {
    text: String,
    code: Option<String>,
}

fn text_key(env: &Env, message_id: &str) -> Result<[u8; 32], AppError> {
    Ok(derived_key(
        &server_key(env)?,
        "message-text",
        message_id,
        0,
    ))
}

impl Deliver {
    pub fn new(
        env: &Env,
        message: MessageRef,
        text: String,
        code: Option<String>,
    ) -> Result<Deliver, AppError> {
        let plain = serde_json::to_vec(&Text { text, code })
            .map_err(|e| AppError::internal(e.to_string()))?;
        let sealed = to_hex(&seal(&text_key(env, &message.message_id)?, &plain));
        Ok(Deliver { message, sealed })
    }

    /// Delivers the message once: nothing while it is already settled (a failure settled
    /// without its refund gets the refund) or claimed by another copy of the job (`sending`);
    /// else the job claims it (`queued` → `sending`, one guarded UPDATE: of two copies only
    /// one moves it) and records a `failed` past its expiry, else the provider's answer.
    /// Err (retried) only while something is left to do.
    pub async fn run(&self, env: &Env, db: &D1Database) -> Result<(), AppError> {
        let m = &self.message;
        let Some(state) = messages_store::delivery_state(db, &m.message_id).await? else {
            console_error!("job dropped: message {} not found", m.message_id);
            return Ok(());
        };
        let now = crate::clock::now_ms();
        match state.status.as_str() {
            "queued" => {}
            "failed" if state.provider_message_id.is_none() => {
                return m.refund().apply(db, now).await
            }
            _ => return Ok(()),
        }
        if !messages_store::claim_delivery(db, &m.message_id, now).await? {
            return Ok(());
        }
        let delivered = match now > state.expires_at {
            true => Err(not_delivered_in_time()),
            false => self.deliver(env, now).await,
        };
        m.settle(env, db, delivered, now).await
    }

    async fn deliver(&self, env: &Env, now: i64) -> Result<String, AppError> {
        let m = &self.message;
        let opened = from_hex(&self.sealed)
            .and_then(|sealed| open(&text_key(env, &m.message_id).ok()?, &sealed))
            .and_then(|plain| String::from_utf8(plain).ok())
            .and_then(|plain| crate::domain::json::read::<Text>(&plain).ok())
            .ok_or_else(|| AppError {
                internal: Some("the sealed text does not open (SERVER_KEY changed?)".into()),
                ..AppError::of(Code::DeliveryFailed)
            })?;
        let outgoing = Outgoing {
            to: &m.to,
            channel: &m.channel,
            sender: None,
            text: &opened.text,
            code: opened.code.as_deref(),
            object_id: &m.message_id,
        };
        let config = Config::get(env);
        providers::configured(env, &config, &m.channel)?
            .deliver(&outgoing, now)
            .await
    }
}

/// The failure recorded for a message not handed to a provider before its expiry.
pub fn not_delivered_in_time() -> AppError {
    AppError::new(Code::DeliveryFailed, "not delivered before it expired")
}

impl MessageRef {
    fn refund(&self) -> Refund {
        Refund {
            account_id: self.account_id.clone(),
            kind: RefundKind::MessageRefund,
            cost: self.cost,
            object_id: self.message_id.clone(),
        }
    }

    /// Records `sent` (with the provider's id) or `failed`, with its webhook event in the
    /// same batch (only if this settle is the one that moved it), then refunds a failure
    /// (once, by the ledger's index) and wakes the account's webhook dispatcher.
    pub async fn settle(
        &self,
        env: &Env,
        db: &D1Database,
        delivered: Result<String, AppError>,
        now: i64,
    ) -> Result<(), AppError> {
        let id = self.message_id.as_str();
        let error = delivered.as_ref().err().map(|e| e.message.clone());
        if let Some(e) = &error {
            console_error!("message {id} delivery failed: {e}");
        }
        let (status, event_type) = match &delivered {
            Ok(_) => (MessageStatus::Sent, "message.sent"),
            Err(_) => (MessageStatus::Failed, "message.failed"),
        };
        let status_word = if delivered.is_ok() { "sent" } else { "failed" };
        let data = events::message(id, status_word, &self.to, &self.channel, error.as_deref());
        let event = Event {
            account_id: &self.account_id,
            event_type,
            object_id: id,
            version: 0,
            data,
        };
        let outcome = match &delivered {
            Ok(pid) => Ok(pid.as_str()),
            Err(_) => Err(error.as_deref().unwrap_or("not delivered")),
        };
        let settle = messages_store::settle_message(db, id, outcome, now)?;
        let record = message_event_statement(db, &event, status, now)?;
        batch(db, vec![settle, record]).await?;
        if delivered.is_err() {
            self.refund().apply(db, now).await?;
        }
        if let Err(e) = super::webhooks::kick_env(env, &self.account_id).await {
            console_error!("webhook kick: {}", e.detail());
        }
        Ok(())
    }
}

/// Runs one refund or delivery job (the consumer acknowledges it on Ok, retries it on Err).
/// A workflow step is run by `app::workflow::run`, which the entry calls.
pub async fn run(env: &Env, job: Job) -> Result<(), AppError> {
    let db = crate::store::db(env)?;
    match job {
        Job::Refund(r) => r.apply(&db, crate::clock::now_ms()).await,
        Job::Deliver(d) => d.run(env, &db).await,
        Job::WorkflowStep(_) => Err(AppError::internal("a workflow step is not run here")),
    }
}
