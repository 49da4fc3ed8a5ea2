//! The operator's API (`/admin/*`, `Authorization: Bearer <ADMIN_TOKEN>`): accounts, keys,
//! top-ups here; catalog, numbers and suppliers in `inventory`; templates and the outbox in
//! `messaging`.
pub mod console;
pub mod inventory;
pub mod messaging;

use crate::app::idempotency::{BalanceAs, Idem};
use crate::app::wallet::{self, TopUp, ToppedUp};
use crate::app::{accounts, keys};
use crate::domain::audit::Actor;
use crate::domain::error::{AppError, Code};
use crate::domain::money::Money;
use crate::http::input::{self, label};
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
    let actor = auth::admin(ctx)?;
    let body: Named = ctx.json()?;
    let name = label("name", &body.name)?;
    let a = accounts::create_account(&ctx.app, name, &actor).await?;
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
    let actor = auth::admin(ctx)?;
    let key = keys::create_for_operator(&ctx.app, account_id, &actor).await?;
    let body = json!({
        "account_id": account_id,
        "key_id": key.key.id,
        "api_key": key.api_key,
        "twilio_key_sid": key.twilio_sid,
    });
    Ok(Reply::json(201, &body))
}

pub async fn revoke_key(ctx: &Ctx, key_id: &str) -> Result<Reply, AppError> {
    let actor = auth::admin(ctx)?;
    keys::revoke(&ctx.app, key_id, None, &actor).await?;
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

/// `POST /admin/accounts/{id}/topup {amount, reference[, description, reason]}`: credits a
/// wallet. Idempotent on `reference` (per account) and on `Idempotency-Key`.
pub async fn topup(ctx: &Ctx, account_id: &str) -> Result<Reply, AppError> {
    let actor = auth::admin(ctx)?;
    let body: Topup = ctx.json()?;
    let amount = Money::parse_json(&body.amount)
        .map_err(|e| AppError::new(Code::InvalidAmount, e.to_string()))?;
    let reference = label("reference", &body.reference)?;
    let description = match body.description.as_deref() {
        Some(d) => label("description", d)?,
        None => "top-up".to_owned(),
    };
    let input = TopUp {
        amount,
        reference: Some(reference),
        description,
        reason: input::reason(ctx, false)?,
    };
    credit(ctx, account_id, input, &actor).await
}

/// Runs a top-up or an adjustment and answers it (a replay answers the first answer).
async fn credit(
    ctx: &Ctx,
    account_id: &str,
    input: TopUp,
    actor: &Actor,
) -> Result<Reply, AppError> {
    let request = ctx.idem_request("admin");
    let render = |t: &ToppedUp| {
        let mut s = saved(topped_up(t));
        s.balance_fill = Some(("$.balance", BalanceAs::Decimal));
        s
    };
    let idem = Idem::new(&request, &render);
    let answer = wallet::topup(&ctx.app, account_id, input, (idem, actor)).await?;
    Ok(ctx.answer(answer, topped_up))
}

#[derive(Deserialize)]
struct Adjust {
    amount: serde_json::Value,
}

/// `POST /admin/accounts/{id}/adjust {amount, reason}`: the operator's correction of a
/// balance, of either sign (`"-2.50"` debits), with the reason it is made for (required).
/// Idempotent on `Idempotency-Key`.
pub async fn adjust(ctx: &Ctx, account_id: &str) -> Result<Reply, AppError> {
    let actor = auth::admin(ctx)?;
    let body: Adjust = ctx.json()?;
    let invalid = |e: String| AppError::new(Code::InvalidAmount, format!("'amount': {e}"));
    let text = match &body.amount {
        serde_json::Value::String(s) => s.trim().to_owned(),
        serde_json::Value::Number(n) => n.to_string(),
        _ => {
            return Err(invalid(
                "a decimal such as \"2.50\" or \"-2.50\"".to_owned(),
            ))
        }
    };
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.as_str()),
    };
    let magnitude = Money::parse_decimal(digits).map_err(|e| invalid(e.to_string()))?;
    let amount = Money::from_minor(if negative {
        -magnitude.minor()
    } else {
        magnitude.minor()
    });
    let reason = input::reason(ctx, true)?.unwrap_or_default();
    let input = TopUp {
        amount,
        reference: None,
        description: format!("adjustment: {reason}").chars().take(255).collect(),
        reason: Some(reason),
    };
    credit(ctx, account_id, input, &actor).await
}
