//! The account's webhook endpoint (`/v1/webhook`), its delivery log and redelivery.
use super::auth;
use super::error::{ApiError, Code};
use super::server::{Ctx, Reply};
use crate::config::server_key;
use crate::domain::time::rfc3339;
use crate::domain::webhook::validate_url;
use crate::store::{accounts, webhooks};
use serde::Deserialize;
use serde_json::json;

#[derive(Deserialize)]
struct EndpointBody {
    url: String,
    /// Issue a new secret even if the endpoint has one.
    #[serde(default)]
    rotate_secret: bool,
}

fn endpoint_json(ctx: &Ctx, e: &webhooks::Endpoint) -> Result<serde_json::Value, ApiError> {
    Ok(
        json!({"url": e.url, "secret": e.secret(&server_key(&ctx.env)?), "updated_at": rfc3339(e.updated_at)}),
    )
}

/// Sets the endpoint (keeping its secret unless asked to rotate) and wakes the dispatcher,
/// so events recorded while there was no endpoint go out now.
async fn put_endpoint(ctx: &Ctx, account_id: &str) -> Result<Reply, ApiError> {
    let body: EndpointBody = ctx.json()?;
    let url = body.url.trim();
    validate_url(url, ctx.config.webhook_allow_local_http)
        .map_err(|m| ApiError::new(Code::InvalidWebhookUrl, m))?;
    let db = ctx.db()?;
    let secret_version = match webhooks::endpoint(&db, account_id).await? {
        Some(existing) => existing.secret_version + i64::from(body.rotate_secret),
        None => 1,
    };
    let endpoint = webhooks::Endpoint {
        account_id: account_id.to_owned(),
        url: url.to_owned(),
        secret_version,
        updated_at: ctx.now_ms,
    };
    webhooks::set_endpoint(&db, &endpoint).await?;
    webhooks::kick(&ctx.env, account_id).await?;
    Ok(Reply::ok(endpoint_json(ctx, &endpoint)?))
}

/// `GET | PUT | DELETE /v1/webhook`
pub async fn endpoint(ctx: &Ctx) -> Result<Reply, ApiError> {
    let who = auth::account(ctx).await?;
    match ctx.method.as_str() {
        "PUT" => put_endpoint(ctx, &who.account_id).await,
        "DELETE" => {
            if webhooks::delete_endpoint(&ctx.db()?, &who.account_id).await? {
                Ok(Reply::ok(json!({"deleted": true})))
            } else {
                Err(ApiError::of(Code::NoWebhookEndpoint))
            }
        }
        _ => match webhooks::endpoint(&ctx.db()?, &who.account_id).await? {
            Some(e) => Ok(Reply::ok(endpoint_json(ctx, &e)?)),
            None => Err(ApiError::of(Code::NoWebhookEndpoint)),
        },
    }
}

/// `PUT /admin/accounts/{id}/webhook`: the operator sets an account's endpoint.
pub async fn admin_endpoint(ctx: &Ctx, account_id: &str) -> Result<Reply, ApiError> {
    auth::admin(ctx)?;
    if !accounts::exists(&ctx.db()?, account_id).await? {
        return Err(ApiError::not_found("account"));
    }
    put_endpoint(ctx, account_id).await
}

/// `GET /v1/webhook/deliveries?page&limit`: every attempt, newest first.
pub async fn deliveries(ctx: &Ctx) -> Result<Reply, ApiError> {
    let who = auth::account(ctx).await?;
    let page = ctx.page()?;
    let (rows, total) = webhooks::deliveries(&ctx.db()?, &who.account_id, page).await?;
    let data: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| {
            json!({
                "id": r.id,
                "event_id": r.event_id,
                "event_type": r.event_type,
                "object_id": r.object_id,
                "attempt": r.attempt,
                "url": r.url,
                "status_code": r.status_code,
                "error": r.error,
                "duration_ms": r.duration_ms,
                "succeeded": r.succeeded == 1,
                "created_at": rfc3339(r.created_at),
                "next_attempt_at": r.next_attempt_at.map(rfc3339),
            })
        })
        .collect();
    Ok(Reply::ok(
        json!({"data": data, "pagination": {"page": page.page, "limit": page.limit, "total": total, "total_pages": page.total_pages(total)}}),
    ))
}

/// `POST /v1/webhook/events/{event_id}/redeliver`: sends the event again.
pub async fn redeliver(ctx: &Ctx, event_id: &str) -> Result<Reply, ApiError> {
    let who = auth::account(ctx).await?;
    if !webhooks::redeliver(&ctx.db()?, &who.account_id, event_id).await? {
        return Err(ApiError::not_found("event"));
    }
    webhooks::kick(&ctx.env, &who.account_id).await?;
    Ok(Reply::json(
        202,
        &json!({"event_id": event_id, "status": "queued"}),
    ))
}
