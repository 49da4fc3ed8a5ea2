//! The customer's own lists, for the dashboard (and any client): `GET /v1/activations`,
//! `GET /api/internal/rents`, `GET /v1/otp/sessions`, and `GET /v1/outbox` (the sandbox
//! outbox, only while a channel delivers to it). `page`/`limit` as everywhere (2015).
use super::auth;
use super::error::{ApiError, Code};
use super::server::{Ctx, Reply};
use crate::domain::money::Money;
use crate::domain::pagination::Page;
use crate::domain::time::rfc3339;
use crate::store::dashboard;
use serde_json::json;

fn pagination(page: Page, total: u64) -> serde_json::Value {
    json!({"page": page.page, "limit": page.limit, "total": total, "total_pages": page.total_pages(total)})
}

/// `GET /v1/activations`: newest first; `status` is D1's mirror of the object's state (the
/// status route reads the object itself).
pub async fn activations(ctx: &Ctx) -> Result<Reply, ApiError> {
    let who = auth::account(ctx).await?;
    let page = ctx.page()?;
    let (rows, total) = dashboard::activations(&ctx.db()?, &who.account_id, page).await?;
    let data: Vec<_> = rows
        .iter()
        .map(|a| {
            json!({
                "activation_id": a.id,
                "number": a.number,
                "country": a.country,
                "service": a.service,
                "operator": a.operator,
                "cost": Money::from_minor(a.cost).as_f64(),
                "status": a.status,
                "created_at": rfc3339(a.created_at),
                "cancel_allowed_at": rfc3339(a.cancel_allowed_at),
                "expires_at": rfc3339(a.expires_at),
            })
        })
        .collect();
    Ok(Reply::ok(
        json!({"data": data, "pagination": pagination(page, total)}),
    ))
}

/// `GET /api/internal/rents` (NumberOTP's envelope).
pub async fn rents(ctx: &Ctx) -> Result<Reply, ApiError> {
    let who = auth::account(ctx).await?;
    let page = ctx.page()?;
    let (rows, total) = dashboard::rents(&ctx.db()?, &who.account_id, page).await?;
    let data: Vec<_> = rows
        .iter()
        .map(|r| {
            json!({
                "id": r.id,
                "number": r.number,
                "service": r.service,
                "country": r.country,
                "operator": r.operator,
                "hours": r.hours,
                "cost": Money::from_minor(r.cost).to_decimal_string(),
                "status": if ctx.now_ms < r.expires_at { "active" } else { "expired" },
                "createdAt": rfc3339(r.created_at),
                "expiresAt": rfc3339(r.expires_at),
            })
        })
        .collect();
    Ok(Reply::ok(json!({
        "success": true,
        "data": data,
        "pagination": {"page": page.page, "limit": page.limit, "total": total, "totalPages": page.total_pages(total)},
    })))
}

/// `GET /v1/otp/sessions`: each send and its state (pending, verified, failed, expired).
pub async fn otp_sessions(ctx: &Ctx) -> Result<Reply, ApiError> {
    let who = auth::account(ctx).await?;
    let page = ctx.page()?;
    let (rows, total) = dashboard::otp_sessions(&ctx.db()?, &who.account_id, page).await?;
    let data: Vec<_> = rows
        .iter()
        .map(|s| {
            let status = if s.verified_at.is_some() {
                "verified"
            } else if s.attempts >= s.max_attempts {
                "failed"
            } else if ctx.now_ms >= s.expires_at {
                "expired"
            } else {
                "pending"
            };
            json!({
                "session_id": s.id,
                "phone": s.phone,
                "channel": s.channel,
                "api": s.dialect,
                "status": status,
                "attempts": s.attempts,
                "max_attempts": s.max_attempts,
                "cost": Money::from_minor(s.cost).to_decimal_string(),
                "created_at": rfc3339(s.created_at),
                "expires_at": rfc3339(s.expires_at),
                "verified_at": s.verified_at.map(rfc3339),
            })
        })
        .collect();
    Ok(Reply::ok(
        json!({"data": data, "pagination": pagination(page, total)}),
    ))
}

/// `GET /v1/outbox`: the texts the sandbox provider "delivered" for this account, in full
/// (codes included: they went nowhere else). 404 when no channel uses the sandbox.
pub async fn outbox(ctx: &Ctx) -> Result<Reply, ApiError> {
    let who = auth::account(ctx).await?;
    let sandbox = ["sms", "whatsapp", "voice"]
        .iter()
        .any(|c| ctx.config.provider_for(c) == "sandbox");
    if !sandbox {
        return Err(ApiError::new(
            Code::RouteNotFound,
            "no channel delivers to the sandbox outbox on this deployment",
        ));
    }
    let page = ctx.page()?;
    let (rows, total) = dashboard::outbox(&ctx.db()?, &who.account_id, page).await?;
    let data: Vec<_> = rows
        .into_iter()
        .map(|r| json!({"id": r.id, "to": r.to_phone, "channel": r.channel, "sender": r.sender, "text": r.text, "status": r.status, "object_id": r.object_id, "created_at": rfc3339(r.created_at)}))
        .collect();
    Ok(Reply::ok(
        json!({"messages": data, "pagination": pagination(page, total)}),
    ))
}
