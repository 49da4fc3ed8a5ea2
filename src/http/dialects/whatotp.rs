//! The WhatOTP dialect (`/v1/otp/*`, `/v1/messages/*`).
use crate::app::accounts::Payer;
use crate::app::idempotency::Idem;
use crate::app::messages::{self, MessageOrder, Queued};
use crate::app::otp::{self, Checked, OtpSend, Sent, SessionSummary};
use crate::app::workflow;
use crate::domain::error::{AppError, Code};
use crate::domain::fraud::monitor_note;
use crate::domain::ids::new_id;
use crate::domain::money::Money;
use crate::domain::otp::{DEFAULT_LENGTH, MAX_LENGTH, MIN_LENGTH, REFUSED_STATUS};
use crate::domain::otp_check::Session;
use crate::domain::phone::{Phone, PlusSign};
use crate::domain::time::rfc3339;
use crate::http::input::code_input;
use crate::http::reply::{page_rows, pagination, slice_pagination};
use crate::http::server::{saved, Ctx};
use crate::http::{auth, Reply};
use serde::Deserialize;
use serde_json::{json, Value};

fn recipient(field: &str, input: &str, plus: PlusSign) -> Result<Phone, AppError> {
    Phone::parse(input, plus)
        .map_err(|e| AppError::new(Code::InvalidRecipient, format!("'{field}': {e}")))
}

#[derive(Deserialize)]
struct SendBody {
    to: String,
    channel: Option<String>,
    length: Option<i64>,
    expires_in_seconds: Option<i64>,
    /// Our extension: channels to fall back on while the code stays unverified.
    #[serde(default)]
    fallback: Vec<FallbackStep>,
}

#[derive(Deserialize)]
struct FallbackStep {
    channel: Option<String>,
    timeout_s: Option<i64>,
}

/// `POST /v1/otp/send {to, channel, length}` →
/// `{"session_id","status":"sent","expires_at","resend_available_at",…}`
pub async fn send(ctx: &Ctx) -> Result<Reply, AppError> {
    as_payer(ctx, async |payer| send_as(ctx, payer).await).await
}

/// A send for the request's payer: an error is reported after the payer's key (a key
/// refused by the send's batch answers 401 whatever else failed).
pub(super) async fn as_payer(
    ctx: &Ctx,
    send: impl AsyncFnOnce(&Payer) -> Result<Reply, AppError>,
) -> Result<Reply, AppError> {
    let who = auth::payer_near(ctx).await?;
    match send(&who).await {
        Ok(reply) => Ok(reply),
        Err(e) => Err(who.error(&ctx.app, e).await),
    }
}

/// Sends `spec`'s code for `payer`, answering `render` of what was sent (recorded with the
/// money under an `Idempotency-Key`, replayed as it was).
pub(super) async fn send_code(
    ctx: &Ctx,
    payer: &Payer,
    spec: OtpSend<'_>,
    render: &dyn Fn(&Sent) -> Reply,
) -> Result<Reply, AppError> {
    let request = ctx.idem_request(payer.account.as_str());
    let record = |sent: &Sent| saved(render(sent));
    let idem = Idem::new(&request, &record);
    let answer = otp::send(&ctx.app, payer, spec, idem).await?;
    Ok(ctx.answer(answer, render))
}

async fn send_as(ctx: &Ctx, payer: &Payer) -> Result<Reply, AppError> {
    let body: SendBody = ctx.json()?;
    let phone = recipient("to", &body.to, PlusSign::Required)?;
    let channel = otp::channel(&ctx.app, body.channel.as_deref())?;
    let length = match body.length {
        None => DEFAULT_LENGTH,
        Some(n) if (MIN_LENGTH as i64..=MAX_LENGTH as i64).contains(&n) => n as usize,
        Some(_) => {
            let m = format!("'length' must be {MIN_LENGTH} to {MAX_LENGTH}");
            return Err(AppError::new(Code::InvalidCodeLength, m));
        }
    };
    let ttl_secs = otp::lifetime(&ctx.app, body.expires_in_seconds, "expires_in_seconds")?;
    let asked: Vec<_> = (body.fallback.iter())
        .map(|s| (s.channel.as_deref(), s.timeout_s))
        .collect();
    let fallback = workflow::steps(&ctx.app, &asked, None, ttl_secs)?;
    let spec = OtpSend {
        session_id: new_id("otp")?,
        phone: phone.clone(),
        channel,
        code: None,
        length,
        ttl_secs,
        dialect: "whatotp",
        sender: None,
        payload: None,
        template: None,
        risk_check: true,
        limits: Vec::new(),
        fallback,
    };
    let render = |sent: &Sent| {
        let mut body = json!({
            "session_id": sent.session_id,
            "status": "sent",
            "to": phone.e164(),
            "channel": channel,
            "length": length,
            "expires_at": rfc3339(sent.expires_at),
            "resend_available_at": rfc3339(sent.resend_available_at),
            "cost": Money::from_minor(sent.cost).to_decimal_string(),
        });
        if let Some(reason) = sent.flagged {
            body["fraud_check"] = monitor_note(reason);
        }
        Reply::ok(body)
    };
    send_code(ctx, payer, spec, &render).await
}

#[derive(Deserialize)]
struct VerifyBody {
    code: Option<serde_json::Value>,
    session_id: Option<String>,
}

/// `POST /v1/otp/verify {code, session_id}` →
/// `{"session_id","verified","status","attempts_remaining"[,"reason"]}`
pub async fn verify(ctx: &Ctx) -> Result<Reply, AppError> {
    // The key is checked inside `otp::check`, by the key's object, before anything counts.
    let input = (|| {
        let body: VerifyBody = ctx.json()?;
        let session_id = body
            .session_id
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| AppError::invalid("'session_id' is required"))?;
        let code = code_input(body.code.as_ref(), "code")?;
        Ok((session_id, code))
    })();
    let (session_id, code) = auth::input_after_key(ctx, input).await?;
    let key = auth::key_hash(ctx)?;
    let (row, checked) = otp::check(&ctx.app, &key, session_id.trim(), &code).await?;
    Ok(Reply::ok(check_answer("session_id", &row, &checked)))
}

/// The answer to a check, the session's id under `id_field` (GetOTP answers the same way,
/// with `message_id`).
pub(super) fn check_answer(id_field: &str, row: &Session, checked: &Checked) -> Value {
    let mut answer = match checked {
        Checked::Verified => json!({
            "verified": true, "status": "verified",
            "attempts_remaining": row.attempts_remaining(),
        }),
        Checked::Wrong { remaining } => json!({
            "verified": false,
            "status": if *remaining == 0 { "failed" } else { "pending" },
            "reason": "invalid_code", "attempts_remaining": remaining,
        }),
        Checked::Refused(t) => json!({
            "verified": false, "status": REFUSED_STATUS, "reason": t.reason(),
            "attempts_remaining": 0,
        }),
    };
    answer[id_field] = Value::from(row.id.as_str());
    answer
}

#[derive(Deserialize)]
struct MessageBody {
    phone_number: String,
    template_id: String,
    variables: Option<serde_json::Map<String, serde_json::Value>>,
    expires_in_seconds: Option<i64>,
}

fn queued(q: &Queued) -> Reply {
    let expires_at = rfc3339(q.expires_at);
    let body = json!({"message_id": q.message_id, "status": "queued", "expires_at": expires_at});
    Reply::json(202, &body)
}

/// `POST /v1/messages/send {phone_number, template_id, variables, expires_in_seconds}` →
/// `202 {"message_id","status":"queued"}`; delivered after the response. A template with
/// `{code}` gets a fresh code, checkable at `/v1/otp/verify` with `session_id` = message id.
pub async fn message_send(ctx: &Ctx) -> Result<Reply, AppError> {
    let who = auth::payer(ctx).await?;
    let body: MessageBody = ctx.json()?;
    let order = MessageOrder {
        phone: recipient("phone_number", &body.phone_number, PlusSign::Optional)?,
        template_id: body.template_id,
        variables: body.variables.unwrap_or_default(),
        expires_in_seconds: body.expires_in_seconds,
    };
    let request = ctx.idem_request(who.as_str());
    let render = |q: &Queued| saved(queued(q));
    let idem = Idem::new(&request, &render);
    let answer = messages::send(&ctx.app, &who, order, idem).await?;
    Ok(ctx.answer(answer, queued))
}

/// `GET /v1/messages/{id}` → the message's state: `queued`, `sent` or `failed`.
pub async fn message_status(ctx: &Ctx, id: &str) -> Result<Reply, AppError> {
    let who = auth::account(ctx).await?;
    let m = messages::message(&ctx.app, &who, id).await?;
    Ok(Reply::ok(json!({
        "message_id": m.id,
        "status": m.status,
        "phone_number": m.phone,
        "template_id": m.template_id,
        "channel": m.channel,
        "session_id": m.session_id,
        "cost": Money::from_minor(m.cost).to_decimal_string(),
        "created_at": rfc3339(m.created_at),
        "expires_at": rfc3339(m.expires_at),
        "sent_at": m.sent_at.map(rfc3339),
        "error": m.error,
    })))
}

/// `GET /v1/otp/sessions?page&limit`: the account's OTP sessions and their state now.
pub async fn session_list(ctx: &Ctx) -> Result<Reply, AppError> {
    let who = auth::account(ctx).await?;
    let slice = ctx.slice()?;
    let (rows, total) = otp::recent_sessions(&ctx.app, &who, &slice).await?;
    let (data, next) = page_rows(&slice, (&rows, total), |s| s.row.id.as_str(), session_json);
    Ok(Reply::ok(
        json!({"data": data, "pagination": slice_pagination(&slice, total, next)}),
    ))
}

fn session_json(s: &SessionSummary) -> Value {
    let r = &s.row;
    json!({
        "session_id": r.id,
        "phone": r.phone,
        "channel": r.channel,
        "api": r.dialect,
        "status": s.status,
        "attempts": r.attempts,
        "max_attempts": r.max_attempts,
        "cost": Money::from_minor(r.cost).to_decimal_string(),
        "created_at": rfc3339(r.created_at),
        "expires_at": rfc3339(r.expires_at),
        "verified_at": r.verified_at.map(rfc3339),
    })
}

/// `GET /v1/outbox?page&limit`: the sandbox outbox, this account's texts only (in full:
/// they went nowhere else). 404 when no channel delivers to the sandbox.
pub async fn account_outbox(ctx: &Ctx) -> Result<Reply, AppError> {
    let who = auth::account(ctx).await?;
    let page = ctx.page()?;
    let (rows, total) = messages::account_outbox(&ctx.app, &who, page).await?;
    let data: Vec<_> = rows
        .iter()
        .map(|r| {
            json!({
                "id": r.id,
                "to": r.to_phone,
                "channel": r.channel,
                "sender": r.sender,
                "text": r.text,
                "status": r.status,
                "object_id": r.object_id,
                "created_at": rfc3339(r.created_at),
            })
        })
        .collect();
    Ok(Reply::ok(
        json!({"messages": data, "pagination": pagination(page, total)}),
    ))
}
