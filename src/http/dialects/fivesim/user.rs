//! The account: profile, payments and price ceilings.
use super::orders::window;
use super::shapes::{self, reply};
use crate::app::fivesim as ops;
use crate::domain::error::AppError;
use crate::domain::money::Money;
use crate::http::server::Ctx;
use crate::http::{auth, body, Reply};
use serde::Deserialize;
use serde_json::json;

/// `GET /v1/user/profile`.
pub async fn profile(ctx: &Ctx) -> Result<Reply, AppError> {
    let account = auth::account(ctx).await?;
    let profile = ops::profile(&ctx.app, &account).await?;
    Ok(reply(&shapes::profile(&profile)))
}

/// `GET /v1/user/payments?limit&offset`: the wallet's ledger, newest first.
pub async fn payments(ctx: &Ctx) -> Result<Reply, AppError> {
    let account = auth::account(ctx).await?;
    let (limit, offset) = window(ctx);
    let (list, total) = ops::payments(&ctx.app, &account, limit, offset).await?;
    Ok(reply(&shapes::payments(&list, total)))
}

/// A price ceiling as posted: `{product_name, price}` (`price` not needed to delete).
#[derive(Deserialize)]
struct Ceiling {
    product_name: String,
    #[serde(default)]
    price: Option<serde_json::Value>,
}

/// `GET|POST|DELETE /v1/user/max-prices`. The body is JSON whatever its `Content-Type`
/// (some clients post it as a form).
pub async fn max_prices(ctx: &Ctx) -> Result<Reply, AppError> {
    let account = auth::account(ctx).await?;
    if ctx.method == "GET" {
        let list = ops::max_prices(&ctx.app, &account).await?;
        return Ok(reply(&shapes::max_prices(&list)));
    }
    let ceiling: Ceiling = body::parse_json(&ctx.body)?;
    if ctx.method == "DELETE" {
        ops::delete_max_price(&ctx.app, &account, &ceiling.product_name).await?;
    } else {
        let price = ceiling
            .price
            .as_ref()
            .map(Money::parse_json)
            .transpose()
            .map_err(|e| AppError::invalid(format!("'price': {e}")))?
            .ok_or_else(|| AppError::invalid("'price' is required"))?;
        ops::set_max_price(&ctx.app, &account, &ceiling.product_name, price).await?;
    }
    Ok(reply(&json!({})))
}
