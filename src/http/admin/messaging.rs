//! Operator routes for the OTP side: templates, the sandbox outbox.
use super::super::auth;
use super::super::error::{ApiError, Code};
use super::super::otp::CHANNELS;
use super::super::server::{Ctx, Reply};
use super::label;
use crate::domain::ids::new_uuid;
use crate::domain::phone::{Phone, PlusSign};
use crate::domain::template::Template;
use crate::domain::time::rfc3339;
use crate::store::messages::{self, TemplateRow};
use serde::Deserialize;
use serde_json::json;

#[derive(Deserialize)]
struct NewTemplate {
    name: String,
    channel: String,
    body: String,
}

/// `POST /admin/templates {"name","channel","body"}` → 201 `{"template_id",…}`
pub async fn create_template(ctx: &Ctx) -> Result<Reply, ApiError> {
    auth::admin(ctx)?;
    let input: NewTemplate = ctx.json()?;
    let name = label("name", &input.name)?;
    let channel = input.channel.trim().to_ascii_lowercase();
    if !CHANNELS.contains(&channel.as_str()) {
        return Err(ApiError::new(
            Code::InvalidChannel,
            format!("'channel' must be one of: {}", CHANNELS.join(", ")),
        ));
    }
    let parsed = Template::parse(&input.body)
        .map_err(|e| ApiError::new(Code::InvalidTemplate, e.to_string()))?;
    let row = TemplateRow {
        id: new_uuid()?,
        name,
        channel,
        body: input.body,
        created_at: ctx.now_ms,
    };
    messages::create_template(&ctx.db()?, &row).await?;
    Ok(Reply::json(
        201,
        &json!({
            "template_id": row.id,
            "name": row.name,
            "channel": row.channel,
            "body": row.body,
            "has_code": parsed.has_code(),
            "variables": parsed.variables().into_iter().collect::<Vec<_>>(),
            "created_at": rfc3339(row.created_at),
        }),
    ))
}

/// `GET /admin/outbox?to=<phone>&limit=50` → `{"messages":[{"id","to","channel","sender","text","status","object_id","created_at"}]}`, newest first.
pub async fn outbox(ctx: &Ctx) -> Result<Reply, ApiError> {
    auth::admin(ctx)?;
    let to = ctx
        .query("to")
        .filter(|t| !t.trim().is_empty())
        .map(|t| {
            Phone::parse(&t, PlusSign::Optional)
                .map_err(|e| ApiError::new(Code::InvalidRecipient, format!("'to': {e}")))
        })
        .transpose()?;
    let limit = match ctx.query("limit") {
        None => 50,
        Some(l) => l
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=100).contains(n))
            .ok_or_else(|| ApiError::new(Code::InvalidPagination, "'limit' must be 1 to 100"))?,
    };
    let rows = messages::outbox(&ctx.db()?, to.as_ref().map(Phone::e164), limit).await?;
    let list: Vec<_> = rows
        .into_iter()
        .map(|r| json!({"id": r.id, "to": r.to_phone, "channel": r.channel, "sender": r.sender, "text": r.text, "status": r.status, "object_id": r.object_id, "created_at": rfc3339(r.created_at)}))
        .collect();
    Ok(Reply::ok(json!({"messages": list})))
}
