//! The operator's API (`/admin/*`, `Authorization: Bearer <ADMIN_TOKEN>`): accounts, keys,
//! top-ups here; catalog, numbers and suppliers in `inventory`; templates and the outbox in
//! `messaging`.
pub mod inventory;
pub mod messaging;

use crate::app::idempotency::{BalanceAs, Idem};
use crate::app::wallet::{self, TopUp, ToppedUp};
use crate::app::{accounts, keys};
use crate::domain::error::{AppError, Code};
use crate::domain::money::Money;
use crate::http::input::label;
use crate::http::server::{saved, Ctx};
use crate::http::{auth, Reply};
use serde::Deserialize;
use serde_json::json;

/// A body that only names something: `{"name"}` (accounts, suppliers).
#[derive(Deserialize)]
struct Named {
    name: String,
}

pub async fn create_account(ctx: &Ctx) -> Result<Reply, AppError> {
    auth::admin(ctx)?;
    let body: Named = ctx.json()?;
    let name = label("name", &body.name)?;
    let a = accounts::create_account(&ctx.app, name).await?;
    let body = json!({
        "account_id": a.account_id,
        "name": a.name,
        "key_id": a.key.key.id,
        "api_key": a.key.api_key,
        "twilio_account_sid": a.account_sid,
        "twilio_key_sid": a.key.twilio_sid,
    });
    Ok(Reply::json(201, &body))
}

pub async fn create_key(ctx: &Ctx, account_id: &str) -> Result<Reply, AppError> {
    auth::admin(ctx)?;
    let key = keys::create_for_operator(&ctx.app, account_id).await?;
    let body = json!({
        "account_id": account_id,
        "key_id": key.key.id,
        "api_key": key.api_key,
        "twilio_key_sid": key.twilio_sid,
    });
    Ok(Reply::json(201, &body))
}

pub async fn revoke_key(ctx: &Ctx, key_id: &str) -> Result<Reply, AppError> {
    auth::admin(ctx)?;
    keys::revoke(&ctx.app, key_id, None).await?;
    Ok(Reply::ok(json!({"key_id": key_id, "revoked": true})))
}

#[derive(Deserialize)]
struct Topup {
    amount: serde_json::Value,
    reference: String,
    description: Option<String>,
}

fn topped_up(t: &ToppedUp) -> Reply {
    Reply::ok(json!({
        "account_id": t.account_id,
        "transaction_id": t.transaction_id,
        "reference": t.reference,
        "amount": t.amount.to_decimal_string(),
        "balance": t.balance.to_decimal_string(),
        "currency": t.currency,
    }))
}

/// `POST /admin/accounts/{id}/topup {amount, reference[, description]}`: credits a wallet.
/// Idempotent on `reference` (per account) and on `Idempotency-Key`.
pub async fn topup(ctx: &Ctx, account_id: &str) -> Result<Reply, AppError> {
    auth::admin(ctx)?;
    let body: Topup = ctx.json()?;
    let amount = Money::parse_json(&body.amount)
        .map_err(|e| AppError::new(Code::InvalidAmount, e.to_string()))?;
    let reference = label("reference", &body.reference)?;
    let description = match body.description.as_deref() {
        Some(d) => label("description", d)?,
        None => "top-up".to_owned(),
    };
    let request = ctx.idem_request("admin");
    let render = |t: &ToppedUp| {
        let mut s = saved(topped_up(t));
        s.balance_fill = Some(("$.balance", BalanceAs::Decimal));
        s
    };
    let idem = Idem {
        request: &request,
        render: &render,
    };
    let input = TopUp {
        amount,
        reference,
        description,
    };
    let answer = wallet::topup(&ctx.app, account_id, input, idem).await?;
    Ok(ctx.answer(answer, topped_up))
}
