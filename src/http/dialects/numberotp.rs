//! The NumberOTP dialect (`/api/public`, `/api/internal`, `/api/user`): camelCase fields,
//! `{"success":true,...}` bodies, `{"success":false,"error","code"}` errors.
use crate::app::catalog::Offer;
use crate::app::idempotency::{BalanceAs, Idem};
use crate::app::rents::{self, RentOrder, Rented};
use crate::app::{accounts, catalog, wallet};
use crate::domain::activation::Rent;
use crate::domain::error::AppError;
use crate::domain::money::Money;
use crate::domain::pagination::Slice;
use crate::domain::time::rfc3339;
use crate::domain::wallet::LedgerEntry;
use crate::http::auth;
use crate::http::reply::page_rows;
use crate::http::server::{saved, Ctx};
use crate::http::Reply;
use serde::Deserialize;
use serde_json::{json, Map, Value};

/// `GET /api/internal/balance`. `credits` is the balance in whole cents (1 credit = 0.01
/// of the currency, rounded down); `source` is "api" because it is read live from D1.
pub async fn balance(ctx: &Ctx) -> Result<Reply, AppError> {
    let w = wallet::balance(&ctx.app, &auth::key_hash(ctx)?).await?;
    Ok(Reply::ok(json!({
        "success": true,
        "balance": w.balance.as_f64(),
        "credits": w.balance.credits(),
        "freeCreditsUsed": 0,
        "isApproved": w.approved,
        "currency": w.currency,
        "source": "api",
    })))
}

/// `GET /api/internal/transactions?page=1&limit=20`: the ledger, newest first.
/// `limit` above 100 (or below 1) is a 400, not clamped.
pub async fn transactions(ctx: &Ctx) -> Result<Reply, AppError> {
    let who = auth::account(ctx).await?;
    let slice = ctx.slice()?;
    let (rows, total) = wallet::transactions(&ctx.app, &who, &slice).await?;
    let (data, next) = page_rows(&slice, (&rows, total), |r| r.id.as_str(), transaction_json);
    Ok(paged(data, &slice, total, next))
}

fn transaction_json(r: &LedgerEntry) -> Value {
    json!({
        "id": r.id,
        "type": r.kind,
        "amount": Money::from_minor(r.amount).as_f64(),
        "balanceAfter": Money::from_minor(r.balance_after).as_f64(),
        "reference": r.reference,
        "objectId": r.object_id,
        "description": r.description,
        "createdAt": rfc3339(r.created_at),
    })
}

/// `GET /api/user/profile`
pub async fn profile(ctx: &Ctx) -> Result<Reply, AppError> {
    let who = auth::account(ctx).await?;
    let p = accounts::profile(&ctx.app, &who).await?;
    let balance = Money::from_minor(p.balance);
    Ok(Reply::ok(json!({
        "success": true,
        "data": {
            "id": p.id,
            "name": p.name,
            "email": p.email,
            "isApproved": p.status == "active" && p.approved,
            "createdAt": p.created_at,
            "balance": balance.as_f64(),
            "credits": balance.credits(),
            "currency": p.currency,
            "twilio_account_sid": p.twilio_sid,
        },
    })))
}

fn non_empty(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

/// `data.<country>.<service>.services.<operator id>`, created on the way.
fn operator_slot<'a>(
    data: &'a mut Map<String, Value>,
    country: &str,
    service: &str,
) -> Option<&'a mut Map<String, Value>> {
    let by_country = data.entry(country.to_owned()).or_insert_with(|| json!({}));
    let by_service = by_country
        .as_object_mut()?
        .entry(service.to_owned())
        .or_insert_with(|| json!({"services": {}}));
    by_service.get_mut("services")?.as_object_mut()
}

/// `GET /api/public/prices?service&country` → `{"success":true,"data":{"US":{"telegram":
/// {"services":{"<operator id>":{"cost":"0.05","count":"12"}}}}},"source":"api"|"cache"}`.
/// `count` is the free stock; `source` says whether this isolate's cached copy answered.
pub async fn prices(ctx: &Ctx) -> Result<Reply, AppError> {
    let (service, country) = (
        non_empty(ctx.query("service")),
        non_empty(ctx.query("country")),
    );
    let list = catalog::prices(&ctx.app, service.as_deref(), country.as_deref()).await?;
    let mut data = Map::new();
    for r in &list.rows {
        if let Some(ops) = operator_slot(&mut data, &r.country, &r.service) {
            let cost = Money::from_minor(r.cost).to_decimal_string();
            let entry =
                json!({"cost": cost, "count": r.count.to_string(), "name": r.operator_name});
            ops.insert(r.operator.clone(), entry);
        }
    }
    let source = if list.cached { "cache" } else { "api" };
    Ok(Reply::ok(
        json!({"success": true, "data": data, "source": source}),
    ))
}

/// `GET /api/public/rent-prices?service(required)&country&operator` →
/// `{"success":true,"data":{"US":{"telegram":{"services":{"<operator id>":{"name":"verizon",
/// "count":"12","prices":[{"hours":4,"cost":"0.50"}]}}}}},"source":"api"}`
pub async fn rent_prices(ctx: &Ctx) -> Result<Reply, AppError> {
    let service = non_empty(ctx.query("service"));
    let (country, operator) = (
        non_empty(ctx.query("country")),
        non_empty(ctx.query("operator")),
    );
    let rows = catalog::rent_prices(
        &ctx.app,
        service.as_deref(),
        country.as_deref(),
        operator.as_deref(),
    )
    .await?;
    let mut data = Map::new();
    for r in rows {
        if let Some(ops) = operator_slot(&mut data, &r.country, &r.service) {
            let entry = ops.entry(r.operator.clone()).or_insert_with(
                || json!({"name": r.operator_name, "count": r.count.to_string(), "prices": []}),
            );
            if let Some(list) = entry.get_mut("prices").and_then(|p| p.as_array_mut()) {
                let cost = Money::from_minor(r.cost).to_decimal_string();
                list.push(json!({"hours": r.hours, "cost": cost}));
            }
        }
    }
    Ok(Reply::ok(
        json!({"success": true, "data": data, "source": "api"}),
    ))
}

#[derive(Deserialize)]
struct RentIn {
    service: String,
    country: String,
    operator: Option<String>,
    hours: Option<u32>,
}

/// A rent's own fields, as both rent answers give them (`$r` has the rent's field names).
macro_rules! rent_data {
    ($r:expr, $cost:expr, $expires_at_ms:expr) => {
        json!({
            "id": $r.id,
            "number": $r.number,
            "service": $r.service,
            "country": $r.country,
            "operator": $r.operator,
            "hours": $r.hours,
            "cost": $cost.to_decimal_string(),
            "expiresAt": rfc3339($expires_at_ms),
        })
    };
}

fn rented(r: &Rented) -> Reply {
    Reply::ok(json!({
        "success": true,
        "data": rent_data!(r, r.cost, r.expires_at_ms),
        "remainingCredits": r.balance_after.credits(),
    }))
}

/// `POST /api/internal/rent {service,country[,operator,hours]}`: holds a free number for the
/// rent duration (`hours`, default the shortest offered); every SMS to it is kept.
/// `remainingCredits` is the balance after the charge, in credits.
pub async fn rent(ctx: &Ctx) -> Result<Reply, AppError> {
    let who = auth::payer(ctx).await?;
    let body: RentIn = ctx.json()?;
    if body.hours == Some(0) {
        return Err(AppError::invalid("'hours' must be at least 1"));
    }
    let order = RentOrder {
        offer: Offer {
            country: body.country,
            service: body.service,
            operator: body.operator,
        },
        hours: body.hours.map(i64::from),
    };
    let request = ctx.idem_request(who.as_str());
    let render = |r: &Rented| {
        let mut s = saved(rented(r));
        s.balance_fill = Some(("$.remainingCredits", BalanceAs::Credits));
        s
    };
    let idem = Idem::new(&request, &render);
    let answer = rents::rent(&ctx.app, &who, order, idem).await?;
    Ok(ctx.answer(answer, rented))
}

/// `GET /api/internal/rent/{id}`: the rent and every SMS its number received. `?wait=N`
/// (1–55 s) makes it a long-poll on `seq` (the number of SMS) past `since` (default 0).
pub async fn rent_status(ctx: &Ctx, id: &str) -> Result<Reply, AppError> {
    let poll = ctx.long_poll()?;
    let who = auth::account(ctx).await?;
    let v = rents::wait_status(&ctx.app, &who, id, poll).await?;
    let r = &v.rent;
    let sms: Vec<Value> = v
        .sms
        .iter()
        .map(|s| {
            json!({"from": s.sender, "text": s.text, "code": s.code, "receivedAt": s.received_at})
        })
        .collect();
    let mut data = rent_data!(r, Money::from_minor(r.cost), r.expires_at);
    if let Some(fields) = data.as_object_mut() {
        let status = if v.active { "active" } else { "expired" };
        fields.insert("status".into(), json!(status));
        fields.insert("createdAt".into(), json!(rfc3339(r.created_at)));
        fields.insert("seq".into(), json!(sms.len()));
        fields.insert("sms".into(), Value::Array(sms));
    }
    Ok(Reply::ok(json!({"success": true, "data": data})))
}

/// `GET /api/internal/rents?page&limit`: the account's rents, newest first.
pub async fn rent_list(ctx: &Ctx) -> Result<Reply, AppError> {
    let who = auth::account(ctx).await?;
    let slice = ctx.slice()?;
    let (rows, total) = rents::list(&ctx.app, &who, &slice).await?;
    let (data, next) = page_rows(
        &slice,
        (&rows, total),
        |r| r.id.as_str(),
        |r| rent_json(r, ctx.app.now_ms),
    );
    Ok(paged(data, &slice, total, next))
}

fn rent_json(r: &Rent, now: i64) -> Value {
    json!({
        "id": r.id,
        "number": r.number,
        "service": r.service,
        "country": r.country,
        "operator": r.operator,
        "hours": r.hours,
        "cost": Money::from_minor(r.cost).to_decimal_string(),
        "status": if now < r.expires_at { "active" } else { "expired" },
        "createdAt": rfc3339(r.created_at),
        "expiresAt": rfc3339(r.expires_at),
    })
}

/// A page of a list, in NumberOTP's envelope; `nextCursor` is the `after` of the next page
/// (null on the last), `page` null on a page asked for by `after`.
fn paged(data: Vec<Value>, slice: &Slice, total: u64, next: Option<String>) -> Reply {
    let page = slice.page;
    Reply::ok(json!({
        "success": true,
        "data": data,
        "pagination": {
            "page": slice.page_number(),
            "limit": page.limit,
            "total": total,
            "totalPages": page.total_pages(total),
            "nextCursor": next,
        },
    }))
}
