//! The scheduled pass (the Cron Trigger in wrangler.toml): each run does a bounded amount of
//! work, and the next run goes on where it left off.
//! - Activations past their lifetime that D1 still shows live: each is handed to its own
//!   object (`Op::Init`), which loads it (from D1 if it never armed), expires it, and brings
//!   D1 in line: status, lease release and refund, guarded by the ledger's one refund per
//!   object. So an activation whose object never took over ends like any other, and a refund
//!   or release still owed is made, once.
//! - Template messages whose delivery failed and whose refund never committed (the request's
//!   `waitUntil` was cut off between the two): refunded, once (`jobs::Refund`).
//! - Retention: rows no longer needed are deleted (`store::upkeep::Retained`).
use super::jobs::{Refund, RefundKind};
use super::App;
use crate::domain::idempotency::RETENTION_MS;
use crate::durable::activation_object::{self, Op};
use crate::store::upkeep::{self as store, Retained};
use worker::{console_error, console_log};

/// Overdue activations handed to their objects per pass (one object call each).
pub const ACTIVATIONS_PER_PASS: u32 = 50;
/// Refunds still owed made per pass, and how far back they are looked for.
pub const REFUNDS_PER_PASS: u32 = 50;
pub const REFUNDS_LOOK_BACK_MS: i64 = 2 * 86_400_000;
/// Rows deleted per kind per pass.
pub const ROWS_PER_PASS: u32 = 500;

/// What one pass did.
#[derive(Debug, Default)]
pub struct Pass {
    pub activations_ended: usize,
    pub activations_failed: usize,
    pub refunds_made: usize,
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

/// Makes the refunds failed template messages still owe; returns how many it made.
async fn refunds_owed(app: &App, db: &worker::D1Database) -> usize {
    let since = app.now_ms - REFUNDS_LOOK_BACK_MS;
    let owed = match store::unrefunded_messages(db, since, REFUNDS_PER_PASS).await {
        Ok(owed) => owed,
        Err(e) => {
            console_error!("upkeep: refunds owed: {e}");
            return 0;
        }
    };
    let mut made = 0;
    for o in owed {
        let refund = Refund {
            account_id: o.account_id,
            kind: RefundKind::MessageRefund,
            cost: o.cost,
            object_id: o.id,
        };
        match refund.apply(db, app.now_ms).await {
            Ok(()) => made += 1,
            Err(e) => console_error!("upkeep: refund {}: {}", refund.object_id, e.detail()),
        }
    }
    made
}

/// The rows of `kind` written (or ended) at or before this time are due; None keeps them.
fn cutoff(app: &App, kind: Retained) -> Option<i64> {
    let now = app.now_ms;
    match kind {
        Retained::Idempotency => Some(now - RETENTION_MS),
        Retained::LoginSessions => Some(now),
        Retained::LoginThrottle => Some(now - app.config.login_lock_ms),
        Retained::Outbox | Retained::OtpSessions => app.config.retention_ms.map(|r| now - r),
    }
}

/// The scheduled handler: one pass with the deployment's settings and the clock now.
pub async fn scheduled(env: worker::Env, wctx: worker::Context) {
    run(&App::background(env, wctx)).await;
}
