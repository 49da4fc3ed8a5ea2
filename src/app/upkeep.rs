//! The scheduled pass (the Cron Trigger in wrangler.toml): each run does a bounded amount of
//! work, and the next run goes on where it left off.
//! - Activations past their lifetime that D1 still shows live: each is handed to its own
//!   object (`Op::Init`), which loads it (from D1 if it never armed), expires it, and brings
//!   D1 in line: status, lease release and refund, guarded by the ledger's one refund per
//!   object. So an activation whose object never took over ends like any other, and a refund
//!   or release still owed is made, once.
//! - Refunds still owed: template messages whose delivery failed and whose refund never
//!   committed, and refunds recorded in `refunds_owed` (an OTP delivery's refund that could
//!   not be made on the spot): made once (`jobs::Refund`, the ledger's unique index).
//! - Template messages still `queued` well after their expiry (their delivery job was never
//!   queued and the request's fallback was cut off), or `sending` long after their job
//!   claimed them (it stopped during the provider call): failed and refunded, once, as their
//!   job would have (`jobs::MessageRef::settle`).
//! - OTP sessions ended and not yet settled (earliest first): each session's object mirrors
//!   its last state into D1 (a mirror lost when the object was evicted reaches D1 and the
//!   webhook this way), then the session is marked settled and never asked again (a Vonage
//!   request's summary callback is recorded then if nothing recorded it before: an expiry).
//! - Usage alerts crossed since the last pass: sent as webhook events (`usage`).
//! - Retention: rows no longer needed are deleted (`store::upkeep::Retained`).
use super::jobs::{not_delivered_in_time, MessageRef, Refund, RefundKind};
use super::App;
use crate::domain::error::{AppError, Code};
use crate::domain::idempotency::RETENTION_MS;
use crate::durable::activation_object::{self, Op};
use crate::durable::otp_session;
use crate::store::refunds;
use crate::store::upkeep::{self as store, Held, Retained};
use worker::{console_error, console_log};

/// Overdue activations handed to their objects per pass (one object call each).
pub const ACTIVATIONS_PER_PASS: u32 = 50;
/// Refunds still owed made per pass, and how far back they are looked for.
pub const REFUNDS_PER_PASS: u32 = 50;
pub const REFUNDS_LOOK_BACK_MS: i64 = 2 * 86_400_000;
/// How long after its expiry a still-queued message is given up on: more than a delivery
/// job's provider attempts take, so a job that passed its expiry check has settled by then.
pub const STRANDED_AFTER_MS: i64 = 10 * 60_000;
/// How long after its job claimed it a message still `sending` is given up on: far more than
/// the job's provider attempts take (three, each bounded by `PROVIDER_TIMEOUT_MS`).
pub const SENDING_BOUND_MS: i64 = 10 * 60_000;
/// Ended OTP sessions settled per pass (one object call each).
pub const SESSIONS_PER_PASS: u32 = 100;
/// Rows deleted per kind per pass.
pub const ROWS_PER_PASS: u32 = 500;

/// What one pass did.
#[derive(Debug, Default)]
pub struct Pass {
    pub activations_ended: usize,
    pub activations_failed: usize,
    pub refunds_made: usize,
    pub messages_failed: usize,
    pub sessions_settled: usize,
    pub usage_alerts_sent: usize,
    pub deleted: Vec<(&'static str, usize)>,
}

/// One pass. A failing step is logged and the others still run.
pub async fn run(app: &App) -> Pass {
    let mut pass = Pass::default();
    match app.db() {
        Ok(db) => {
            match store::overdue_activations(&db, app.now_ms, ACTIVATIONS_PER_PASS).await {
                Ok(ids) => {
                    for id in ids {
                        match activation_object::call(&app.env, &id, Op::Init).await {
                            Ok(_) => pass.activations_ended += 1,
                            Err(e) => {
                                pass.activations_failed += 1;
                                console_error!("upkeep: activation {id}: {}", e.detail());
                            }
                        }
                    }
                }
                Err(e) => console_error!("upkeep: overdue activations: {e}"),
            }
            pass.refunds_made = refunds_owed(app, &db).await;
            pass.messages_failed = stranded_messages(app, &db).await;
            pass.sessions_settled = settle_sessions(app, &db).await;
            pass.usage_alerts_sent = super::usage::notify_crossings(app).await;
            for kind in Retained::ALL {
                let Some(cutoff) = cutoff(app, kind) else {
                    continue;
                };
                match store::delete_due(&db, kind, cutoff, app.now_ms, ROWS_PER_PASS).await {
                    Ok(n) => pass.deleted.push((kind.name(), n)),
                    Err(e) => console_error!("upkeep: retention of {}: {e}", kind.name()),
                }
            }
        }
        Err(e) => console_error!("upkeep: {}", e.detail()),
    }
    console_log!("upkeep: {pass:?}");
    pass
}

/// Makes the refunds still owed: those of failed template messages (their own row says so)
/// and those recorded in `refunds_owed`; returns how many it made.
async fn refunds_owed(app: &App, db: &worker::D1Database) -> usize {
    let since = app.now_ms - REFUNDS_LOOK_BACK_MS;
    let mut owed = match store::unrefunded_messages(db, since, REFUNDS_PER_PASS).await {
        Ok(owed) => owed.into_iter().map(message_refund).collect(),
        Err(e) => {
            console_error!("upkeep: refunds owed by messages: {e}");
            Vec::new()
        }
    };
    match refunds::unpaid(db, app.now_ms, REFUNDS_PER_PASS).await {
        Ok(unpaid) => owed.extend(unpaid.into_iter().filter_map(owed_refund)),
        Err(e) => console_error!("upkeep: refunds owed: {e}"),
    }
    let mut made = 0;
    for refund in owed {
        match refund.apply(db, app.now_ms).await {
            Ok(()) => made += 1,
            Err(e) => console_error!("upkeep: refund {}: {}", refund.object_id, e.detail()),
        }
    }
    made + refunds_kept(app, db).await
}

/// Makes the refunds kept in KV (D1 could not record them) and forgets each once made.
async fn refunds_kept(app: &App, db: &worker::D1Database) -> usize {
    let kept = match refunds::owed_in_kv(&app.env, u64::from(REFUNDS_PER_PASS)).await {
        Ok(kept) => kept,
        Err(e) => {
            console_error!("upkeep: refunds kept in KV: {e}");
            return 0;
        }
    };
    let mut made = 0;
    for (key, json) in kept {
        let Ok(refund) = crate::domain::json::read::<Refund>(&json) else {
            console_error!("upkeep: refund kept under {key} is not one");
            continue;
        };
        if let Err(e) = refund.apply(db, app.now_ms).await {
            console_error!("upkeep: refund {}: {}", refund.object_id, e.detail());
            continue;
        }
        made += 1;
        if let Err(e) = refunds::paid_in_kv(&app.env, &key).await {
            console_error!("upkeep: refund kept under {key} made, not forgotten: {e}");
        }
    }
    made
}

fn message_refund(o: store::Owed) -> Refund {
    Refund {
        account_id: o.account_id,
        kind: RefundKind::MessageRefund,
        cost: o.cost,
        object_id: o.id,
    }
}

/// A recorded refund owed as the refund to make (`None`, logged: a kind this code does not
/// write).
fn owed_refund(o: refunds::Owed) -> Option<Refund> {
    let kind = match o.kind.as_str() {
        "otp_refund" => RefundKind::OtpRefund,
        "message_refund" => RefundKind::MessageRefund,
        other => {
            console_error!(
                "upkeep: refund owed for {} of unknown kind {other}",
                o.object_id
            );
            return None;
        }
    };
    Some(Refund {
        account_id: o.account_id,
        kind,
        cost: o.cost,
        object_id: o.object_id,
    })
}

/// Fails and refunds the messages whose delivery never settled: those still queued
/// `STRANDED_AFTER_MS` past their expiry (their job was lost), and those claimed by a job
/// (`sending`) more than `SENDING_BOUND_MS` ago (it stopped during its provider call: the
/// outcome is unknown, so the charge goes back and the text is not sent again). Returns how
/// many it settled.
async fn stranded_messages(app: &App, db: &worker::D1Database) -> usize {
    let mut settled = 0;
    for (held, bound, why) in [
        (
            Held::Queued,
            STRANDED_AFTER_MS,
            not_delivered_in_time as fn() -> AppError,
        ),
        (Held::Sending, SENDING_BOUND_MS, outcome_unknown),
    ] {
        let found = store::stranded_messages(db, held, app.now_ms - bound, REFUNDS_PER_PASS);
        let stranded = match found.await {
            Ok(stranded) => stranded,
            Err(e) => {
                console_error!("upkeep: stranded messages: {e}");
                continue;
            }
        };
        for m in stranded {
            let message = MessageRef {
                account_id: m.account_id,
                message_id: m.id,
                to: m.phone,
                channel: m.channel,
                cost: m.cost,
            };
            match message.settle(&app.env, db, Err(why()), app.now_ms).await {
                Ok(()) => settled += 1,
                Err(e) => console_error!("upkeep: message {}: {}", message.message_id, e.detail()),
            }
        }
    }
    settled
}

/// The failure recorded for a message whose delivery job stopped during its provider call.
fn outcome_unknown() -> AppError {
    AppError::new(
        Code::DeliveryFailed,
        "delivery not confirmed: its attempt stopped before the provider answered",
    )
}

/// Has each ended, unsettled OTP session's object mirror its last state, then marks those
/// that answered settled; returns how many.
async fn settle_sessions(app: &App, db: &worker::D1Database) -> usize {
    let due = match store::unsettled_sessions(db, app.now_ms, SESSIONS_PER_PASS).await {
        Ok(due) => due,
        Err(e) => {
            console_error!("upkeep: unsettled sessions: {e}");
            return 0;
        }
    };
    let mut settled = Vec::with_capacity(due.len());
    for s in due {
        let object = crate::domain::otp::session_object(&s.account_id, &s.id);
        let op = otp_session::Op::Settle {
            id: s.id.clone(),
            account_id: s.account_id.clone(),
        };
        match otp_session::call(&app.env, &object, &op).await {
            Ok(_) => settled.push(s),
            Err(e) => console_error!("upkeep: otp session {}: {}", s.id, e.detail()),
        }
    }
    match store::settle_sessions(db, &settled, app.now_ms).await {
        Ok(mut kicked) => {
            kicked.dedup();
            for account in kicked {
                super::webhooks::kick_soon(app, &account);
            }
            settled.len()
        }
        Err(e) => {
            console_error!("upkeep: settling sessions: {e}");
            0
        }
    }
}

/// The rows of `kind` written (or ended) at or before this time are due; None keeps them.
fn cutoff(app: &App, kind: Retained) -> Option<i64> {
    let now = app.now_ms;
    match kind {
        Retained::Idempotency => Some(now - RETENTION_MS),
        Retained::LoginSessions => Some(now),
        Retained::LoginThrottle => Some(now - app.config.login_lock_ms),
        Retained::Outbox
        | Retained::OtpSessions
        | Retained::OtpSteps
        | Retained::VonageRequests => app.config.retention_ms.map(|r| now - r),
    }
}

/// The scheduled handler: one pass with the deployment's settings and the clock now.
pub async fn scheduled(env: worker::Env, wctx: worker::Context) {
    run(&App::background(env, wctx)).await;
}
