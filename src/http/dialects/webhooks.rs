//! The account's webhook endpoint (`/v1/webhook`), its delivery log and redelivery; the
//! operator's `PUT /admin/accounts/{id}/webhook`.
use crate::app::accounts;
use crate::app::webhooks::{self, EndpointView};
use crate::domain::audit::Actor;
use crate::domain::error::AppError;
use crate::domain::ids::AccountId;
use crate::domain::time::rfc3339;
use crate::http::reply::pagination;
use crate::http::server::Ctx;
use crate::http::{auth, Reply};
use serde::Deserialize;
use serde_json::json;

#[derive(Deserialize)]
struct EndpointBody {
    url: String,
    /// Issue a new secret even if the endpoint has one.
    #[serde(default)]
    rotate_secret: bool,
}

fn endpoint_reply(e: &EndpointView) -> Reply {
    Reply::ok(json!({"url": e.url, "secret": e.secret, "updated_at": rfc3339(e.updated_at)}))
}

async fn put_endpoint(ctx: &Ctx, account: &AccountId, actor: &Actor) -> Result<Reply, AppError> {
    let body: EndpointBody = ctx.json()?;
    let set = (body.url.as_str(), body.rotate_secret);
    let e = webhooks::set_endpoint(&ctx.app, account, set, actor).await?;
    Ok(endpoint_reply(&e))
}

/// `GET | PUT | DELETE /v1/webhook`
pub async fn endpoint(ctx: &Ctx) -> Result<Reply, AppError> {
    let who = auth::account(ctx).await?;
    match ctx.method.as_str() {
        "PUT" => put_endpoint(ctx, &who, &auth::customer(ctx, &who)).await,
        "DELETE" => {
            webhooks::delete_endpoint(&ctx.app, &who, &auth::customer(ctx, &who)).await?;
            Ok(Reply::ok(json!({"deleted": true})))
        }
        _ => Ok(endpoint_reply(&webhooks::endpoint(&ctx.app, &who).await?)),
    }
}

#[derive(Deserialize)]
struct HookBody {
    url: String,
}

/// `GET | PUT | DELETE /v1/webhook/sms-activate` (`{"url"}`): where the account's SMS go in
/// sms-activate's webhook shape.
pub async fn sms_activate_hook(ctx: &Ctx) -> Result<Reply, AppError> {
    let who = auth::account(ctx).await?;
    let hook = match ctx.method.as_str() {
        "PUT" => {
            let body: HookBody = ctx.json()?;
            webhooks::set_sms_activate_hook(&ctx.app, &who, &body.url).await?
        }
        "DELETE" => {
            webhooks::delete_sms_activate_hook(&ctx.app, &who).await?;
            return Ok(Reply::ok(json!({"deleted": true})));
        }
        _ => webhooks::sms_activate_hook(&ctx.app, &who).await?,
    };
    Ok(Reply::ok(
        json!({"url": hook.url, "secret": hook.secret, "updated_at": rfc3339(hook.updated_at)}),
    ))
}

/// `PUT /admin/accounts/{id}/webhook`: the operator sets an account's endpoint.
pub async fn admin_endpoint(ctx: &Ctx, account_id: &str) -> Result<Reply, AppError> {
    let actor = auth::admin(ctx)?;
    let account = accounts::existing(&ctx.app, account_id).await?;
    put_endpoint(ctx, &account, &actor).await
}

/// `GET /v1/webhook/deliveries?page&limit`: every attempt, newest first.
pub async fn deliveries(ctx: &Ctx) -> Result<Reply, AppError> {
    let who = auth::account(ctx).await?;
    let page = ctx.page()?;
    let (rows, total) = webhooks::deliveries(&ctx.app, &who, page).await?;
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
                "succeeded": r.succeeded,
                "created_at": rfc3339(r.created_at),
                "next_attempt_at": r.next_attempt_at.map(rfc3339),
            })
        })
        .collect();
    Ok(Reply::ok(
        json!({"data": data, "pagination": pagination(page, total)}),
    ))
}

/// `POST /v1/webhook/events/{event_id}/redeliver`: sends the event again.
pub async fn redeliver(ctx: &Ctx, event_id: &str) -> Result<Reply, AppError> {
    let who = auth::account(ctx).await?;
    webhooks::redeliver(&ctx.app, &who, event_id).await?;
    Ok(Reply::json(
        202,
        &json!({"event_id": event_id, "status": "queued"}),
    ))
}
