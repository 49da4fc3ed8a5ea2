//! Workflow steps in D1 (`otp_steps`): the guarded insert of a step that goes out (priced
//! from the catalog for its channel, refused when D1 knows the session verified), whose row
//! the step's charge reads; and a cancel's end of the session's row.
use super::{first_value, int, stmt, text, ConstraintKind, Prepared, Result, StoreError};
use worker::D1Database;

/// A step to record as it goes out.
pub struct NewStep<'a> {
    /// `domain::workflow::step_id`: also the ledger object of its charge.
    pub id: &'a str,
    pub session_id: &'a str,
    pub account_id: &'a str,
    pub n: usize,
    pub channel: &'a str,
    pub country: &'a str,
    pub created_at: i64,
}

/// What a step costs, as its insert recorded it: SQL over the step id bound as `?2` (for the
/// charge, as `sessions::COST_OF_SESSION` is for a session).
pub const COST_OF_STEP: &str = "(SELECT cost FROM otp_steps WHERE id = ?2)";

/// Inserts the step only if its account is active, the catalog prices its channel there
/// and D1 does not know the session verified; otherwise a NOT NULL column fails the batch.
pub fn insert_statement(db: &D1Database, s: &NewStep<'_>) -> Prepared {
    stmt(
        db,
        "INSERT INTO otp_steps (id, session_id, account_id, n, channel, cost, created_at, \
           send_allowed) \
         VALUES (?1, ?2, (SELECT id FROM accounts WHERE id = ?3 AND status = 'active'), ?4, ?5, \
           (SELECT cost FROM otp_prices WHERE country = ?6 AND channel = ?5), ?7, \
           (SELECT 1 FROM otp_sessions WHERE id = ?2 AND verified_at IS NULL))",
        &[
            text(s.id),
            text(s.session_id),
            text(s.account_id),
            int(i64::try_from(s.n).unwrap_or(i64::MAX)),
            text(s.channel),
            text(s.country),
            int(s.created_at),
        ],
    )
}

/// Why a step's batch failed, when the step's own guards refused it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// Already recorded: it went out before (a repeated job).
    AlreadySent,
    NoPrice,
    Verified,
    AccountInactive,
    /// The wallet's balance (`StoreError::is_overdraft`).
    Overdraft,
    /// A spend cap (`StoreError::spend_cap`).
    SpendCap,
}

/// The step's guard that failed its batch, if that is why.
pub fn refused(e: &StoreError) -> Option<Refused> {
    if e.is_overdraft() {
        return Some(Refused::Overdraft);
    }
    if e.spend_cap().is_some() {
        return Some(Refused::SpendCap);
    }
    let not_null = |column: &str| e.on_constraint(ConstraintKind::NotNull, column);
    if e.on_constraint(ConstraintKind::Unique, "otp_steps")
        || e.on_constraint(ConstraintKind::Unique, "ledger")
    {
        Some(Refused::AlreadySent)
    } else if not_null("otp_steps.cost") {
        Some(Refused::NoPrice)
    } else if not_null("otp_steps.send_allowed") {
        Some(Refused::Verified)
    } else if not_null("otp_steps.account_id") {
        Some(Refused::AccountInactive)
    } else {
        None
    }
}

/// A cancelled session ends now in D1 too (its object decided it).
pub fn end_session_statement(db: &D1Database, id: &str, now_ms: i64) -> Prepared {
    stmt(
        db,
        "UPDATE otp_sessions SET expires_at = MIN(expires_at, ?2) WHERE id = ?1",
        &[text(id), int(now_ms)],
    )
}

/// What a step that went out was charged.
pub async fn cost(db: &D1Database, step_id: &str) -> Result<i64> {
    let sql = "SELECT cost FROM otp_steps WHERE id = ?1";
    Ok(first_value(stmt(db, sql, &[text(step_id)])?, "cost")
        .await?
        .unwrap_or(0))
}
