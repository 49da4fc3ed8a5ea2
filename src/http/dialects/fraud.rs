//! The fraud guard's API (`/v1/fraud/*`, session or API key): the policy, the live blocks
//! and the safe list.
use crate::app::fraud::{self, SafeNumber, SafeOp};
use crate::domain::error::{AppError, Code};
use crate::domain::fraud::Block;
use crate::domain::phone::{Phone, PlusSign};
use crate::domain::time::rfc3339;
use crate::http::input::path_phone;
use crate::http::server::Ctx;
use crate::http::{auth, Reply};
use serde::Deserialize;
use serde_json::{json, Value};

/// `GET | PUT /v1/fraud/policy`: the policy; a `PUT` replaces it (fields left out take
/// their defaults) and answers the policy now in force.
pub async fn policy(ctx: &Ctx) -> Result<Reply, AppError> {
    let who = auth::account(ctx).await?;
    let policy = match ctx.method.as_str() {
        "PUT" => {
            let actor = auth::customer(ctx, &who);
            fraud::set_policy(&ctx.app, &who, &ctx.json::<Value>()?, &actor).await?
        }
        _ => fraud::policy(&ctx.app, &who).await?,
    };
    let body = serde_json::to_value(&policy)
        .map_err(|e| AppError::internal(format!("policy render: {e}")))?;
    Ok(Reply::ok(body))
}

fn block_json(b: &Block) -> Value {
    json!({
        "id": b.id,
        "scope": b.scope,
        "value": b.value,
        "reason": b.reason,
        "sends": b.sends,
        "conversions": b.conversions,
        "created_at": rfc3339(b.created_at),
        "expires_at": rfc3339(b.expires_at),
    })
}

/// `GET /v1/fraud/blocks?cursor=` → `{"blocks":[…],"next_cursor"}` (oldest first).
pub async fn blocks(ctx: &Ctx) -> Result<Reply, AppError> {
    let who = auth::account(ctx).await?;
    let cursor = ctx.query("cursor").filter(|c| !c.is_empty());
    let (blocks, next) = fraud::blocks(&ctx.app, &who, cursor).await?;
    let blocks: Vec<Value> = blocks.iter().map(block_json).collect();
    Ok(Reply::ok(json!({"blocks": blocks, "next_cursor": next})))
}

/// `DELETE /v1/fraud/blocks/{id}`: lifts a block; its range starts counting afresh.
pub async fn lift(ctx: &Ctx, id: &str) -> Result<Reply, AppError> {
    let who = auth::account(ctx).await?;
    let block = fraud::lift(&ctx.app, &who, id, &auth::customer(ctx, &who)).await?;
    Ok(Reply::ok(
        json!({"lifted": true, "block": block_json(&block)}),
    ))
}

/// A number given in a path or a body (`+` optional).
fn safe_phone(field: &str, input: &str) -> Result<Phone, AppError> {
    Phone::parse(&path_phone(input), PlusSign::Optional)
        .map_err(|e| AppError::new(Code::InvalidRecipient, format!("'{field}': {e}")))
}

fn safe_json(s: &SafeNumber) -> Value {
    json!({"phone": s.phone, "sid": s.sid, "created_at": rfc3339(s.created_at)})
}

#[derive(Deserialize)]
struct SafeBody {
    phone: String,
}

/// `GET /v1/fraud/safe-list` → `{"numbers":[…]}`; `POST {"phone"}` adds one (201).
pub async fn safe_list(ctx: &Ctx) -> Result<Reply, AppError> {
    let who = auth::account(ctx).await?;
    if ctx.method == "POST" {
        let body: SafeBody = ctx.json()?;
        let phone = safe_phone("phone", &body.phone)?;
        let actor = auth::customer(ctx, &who);
        let added = fraud::safe_entry(&ctx.app, &who, &phone, SafeOp::Add, &actor).await?;
        return Ok(Reply::json(201, &safe_json(&added)));
    }
    let numbers: Vec<Value> = (fraud::safe_list(&ctx.app, &who).await?)
        .iter()
        .map(safe_json)
        .collect();
    Ok(Reply::ok(json!({ "numbers": numbers })))
}

/// `DELETE /v1/fraud/safe-list/{phone}`.
pub async fn safe_remove(ctx: &Ctx, phone: &str) -> Result<Reply, AppError> {
    let who = auth::account(ctx).await?;
    let phone = safe_phone("phone", phone)?;
    let actor = auth::customer(ctx, &who);
    let removed = fraud::safe_entry(&ctx.app, &who, &phone, SafeOp::Remove, &actor).await?;
    Ok(Reply::ok(
        json!({"deleted": true, "number": safe_json(&removed)}),
    ))
}
