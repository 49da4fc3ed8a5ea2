//! What the scheduled pass (`app::upkeep`) reads and deletes: activations whose object may
//! never have taken over, and rows past their retention. Every statement is bounded by a
//! `LIMIT`, so one pass does a bounded amount of work however much is due.
use super::row::row;
use super::{all, int, run, stmt, text, Result};
use crate::domain::ids::is_uuid;
use worker::D1Database;

row! {
    struct Id {
        id: String,
    }
}

/// Up to `limit` activations D1 still shows live (waiting or received) whose lifetime ended
/// at or before `now_ms`, the longest overdue first: their object either never armed its
/// expiry or has not yet brought D1 in line (a refund or lease release still owed).
pub async fn overdue_activations(db: &D1Database, now_ms: i64, limit: u32) -> Result<Vec<String>> {
    let sql = "SELECT id FROM activations WHERE status IN ('waiting', 'received') \
               AND expires_at <= ?1 ORDER BY expires_at LIMIT ?2";
    let rows: Vec<Id> = all(stmt(db, sql, &[int(now_ms), int(i64::from(limit))])?).await?;
    Ok(rows.into_iter().map(|r| r.id).collect())
}

row! {
    /// A charge a failed delivery still owes back.
    #[derive(Debug, Clone)]
    pub struct Owed {
        pub id: String,
        pub account_id: String,
        pub cost: i64,
    }
}

/// Up to `limit` template messages created since `since_ms` whose delivery failed (no
/// provider ever took them: a failure by receipt is not refunded) and whose charge has no
/// refund in the ledger.
pub async fn unrefunded_messages(db: &D1Database, since_ms: i64, limit: u32) -> Result<Vec<Owed>> {
    let sql = "SELECT m.id, m.account_id, m.cost FROM messages m \
               WHERE m.status = 'failed' AND m.provider_message_id IS NULL AND m.cost > 0 \
               AND m.created_at >= ?1 AND NOT EXISTS (SELECT 1 FROM ledger l \
                 WHERE l.object_id = m.id AND l.kind = 'message_refund') \
               ORDER BY m.created_at LIMIT ?2";
    all(stmt(db, sql, &[int(since_ms), int(i64::from(limit))])?).await
}

row! {
    /// A template message still `queued` long after its expiry: its delivery job never
    /// settled it.
    #[derive(Debug, Clone)]
    pub struct Stranded {
        pub id: String,
        pub account_id: String,
        pub phone: String,
        pub channel: String,
        pub cost: i64,
    }
}

/// Template messages whose delivery may never settle by itself, as the pass looks for them.
#[derive(Debug, Clone, Copy)]
pub enum Held {
    /// Still `queued` with their expiry at or before the time given: their job was lost.
    Queued,
    /// Claimed for delivery (`sending`) at or before the time given and never settled: the
    /// job stopped during its provider call.
    Sending,
}

/// Up to `limit` template messages held as `held` says, at or before `before_ms`, the
/// longest held first.
pub async fn stranded_messages(
    db: &D1Database,
    held: Held,
    before_ms: i64,
    limit: u32,
) -> Result<Vec<Stranded>> {
    let sql = match held {
        Held::Queued => {
            "SELECT id, account_id, phone, channel, cost FROM messages \
             WHERE status = 'queued' AND expires_at <= ?1 ORDER BY expires_at LIMIT ?2"
        }
        Held::Sending => {
            "SELECT id, account_id, phone, channel, cost FROM messages \
             WHERE status = 'sending' AND sending_at <= ?1 ORDER BY sending_at LIMIT ?2"
        }
    };
    all(stmt(db, sql, &[int(before_ms), int(i64::from(limit))])?).await
}

row! {
    /// An ended OTP session not yet settled: its object is asked to mirror its last state.
    #[derive(Debug, Clone)]
    pub struct Unsettled {
        pub id: String,
        pub account_id: String,
    }
}

/// Up to `limit` OTP sessions ended (by their lifetime) at or before `now_ms` and not yet
/// settled, the earliest ended first.
pub async fn unsettled_sessions(
    db: &D1Database,
    now_ms: i64,
    limit: u32,
) -> Result<Vec<Unsettled>> {
    let sql = "SELECT id, account_id FROM otp_sessions WHERE settled_at IS NULL \
               AND expires_at <= ?1 ORDER BY expires_at LIMIT ?2";
    all(stmt(db, sql, &[int(now_ms), int(i64::from(limit))])?).await
}

/// Marks these OTP sessions settled, in one batch, with a Vonage request's summary callback
/// (recorded once, whatever ended it): the accounts whose summaries were recorded.
pub async fn settle_sessions(
    db: &D1Database,
    settled: &[Unsettled],
    now_ms: i64,
) -> Result<Vec<String>> {
    let sql = "UPDATE otp_sessions SET settled_at = ?2 WHERE id = ?1";
    let mut statements = Vec::with_capacity(2 * settled.len());
    let mut summaries = Vec::new();
    for s in settled {
        statements.push(stmt(db, sql, &[text(&s.id), int(now_ms)])?);
        if is_uuid(&s.id) {
            summaries.push((statements.len(), s.account_id.clone()));
            statements.push(super::vonage::summary_statement(
                db, &s.id, now_ms, false, true,
            )?);
        }
    }
    if statements.is_empty() {
        return Ok(Vec::new());
    }
    let results = super::batch(db, statements).await?;
    Ok(summaries
        .into_iter()
        .filter(|(i, _)| results.get(*i).is_some_and(|r| super::changes(r) >= 1))
        .map(|(_, account)| account)
        .collect())
}

/// A kind of row the scheduled pass deletes once it is no longer needed. The audit log
/// (`audit_events`) is never one: it is kept, and its triggers refuse every DELETE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retained {
    /// Idempotency records created at or before the cutoff (their retention is over).
    Idempotency,
    /// Login sessions revoked, or idle-expired (always at or before the absolute expiry), at
    /// or before the cutoff.
    LoginSessions,
    /// Failed-login throttle rows whose window started at or before the cutoff and whose
    /// lock (if any) is over by `now`.
    LoginThrottle,
    /// Sandbox outbox rows written at or before the cutoff.
    Outbox,
    /// OTP sessions that ended (expired) at or before the cutoff.
    OtpSessions,
    /// Workflow steps (`otp_steps`) sent at or before the cutoff: a step goes out within its
    /// session's lifetime, so it is due no later than its session.
    OtpSteps,
    /// Vonage requests (`vonage_requests`) started at or before the cutoff: their callbacks
    /// were all recorded by the end of their session.
    VonageRequests,
}

impl Retained {
    pub const ALL: [Retained; 7] = [
        Retained::Idempotency,
        Retained::LoginSessions,
        Retained::LoginThrottle,
        Retained::Outbox,
        Retained::OtpSessions,
        Retained::OtpSteps,
        Retained::VonageRequests,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Retained::Idempotency => "idempotency",
            Retained::LoginSessions => "login_sessions",
            Retained::LoginThrottle => "login_throttle",
            Retained::Outbox => "outbox",
            Retained::OtpSessions => "otp_sessions",
            Retained::OtpSteps => "otp_steps",
            Retained::VonageRequests => "vonage_requests",
        }
    }

    /// The rows due (?1: the cutoff, ?2: now), as `table` and the condition on them.
    fn due(self) -> (&'static str, &'static str) {
        match self {
            Retained::Idempotency => ("idempotency", "created_at <= ?1"),
            Retained::LoginSessions => ("sessions", "idle_expires_at <= ?1 OR revoked_at <= ?1"),
            Retained::LoginThrottle => (
                "login_throttle",
                "window_start <= ?1 AND (locked_until IS NULL OR locked_until <= ?2)",
            ),
            Retained::Outbox => ("outbox", "created_at <= ?1"),
            Retained::OtpSessions => ("otp_sessions", "expires_at <= ?1"),
            Retained::OtpSteps => ("otp_steps", "created_at <= ?1"),
            Retained::VonageRequests => ("vonage_requests", "created_at <= ?1"),
        }
    }
}

/// Deletes up to `limit` rows of `kind` that are due at `cutoff_ms`; returns how many.
pub async fn delete_due(
    db: &D1Database,
    kind: Retained,
    cutoff_ms: i64,
    now_ms: i64,
    limit: u32,
) -> Result<usize> {
    let (table, due) = kind.due();
    let sql = format!(
        "DELETE FROM {table} WHERE rowid IN (SELECT rowid FROM {table} WHERE {due} LIMIT ?3)"
    );
    let args = [int(cutoff_ms), int(now_ms), int(i64::from(limit))];
    run(stmt(db, &sql, &args)?).await
}
