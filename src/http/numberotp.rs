//! The NumberOTP dialect (`/api/public`, `/api/internal`, `/api/user`): camelCase fields,
//! `{"success":true,...}` bodies, `{"success":false,"error","code"}` errors.
use super::auth;
use super::error::{ApiError, Code};
use super::server::{Ctx, Reply};
use crate::domain::money::Money;
use crate::domain::pagination::Page;
use crate::store::{accounts, wallet};
use serde_json::json;

/// `GET /api/internal/balance`. `credits` is the balance in whole cents (1 credit = 0.01
/// of the currency, rounded down); `source` is "api" because it is read live from D1.
pub async fn balance(ctx: &Ctx) -> Result<Reply, ApiError> {
    let who = auth::account(ctx).await?;
    let w = wallet::wallet(&ctx.db()?, &who.account_id).await?;
    let balance = Money::from_minor(w.balance);
    Ok(Reply::ok(json!({
        "success": true,
        "balance": balance.as_f64(),
        "credits": balance.credits(),
        "freeCreditsUsed": 0,
        "isApproved": true,
        "currency": w.currency,
        "source": "api",
    })))
}

/// `GET /api/internal/transactions?page=1&limit=20`: the ledger, newest first.
/// `limit` above 100 (or below 1) is a 400, not clamped.
pub async fn transactions(ctx: &Ctx) -> Result<Reply, ApiError> {
    let who = auth::account(ctx).await?;
    let page = Page::parse(ctx.query("page").as_deref(), ctx.query("limit").as_deref()).map_err(|m| ApiError::new(Code::InvalidPagination, m))?;
    let (rows, total) = wallet::transactions(&ctx.db()?, &who.account_id, page).await?;
    let data: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| {
            json!({
                "id": r.id,
                "type": r.kind,
                "amount": Money::from_minor(r.amount).as_f64(),
                "balanceAfter": Money::from_minor(r.balance_after).as_f64(),
                "reference": r.reference,
                "objectId": r.object_id,
                "description": r.description,
                "createdAt": r.created_at,
            })
        })
        .collect();
    Ok(Reply::ok(json!({
        "success": true,
        "data": data,
        "pagination": {"page": page.page, "limit": page.limit, "total": total, "totalPages": page.total_pages(total)},
    })))
}

/// `GET /api/user/profile`
pub async fn profile(ctx: &Ctx) -> Result<Reply, ApiError> {
    let who = auth::account(ctx).await?;
    let p = accounts::profile(&ctx.db()?, &who.account_id).await?.ok_or_else(|| ApiError::not_found("account"))?;
    let balance = Money::from_minor(p.balance);
    Ok(Reply::ok(json!({
        "success": true,
        "data": {
            "id": p.id,
            "name": p.name,
            "isApproved": p.status == "active",
            "createdAt": p.created_at,
            "balance": balance.as_f64(),
            "credits": balance.credits(),
            "currency": p.currency,
        },
    })))
}
