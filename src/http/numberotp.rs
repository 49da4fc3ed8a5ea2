//! The NumberOTP dialect (`/api/public`, `/api/internal`, `/api/user`): camelCase fields,
//! `{"success":true,...}` bodies, `{"success":false,"error","code"}` errors.
use super::auth;
use super::error::{ApiError, Code};
use super::server::{Ctx, Reply};
use crate::domain::money::Money;
use crate::store::{accounts, wallet};
use serde_json::json;

/// `GET /api/internal/balance`. `credits` is the balance in whole cents (1 credit = 0.01
/// of the currency, rounded down); `source` is "api" because it is read live from D1.
pub async fn balance(ctx: &Ctx) -> Result<Reply, ApiError> {
    let w = match wallet::wallet_for_key(&ctx.db()?, auth::key_hash(ctx)?).await? {
        Some(w) => w,
        None => return Err(auth::unauthorized_or(ctx, ApiError::internal("a live key's account has no wallet")).await),
    };
    let balance = Money::from_minor(w.balance);
    Ok(Reply::ok(json!({
        "success": true,
        "balance": balance.as_f64(),
        "credits": balance.credits(),
        "freeCreditsUsed": 0,
        "isApproved": true,
        "currency": w.currency,
        "source": "api",
    })))
}

/// `GET /api/internal/transactions?page=1&limit=20`: the ledger, newest first.
/// `limit` above 100 (or below 1) is a 400, not clamped.
pub async fn transactions(ctx: &Ctx) -> Result<Reply, ApiError> {
    let who = auth::account(ctx).await?;
    let page = ctx.page()?;
    let (rows, total) = wallet::transactions(&ctx.db()?, &who.account_id, page).await?;
    let data: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| {
            json!({
                "id": r.id,
                "type": r.kind,
                "amount": Money::from_minor(r.amount).as_f64(),
                "balanceAfter": Money::from_minor(r.balance_after).as_f64(),
                "reference": r.reference,
                "objectId": r.object_id,
                "description": r.description,
                "createdAt": r.created_at,
            })
        })
        .collect();
    Ok(Reply::ok(json!({
        "success": true,
        "data": data,
        "pagination": {"page": page.page, "limit": page.limit, "total": total, "totalPages": page.total_pages(total)},
    })))
}

/// `GET /api/user/profile`
pub async fn profile(ctx: &Ctx) -> Result<Reply, ApiError> {
    let who = auth::account(ctx).await?;
    let p = accounts::profile(&ctx.db()?, &who.account_id).await?.ok_or_else(|| ApiError::not_found("account"))?;
    let balance = Money::from_minor(p.balance);
    Ok(Reply::ok(json!({
        "success": true,
        "data": {
            "id": p.id,
            "name": p.name,
            "isApproved": p.status == "active",
            "createdAt": p.created_at,
            "balance": balance.as_f64(),
            "credits": balance.credits(),
            "currency": p.currency,
            "twilio_account_sid": p.twilio_sid,
        },
    })))
}

use super::otpwall::resolve_offer;
use crate::domain::ids::new_id;
use crate::domain::time::rfc3339;
use crate::store::activations::{self, NewRent};
use crate::store::catalog;
use crate::store::idempotency::{self, Begin};
use serde::Deserialize;
use std::cell::RefCell;
use std::collections::HashMap;

thread_local! {
    /// Public price lists per query, reused for `PRICES_CACHE_SECS` by this isolate.
    static PRICE_CACHE: RefCell<HashMap<String, (i64, serde_json::Value)>> = RefCell::new(HashMap::new());
}

/// Drops this isolate's cached price lists (after the operator changes the catalog or stock).
pub fn forget_prices() {
    PRICE_CACHE.with(|c| c.borrow_mut().clear());
}

fn non_empty(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

async fn country_param(db: &worker::D1Database, input: Option<&str>) -> Result<Option<String>, ApiError> {
    match input {
        None => Ok(None),
        Some(c) => Ok(Some(catalog::resolve_country(db, c).await?.ok_or_else(|| ApiError::new(Code::UnknownCountry, format!("unknown country '{c}'")))?)),
    }
}

async fn service_param(db: &worker::D1Database, input: Option<&str>) -> Result<Option<String>, ApiError> {
    match input {
        None => Ok(None),
        Some(s) => Ok(Some(catalog::resolve_service(db, s).await?.ok_or_else(|| ApiError::new(Code::UnknownService, format!("unknown service '{s}'")))?)),
    }
}

/// `GET /api/public/prices?service&country` → `{"success":true,"data":{"US":{"telegram":
/// {"services":{"<operator id>":{"cost":"0.05","count":"12"}}}}},"source":"api"|"cache"}`.
/// `count` is the free stock; `source` says whether this isolate's cached copy answered.
pub async fn prices(ctx: &Ctx) -> Result<Reply, ApiError> {
    let (service_input, country_input) = (non_empty(ctx.query("service")), non_empty(ctx.query("country")));
    // Keyed by the query as given, so a cached answer costs no D1 round trip at all (not even
    // resolving the service and country names); an unknown name is never cached.
    let cache_key = format!("{}|{}", service_input.as_deref().unwrap_or("*"), country_input.as_deref().unwrap_or("*"));
    let now = ctx.now_ms;
    let cached = PRICE_CACHE.with(|c| c.borrow().get(&cache_key).filter(|(until, _)| *until > now).map(|(_, v)| v.clone()));
    if let Some(data) = cached {
        return Ok(Reply::ok(json!({"success": true, "data": data, "source": "cache"})));
    }
    let db = ctx.db()?;
    let service = service_param(&db, service_input.as_deref()).await?;
    let country = country_param(&db, country_input.as_deref()).await?;
    let rows = catalog::prices(&db, service.as_deref(), country.as_deref(), now).await?;
    let mut data = serde_json::Map::new();
    for r in rows {
        let by_country = data.entry(r.country.clone()).or_insert_with(|| json!({}));
        let by_service = by_country.as_object_mut().map(|m| m.entry(r.service.clone()).or_insert_with(|| json!({"services": {}})));
        if let Some(ops) = by_service.and_then(|s| s.get_mut("services")).and_then(|s| s.as_object_mut()) {
            ops.insert(r.operator.clone(), json!({"cost": Money::from_minor(r.cost).to_decimal_string(), "count": r.count.to_string(), "name": r.operator_name}));
        }
    }
    let data = serde_json::Value::Object(data);
    if ctx.config.prices_cache_ms > 0 {
        PRICE_CACHE.with(|c| c.borrow_mut().insert(cache_key, (now + ctx.config.prices_cache_ms, data.clone())));
    }
    Ok(Reply::ok(json!({"success": true, "data": data, "source": "api"})))
}

/// `GET /api/public/rent-prices?service(required)&country&operator` →
/// `{"success":true,"data":{"US":{"telegram":{"services":{"<operator id>":{"name":"verizon",
/// "count":"12","prices":[{"hours":4,"cost":"0.50"}]}}}}},"source":"api"}`
pub async fn rent_prices(ctx: &Ctx) -> Result<Reply, ApiError> {
    let db = ctx.db()?;
    let service = service_param(&db, non_empty(ctx.query("service")).as_deref())
        .await?
        .ok_or_else(|| ApiError::invalid("query parameter 'service' is required"))?;
    let country = country_param(&db, non_empty(ctx.query("country")).as_deref()).await?;
    let operator = non_empty(ctx.query("operator"));
    let rows = catalog::rent_prices(&db, &service, country.as_deref(), None, ctx.now_ms).await?;
    let rows: Vec<_> = match &operator {
        None => rows,
        Some(op) => {
            let known = catalog::all_operators(&db).await?;
            if !known.iter().any(|o| (o.id == *op || o.name.eq_ignore_ascii_case(op)) && country.as_ref().is_none_or(|c| *c == o.country)) {
                return Err(ApiError::new(Code::UnknownOperator, format!("unknown operator '{op}'")));
            }
            rows.into_iter().filter(|r| r.operator == *op || r.operator_name.eq_ignore_ascii_case(op)).collect()
        }
    };
    let mut data = serde_json::Map::new();
    for r in rows {
        let by_country = data.entry(r.country.clone()).or_insert_with(|| json!({}));
        let by_service = by_country.as_object_mut().map(|m| m.entry(r.service.clone()).or_insert_with(|| json!({"services": {}})));
        if let Some(ops) = by_service.and_then(|s| s.get_mut("services")).and_then(|s| s.as_object_mut()) {
            let entry = ops.entry(r.operator.clone()).or_insert_with(|| json!({"name": r.operator_name, "count": r.count.to_string(), "prices": []}));
            if let Some(list) = entry.get_mut("prices").and_then(|p| p.as_array_mut()) {
                list.push(json!({"hours": r.hours, "cost": Money::from_minor(r.cost).to_decimal_string()}));
            }
        }
    }
    Ok(Reply::ok(json!({"success": true, "data": data, "source": "api"})))
}

#[derive(Deserialize)]
struct RentIn {
    service: String,
    country: String,
    operator: Option<String>,
    hours: Option<u32>,
}

const RENT_ATTEMPTS: usize = 6;

/// `POST /api/internal/rent {service,country[,operator,hours]}`: holds a free number for the
/// rent duration (`hours`, default the shortest offered); every SMS to it is kept. Charged at
/// once (ledger kind `rent`), in the same batch as the lease and the rent row; 402 when the
/// wallet cannot pay. `remainingCredits` is the balance after the charge, in credits.
pub async fn rent(ctx: &Ctx) -> Result<Reply, ApiError> {
    let who = auth::account(ctx).await?;
    let body: RentIn = ctx.json()?;
    if body.hours == Some(0) {
        return Err(ApiError::invalid("'hours' must be at least 1"));
    }
    let db = ctx.db()?;
    let offer = resolve_offer(&db, &body.country, &body.service, body.operator.as_deref()).await?;
    let hours = body.hours.map(i64::from);
    let claim = match idempotency::begin(&db, &who.account_id, ctx.header("Idempotency-Key").as_deref(), &ctx.method, &ctx.path, &ctx.body, ctx.now_ms).await? {
        Begin::Replay { status, body } => return Ok(Reply { status, body, headers: vec![("Idempotent-Replayed", "true".to_owned())] }),
        Begin::Proceed(claim) => claim,
    };
    let result = rent_number(ctx, &db, &who.account_id, &offer, hours).await;
    if let Some(claim) = &claim {
        match &result {
            Ok(reply) => idempotency::complete(&db, claim, reply.status, &reply.body).await?,
            Err(_) => idempotency::release(&db, claim).await?,
        }
    }
    result
}

async fn rent_number(ctx: &Ctx, db: &worker::D1Database, account_id: &str, offer: &super::otpwall::Offer, hours: Option<i64>) -> Result<Reply, ApiError> {
    if !activations::is_rent_offered(db, &offer.country, &offer.service, offer.operator.as_deref(), hours).await? {
        return Err(ApiError::new(Code::NotOffered, "no rent price for this service, country, operator and duration"));
    }
    for _ in 0..RENT_ATTEMPTS {
        let chosen = activations::pick_for_rent(db, &offer.country, &offer.service, offer.operator.as_deref(), hours, ctx.now_ms)
            .await?
            .ok_or_else(|| ApiError::new(Code::NoNumbers, format!("no free {} numbers to rent in {} right now", offer.service, offer.country)))?;
        let id = new_id("rent")?;
        let expires_at = ctx.now_ms + chosen.hours * 3_600_000;
        let new = NewRent { id: &id, account_id, offer: &chosen, country: &offer.country, service: &offer.service, now_ms: ctx.now_ms, expires_at_ms: expires_at };
        match crate::store::batch(db, activations::rent_statements(db, &new)?).await {
            Ok(_) => {}
            Err(e) if activations::lost_the_number(&e) => continue,
            Err(e) => return Err(e.into()),
        }
        let balance = activations::rent_balance_after(db, &id).await?;
        return Ok(Reply::ok(json!({
            "success": true,
            "data": {
                "id": id,
                "number": chosen.number,
                "service": offer.service,
                "country": offer.country,
                "operator": chosen.operator,
                "hours": chosen.hours,
                "cost": Money::from_minor(chosen.cost).to_decimal_string(),
                "expiresAt": rfc3339(expires_at),
            },
            "remainingCredits": Money::from_minor(balance).credits(),
        })));
    }
    Err(ApiError::new(Code::NoNumbers, "the free numbers were taken by parallel rents; try again"))
}

/// `GET /api/internal/rent/{id}`: the rent and every SMS its number received.
pub async fn rent_status(ctx: &Ctx, id: &str) -> Result<Reply, ApiError> {
    let who = auth::account(ctx).await?;
    let db = ctx.db()?;
    let r = activations::rent(&db, id).await?.filter(|r| r.account_id == who.account_id).ok_or_else(|| ApiError::not_found("rent"))?;
    let sms = activations::rent_sms(&db, id).await?;
    Ok(Reply::ok(json!({
        "success": true,
        "data": {
            "id": r.id,
            "number": r.number,
            "service": r.service,
            "country": r.country,
            "operator": r.operator,
            "hours": r.hours,
            "cost": Money::from_minor(r.cost).to_decimal_string(),
            "status": if ctx.now_ms < r.expires_at { "active" } else { "expired" },
            "createdAt": rfc3339(r.created_at),
            "expiresAt": rfc3339(r.expires_at),
            "sms": sms.iter().map(|s| json!({"from": s.sender, "text": s.text, "code": s.code, "receivedAt": s.received_at})).collect::<Vec<_>>(),
        },
    })))
}
