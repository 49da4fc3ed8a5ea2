//! Callbacks from delivery providers: Twilio's message status callback (delivery receipts),
//! authenticated by `X-Twilio-Signature` over the configured callback URL and the form fields.
use super::error::{ApiError, Code};
use super::server::{Ctx, Reply};
use crate::config::{secret, var};
use crate::domain::crypto::constant_time_eq;
use crate::domain::delivery::{form_decode, twilio_signature, twilio_status};
use crate::store::{batch, messages, webhooks};
use serde_json::json;

/// `POST /v1/providers/twilio/status`. A wrong or missing signature → 403 and nothing
/// changes. A receipt for a message we do not know (e.g. an OTP send) is acknowledged and
/// ignored, so Twilio does not retry it.
pub async fn twilio_status_callback(ctx: &Ctx) -> Result<Reply, ApiError> {
    let forbidden = || ApiError::new(Code::Forbidden, "invalid X-Twilio-Signature");
    let token = secret(&ctx.env, "TWILIO_AUTH_TOKEN").map_err(|_| forbidden())?;
    let params = form_decode(&ctx.body);
    // Twilio signs the URL it called: the configured public URL, else the one we were reached at.
    let url = var(&ctx.env, "TWILIO_STATUS_CALLBACK_URL").unwrap_or_else(|| ctx.url.clone());
    let presented = ctx.header("X-Twilio-Signature").ok_or_else(forbidden)?;
    if !constant_time_eq(
        presented.as_bytes(),
        twilio_signature(&token, &url, &params).as_bytes(),
    ) {
        return Err(forbidden());
    }
    let field = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let (Some(sid), Some(status)) = (
        field("MessageSid"),
        field("MessageStatus").or(field("SmsStatus")),
    ) else {
        return Err(ApiError::invalid(
            "MessageSid and MessageStatus are required",
        ));
    };
    let Some(ours) = twilio_status(status) else {
        return Ok(Reply::ok(json!({"ok": true, "applied": false})));
    };
    let error = field("ErrorCode").map(|code| format!("twilio error {code}"));
    let db = ctx.db()?;
    let Some(m) = messages::apply_receipt(&db, sid, ours, error.as_deref(), ctx.now_ms).await?
    else {
        return Ok(Reply::ok(json!({"ok": true, "applied": false})));
    };
    if ours == "failed" {
        let event = webhooks::Event {
            account_id: &m.account_id,
            event_type: "message.failed",
            object_id: &m.id,
            version: 0,
            data: json!({"message_id": m.id, "status": "failed", "phone_number": m.phone, "channel": m.channel, "error": error}),
        };
        batch(
            &db,
            vec![webhooks::event_statement(&db, &event, ctx.now_ms)?],
        )
        .await
        .map_err(ApiError::from)?;
        webhooks::kick_soon(&ctx.wctx, &ctx.env, &m.account_id);
    }
    Ok(Reply::ok(
        json!({"ok": true, "applied": true, "message_id": m.id, "status": ours}),
    ))
}
