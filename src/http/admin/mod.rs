//! The operator's API (`/admin/*`, `Authorization: Bearer <ADMIN_TOKEN>`): accounts, keys,
//! top-ups here; catalog, numbers and suppliers in `inventory`; templates and the outbox in
//! `messaging`.
pub mod inventory;
pub mod messaging;

use super::auth;
use super::error::{ApiError, Code};
use super::server::{Ctx, Reply};
use crate::domain::money::Money;
use crate::store::accounts::{self, Revocation};
use crate::store::idempotency::{self, Begin};
use crate::store::wallet::{self, Entry, Kind, LedgerRow};
use crate::store::{self, DbError};
use serde::Deserialize;
use serde_json::json;

/// Bounds for operator-supplied labels (names, references).
const MAX_LABEL: usize = 255;

fn label(field: &str, value: &str) -> Result<String, ApiError> {
    let v = value.trim();
    if v.is_empty() || v.chars().count() > MAX_LABEL {
        return Err(ApiError::invalid(format!("'{field}' must be 1 to {MAX_LABEL} characters")));
    }
    Ok(v.to_owned())
}

/// A body that only names something: `{"name"}` (accounts, suppliers).
#[derive(Deserialize)]
struct Named {
    name: String,
}

pub async fn create_account(ctx: &Ctx) -> Result<Reply, ApiError> {
    auth::admin(ctx)?;
    let body: Named = ctx.json()?;
    let name = label("name", &body.name)?;
    let db = ctx.db()?;
    let (account_id, key) = accounts::create_account(&db, &name, &ctx.config.currency, ctx.now_ms).await?;
    // Twilio Verify's usernames: the account's AC sid and this key's SK sid.
    let account_sid = crate::store::verify::account_sid(&db, &account_id).await?;
    let key_sid = crate::store::verify::key_sid(&db, &key.key_id).await?;
    Ok(Reply::json(201, &json!({"account_id": account_id, "name": name, "key_id": key.key_id, "api_key": key.api_key, "twilio_account_sid": account_sid, "twilio_key_sid": key_sid})))
}

pub async fn create_key(ctx: &Ctx, account_id: &str) -> Result<Reply, ApiError> {
    auth::admin(ctx)?;
    let db = ctx.db()?;
    let key = accounts::create_key(&db, account_id, ctx.now_ms).await?.ok_or_else(|| ApiError::not_found("account"))?;
    let key_sid = crate::store::verify::key_sid(&db, &key.key_id).await?;
    Ok(Reply::json(201, &json!({"account_id": account_id, "key_id": key.key_id, "api_key": key.api_key, "twilio_key_sid": key_sid})))
}

pub async fn revoke_key(ctx: &Ctx, key_id: &str) -> Result<Reply, ApiError> {
    auth::admin(ctx)?;
    match accounts::revoke_key(&ctx.db()?, key_id, ctx.now_ms).await? {
        Revocation::Revoked | Revocation::AlreadyRevoked => Ok(Reply::ok(json!({"key_id": key_id, "revoked": true}))),
        Revocation::NoSuchKey => Err(ApiError::not_found("key")),
    }
}

#[derive(Deserialize)]
struct Topup {
    amount: serde_json::Value,
    reference: String,
    description: Option<String>,
}

fn topup_body(account_id: &str, row: &LedgerRow, currency: &str) -> serde_json::Value {
    json!({
        "account_id": account_id,
        "transaction_id": row.id,
        "reference": row.reference,
        "amount": Money::from_minor(row.amount).to_decimal_string(),
        "balance": Money::from_minor(row.balance_after).to_decimal_string(),
        "currency": currency,
    })
}

/// Credits a wallet. Idempotent on `reference` (per account): a repeat with the same
/// amount answers exactly as the first did; with another amount, 409. `Idempotency-Key`
/// is honoured too.
pub async fn topup(ctx: &Ctx, account_id: &str) -> Result<Reply, ApiError> {
    auth::admin(ctx)?;
    let body: Topup = ctx.json()?;
    let amount = Money::parse_json(&body.amount).map_err(|e| ApiError::new(Code::InvalidAmount, e.to_string()))?;
    if !amount.is_positive() {
        return Err(ApiError::new(Code::InvalidAmount, "amount must be greater than 0"));
    }
    let reference = label("reference", &body.reference)?;
    let description = body.description.as_deref().map(|d| label("description", d)).transpose()?.unwrap_or_else(|| "top-up".to_owned());
    let db = ctx.db()?;
    let claim = match idempotency::begin(&db, "admin", ctx.header("Idempotency-Key").as_deref(), &ctx.method, &ctx.path, &ctx.body, ctx.now_ms).await? {
        Begin::Replay { status, body } => return Ok(Reply { status, body, headers: vec![("Idempotent-Replayed", "true".to_owned())] }),
        Begin::Proceed(claim) => claim,
    };
    let result = credit(ctx, &db, account_id, amount, &reference, &description).await;
    if let Some(claim) = &claim {
        match &result {
            Ok(reply) => idempotency::complete(&db, claim, reply.status, &reply.body).await?,
            Err(_) => idempotency::release(&db, claim).await?,
        }
    }
    result
}

async fn credit(ctx: &Ctx, db: &worker::D1Database, account_id: &str, amount: Money, reference: &str, description: &str) -> Result<Reply, ApiError> {
    if !accounts::exists(db, account_id).await? {
        return Err(ApiError::not_found("account"));
    }
    let entry = Entry { account_id, kind: Kind::Topup, amount: amount.minor(), reference: Some(reference), object_id: None, description };
    let (_, statements) = wallet::entry_statements(db, &entry, ctx.now_ms)?;
    match store::batch(db, statements).await {
        Ok(_) | Err(DbError::Unique(_)) => {}
        Err(e) => return Err(e.into()),
    }
    // Either ours or an earlier top-up with this reference: answer from the ledger row.
    let row = wallet::topup_by_reference(db, account_id, reference).await?.ok_or_else(|| ApiError::internal("top-up row missing after commit"))?;
    if row.amount != amount.minor() {
        return Err(ApiError::new(Code::Conflict, format!("reference '{reference}' was already used for a top-up of {}", Money::from_minor(row.amount))));
    }
    Ok(Reply::ok(topup_body(account_id, &row, &ctx.config.currency)))
}
