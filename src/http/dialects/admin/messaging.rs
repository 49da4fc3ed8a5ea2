//! Operator routes for the OTP side: templates, the sandbox outbox.
use crate::app::{messages, templates};
use crate::domain::error::{AppError, Code};
use crate::domain::phone::{Phone, PlusSign};
use crate::domain::time::rfc3339;
use crate::http::dialects::accounts::template_json;
use crate::http::input::template_fields;
use crate::http::server::Ctx;
use crate::http::{auth, Reply};
use serde::Deserialize;
use serde_json::json;

#[derive(Deserialize)]
struct NewTemplate {
    name: String,
    channel: String,
    body: String,
}

/// `POST /admin/templates {"name","channel","body"}` → 201 `{"template_id",…}`
pub async fn create_template(ctx: &Ctx) -> Result<Reply, AppError> {
    let actor = auth::admin(ctx)?;
    let input: NewTemplate = ctx.json()?;
    let (name, channel) = template_fields(&input.name, &input.channel)?;
    let fields = (name, channel, input.body);
    let t = templates::create_template(&ctx.app, None, fields, &actor).await?;
    let mut answer = template_json(&t);
    if let Some(fields) = answer.as_object_mut() {
        fields.remove("shared");
    }
    Ok(Reply::json(201, &answer))
}

/// `GET /admin/outbox?to=<phone>&limit=50` →
/// `{"messages":[{"id","to","channel","sender","text","status","object_id","created_at"}]}`,
/// newest first.
pub async fn outbox(ctx: &Ctx) -> Result<Reply, AppError> {
    auth::admin(ctx)?;
    let to = ctx
        .query("to")
        .filter(|t| !t.trim().is_empty())
        .map(|t| {
            Phone::parse(&t, PlusSign::Optional)
                .map_err(|e| AppError::new(Code::InvalidRecipient, format!("'to': {e}")))
        })
        .transpose()?;
    let limit = match ctx.query("limit") {
        None => 50,
        Some(l) => l
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=100).contains(n))
            .ok_or_else(|| AppError::new(Code::InvalidPagination, "'limit' must be 1 to 100"))?,
    };
    let rows = messages::outbox(&ctx.app, to.as_ref(), limit).await?;
    let list: Vec<_> = rows
        .into_iter()
        .map(|r| {
            json!({
                "id": r.id, "to": r.to_phone, "channel": r.channel, "sender": r.sender,
                "text": r.text, "status": r.status, "object_id": r.object_id,
                "created_at": rfc3339(r.created_at),
            })
        })
        .collect();
    Ok(Reply::ok(json!({"messages": list})))
}
