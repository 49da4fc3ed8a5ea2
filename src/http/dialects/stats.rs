//! Statistics (`GET /v1/stats/otp|activations`, session or API key: the caller's account;
//! `GET /admin/stats/otp|activations`, the operator: every account, or one with
//! `account=`). Filters: `from`, `to` (dates or RFC 3339 times; their UTC days, both
//! included; the last 30 days by default, at most 400) and `group_by`. A bad filter is a 400
//! naming the field. Money is a JSON number of the currency, as the balance.
use crate::app::{accounts, stats};
use crate::domain::error::AppError;
use crate::domain::ids::AccountId;
use crate::domain::money::Money;
use crate::domain::stats::{self as rules, rate, ActivationGroup, ActivationStats, OtpGroup};
use crate::domain::stats::{OtpStats, Range};
use crate::http::routes::StatsResource;
use crate::http::server::Ctx;
use crate::http::{auth, Reply};
use serde_json::{json, Value};

/// The date range of the query (400 naming `from` or `to` when it is bad).
fn range_of(ctx: &Ctx) -> Result<Range, AppError> {
    let (from, to) = (ctx.query("from"), ctx.query("to"));
    rules::range(from.as_deref(), to.as_deref(), ctx.app.now_ms)
        .map_err(|e| AppError::invalid(e.message))
}

/// `group_by` (default `day`), parsed by `parse` (400 naming it when unknown).
fn group_of<G>(ctx: &Ctx, parse: fn(&str) -> Option<G>, allowed: &str) -> Result<G, AppError> {
    let name = ctx.query("group_by").filter(|g| !g.is_empty());
    let name = name.as_deref().unwrap_or("day");
    parse(name).ok_or_else(|| AppError::invalid(format!("'group_by' must be one of {allowed}")))
}

const OTP_GROUPS: &str = "day, country, channel, prefix, api_key, door";
const ACTIVATION_GROUPS: &str = "day, service, country, operator";

/// A group's key: `null` where the rollup does not know it (a country or key not recorded).
fn key_json(key: &str) -> Value {
    if key.is_empty() {
        Value::Null
    } else {
        Value::from(key)
    }
}

/// `{"rows":[…]}`, each row as `row` renders it.
fn rows_json<T>(rows: &[T], row: fn(&T) -> Value) -> Value {
    json!({ "rows": rows.iter().map(row).collect::<Vec<Value>>() })
}

fn otp_row(r: &OtpStats) -> Value {
    json!({
        "key": key_json(&r.key),
        "sends": r.sends,
        "verified": r.verified,
        "conversion_rate": rate(r.verified, r.sends),
        "spend": Money::from_minor(r.spend).as_f64(),
        "blocked": r.blocked,
    })
}

fn activation_row(r: &ActivationStats) -> Value {
    json!({
        "key": key_json(&r.key),
        "orders": r.orders,
        "sms_received": r.sms_received,
        "completed": r.completed,
        "cancelled": r.cancelled,
        "expired": r.expired,
        "refunded": r.refunded,
        "success_rate": rate(r.completed, r.orders),
        "spend": Money::from_minor(r.spend).as_f64(),
    })
}

/// The operator's `account` filter: the account (404 when there is none), or every one.
async fn admin_account(ctx: &Ctx) -> Result<Option<AccountId>, AppError> {
    auth::admin(ctx)?;
    match ctx.query("account").filter(|a| !a.trim().is_empty()) {
        Some(id) => Ok(Some(accounts::existing(&ctx.app, id.trim()).await?)),
        None => Ok(None),
    }
}

async fn otp_reply(ctx: &Ctx, account: Option<&AccountId>) -> Result<Reply, AppError> {
    let group = group_of(ctx, OtpGroup::parse, OTP_GROUPS)?;
    let rows = stats::otp(&ctx.app, account, group, &range_of(ctx)?).await?;
    Ok(Reply::ok(rows_json(&rows, otp_row)))
}

async fn activations_reply(ctx: &Ctx, account: Option<&AccountId>) -> Result<Reply, AppError> {
    let group = group_of(ctx, ActivationGroup::parse, ACTIVATION_GROUPS)?;
    let rows = stats::activations(&ctx.app, account, group, &range_of(ctx)?).await?;
    Ok(Reply::ok(rows_json(&rows, activation_row)))
}

/// The statistics routes.
pub async fn serve(ctx: &Ctx, which: StatsResource) -> Result<Reply, AppError> {
    match which {
        StatsResource::Otp => otp(ctx).await,
        StatsResource::Activations => activations(ctx).await,
        StatsResource::AdminOtp => admin_otp(ctx).await,
        StatsResource::AdminActivations => admin_activations(ctx).await,
    }
}

/// `GET /v1/stats/otp?from&to&group_by=day|country|channel|prefix|api_key|door` →
/// `{"rows":[{key, sends, verified, conversion_rate, spend, blocked}]}`.
async fn otp(ctx: &Ctx) -> Result<Reply, AppError> {
    let who = auth::account(ctx).await?;
    otp_reply(ctx, Some(&who)).await
}

/// `GET /v1/stats/activations?from&to&group_by=day|service|country|operator` →
/// `{"rows":[{key, orders, sms_received, completed, cancelled, expired, refunded,
/// success_rate, spend}]}`.
async fn activations(ctx: &Ctx) -> Result<Reply, AppError> {
    let who = auth::account(ctx).await?;
    activations_reply(ctx, Some(&who)).await
}

/// `GET /admin/stats/otp?account&from&to&group_by`: as `/v1/stats/otp`, across accounts.
async fn admin_otp(ctx: &Ctx) -> Result<Reply, AppError> {
    let account = admin_account(ctx).await?;
    otp_reply(ctx, account.as_ref()).await
}

/// `GET /admin/stats/activations?account&from&to&group_by`.
async fn admin_activations(ctx: &Ctx) -> Result<Reply, AppError> {
    let account = admin_account(ctx).await?;
    activations_reply(ctx, account.as_ref()).await
}
