//! The OTPWALL dialect (`/v1`): balance, catalog, numbers, activations.
use super::auth;
use super::error::ApiError;
use super::server::{Ctx, Reply};
use crate::domain::money::Money;
use crate::store::wallet;
use serde_json::json;

/// `GET /v1/balance` → `{"balance":12.5,"currency":"USD"}`
pub async fn balance(ctx: &Ctx) -> Result<Reply, ApiError> {
    let w = match wallet::wallet_for_key(&ctx.db()?, auth::key_hash(ctx)?).await? {
        Some(w) => w,
        None => {
            return Err(auth::unauthorized_or(
                ctx,
                ApiError::internal("a live key's account has no wallet"),
            )
            .await)
        }
    };
    Ok(Reply::ok(
        json!({"balance": Money::from_minor(w.balance).as_f64(), "currency": w.currency}),
    ))
}

use super::error::Code;
use crate::domain::activation::{Command, Refusal};
use crate::domain::live;
use crate::domain::phone::{Phone, PlusSign};
use crate::domain::sms::{extract_code, is_fresh, parse_signature, signed_by, SignatureError};
use crate::domain::time::rfc3339;
use crate::durable::activation::{self as object, Op, Outcome, SmsEntry, View};
use crate::durable::watch;
use crate::store::activations::{self, NewActivation, NewSms};
use crate::store::idempotency::{self, Begin};
use crate::store::{self, catalog};
use serde::Deserialize;

/// `GET /v1/countries` → `[{"code","name"}]` (no key needed: the catalog is public).
pub async fn countries(ctx: &Ctx) -> Result<Reply, ApiError> {
    let list = catalog::countries(&ctx.db()?).await?;
    Ok(Reply::ok(json!(list
        .iter()
        .map(|c| json!({"code": c.code, "name": c.name}))
        .collect::<Vec<_>>())))
}

/// `GET /v1/services` → `[{"code","name"}]`
pub async fn services(ctx: &Ctx) -> Result<Reply, ApiError> {
    let list = catalog::services(&ctx.db()?).await?;
    Ok(Reply::ok(json!(list
        .iter()
        .map(|c| json!({"code": c.code, "name": c.name}))
        .collect::<Vec<_>>())))
}

/// A request's (country, service[, operator]) resolved against the catalog.
pub struct Offer {
    pub country: String,
    pub service: String,
    pub operator: Option<String>,
}

/// Country by ISO code (any case) or alias, service by code (any case), operator by id or name.
pub async fn resolve_offer(
    db: &worker::D1Database,
    country: &str,
    service: &str,
    operator: Option<&str>,
) -> Result<Offer, ApiError> {
    let country_code = catalog::resolve_country(db, country)
        .await?
        .ok_or_else(|| {
            ApiError::new(
                Code::UnknownCountry,
                format!("unknown country '{}'", country.trim()),
            )
        })?;
    let service_code = catalog::resolve_service(db, service)
        .await?
        .ok_or_else(|| {
            ApiError::new(
                Code::UnknownService,
                format!("unknown service '{}'", service.trim()),
            )
        })?;
    let operator_id = match operator
        .map(str::trim)
        .filter(|o| !o.is_empty() && !o.eq_ignore_ascii_case("any"))
    {
        None => None,
        Some(o) => Some(
            catalog::resolve_operator(db, &country_code, o)
                .await?
                .ok_or_else(|| {
                    ApiError::new(
                        Code::UnknownOperator,
                        format!("no operator '{o}' in {country_code}"),
                    )
                })?
                .id,
        ),
    };
    Ok(Offer {
        country: country_code,
        service: service_code,
        operator: operator_id,
    })
}

#[derive(Deserialize)]
struct BuyIn {
    service: String,
    country: String,
    operator: Option<String>,
    max_price: Option<serde_json::Value>,
}

/// A purchase tries this many free numbers when parallel buyers take the ones it picked.
const PICK_ATTEMPTS: usize = 6;

/// `POST /v1/number {service,country[,operator,max_price]}`. The charge, the lease on the
/// number, the activation row and the idempotency record commit in one D1 batch.
pub async fn buy_number(ctx: &Ctx) -> Result<Reply, ApiError> {
    let who = auth::account(ctx).await?;
    let body: BuyIn = ctx.json()?;
    let max_price = match &body.max_price {
        None | Some(serde_json::Value::Null) => None,
        Some(v) => Some(
            Money::parse_json(v)
                .map_err(|e| ApiError::new(Code::InvalidAmount, format!("'max_price': {e}")))?,
        ),
    };
    let db = ctx.db()?;
    let offer = resolve_offer(&db, &body.country, &body.service, body.operator.as_deref()).await?;
    let claim = match idempotency::begin(
        &db,
        &who.account_id,
        ctx.header("Idempotency-Key").as_deref(),
        &ctx.method,
        &ctx.path,
        &ctx.body,
        ctx.now_ms,
    )
    .await?
    {
        Begin::Replay { status, body } => {
            return Ok(Reply {
                status,
                body,
                headers: vec![("Idempotent-Replayed", "true".to_owned())],
            })
        }
        Begin::Proceed(claim) => claim,
    };
    let result = buy(ctx, &db, &who.account_id, &offer, max_price, claim.as_ref()).await;
    if let (Err(_), Some(claim)) = (&result, &claim) {
        idempotency::release(&db, claim).await?;
    }
    let (reply, activation_id) = result?;
    // Arms the expiry alarm now; if this fails the object initialises on its first event.
    if let Err(e) = object::call(&ctx.env, &activation_id, Op::Init).await {
        worker::console_error!(
            "activation {activation_id} init failed: {}",
            e.internal.as_deref().unwrap_or(&e.message)
        );
    }
    Ok(reply)
}

async fn buy(
    ctx: &Ctx,
    db: &worker::D1Database,
    account_id: &str,
    offer: &Offer,
    max_price: Option<Money>,
    claim: Option<&idempotency::Claim>,
) -> Result<(Reply, String), ApiError> {
    if !activations::is_offered(
        db,
        &offer.country,
        &offer.service,
        offer.operator.as_deref(),
    )
    .await?
    {
        return Err(ApiError::of(Code::NotOffered));
    }
    for _ in 0..PICK_ATTEMPTS {
        let candidate = activations::pick_for_activation(
            db,
            &offer.country,
            &offer.service,
            offer.operator.as_deref(),
            ctx.now_ms,
        )
        .await?
        .ok_or_else(|| {
            ApiError::new(
                Code::NoNumbers,
                format!(
                    "no free {} numbers in {} right now",
                    offer.service, offer.country
                ),
            )
        })?;
        if let Some(max) = max_price {
            if candidate.cost > max.minor() {
                return Err(ApiError::new(
                    Code::PriceAboveMax,
                    format!(
                        "the cheapest available number costs {}, above max_price {}",
                        Money::from_minor(candidate.cost),
                        Money::from_minor(max.minor())
                    ),
                ));
            }
        }
        let id = crate::domain::ids::new_id("act")?;
        let cancel_allowed_at = ctx.now_ms + ctx.config.activation_cancel_lock_ms;
        let expires_at = ctx.now_ms + ctx.config.activation_lifetime_ms;
        let answer = json!({
            "activation_id": id,
            "number": candidate.number,
            "status": "waiting",
            "service": offer.service,
            "country": offer.country,
            "operator": candidate.operator,
            "cost": Money::from_minor(candidate.cost).as_f64(),
            "expires_at": rfc3339(expires_at),
            "cancel_allowed_at": rfc3339(cancel_allowed_at),
        });
        let reply = Reply::ok(answer);
        let new = NewActivation {
            id: &id,
            account_id,
            candidate: &candidate,
            country: &offer.country,
            service: &offer.service,
            created_at_ms: ctx.now_ms,
            cancel_allowed_at_ms: cancel_allowed_at,
            expires_at_ms: expires_at,
        };
        let mut statements = activations::buy_statements(db, &new)?;
        if let Some(claim) = claim {
            statements.push(idempotency::completion(
                db,
                claim,
                reply.status,
                &reply.body,
            )?);
        }
        match store::batch(db, statements).await {
            Ok(_) => return Ok((reply, id)),
            Err(e) if activations::lost_the_number(&e) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ApiError::new(
        Code::NoNumbers,
        "the free numbers were taken by parallel purchases; try again",
    ))
}

fn status_body(v: &View) -> serde_json::Value {
    let latest = v.sms.last();
    json!({
        "activation_id": v.id,
        "status": v.status.as_str(),
        "sms": latest.map(|s| s.text.clone()),
        "code": latest.and_then(|s| s.code.clone()),
        "sms_list": v.sms.iter().map(|s| json!({"text": s.text, "code": s.code, "from": s.from, "received_at": s.received_at})).collect::<Vec<_>>(),
        "number": v.number,
        "cost": Money::from_minor(v.cost).as_f64(),
        "expires_at": rfc3339(v.expires_at_ms),
        "cancel_allowed_at": rfc3339(v.cancel_allowed_at_ms),
        "seq": v.seq,
    })
}

/// The caller's activation, or 404 (another account's id looks the same as no id).
async fn owned(ctx: &Ctx, id: &str) -> Result<(), ApiError> {
    if activations::owned_by_key(&ctx.db()?, id, auth::key_hash(ctx)?).await? {
        Ok(())
    } else {
        Err(auth::unauthorized_or(ctx, ApiError::not_found("activation")).await)
    }
}

/// `GET /v1/activation/{id}/status`, read from the activation's object (authoritative).
/// With `wait=N` (1–55 s) it is a long-poll: answered at once if the activation's `seq` is
/// past `since` (default 0), else at its next change, else after N s unchanged.
pub async fn activation_status(ctx: &Ctx, id: &str) -> Result<Reply, ApiError> {
    let wait = live::parse_wait(ctx.query("wait").as_deref()).map_err(ApiError::invalid)?;
    let since = live::parse_since(ctx.query("since").as_deref()).map_err(ApiError::invalid)?;
    owned(ctx, id).await?;
    let op = match wait {
        None => Op::Get,
        Some(secs) => Op::Changes {
            since: Some(since),
            wait_ms: u64::from(secs) * 1000,
        },
    };
    match object::call(&ctx.env, id, op).await? {
        Outcome::Ok { view } | Outcome::Refused { view, .. } | Outcome::Changes { view, .. } => {
            Ok(Reply::ok(status_body(&view)))
        }
        Outcome::NotFound => Err(ApiError::not_found("activation")),
    }
}

/// `GET /v1/activation/{id}/events`: Server-Sent Events (see `http::live`).
pub async fn activation_events(ctx: &Ctx, id: &str) -> Result<worker::Response, ApiError> {
    owned(ctx, id).await?;
    super::live::activation_events(ctx, id, status_body).await
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

fn refusal_error(r: Refusal) -> ApiError {
    match r {
        Refusal::AlreadyTerminal { status } => ApiError::new(
            Code::ActivationEnded,
            format!(
                "the activation has already ended: it is {}",
                status.as_str()
            ),
        ),
        Refusal::CancelTooEarly { allowed_at_ms } => ApiError::new(
            Code::CancelTooEarly,
            format!("cancel is allowed from {}", rfc3339(allowed_at_ms)),
        ),
        Refusal::SmsAlreadyReceived => ApiError::of(Code::SmsAlreadyReceived),
        Refusal::NoSmsYet => ApiError::new(
            Code::NoSmsYet,
            "no SMS has been received yet: wait for one, or cancel",
        ),
    }
}

/// `POST /v1/activation/{id}/status {"status":"complete"|"cancel"|"retry"}` → the new state,
/// or 409 with the reason.
pub async fn set_activation_status(ctx: &Ctx, id: &str) -> Result<Reply, ApiError> {
    let body: SetStatusIn = ctx.json()?;
    owned(ctx, id).await?;
    let command = match body.status {
        StatusChange::Complete => Command::Complete,
        StatusChange::Cancel => Command::Cancel,
        StatusChange::Retry => Command::Retry,
    };
    match object::call(&ctx.env, id, Op::Set { command }).await? {
        Outcome::Ok { view } | Outcome::Changes { view, .. } => Ok(Reply::ok(status_body(&view))),
        Outcome::Refused { refusal, .. } => Err(refusal_error(refusal)),
        Outcome::NotFound => Err(ApiError::not_found("activation")),
    }
}

#[derive(Deserialize)]
struct InboundIn {
    sms_id: serde_json::Value,
    number: String,
    from: String,
    text: String,
    received_at: Option<String>,
}

fn bounded(field: &str, v: &str, max: usize) -> Result<(), ApiError> {
    if v.chars().count() > max {
        return Err(ApiError::invalid(format!(
            "'{field}' is longer than {max} characters"
        )));
    }
    Ok(())
}

/// `POST /v1/inbound/sms` from a supplier, signed with `X-Signature` (see
/// `domain::sms`). The signature is checked on the raw body before anything is parsed or
/// stored. Stored once per (supplier, sms_id); a redelivery answers `duplicate` and is
/// forwarded again only if its activation never acknowledged it.
pub async fn inbound_sms(ctx: &Ctx) -> Result<Reply, ApiError> {
    let bad = |e: SignatureError| ApiError::new(Code::InvalidSignature, e.to_string());
    let header = ctx
        .header("X-Signature")
        .ok_or_else(|| ApiError::new(Code::InvalidSignature, "X-Signature header is missing"))?;
    let signature = parse_signature(&header).map_err(bad)?;
    if !is_fresh(&signature, ctx.now_ms) {
        return Err(bad(SignatureError::Stale));
    }
    let db = ctx.db()?;
    let server_key = crate::config::server_key(&ctx.env)?;
    let suppliers = catalog::supplier_keys(&db, ctx.header("X-Supplier-Id").as_deref()).await?;
    let supplier = suppliers
        .iter()
        .find(|s| signed_by(&signature, s.secret(&server_key).as_bytes(), &ctx.body))
        .ok_or_else(|| bad(SignatureError::Mismatch))?;

    let body: InboundIn = ctx.json()?;
    let sms_id = match &body.sms_id {
        serde_json::Value::String(s) if !s.trim().is_empty() => s.trim().to_owned(),
        serde_json::Value::Number(n) => n.to_string(),
        _ => {
            return Err(ApiError::invalid(
                "'sms_id' must be a non-empty string or a number",
            ))
        }
    };
    bounded("sms_id", &sms_id, 128)?;
    bounded("from", &body.from, 64)?;
    bounded("text", &body.text, 4096)?;
    let number = Phone::parse(&body.number, PlusSign::Optional)
        .map_err(|e| ApiError::invalid(format!("'number': {e}")))?;
    let received_at = body
        .received_at
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map_or_else(|| rfc3339(ctx.now_ms), str::to_owned);
    bounded("received_at", &received_at, 64)?;

    let holder = activations::holder(&db, number.e164(), ctx.now_ms).await?;
    if let Some(owner) = holder.as_ref().and_then(|h| h.supplier_id.as_deref()) {
        if owner != supplier.id {
            return Err(ApiError::of(Code::SupplierNotAllowed));
        }
    }
    let (target_kind, target_id) = match holder
        .as_ref()
        .and_then(|h| h.kind.as_deref().zip(h.object_id.as_deref()))
    {
        Some((kind, id)) => (Some(kind.to_owned()), Some(id.to_owned())),
        None => (None, None),
    };
    let code = extract_code(&body.text);
    let row_id = crate::domain::ids::new_id("sms")?;
    let inserted = activations::insert_sms(
        &db,
        &NewSms {
            id: &row_id,
            supplier_id: &supplier.id,
            sms_id: &sms_id,
            number: number.e164(),
            sender: body.from.trim(),
            text: &body.text,
            code: code.as_deref(),
            received_at: &received_at,
            target_kind: target_kind.as_deref(),
            target_id: target_id.as_deref(),
            now_ms: ctx.now_ms,
        },
    )
    .await?;
    let row = activations::sms_by_supplier_id(&db, &supplier.id, &sms_id)
        .await?
        .ok_or_else(|| ApiError::internal("inbound SMS row missing after insert"))?;
    if let (Some("activation"), Some(activation_id), 0) = (
        row.target_kind.as_deref(),
        row.target_id.as_deref(),
        row.delivered,
    ) {
        let entry = SmsEntry {
            id: row.id.clone(),
            from: row.sender.clone(),
            text: row.text.clone(),
            code: row.code.clone(),
            received_at: row.received_at.clone(),
        };
        let accepted = matches!(
            object::call(&ctx.env, activation_id, Op::Sms { sms: entry }).await?,
            Outcome::Ok { .. }
        );
        activations::mark_sms(&db, &row.id, accepted).await?;
    }
    // A rent has no object of its own: wake its long-polls through its watch.
    if let (true, Some("rent"), Some(rent_id)) = (
        inserted,
        row.target_kind.as_deref(),
        row.target_id.as_deref(),
    ) {
        let count = activations::rent_sms(&db, rent_id).await?.len() as u64;
        if let Err(e) = watch::bump(&ctx.env, &format!("rent:{rent_id}"), count).await {
            worker::console_error!("rent {rent_id} watch: {e}");
        }
    }
    let matched = activations::sms_by_supplier_id(&db, &supplier.id, &sms_id)
        .await?
        .and_then(|r| r.target_kind);
    Ok(Reply::ok(json!({
        "accepted": true,
        "duplicate": !inserted,
        "id": row.id,
        "sms_id": row.sms_id,
        "matched": matched,
        "code": row.code,
    })))
}
