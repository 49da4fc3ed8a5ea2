//! The WhatOTP dialect (`/v1/otp/*`, `/v1/messages/*`).
use super::auth;
use super::error::{ApiError, Code};
use super::otp::{self as flow, Checked, SendSpec};
use super::server::{Ctx, Reply};
use crate::domain::ids::new_id;
use crate::domain::money::Money;
use crate::domain::otp;
use crate::domain::phone::{Phone, PlusSign};
use crate::domain::time::rfc3339;
use crate::providers::{self, Outgoing, Provider};
use crate::store::messages::{self, NewMessage};
use crate::store::otp::{self as sessions, KvSession, NewSession, SEND_GUARD_COLUMN};
use crate::store::wallet::{self, Entry, Kind};
use crate::store::{batch, webhooks};
use serde::Deserialize;
use serde_json::json;
use worker::{console_error, Date};

fn recipient(field: &str, input: &str, plus: PlusSign) -> Result<Phone, ApiError> {
    Phone::parse(input, plus)
        .map_err(|e| ApiError::new(Code::InvalidRecipient, format!("'{field}': {e}")))
}

#[derive(Deserialize)]
struct SendBody {
    to: String,
    channel: Option<String>,
    length: Option<i64>,
    expires_in_seconds: Option<i64>,
}

/// `POST /v1/otp/send {to, channel, length}` → `{"session_id","status":"sent","expires_at","resend_available_at",…}`
pub async fn send(ctx: &Ctx) -> Result<Reply, ApiError> {
    let who = auth::account(ctx).await?;
    let body: SendBody = ctx.json()?;
    let phone = recipient("to", &body.to, PlusSign::Required)?;
    let channel = flow::channel(&ctx.config, body.channel.as_deref())?;
    let length = match body.length {
        None => otp::DEFAULT_LENGTH,
        Some(n) if (otp::MIN_LENGTH as i64..=otp::MAX_LENGTH as i64).contains(&n) => n as usize,
        Some(_) => {
            return Err(ApiError::new(
                Code::InvalidCodeLength,
                format!(
                    "'length' must be {} to {}",
                    otp::MIN_LENGTH,
                    otp::MAX_LENGTH
                ),
            ))
        }
    };
    let ttl_secs = flow::lifetime(&ctx.config, body.expires_in_seconds, "expires_in_seconds")?;
    let db = ctx.db()?;
    let claim = match flow::idempotency_begin(ctx, &db, &who.account_id).await? {
        Ok(claim) => claim,
        Err(replay) => return Ok(replay),
    };
    let spec = SendSpec {
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
    };
    let result = flow::send(ctx, &db, &who.account_id, spec)
        .await
        .map(|sent| {
            Reply::ok(json!({
                "session_id": sent.session_id,
                "status": "sent",
                "to": phone.e164(),
                "channel": channel,
                "length": length,
                "expires_at": rfc3339(sent.expires_at),
                "resend_available_at": rfc3339(sent.resend_available_at),
                "cost": Money::from_minor(sent.cost).to_decimal_string(),
            }))
        });
    flow::idempotency_finish(&db, claim, &result).await?;
    flow::refusal_reply(ctx, result)
}

#[derive(Deserialize)]
struct VerifyBody {
    code: Option<serde_json::Value>,
    session_id: Option<String>,
}

/// `POST /v1/otp/verify {code, session_id}` → `{"session_id","verified","status","attempts_remaining"[,"reason"]}`
pub async fn verify(ctx: &Ctx) -> Result<Reply, ApiError> {
    // The key is checked inside `flow::check`, in the same D1 statement as the check.
    let input = (|| {
        let body: VerifyBody = ctx.json()?;
        let session_id = body
            .session_id
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| ApiError::invalid("'session_id' is required"))?;
        let code = flow::code_input(body.code.as_ref(), "code")?;
        Ok((session_id, code))
    })();
    let (session_id, code) = auth::input_after_key(ctx, input).await?;
    let (row, checked) = flow::check(ctx, session_id.trim(), &code).await?;
    let answer = match checked {
        Checked::Verified => {
            json!({"session_id": row.id, "verified": true, "status": "verified", "attempts_remaining": row.attempts_remaining()})
        }
        Checked::Wrong { remaining } => json!({
            "session_id": row.id, "verified": false, "status": if remaining == 0 { "failed" } else { "pending" },
            "reason": "invalid_code", "attempts_remaining": remaining,
        }),
        Checked::Refused(t) => {
            json!({"session_id": row.id, "verified": false, "status": t.status(), "reason": t.reason(), "attempts_remaining": 0})
        }
    };
    Ok(Reply::ok(answer))
}

#[derive(Deserialize)]
struct MessageBody {
    phone_number: String,
    template_id: String,
    variables: Option<serde_json::Map<String, serde_json::Value>>,
    expires_in_seconds: Option<i64>,
}

/// `POST /v1/messages/send {phone_number, template_id, variables, expires_in_seconds}` →
/// `202 {"message_id","status":"queued"}`; delivered after the response. A template with
/// `{code}` gets a fresh code, checkable at `/v1/otp/verify` with `session_id` = message id.
pub async fn message_send(ctx: &Ctx) -> Result<Reply, ApiError> {
    let who = auth::account(ctx).await?;
    let body: MessageBody = ctx.json()?;
    let phone = recipient("phone_number", &body.phone_number, PlusSign::Optional)?;
    let db = ctx.db()?;
    let (template, parsed) = flow::find_template(&db, body.template_id.trim()).await?;
    let channel = flow::channel(&ctx.config, Some(&template.channel))?;
    let ttl_secs = flow::lifetime(&ctx.config, body.expires_in_seconds, "expires_in_seconds")?;
    let code = if parsed.has_code() {
        Some(otp::generate(otp::DEFAULT_LENGTH)?)
    } else {
        None
    };
    let text = parsed
        .render(code.as_deref(), &body.variables.unwrap_or_default())
        .map_err(flow::template_error)?;
    let cost = flow::price(&db, &phone, channel).await?;
    let claim = match flow::idempotency_begin(ctx, &db, &who.account_id).await? {
        Ok(claim) => claim,
        Err(replay) => return Ok(replay),
    };
    let message_id = new_id("msg")?;
    let result = queue(
        ctx,
        &db,
        &who.account_id,
        &message_id,
        &template.id,
        &phone,
        channel,
        code.clone(),
        ttl_secs,
        cost,
    )
    .await;
    flow::idempotency_finish(&db, claim, &result).await?;
    if result.is_ok() {
        deliver_later(
            ctx,
            who.account_id,
            message_id,
            phone.e164().to_owned(),
            channel,
            text,
            code,
            cost,
        );
    }
    flow::refusal_reply(ctx, result)
}

#[allow(clippy::too_many_arguments)]
async fn queue(
    ctx: &Ctx,
    db: &worker::D1Database,
    account_id: &str,
    message_id: &str,
    template_id: &str,
    phone: &Phone,
    channel: &'static str,
    code: Option<String>,
    ttl_secs: u32,
    cost: i64,
) -> Result<Reply, ApiError> {
    let now = ctx.now_ms;
    let expires_at = now + i64::from(ttl_secs) * 1000;
    let mut statements = Vec::new();
    let session_id = code.as_ref().map(|_| message_id);
    if let Some(code) = code {
        // A code message is an OTP send too: same resend rules, same session checks.
        flow::precheck_resend(db, &ctx.config, account_id, phone.e164(), now).await?;
        let hmac_secret = crate::config::secret(&ctx.env, "OTP_HMAC_SECRET")?;
        let mac = crate::domain::crypto::to_hex(&otp::code_mac(&hmac_secret, message_id, &code));
        sessions::put_kv(
            &ctx.env,
            message_id,
            &KvSession {
                account_id: account_id.to_owned(),
                phone: phone.e164().to_owned(),
                channel: channel.to_owned(),
                code_mac: mac,
                expires_at,
            },
            u64::from(ttl_secs),
        )
        .await?;
        let session = NewSession {
            id: message_id,
            account_id,
            phone: phone.e164(),
            channel,
            dialect: "message",
            sender: None,
            template_id: Some(template_id),
            payload: None,
            cost: 0,
            created_at: now,
            expires_at,
            max_attempts: otp::MAX_ATTEMPTS,
        };
        statements.push(sessions::insert_statement(
            db,
            &session,
            flow::send_rules(&ctx.config),
        )?);
    }
    let message = NewMessage {
        id: message_id,
        account_id,
        template_id,
        phone: phone.e164(),
        channel,
        session_id,
        cost,
        created_at: now,
        expires_at,
    };
    statements.insert(0, messages::insert_message(db, &message)?);
    let charge = Entry {
        account_id,
        kind: Kind::MessageSend,
        amount: -cost,
        reference: None,
        object_id: Some(message_id),
        description: "template message",
    };
    statements.extend(wallet::entry_statements(db, &charge, now)?.1);
    match batch(db, statements).await {
        Ok(_) => {}
        Err(e) if e.mentions(SEND_GUARD_COLUMN) => {
            return Err(
                flow::refused_after_race(db, &ctx.config, account_id, phone.e164(), now).await,
            )
        }
        Err(e) => return Err(e.into()),
    }
    Ok(Reply::json(
        202,
        &json!({"message_id": message_id, "status": "queued", "expires_at": rfc3339(expires_at)}),
    ))
}

/// Hands the text to the provider after the response; records `sent` or `failed` (refunded).
#[allow(clippy::too_many_arguments)]
fn deliver_later(
    ctx: &Ctx,
    account_id: String,
    message_id: String,
    to: String,
    channel: &'static str,
    text: String,
    code: Option<String>,
    cost: i64,
) {
    let env = ctx.env.clone();
    let config = ctx.config.clone();
    ctx.wctx.wait_until(async move {
        let now = Date::now().as_millis() as i64;
        let outgoing = Outgoing { to: &to, channel, sender: None, text: &text, code: code.as_deref(), object_id: &message_id };
        let delivered = match providers::configured(&env, &config, channel) {
            Ok(p) => p.deliver(&outgoing, now).await,
            Err(e) => Err(e),
        };
        let Ok(db) = crate::store::db(&env) else { return };
        let sent = delivered.is_ok();
        let provider_message_id = delivered.as_ref().ok().cloned();
        let error = delivered.err().map(|e| e.message);
        if let Some(e) = &error {
            console_error!("message {message_id} delivery failed: {e}");
        }
        let status = if sent { "sent" } else { "failed" };
        let event = webhooks::Event {
            account_id: &account_id,
            event_type: if sent { "message.sent" } else { "message.failed" },
            object_id: &message_id,
            version: 0,
            data: json!({"message_id": message_id, "status": status, "phone_number": to, "channel": channel, "error": error}),
        };
        // The new state and its webhook event commit together.
        let outcome = match (&provider_message_id, &error) {
            (Some(pid), _) => Ok(pid.as_str()),
            (None, e) => Err(e.as_deref().unwrap_or("not delivered")),
        };
        let settled = match (messages::settle_message(&db, &message_id, outcome, now), webhooks::event_statement(&db, &event, now)) {
            (Ok(settle), Ok(record)) => batch(&db, vec![settle, record]).await.map_err(ApiError::from),
            (Err(e), _) | (_, Err(e)) => Err(e),
        };
        if !sent {
            flow::refund(&db, &account_id, Kind::MessageRefund, cost, &message_id, now).await;
        }
        match settled {
            Ok(_) => {
                if let Err(e) = webhooks::kick(&env, &account_id).await {
                    console_error!("webhook kick: {e}");
                }
            }
            Err(e) => console_error!("message {message_id} state not recorded: {e}"),
        }
    });
}

/// `GET /v1/messages/{id}` → the message's state: `queued`, `sent` or `failed`.
pub async fn message_status(ctx: &Ctx, id: &str) -> Result<Reply, ApiError> {
    let who = auth::account(ctx).await?;
    let m = messages::message(&ctx.db()?, &who.account_id, id)
        .await?
        .ok_or_else(|| ApiError::not_found("message"))?;
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
