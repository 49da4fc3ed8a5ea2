//! The OTPWALL dialect (`/v1`): balance, catalog, numbers, activations.
use super::auth;
use super::error::ApiError;
use super::server::{Ctx, Reply};
use crate::domain::money::Money;
use crate::store::wallet;
use serde_json::json;

/// `GET /v1/balance` → `{"balance":12.5,"currency":"USD"}`
pub async fn balance(ctx: &Ctx) -> Result<Reply, ApiError> {
    let who = auth::account(ctx).await?;
    let w = wallet::wallet(&ctx.db()?, &who.account_id).await?;
    Ok(Reply::ok(json!({"balance": Money::from_minor(w.balance).as_f64(), "currency": w.currency})))
}
