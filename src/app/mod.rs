//! The application layer: one module per capability, one async function per operation.
//! An operation takes typed, already-parsed input (domain newtypes) and the `App` context,
//! and returns a typed result or an `AppError` (`domain::error`). It knows nothing of HTTP:
//! no JSON values, headers, envelopes or status codes. The front doors (`http::dialects`)
//! parse their wire format, call one operation and render its answer.
//!
//! Below it: `store` (D1/KV, all SQL), `durable` (Durable Objects), `providers` (delivery).
pub mod accounts;
pub mod activations;
pub mod audit;
pub mod catalog;
pub mod codes;
pub mod console;
pub mod customers;
mod error;
pub(crate) use error::{listed, Listed};
pub mod fivesim;
pub mod fraud;
pub mod idempotency;
pub mod inbound;
pub mod jobs;
pub mod keys;
pub mod limits;
pub mod messages;
pub mod otp;
pub mod rents;
pub mod smsactivate;
pub mod stats;
pub mod templates;
pub mod upkeep;
pub mod usage;
pub mod verify;
pub mod verify_limits;
pub mod vonage;
pub mod wallet;
pub mod webhooks;
pub mod windows;
pub mod workflow;

use crate::config::Config;
use crate::domain::error::AppError;
use crate::domain::ids::KeyHash;
use std::cell::{Cell, OnceCell};
use std::future::Future;
use std::rc::Rc;
use worker::{Context, D1Database, Env};

/// What an operation may use: the bindings, the deployment's settings and the request's
/// clock (one `now` per request, so every row it writes agrees).
pub struct App {
    pub env: Env,
    pub wctx: Context,
    pub config: Rc<Config>,
    pub now_ms: i64,
    /// A failure to inject, in tests only (see `Fault`).
    pub fault: Option<Fault>,
    /// Set by `Fault::DbLostAfterCommit` once the money committed: `db()` fails from then on.
    pub db_lost: Cell<bool>,
    /// The API key that pays this request's charges, set when a payer is authenticated by
    /// an API key (`accounts`): each charge counts against its spend caps too.
    pub spender: OnceCell<KeyHash>,
}

/// Failures the integration tests inject into the idempotency entry point, to prove that a
/// money-moving request is charged once and stays replayable. Honoured only when the
/// `TEST_FAULTS` var is "1"; the request names one in `X-Test-Fault`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The work committed (money and stored answer), then the request failed.
    AfterCommit,
    /// Storing the answer fails inside the money batch (so the batch rolls back).
    CompleteRecord,
    /// An OTP send's open of its session's object fails, so the send writes the session's
    /// KV record instead, from which the object restores the session at its first check.
    ObjectRestarted,
    /// As `CompleteRecord`, and then releasing the key fails too (the claim is left behind).
    ReleaseFails,
    /// Once the money committed, every later D1 access of the request fails (as a read after
    /// the commit may): an operation must have read what its answer needs inside its batch.
    DbLostAfterCommit,
    /// The request crashes the Wasm instance (a Rust panic traps it): the next request must
    /// be served by a reinitialized instance.
    Crash,
    /// A purchase does not arm its activation's object, as if the object's init failed
    /// after the purchase committed (only the scheduled pass ends the activation then).
    ActivationUnarmed,
    /// The refund of a failed OTP delivery fails on the request path, so the queued job
    /// must make it.
    RefundFails,
    /// As `RefundFails`, and the queue refuses the refund's job too: only the refund owed,
    /// recorded in D1, is left for the scheduled pass to pay.
    RefundUnqueued,
    /// As `RefundUnqueued`, and D1 cannot record the refund owed either: only the copy kept
    /// in KV is left for the scheduled pass to pay.
    RefundUnrecorded,
    /// A template message's delivery job is neither queued nor run, as if the queue refused
    /// it and the request's fallback was cut off (only the scheduled pass settles it then).
    DeliveryDropped,
    /// An OTP send's open of its session's object fails and so does the write of the
    /// session's KV record (a KV write failing): the send is refused and refunded.
    KvWriteFails,
    /// A call to a Durable Object (an OTP check, an activation's status change) fails after
    /// the object ran it: the object's answer is lost, so the client sees an error.
    ObjectAnswerLost,
}

impl Fault {
    pub fn parse(name: &str) -> Option<Fault> {
        match name {
            "after_commit" => Some(Fault::AfterCommit),
            "complete_record" => Some(Fault::CompleteRecord),
            "object_restarted" => Some(Fault::ObjectRestarted),
            "release_fails" => Some(Fault::ReleaseFails),
            "db_lost_after_commit" => Some(Fault::DbLostAfterCommit),
            "crash" => Some(Fault::Crash),
            "activation_unarmed" => Some(Fault::ActivationUnarmed),
            "refund_fails" => Some(Fault::RefundFails),
            "refund_unqueued" => Some(Fault::RefundUnqueued),
            "refund_unrecorded" => Some(Fault::RefundUnrecorded),
            "delivery_dropped" => Some(Fault::DeliveryDropped),
            "kv_write_fails" => Some(Fault::KvWriteFails),
            "object_answer_lost" => Some(Fault::ObjectAnswerLost),
            _ => None,
        }
    }
}

impl App {
    /// The context of work no request started (the scheduled pass, a queued job): the
    /// clock read now, no fault injected.
    pub fn background(env: Env, wctx: Context) -> App {
        App {
            config: crate::config::Config::get(&env),
            env,
            wctx,
            now_ms: crate::clock::now_ms(),
            fault: None,
            db_lost: Default::default(),
            spender: Default::default(),
        }
    }

    /// Fails when the request injects `Fault::ObjectAnswerLost`: called once a Durable
    /// Object answered, as if its answer never arrived.
    pub fn object_answered(&self) -> Result<(), AppError> {
        match self.fault {
            Some(Fault::ObjectAnswerLost) => Err(AppError::internal(
                "test fault: the object's answer was lost",
            )),
            _ => Ok(()),
        }
    }

    pub fn db(&self) -> Result<D1Database, AppError> {
        if self.db_lost.get() {
            return Err(AppError::internal(
                "injected fault: D1 lost after the commit",
            ));
        }
        Ok(crate::store::db(&self.env)?)
    }

    /// The hash of the API key that pays this request's charges (`spender`), if any.
    pub fn spender(&self) -> Option<&str> {
        self.spender.get().map(KeyHash::as_str)
    }

    /// Runs `work` after the response is sent.
    pub fn later(&self, work: impl Future<Output = ()> + 'static) {
        self.wctx.wait_until(work);
    }
}
