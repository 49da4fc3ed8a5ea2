//! The audit log's two readers: the operator's `GET /admin/audit` (every account) and a
//! customer's `GET /v1/audit` (its own account's rows only). Both take the filters `actor`,
//! `action`, `resource_type`, `resource_id`, `from`, `to` (RFC 3339 or Unix ms) and the
//! keyset `cursor`, and answer `{"events":[…],"next_cursor"}`, newest first.
use crate::app::audit::{self, AuditPage};
use crate::domain::audit::{check_range, parse_cursor, parse_text, parse_time, Event, Filter};
use crate::domain::error::AppError;
use crate::domain::time::rfc3339_millis;
use crate::http::server::Ctx;
use crate::http::{auth, Reply};
use serde_json::{json, Value};

/// The filters of the query string (400 naming the field at fault).
fn filter(ctx: &Ctx) -> Result<Filter, AppError> {
    let text = |field: &str| parse_text(field, ctx.query(field)).map_err(AppError::invalid);
    let time =
        |field: &str| parse_time(field, ctx.query(field).as_deref()).map_err(AppError::invalid);
    let filter = Filter {
        account_id: text("account")?,
        actor: text("actor")?,
        action: text("action")?,
        resource_type: text("resource_type")?,
        resource_id: text("resource_id")?,
        from_ms: time("from")?,
        to_ms: time("to")?,
        before_id: parse_cursor(ctx.query("cursor").as_deref()).map_err(AppError::invalid)?,
    };
    check_range(&filter).map_err(AppError::invalid)?;
    Ok(filter)
}

fn event_json(e: &Event) -> Value {
    json!({
        "id": e.id,
        "at": rfc3339_millis(e.at),
        "actor_type": e.actor_type,
        "actor_id": e.actor_id,
        "ip": e.ip,
        "account_id": e.account_id,
        "action": e.action,
        "resource_type": e.resource_type,
        "resource_id": e.resource_id,
        "before": e.before,
        "after": e.after,
        "reason": e.reason,
        "request_id": e.request_id,
    })
}

fn page_json(page: &AuditPage) -> Reply {
    let events: Vec<Value> = page.events.iter().map(event_json).collect();
    let next = page.next_cursor.map(|c| c.to_string());
    Reply::ok(json!({"events": events, "next_cursor": next}))
        .with_header("Cache-Control", "no-store".to_owned())
}

/// `GET /admin/audit` (`admin`) or `GET /v1/audit`.
pub async fn serve(ctx: &Ctx, admin: bool) -> Result<Reply, AppError> {
    match admin {
        true => all_accounts(ctx).await,
        false => own(ctx).await,
    }
}

/// `GET /admin/audit?account&actor&action&resource_type&resource_id&from&to&cursor`.
async fn all_accounts(ctx: &Ctx) -> Result<Reply, AppError> {
    auth::admin(ctx)?;
    let page = audit::all_accounts(&ctx.app, &filter(ctx)?).await?;
    Ok(page_json(&page))
}

/// `GET /v1/audit?actor&action&resource_type&resource_id&from&to&cursor`: the caller's own
/// account's rows (an `account` filter is ignored).
async fn own(ctx: &Ctx) -> Result<Reply, AppError> {
    let who = auth::account(ctx).await?;
    let page = audit::own(&ctx.app, &who, filter(ctx)?).await?;
    Ok(page_json(&page))
}
