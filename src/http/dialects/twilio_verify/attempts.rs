//! Twilio's Verification Attempts: `GET /v2/Attempts` (filtered, paged newest first),
//! `GET /v2/Attempts/{VL…}` and `GET /v2/Attempts/Summary`, in Twilio's shapes. Every send
//! made through this door is an attempt (its OTP session); a summary counts whole UTC days
//! from the statistics rollups.
use super::attempt_params::filter;
use super::origin;
use super::params::{self, ParamError};
use super::resources::Failure;
use super::shapes::{date, filters_of, meta_filtered};
use crate::app::stats;
use crate::app::verify::Caller;
use crate::domain::money::Money;
use crate::domain::stats::{percentage, Attempt, PageToken};
use crate::http::server::Ctx;
use crate::http::Reply;
use serde_json::{json, Value};

fn attempt_json(ctx: &Ctx, caller: &Caller, a: &Attempt) -> Value {
    let status = if a.verified_at.is_some() {
        "converted"
    } else {
        "unconverted"
    };
    json!({
        "sid": a.sid,
        "account_sid": caller.account_sid,
        "service_sid": a.service_sid,
        "verification_sid": a.verification_sid,
        "date_created": date(a.created_at),
        "date_updated": date(a.verified_at.unwrap_or(a.created_at)),
        "conversion_status": status,
        "channel": a.channel,
        "price": {
            "value": Money::from_minor(a.cost).to_decimal_string(),
            "currency": ctx.app.config.currency.to_ascii_lowercase(),
        },
        "channel_data": {
            "verification_sid": a.verification_sid,
            "to": a.to_phone,
            "status": if a.verified_at.is_some() { "confirmed" } else { "unconfirmed" },
            "country": a.country,
        },
        "url": format!("{}/v2/Attempts/{}", origin(ctx), a.sid),
    })
}

/// `GET /v2/Attempts` → `{"attempts":[…],"meta":{…,"key":"attempts"}}`.
pub async fn list(ctx: &Ctx, caller: &Caller) -> Result<Reply, Failure> {
    let f = filter(|k| ctx.query(k), ctx.app.now_ms, false)?;
    let paging = params::paging(
        ctx.query("Page").as_deref(),
        ctx.query("PageSize").as_deref(),
    )?;
    let token = match ctx.query("PageToken").filter(|t| !t.is_empty()) {
        Some(t) => Some(PageToken::parse(&t).ok_or_else(|| {
            ParamError::Invalid("PageToken", "a token from a previous page".to_owned())
        })?),
        None => None,
    };
    let (rows, has_next) = stats::attempts(&ctx.app, caller, &f, paging, token.as_ref()).await?;
    let next = match rows.last() {
        Some(last) if has_next => Some(PageToken {
            created_at: last.created_at,
            sid: last.sid.clone(),
        }),
        _ => None,
    };
    let list_url = format!("{}/v2/Attempts", origin(ctx));
    let filters = filters_of(&ctx.query_string);
    let next_text = next.map(|t| t.text());
    let attempts: Vec<Value> = rows.iter().map(|a| attempt_json(ctx, caller, a)).collect();
    let meta = meta_filtered(
        paging,
        &list_url,
        "attempts",
        &filters,
        next_text.as_deref(),
    );
    Ok(Reply::ok(json!({ "attempts": attempts, "meta": meta })))
}

/// `GET /v2/Attempts/{VL…}`.
pub async fn fetch(ctx: &Ctx, caller: &Caller, sid: &str) -> Result<Reply, Failure> {
    let a = stats::attempt(&ctx.app, caller, sid).await?;
    Ok(Reply::ok(attempt_json(ctx, caller, &a)))
}

/// `GET /v2/Attempts/Summary` → `{total_attempts, total_converted, total_unconverted,
/// conversion_rate_percentage, url}`.
pub async fn summary(ctx: &Ctx, caller: &Caller) -> Result<Reply, Failure> {
    let f = filter(|k| ctx.query(k), ctx.app.now_ms, true)?;
    let c = stats::attempts_summary(&ctx.app, caller, &f).await?;
    Ok(Reply::ok(json!({
        "total_attempts": c.attempts,
        "total_converted": c.converted,
        "total_unconverted": c.attempts - c.converted,
        "conversion_rate_percentage": percentage(c.converted, c.attempts),
        "url": format!("{}/v2/Attempts/Summary", origin(ctx)),
    })))
}
