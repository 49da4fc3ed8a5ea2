//! Usage alerts (`/v1/usage/alerts`, a session only, like the caps they watch): list, create,
//! delete. An alert crosses once per UTC day or month; the crossings are listed here (the
//! dashboard's banner) and sent as `usage.threshold_crossed` webhook events.
use crate::app::usage;
use crate::domain::error::AppError;
use crate::domain::money::Money;
use crate::domain::time::rfc3339;
use crate::domain::usage::{parse, period_start, Period};
use crate::domain::usage::{Alert, Notice};
use crate::http::server::Ctx;
use crate::http::{auth, Reply};
use serde_json::{json, Value};

fn money(minor: i64) -> String {
    Money::from_minor(minor).to_decimal_string()
}

fn alert_json(a: &Alert) -> Value {
    json!({
        "alert_id": a.id,
        "period": a.period,
        "threshold": a.threshold.map(money),
        "percent_of_cap": a.percent_of_cap,
        "created_at": rfc3339(a.created_at),
        "crossed_at": a.crossed_at.map(rfc3339),
    })
}

fn notice_json(n: &Notice) -> Value {
    json!({
        "alert_id": n.alert_id,
        "period": Period::of_key(&n.period).as_str(),
        "period_start": period_start(&n.period),
        "threshold": money(n.threshold),
        "spent": money(n.spent),
        "crossed_at": rfc3339(n.created_at),
    })
}

/// `GET | POST /v1/usage/alerts`: the alerts with their crossings (`{"alerts","notices"}`);
/// a `POST {"threshold" | "percent_of_cap", "period"}` adds one (201, the alert).
pub async fn alerts(ctx: &Ctx) -> Result<Reply, AppError> {
    let account = auth::key_manager(ctx).await?.account_id();
    if ctx.method == "POST" {
        let body: serde_json::Map<String, Value> = ctx.json()?;
        let (trigger, period) = parse(&body).map_err(AppError::invalid)?;
        let id = usage::create(&ctx.app, &account, trigger, period).await?;
        let (alerts, _) = usage::list(&ctx.app, &account).await?;
        let created = alerts.iter().find(|a| a.id == id);
        let created = created.ok_or_else(|| AppError::internal("new alert not listed"))?;
        return Ok(Reply::json(201, &alert_json(created)));
    }
    let (alerts, notices) = usage::list(&ctx.app, &account).await?;
    Ok(Reply::ok(json!({
        "alerts": alerts.iter().map(alert_json).collect::<Vec<_>>(),
        "notices": notices.iter().map(notice_json).collect::<Vec<_>>(),
        "currency": ctx.app.config.currency,
    })))
}

/// `DELETE /v1/usage/alerts/{id}` (another account's, or none: 404).
pub async fn delete(ctx: &Ctx, id: &str) -> Result<Reply, AppError> {
    let account = auth::key_manager(ctx).await?.account_id();
    usage::delete(&ctx.app, &account, id).await?;
    Ok(Reply::ok(json!({"alert_id": id, "deleted": true})))
}
