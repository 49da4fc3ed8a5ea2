//! Orders: buy, check, finish, cancel, ban, the SMS inbox and the order history.
use super::shapes::{self, reply};
use crate::app::fivesim::{self as ops, Action, Purchase};
use crate::domain::error::AppError;
use crate::domain::fivesim::Pick;
use crate::domain::money::Money;
use crate::http::server::Ctx;
use crate::http::{auth, Reply};

/// An order id: a positive integer; anything else names no order (after the key: with a bad
/// key, 401 first).
fn order_id(segment: &str) -> Result<i64, AppError> {
    segment
        .parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| AppError::not_found("order"))
}

/// `maxPrice`, a decimal (`0.5`, `5.0`); it counts with operator `any` only.
fn max_price(ctx: &Ctx) -> Result<Option<Money>, AppError> {
    match ctx.query("maxPrice").filter(|v| !v.trim().is_empty()) {
        None => Ok(None),
        Some(v) => Money::parse_decimal(&v)
            .map(Some)
            .map_err(|e| AppError::invalid(format!("'maxPrice': {e}"))),
    }
}

/// `GET /v1/user/buy/activation/{country}/{operator}/{product}` (`reuse`, `voice`,
/// `forwarding`, `number` and `ref` are accepted and change nothing).
pub async fn buy(
    ctx: &Ctx,
    country: &str,
    operator: &str,
    product: &str,
) -> Result<Reply, AppError> {
    let account = auth::payer(ctx).await?;
    let purchase = Purchase {
        country: Pick::parse(country),
        operator: Pick::parse(operator),
        product: product.to_owned(),
        max_price: max_price(ctx)?,
    };
    let order = ops::buy(&ctx.app, &account, purchase).await?;
    Ok(reply(&shapes::order(&order, true)))
}

/// `GET /v1/user/check/{id}`.
pub async fn check(ctx: &Ctx, id: &str) -> Result<Reply, AppError> {
    let key = auth::key_hash(ctx)?;
    let id = auth::input_after_key(ctx, order_id(id)).await?;
    let order = ops::order(&ctx.app, &key, id).await?;
    Ok(reply(&shapes::order(&order, false)))
}

/// `GET /v1/user/finish/{id}`, `…/cancel/{id}`, `…/ban/{id}`.
pub async fn act(ctx: &Ctx, id: &str, action: Action) -> Result<Reply, AppError> {
    let key = auth::key_hash(ctx)?;
    let id = auth::input_after_key(ctx, order_id(id)).await?;
    let order = ops::act(&ctx.app, &key, id, action).await?;
    Ok(reply(&shapes::order(&order, false)))
}

/// `GET /v1/user/sms/inbox/{id}`: the order's SMS.
pub async fn inbox(ctx: &Ctx, id: &str) -> Result<Reply, AppError> {
    let key = auth::key_hash(ctx)?;
    let id = auth::input_after_key(ctx, order_id(id)).await?;
    let order = ops::order(&ctx.app, &key, id).await?;
    Ok(reply(&shapes::inbox(&order)))
}

/// `limit` (1–100, default 15) and `offset` (default 0) of a history.
pub fn window(ctx: &Ctx) -> (u32, u64) {
    let limit = ctx
        .query("limit")
        .and_then(|v| v.parse().ok())
        .unwrap_or(15);
    let offset = ctx
        .query("offset")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    (limit, offset)
}

/// `GET /v1/user/orders?category=activation&limit&offset&order&reverse`: oldest first, or
/// newest first with `reverse=true`. Category `hosting` (rents) lists nothing.
pub async fn list(ctx: &Ctx) -> Result<Reply, AppError> {
    let account = auth::account(ctx).await?;
    if ctx.query("category").is_some_and(|c| c == "hosting") {
        return Ok(reply(&shapes::orders(&[], 0)));
    }
    let (limit, offset) = window(ctx);
    let newest_first = ctx.query("reverse").is_some_and(|r| r == "true");
    let (list, total) = ops::orders(&ctx.app, &account, limit, offset, newest_first).await?;
    Ok(reply(&shapes::orders(&list, total)))
}
