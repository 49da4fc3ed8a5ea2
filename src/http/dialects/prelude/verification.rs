//! `POST /v2/verification` (create or retry) and `POST /v2/verification/check`.
use super::errors::error_body;
use super::params::{self, Create, ParamError};
use super::reason_word;
use crate::app::accounts::Payer;
use crate::app::windows::{self, Callback, WindowChecked, WindowSend, WindowSent};
use crate::app::{otp, templates};
use crate::domain::error::{AppError, Code};
use crate::domain::ids::new_id;
use crate::domain::otp::DEFAULT_LENGTH;
use crate::domain::webhook::validate_url;
use crate::http::server::Ctx;
use crate::http::{auth, Reply};
use serde_json::{json, Value};

/// A request's id, as every Prelude answer carries one.
pub fn request_id() -> String {
    crate::domain::ids::new_uuid().unwrap_or_default()
}

/// A bad field: 400 in Prelude's envelope, naming the field.
fn bad_request(p: &ParamError) -> Reply {
    Reply::json(
        400,
        &error_body(400, p.code, &p.message, Some(p.param), &request_id()),
    )
}

/// The channel to send on, and the channels to fall back to after it (`max_auto_fallbacks`
/// of the others this deployment delivers on, in its order). A preferred channel this
/// deployment does not deliver on (rcs, viber, zalo, telegram) yields SMS.
fn channels(ctx: &Ctx, c: &Create) -> Result<(&'static str, Vec<&'static str>), AppError> {
    let preferred = match (c.voice, c.preferred_channel.as_deref()) {
        (true, _) => Some("voice"),
        (false, Some(p)) => otp::channel(&ctx.app, Some(p)).ok(),
        (false, None) => None,
    };
    let primary = match preferred {
        Some(channel) => channel,
        None => otp::channel(&ctx.app, Some("sms"))?,
    };
    let offered = &ctx.app.config.otp_channels;
    let fallbacks = offered
        .iter()
        .filter_map(|o| otp::channel(&ctx.app, Some(o)).ok())
        .filter(|o| *o != primary)
        .take(usize::try_from(c.max_auto_fallbacks).unwrap_or(0))
        .collect();
    Ok((primary, fallbacks))
}

/// The answer: `channels` the channel sent on, then those the verification falls back to.
fn answer(id: &str, status: &str, channels: &[&str], reason: Option<&str>, c: &Create) -> Reply {
    let channel = channels.first().copied().unwrap_or("sms");
    let method = if channel == "voice" {
        "voice"
    } else {
        "message"
    };
    let mut body = json!({
        "id": id,
        "status": status,
        "method": method,
        "channels": channels,
        "request_id": request_id(),
    });
    if let Some(reason) = reason {
        body["reason"] = json!(reason);
    }
    if let Some(id) = &c.correlation_id {
        body["metadata"] = json!({ "correlation_id": id });
    }
    Reply::ok(body)
}

/// `POST /v2/verification` → `{id, status: success|retry|blocked|shadow_blocked, method,
/// channels, reason?, metadata?, request_id}`.
pub async fn create(ctx: &Ctx) -> Result<Reply, AppError> {
    let payer = auth::payer_near(ctx).await?;
    match create_as(ctx, &payer).await {
        Ok(reply) => Ok(reply),
        Err(e) => Err(payer.error(&ctx.app, e).await),
    }
}

async fn create_as(ctx: &Ctx, payer: &Payer) -> Result<Reply, AppError> {
    let body: Value = ctx.json()?;
    let c = match params::create(&body) {
        Ok(c) => c,
        Err(p) => return refuse_input(ctx, payer, &p).await,
    };
    if let Some(url) = &c.callback_url {
        let allow_local = ctx.app.config.webhook_allow_local_http;
        if let Err(why) = validate_url(url, allow_local) {
            let p = ParamError {
                code: "invalid_callback_url",
                param: "options.callback_url",
                message: format!("The provided callback URL is invalid: {why}"),
            };
            return refuse_input(ctx, payer, &p).await;
        }
    }
    let (channel, fallbacks) = channels(ctx, &c)?;
    let template = match &c.template_id {
        Some(id) => Some(templates::find_template(&ctx.app, &payer.account, id).await?),
        None => None,
    };
    let send = WindowSend {
        phone: c.phone.clone(),
        channel,
        code: c.custom_code.clone(),
        length: c.code_size.unwrap_or(DEFAULT_LENGTH),
        template: template.as_ref(),
        fallbacks,
        callback: c.callback_url.clone().map(|url| Callback {
            url,
            correlation_id: c.correlation_id.clone(),
        }),
    };
    match windows::send(&ctx.app, payer, send).await {
        Ok(WindowSent {
            id,
            retry,
            sent,
            fallbacks,
        }) => {
            let (status, reason) = match (sent.flagged, retry) {
                (Some(r), _) => ("shadow_blocked", Some(reason_word(r.as_str()))),
                (None, true) => ("retry", None),
                (None, false) => ("success", None),
            };
            let channels: Vec<&str> = std::iter::once(channel)
                .chain(fallbacks.iter().map(String::as_str))
                .collect();
            Ok(answer(&id, status, &channels, reason, &c))
        }
        Err(e) if e.code == Code::SendBlocked => {
            let reason = reason_word(e.reason.unwrap_or_default());
            Ok(answer(
                &new_id("vrf")?,
                "blocked",
                &[channel],
                Some(reason),
                &c,
            ))
        }
        Err(e) if e.code == Code::SendLimitReached => {
            let id = new_id("vrf")?;
            Ok(answer(
                &id,
                "blocked",
                &[channel],
                Some("repeated_attempts"),
                &c,
            ))
        }
        Err(e) => Err(e),
    }
}

/// A bad field is reported after the key: a key that is not live is refused first.
async fn refuse_input(ctx: &Ctx, payer: &Payer, p: &ParamError) -> Result<Reply, AppError> {
    let probe = payer
        .error(&ctx.app, AppError::invalid(p.message.clone()))
        .await;
    if probe.code == Code::InvalidRequest {
        Ok(bad_request(p))
    } else {
        Err(probe)
    }
}

/// `POST /v2/verification/check` → `{id, status: success|failure|expired_or_not_found,
/// request_id}`; 429 once the window's attempts are spent.
pub async fn check(ctx: &Ctx) -> Result<Reply, AppError> {
    let key = auth::key_hash(ctx)?;
    let body: Value = auth::input_after_key(ctx, ctx.json()).await?;
    let c = match params::check(&body) {
        Ok(c) => c,
        Err(p) => {
            // A bad field is reported after the key, as a bad body is.
            auth::account(ctx).await?;
            return Ok(bad_request(&p));
        }
    };
    let (id, status) = match windows::check(&ctx.app, &key, &c.phone, &c.code).await? {
        WindowChecked::Verified(s) => (Some(s.id), "success"),
        WindowChecked::Wrong(s) => (Some(s.id), "failure"),
        WindowChecked::AttemptsSpent => {
            let m = "Too many attempts for this verification; start a new one";
            return Err(AppError::new(Code::CheckAttemptsSpent, m));
        }
        WindowChecked::NotFound => (None, "expired_or_not_found"),
    };
    let mut body = json!({ "status": status, "request_id": request_id() });
    if let Some(id) = id {
        body["id"] = json!(id);
    }
    Ok(Reply::ok(body))
}
