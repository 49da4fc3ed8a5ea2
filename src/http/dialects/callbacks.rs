//! Callbacks from delivery providers: Twilio's message status callback (delivery receipts).
use crate::app::messages::{self, TwilioReceipt};
use crate::domain::delivery::form_decode;
use crate::domain::error::AppError;
use crate::http::server::Ctx;
use crate::http::Reply;
use serde_json::json;

/// `POST /v1/providers/twilio/status`. A wrong or missing signature → 403 and nothing
/// changes. A receipt for a message we do not know (e.g. an OTP send) is acknowledged and
/// ignored, so Twilio does not retry it.
pub async fn twilio_status_callback(ctx: &Ctx) -> Result<Reply, AppError> {
    let params = form_decode(&ctx.body);
    let signature = ctx.header("X-Twilio-Signature");
    let receipt = TwilioReceipt {
        url_called: &ctx.url,
        signature: signature.as_deref(),
        params: &params,
    };
    Ok(Reply::ok(
        match messages::twilio_receipt(&ctx.app, receipt).await? {
            None => json!({"ok": true, "applied": false}),
            Some(a) => {
                json!({"ok": true, "applied": true, "message_id": a.message_id, "status": a.status})
            }
        },
    ))
}
