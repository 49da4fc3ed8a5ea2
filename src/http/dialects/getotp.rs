//! The GetOTP dialect (`/api/verify/`). Keys come as `X-OTP-Key`, Basic (key as username)
//! or Bearer. Validation runs in a fixed order so that each code of GetOTP's error table
//! answers exactly the condition it names (README "GetOTP").
use super::whatotp::{as_payer, check_answer, send_code};
use crate::app::accounts::Payer;
use crate::app::otp::{self, OtpSend, Sent};
use crate::app::templates;
use crate::domain::error::{AppError, Code};
use crate::domain::fraud::monitor_note;
use crate::domain::ids::new_uuid;
use crate::domain::otp::{is_numeric, MAX_LENGTH, MIN_LENGTH};
use crate::domain::phone::{Phone, PlusSign};
use crate::domain::time::sql_datetime;
use crate::http::input::code_input;
use crate::http::server::Ctx;
use crate::http::{auth, Reply};
use serde_json::{json, Map, Value};

/// Longest `payload` echoed to the webhook.
const MAX_PAYLOAD_CHARS: usize = 2048;
/// Longest `sender` (an SMS sender name or number).
const MAX_SENDER_CHARS: usize = 64;
/// A caller-chosen code for a voice call may be longer than 8 digits, up to this.
const MAX_VOICE_CODE: usize = 12;

/// `{"data":{…}}`; the check route also takes the fields at the top level.
fn data(ctx: &Ctx, flat_allowed: bool) -> Result<Map<String, Value>, AppError> {
    let body: Value = ctx.json()?;
    match body {
        Value::Object(mut root) => match root.remove("data") {
            Some(Value::Object(data)) => Ok(data),
            None if flat_allowed => Ok(root),
            _ => Err(AppError::invalid(
                "the body must be {\"data\":{…}} with the request fields inside 'data'",
            )),
        },
        _ => Err(AppError::invalid("the body must be a JSON object")),
    }
}

/// A text field: `None` when absent, null or blank.
fn text_field<'a>(data: &'a Map<String, Value>, name: &str) -> Result<Option<&'a str>, AppError> {
    match data.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim())),
        Some(_) => Err(AppError::invalid(format!("'data.{name}' must be a string"))),
    }
}

/// `POST /api/verify/` → `{"account_id","message_id","phone","create_date","expire_date"}`
pub async fn send(ctx: &Ctx) -> Result<Reply, AppError> {
    as_payer(ctx, async |payer| send_as(ctx, payer).await).await
}

async fn send_as(ctx: &Ctx, payer: &Payer) -> Result<Reply, AppError> {
    let who = &payer.account;
    let data = data(ctx, false)?;
    let sender = text_field(&data, "sender")?.ok_or_else(|| AppError::of(Code::SenderMissing))?;
    if sender.chars().count() > MAX_SENDER_CHARS {
        return Err(AppError::invalid(format!(
            "'data.sender' must be at most {MAX_SENDER_CHARS} characters"
        )));
    }
    // A phone is a string of digits, as the doc's example sends it: a JSON number would be
    // read through a float (14155550100.0, 1e10, -1…) and could reach someone else.
    let phone_text = text_field(&data, "phone")
        .map_err(|_| {
            AppError::new(
                Code::InvalidRecipient,
                "Invalid recipient number(s): 'data.phone' must be a string of digits",
            )
        })?
        .map(str::to_owned);
    let phone_text = phone_text.ok_or_else(|| AppError::of(Code::PhoneMissing))?;
    let template_id = text_field(&data, "template")
        .map_err(|_| AppError::of(Code::InvalidTemplateId))?
        .ok_or_else(|| AppError::of(Code::TemplateMissing))?;
    let template = templates::find_template(&ctx.app, who, template_id).await?;
    let channel_text =
        text_field(&data, "channel").map_err(|_| AppError::of(Code::InvalidChannel))?;
    let channel = otp::channel(&ctx.app, channel_text)?;
    let phone = Phone::parse(&phone_text, PlusSign::Optional).map_err(|e| {
        AppError::new(
            Code::InvalidRecipient,
            format!("Invalid recipient number(s): {e}"),
        )
    })?;
    let (given_code, length) = code_or_length(&data, channel)?;
    if !template.parsed.has_code() {
        return Err(AppError::of(Code::TemplateWithoutCode));
    }
    let payload = payload(&data)?;
    let spec = OtpSend {
        session_id: new_uuid()?,
        phone: phone.clone(),
        channel,
        code: given_code,
        length,
        ttl_secs: otp::lifetime(&ctx.app, None, "ttl")?,
        dialect: "getotp",
        sender: Some(sender.to_owned()),
        payload,
        template: Some(&template),
        risk_check: true,
        limits: Vec::new(),
        fallback: Vec::new(),
    };
    let render = |sent: &Sent| {
        let mut body = json!({
            "account_id": who.as_str(),
            "message_id": sent.session_id,
            "phone": phone.digits(),
            "create_date": sql_datetime(sent.created_at),
            "expire_date": sql_datetime(sent.expires_at),
        });
        if let Some(reason) = sent.flagged {
            body["fraud_check"] = monitor_note(reason);
        }
        Reply::ok(body)
    };
    send_code(ctx, payer, spec, &render).await
}

/// The caller's own code (`data.code`), or the length of one to generate
/// (`data.code_length`): exactly one of the two.
fn code_or_length(
    data: &Map<String, Value>,
    channel: &str,
) -> Result<(Option<String>, usize), AppError> {
    let code = data.get("code").filter(|v| !v.is_null());
    let code_length = data.get("code_length").filter(|v| !v.is_null());
    if code.is_some() && code_length.is_some() {
        return Err(AppError::of(Code::CodeAndCodeLength));
    }
    match (code, code_length) {
        (None, Some(n)) => {
            // A number, as the doc types it; a numeric string is read the same way.
            let n = n
                .as_u64()
                .or_else(|| n.as_str().and_then(|s| s.trim().parse().ok()));
            let n = n.filter(|n| (MIN_LENGTH as u64..=MAX_LENGTH as u64).contains(n));
            let n = n.ok_or_else(|| {
                AppError::new(
                    Code::InvalidCodeLength,
                    format!(
                        "Invalid code length: 'data.code_length' must be a number from {} to {}",
                        MIN_LENGTH, MAX_LENGTH
                    ),
                )
            })?;
            Ok((None, n as usize))
        }
        (Some(c), None) => {
            let c = match c {
                Value::String(s) => s.trim().to_owned(),
                Value::Number(n) => n.to_string(),
                _ => return Err(AppError::of(Code::CodeNotNumeric)),
            };
            if !is_numeric(&c) {
                return Err(AppError::of(Code::CodeNotNumeric));
            }
            let len = c.len();
            if channel == "voice" {
                if !(MIN_LENGTH..=MAX_VOICE_CODE).contains(&len) {
                    return Err(AppError::new(
                        Code::InvalidCodeLength,
                        format!(
                            "Invalid code length: a voice code has {} to {MAX_VOICE_CODE} digits",
                            MIN_LENGTH
                        ),
                    ));
                }
            } else if !(MIN_LENGTH..=MAX_LENGTH).contains(&len) {
                return Err(AppError::of(Code::CodeInvalid));
            }
            Ok((Some(c), len))
        }
        _ => Err(AppError::new(
            Code::InvalidCodeLength,
            "Invalid code length: provide 'data.code_length' (4 to 8) or 'data.code'",
        )),
    }
}

/// `data.payload`, echoed to the webhook: a string (JSON encoded as one), at most
/// `MAX_PAYLOAD_CHARS`.
fn payload(data: &Map<String, Value>) -> Result<Option<String>, AppError> {
    match data.get("payload") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.chars().count() <= MAX_PAYLOAD_CHARS => Ok(Some(s.clone())),
        Some(_) => Err(AppError::new(
            Code::InvalidPayload,
            format!(
                "Invalid payload: \
            'data.payload' must be a string (JSON objects encoded as a JSON string) of at most \
            {MAX_PAYLOAD_CHARS} characters"
            ),
        )),
    }
}

/// `POST /api/verify/check {"data":{"message_id","code"}}` (or the two fields at the top
/// level) → `{"message_id","verified","status","attempts_remaining"[,"reason"]}`
pub async fn check(ctx: &Ctx) -> Result<Reply, AppError> {
    // The key is checked inside `otp::check`, by the key's object, before anything counts.
    let input = (|| {
        let data = data(ctx, true)?;
        let message_id = text_field(&data, "message_id")?
            .ok_or_else(|| AppError::invalid("'data.message_id' is required"))?;
        let code = code_input(data.get("code"), "data.code")?;
        Ok((message_id.to_owned(), code))
    })();
    let (message_id, code) = auth::input_after_key(ctx, input).await?;
    let key = auth::key_hash(ctx)?;
    let (row, checked) = otp::check(&ctx.app, &key, &message_id, &code).await?;
    Ok(Reply::ok(check_answer("message_id", &row, &checked)))
}

/// `GET /api/verify/{message_id}` → the verification's state.
pub async fn status(ctx: &Ctx, message_id: &str) -> Result<Reply, AppError> {
    let who = auth::account(ctx).await?;
    let row = otp::session(&ctx.app, &who, message_id).await?;
    let now = ctx.app.now_ms;
    Ok(Reply::ok(json!({
        "account_id": row.account_id,
        "message_id": row.id,
        "phone": row.phone.trim_start_matches('+'),
        "channel": row.channel,
        "status": row.status(now),
        "attempts_remaining": row.attempts_remaining_at(now),
        "create_date": sql_datetime(row.created_at),
        "expire_date": sql_datetime(row.expires_at),
        "verify_date": row.verified_at.map(sql_datetime),
    })))
}
