//! The OTPWALL dialect (`/v1`): balance, catalog, numbers, activations, inbound SMS.
use crate::app::activations::{self, Bought, BuyOrder, View};
use crate::app::catalog::Offer;
use crate::app::idempotency::Idem;
use crate::app::inbound::{self, IncomingSms, Signed};
use crate::app::{catalog, wallet};
use crate::domain::activation::{Activation, Command};
use crate::domain::error::{AppError, Code};
use crate::domain::live;
use crate::domain::money::Money;
use crate::domain::phone::{Phone, PlusSign};
use crate::domain::sms::{clean_field, received_by};
use crate::domain::time::rfc3339;
use crate::http::auth;
use crate::http::reply::{page_rows, slice_pagination};
use crate::http::server::{saved, Ctx};
use crate::http::Reply;
use serde::Deserialize;
use serde_json::json;

/// `GET /v1/balance` → `{"balance":12.5,"currency":"USD"}`
pub async fn balance(ctx: &Ctx) -> Result<Reply, AppError> {
    let w = wallet::balance(&ctx.app, &auth::key_hash(ctx)?).await?;
    Ok(Reply::ok(
        json!({"balance": w.balance.as_f64(), "currency": w.currency}),
    ))
}

fn code_list(list: &[catalog::Named]) -> Reply {
    Reply::ok(json!(list
        .iter()
        .map(|c| json!({"code": c.code, "name": c.name}))
        .collect::<Vec<_>>()))
}

/// `GET /v1/countries` → `[{"code","name"}]` (no key needed: the catalog is public).
pub async fn countries(ctx: &Ctx) -> Result<Reply, AppError> {
    Ok(code_list(&catalog::countries(&ctx.app).await?))
}

/// `GET /v1/services` → `[{"code","name"}]`
pub async fn services(ctx: &Ctx) -> Result<Reply, AppError> {
    Ok(code_list(&catalog::services(&ctx.app).await?))
}

#[derive(Deserialize)]
struct BuyIn {
    service: String,
    country: String,
    operator: Option<String>,
    max_price: Option<serde_json::Value>,
}

fn bought(b: &Bought) -> Reply {
    Reply::ok(json!({
        "activation_id": b.activation_id,
        "number": b.number,
        "status": "waiting",
        "service": b.service,
        "country": b.country,
        "operator": b.operator,
        "cost": b.cost.as_f64(),
        "expires_at": rfc3339(b.expires_at_ms),
        "cancel_allowed_at": rfc3339(b.cancel_allowed_at_ms),
    }))
}

/// `POST /v1/number {service,country[,operator,max_price]}`
pub async fn buy_number(ctx: &Ctx) -> Result<Reply, AppError> {
    let who = auth::payer(ctx).await?;
    let body: BuyIn = ctx.json()?;
    let max_price = match &body.max_price {
        None | Some(serde_json::Value::Null) => None,
        Some(v) => Some(
            Money::parse_json(v)
                .map_err(|e| AppError::new(Code::InvalidAmount, format!("'max_price': {e}")))?,
        ),
    };
    let order = BuyOrder {
        offer: Offer {
            country: body.country,
            service: body.service,
            operator: body.operator,
        },
        max_price,
    };
    let request = ctx.idem_request(who.as_str());
    let render = |b: &Bought| saved(bought(b));
    let idem = Idem::new(&request, &render);
    let answer = activations::buy(&ctx.app, &who, order, idem).await?;
    Ok(ctx.answer(answer, bought))
}

fn status_body(v: &View) -> Reply {
    Reply::ok(status_json(v))
}

/// The activation as `GET …/status` shows it (also each event's `activation`).
fn status_json(v: &View) -> serde_json::Value {
    let latest = v.sms.last();
    json!({
        "activation_id": v.id,
        "status": v.status.as_str(),
        "sms": latest.map(|s| s.text.clone()),
        "code": latest.and_then(|s| s.code.clone()),
        "sms_list": v.sms.iter().map(|s| json!({
            "text": s.text, "code": s.code, "from": s.from, "received_at": s.received_at,
        })).collect::<Vec<_>>(),
        "number": v.number,
        "cost": Money::from_minor(v.cost).as_f64(),
        "expires_at": rfc3339(v.expires_at_ms),
        "cancel_allowed_at": rfc3339(v.cancel_allowed_at_ms),
        "seq": v.seq,
    })
}

/// `GET /v1/activation/{id}/status`, read from the activation's object (authoritative).
/// `?wait=N` (1–55 s) makes it a long-poll on `seq` past `since` (default 0).
pub async fn activation_status(ctx: &Ctx, id: &str) -> Result<Reply, AppError> {
    let poll = ctx.long_poll()?;
    let key = auth::key_hash(ctx)?;
    let view = activations::wait_status(&ctx.app, &key, id, poll).await?;
    Ok(status_body(&view))
}

/// `GET /v1/activation/{id}/events`: the activation's changes as Server-Sent Events
/// (`http::live` frames them; each event's `activation` is the status body).
pub async fn activation_events(ctx: &Ctx, id: &str) -> Result<worker::Response, AppError> {
    let last = live::parse_last_event_id(ctx.header("Last-Event-ID").as_deref());
    let opened = activations::follow(&ctx.app, &auth::key_hash(ctx)?, id, last).await?;
    crate::http::live::event_stream(ctx, id, opened, status_json)
}

/// `GET /v1/activations?page&limit`: the account's activations, newest first.
pub async fn activation_list(ctx: &Ctx) -> Result<Reply, AppError> {
    let who = auth::account(ctx).await?;
    let slice = ctx.slice()?;
    let (rows, total) = activations::list(&ctx.app, &who, &slice).await?;
    let (data, next) = page_rows(&slice, (&rows, total), |a| a.id.as_str(), activation_json);
    Ok(Reply::ok(
        json!({"data": data, "pagination": slice_pagination(&slice, total, next)}),
    ))
}

fn activation_json(a: &Activation) -> serde_json::Value {
    json!({
        "activation_id": a.id,
        "number": a.number,
        "country": a.country,
        "service": a.service,
        "operator": a.operator,
        "cost": Money::from_minor(a.cost).as_f64(),
        "status": a.status,
        "created_at": rfc3339(a.created_at),
        "cancel_allowed_at": rfc3339(a.cancel_allowed_at),
        "expires_at": rfc3339(a.expires_at),
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum StatusChange {
    Complete,
    Cancel,
    Retry,
}

#[derive(Deserialize)]
struct SetStatusIn {
    status: StatusChange,
}

/// `POST /v1/activation/{id}/status {"status":"complete"|"cancel"|"retry"}` → the new state,
/// or 409 with the reason.
pub async fn set_activation_status(ctx: &Ctx, id: &str) -> Result<Reply, AppError> {
    // The key first, as everywhere: a bad body with a bad key is a 401. The key's shape is
    // checked here; whether it is live, only when the body is bad (the good path folds the
    // key check into the status change).
    let key = auth::key_hash(ctx)?;
    let body: SetStatusIn = auth::input_after_key(ctx, ctx.json()).await?;
    let command = match body.status {
        StatusChange::Complete => Command::Complete,
        StatusChange::Cancel => Command::Cancel,
        StatusChange::Retry => Command::Retry,
    };
    let view = activations::set_status(&ctx.app, &key, id, command).await?;
    Ok(status_body(&view))
}

#[derive(Deserialize)]
struct InboundIn {
    sms_id: serde_json::Value,
    number: String,
    from: String,
    text: String,
    received_at: Option<String>,
}

/// At most `max` characters, no control characters (but line breaks and tabs when
/// `line_breaks`).
fn bounded(field: &str, v: &str, max: usize, line_breaks: bool) -> Result<(), AppError> {
    if v.chars().count() > max {
        return Err(AppError::invalid(format!(
            "'{field}' is longer than {max} characters"
        )));
    }
    clean_field(field, v, line_breaks).map_err(AppError::invalid)
}

fn incoming(ctx: &Ctx) -> Result<IncomingSms, AppError> {
    let body: InboundIn = ctx.json()?;
    let sms_id = match &body.sms_id {
        serde_json::Value::String(s) if !s.trim().is_empty() => s.trim().to_owned(),
        serde_json::Value::Number(n) => n.to_string(),
        _ => {
            return Err(AppError::invalid(
                "'sms_id' must be a non-empty string or a number",
            ))
        }
    };
    bounded("sms_id", &sms_id, 128, false)?;
    bounded("from", &body.from, 64, false)?;
    bounded("text", &body.text, 4096, true)?;
    let number = Phone::parse(&body.number, PlusSign::Optional)
        .map_err(|e| AppError::invalid(format!("'number': {e}")))?;
    // An RFC 3339 time (any offset), stored in UTC; absent → now.
    let received_at = match body.received_at.as_deref().map(str::trim) {
        None | Some("") => rfc3339(ctx.app.now_ms),
        Some(t) => {
            let at = crate::domain::time::parse_rfc3339(t).ok_or_else(|| {
                AppError::invalid(
                    "'received_at' must be an RFC 3339 time such as 2026-11-30T12:00:00Z",
                )
            })?;
            if !received_by(at, ctx.app.now_ms) {
                return Err(AppError::invalid("'received_at' is in the future"));
            }
            rfc3339(at)
        }
    };
    Ok(IncomingSms {
        sms_id,
        number,
        from: body.from,
        text: body.text,
        received_at,
    })
}

/// `POST /v1/inbound/sms` from a supplier, signed with `X-Signature` (see `domain::sms`)
/// over the raw body, which is parsed only once the signature holds.
pub async fn inbound_sms(ctx: &Ctx) -> Result<Reply, AppError> {
    let (signature, supplier_id) = (ctx.header("X-Signature"), ctx.header("X-Supplier-Id"));
    let signed = Signed {
        signature: signature.as_deref(),
        supplier_id: supplier_id.as_deref(),
        body: &ctx.body,
    };
    let r = inbound::receive(&ctx.app, signed, || incoming(ctx)).await?;
    Ok(Reply::ok(json!({
        "accepted": true,
        "duplicate": r.duplicate,
        "id": r.id,
        "sms_id": r.sms_id,
        "matched": r.matched,
        "code": r.code,
    })))
}
