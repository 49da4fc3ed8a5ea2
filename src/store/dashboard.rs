//! The customer's own lists that the dashboard shows: activations, rents, OTP sessions and
//! (locally) the sandbox outbox. One page and its total in one round trip each.
use super::StoreError;
use super::{int, page_of, stmt, text};
use crate::domain::pagination::Page;
use serde::Deserialize;
use worker::D1Database;

#[derive(Debug, Deserialize)]
pub struct ActivationRow {
    pub id: String,
    pub number: String,
    pub country: String,
    pub service: String,
    pub operator: String,
    pub cost: i64,
    pub status: String,
    pub created_at: i64,
    pub cancel_allowed_at: i64,
    pub expires_at: i64,
}

pub async fn activations(
    db: &D1Database,
    account_id: &str,
    page: Page,
) -> Result<(Vec<ActivationRow>, u64), StoreError> {
    let rows = stmt(
        db,
        "SELECT id, number, country, service, operator, cost, status, created_at, \
         cancel_allowed_at, expires_at FROM activations WHERE account_id = ?1 \
         ORDER BY created_at DESC, id DESC LIMIT ?2 OFFSET ?3",
        &[
            text(account_id),
            int(i64::from(page.limit)),
            int(page.offset() as i64),
        ],
    )?;
    let count = stmt(
        db,
        "SELECT COUNT(*) AS total FROM activations WHERE account_id = ?1",
        &[text(account_id)],
    )?;
    page_of(db, rows, count).await
}

#[derive(Debug, Deserialize)]
pub struct RentRow {
    pub id: String,
    pub number: String,
    pub country: String,
    pub service: String,
    pub operator: String,
    pub hours: i64,
    pub cost: i64,
    pub created_at: i64,
    pub expires_at: i64,
}

pub async fn rents(
    db: &D1Database,
    account_id: &str,
    page: Page,
) -> Result<(Vec<RentRow>, u64), StoreError> {
    let rows = stmt(
        db,
        "SELECT id, number, country, service, operator, hours, cost, created_at, expires_at \
         FROM rents WHERE account_id = ?1 ORDER BY created_at DESC, id DESC LIMIT ?2 OFFSET ?3",
        &[
            text(account_id),
            int(i64::from(page.limit)),
            int(page.offset() as i64),
        ],
    )?;
    let count = stmt(
        db,
        "SELECT COUNT(*) AS total FROM rents WHERE account_id = ?1",
        &[text(account_id)],
    )?;
    page_of(db, rows, count).await
}

#[derive(Debug, Deserialize)]
pub struct OtpSessionRow {
    pub id: String,
    pub phone: String,
    pub channel: String,
    pub dialect: String,
    pub cost: i64,
    pub created_at: i64,
    pub expires_at: i64,
    pub attempts: i64,
    pub max_attempts: i64,
    pub verified_at: Option<i64>,
}

pub async fn otp_sessions(
    db: &D1Database,
    account_id: &str,
    page: Page,
) -> Result<(Vec<OtpSessionRow>, u64), StoreError> {
    let rows = stmt(
        db,
        "SELECT id, phone, channel, dialect, cost, created_at, expires_at, attempts, \
         max_attempts, verified_at FROM otp_sessions WHERE account_id = ?1 \
         ORDER BY created_at DESC, id DESC LIMIT ?2 OFFSET ?3",
        &[
            text(account_id),
            int(i64::from(page.limit)),
            int(page.offset() as i64),
        ],
    )?;
    let count = stmt(
        db,
        "SELECT COUNT(*) AS total FROM otp_sessions WHERE account_id = ?1",
        &[text(account_id)],
    )?;
    page_of(db, rows, count).await
}

/// The sandbox outbox entries sent for this account's OTP sessions and template messages.
pub async fn outbox(
    db: &D1Database,
    account_id: &str,
    page: Page,
) -> Result<(Vec<crate::domain::message::OutboxText>, u64), StoreError> {
    const MINE: &str = "(o.object_id IN (SELECT id FROM otp_sessions WHERE account_id = ?1) \
         OR o.object_id IN (SELECT id FROM messages WHERE account_id = ?1))";
    let rows = stmt(
        db,
        &format!(
            "SELECT o.id, o.to_phone, o.channel, o.sender, o.text, o.status, o.object_id, \
             o.created_at FROM outbox o WHERE {MINE} ORDER BY o.seq DESC LIMIT ?2 OFFSET ?3"
        ),
        &[
            text(account_id),
            int(i64::from(page.limit)),
            int(page.offset() as i64),
        ],
    )?;
    let count = stmt(
        db,
        &format!("SELECT COUNT(*) AS total FROM outbox o WHERE {MINE}"),
        &[text(account_id)],
    )?;
    page_of(db, rows, count).await
}
