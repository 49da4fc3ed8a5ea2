//! Operator routes for the activation side: catalog, number inventory, suppliers.
use super::Named;
use crate::app::catalog::{self, CatalogInput, NumberIn};
use crate::domain::error::AppError;
use crate::domain::money::Money;
use crate::http::input::label;
use crate::http::server::Ctx;
use crate::http::{auth, Reply};
use serde::Deserialize;
use serde_json::{json, Value};

/// Bounds per request, so one call stays one reasonable D1 batch.
const MAX_CATALOG_ROWS: usize = 2000;
const MAX_NUMBERS: usize = 1000;

/// `PUT /admin/catalog`: upserts every list given, all or nothing. Prices name operators
/// by id. Codes are normalised (countries upper-case, services and aliases lower-case).
pub async fn put_catalog(ctx: &Ctx) -> Result<Reply, AppError> {
    let actor = auth::admin(ctx)?;
    let input: CatalogInput = ctx.json()?;
    let counts = [
        input.countries.len(),
        input.services.len(),
        input.operators.len(),
        input.prices.len(),
        input.rent_prices.len(),
        input.otp_prices.len(),
    ];
    if counts.iter().sum::<usize>() > MAX_CATALOG_ROWS {
        return Err(AppError::invalid(format!(
            "at most {MAX_CATALOG_ROWS} catalog rows per request"
        )));
    }
    let aliases = catalog::put_catalog(&ctx.app, &input, &actor).await?;
    let [countries, services, operators, prices, rent_prices, otp_prices] = counts;
    Ok(Reply::ok(json!({
        "countries": countries,
        "aliases": aliases,
        "services": services,
        "operators": operators,
        "prices": prices,
        "rent_prices": rent_prices,
        "otp_prices": otp_prices,
    })))
}

#[derive(Deserialize)]
struct NumberEntry {
    number: String,
    country: String,
    operator: String,
}

#[derive(Deserialize)]
struct NumbersIn {
    numbers: Vec<NumberEntry>,
    supplier_id: Option<String>,
}

/// `POST /admin/numbers`: bulk import. A number already in the inventory is skipped (its
/// country, operator and supplier stay as they were). Countries by code or alias,
/// operators by id or name.
pub async fn import_numbers(ctx: &Ctx) -> Result<Reply, AppError> {
    let actor = auth::admin(ctx)?;
    let body: NumbersIn = ctx.json()?;
    if body.numbers.is_empty() || body.numbers.len() > MAX_NUMBERS {
        return Err(AppError::invalid(format!(
            "'numbers' must hold 1 to {MAX_NUMBERS} entries"
        )));
    }
    let numbers: Vec<NumberIn> = body
        .numbers
        .into_iter()
        .map(|n| NumberIn {
            number: n.number,
            country: n.country,
            operator: n.operator,
        })
        .collect();
    let supplier = body.supplier_id.as_deref();
    let imported = catalog::import_numbers(&ctx.app, &numbers, supplier, &actor).await?;
    let skipped = numbers.len().saturating_sub(imported);
    Ok(Reply::ok(json!({"imported": imported, "skipped": skipped})))
}

/// `POST /admin/suppliers` → `{"supplier_id","secret"}`. The secret is shown here only; the
/// supplier signs every inbound SMS with it.
pub async fn create_supplier(ctx: &Ctx) -> Result<Reply, AppError> {
    let actor = auth::admin(ctx)?;
    let body: Named = ctx.json()?;
    let s = catalog::create_supplier(&ctx.app, label("name", &body.name)?, &actor).await?;
    Ok(Reply::json(
        201,
        &json!({"supplier_id": s.id, "name": s.name, "secret": s.secret}),
    ))
}

/// `GET /admin/catalog`: countries, services, operators (with their numbers in stock) and
/// every price (activation, rent, OTP), costs as decimals.
pub async fn catalog(ctx: &Ctx) -> Result<Reply, AppError> {
    auth::admin(ctx)?;
    let c = catalog::catalog_view(&ctx.app).await?;
    let named = |n: &[catalog::Named]| -> Vec<Value> {
        n.iter()
            .map(|x| json!({"code": x.code, "name": x.name}))
            .collect()
    };
    let operators: Vec<Value> = (c.operators.iter())
        .map(|o| {
            json!({"country": o.country, "id": o.operator, "name": o.name, "numbers": o.numbers})
        })
        .collect();
    let prices: Vec<Value> = (c.prices.iter())
        .map(|p| {
            json!({
                "kind": p.kind, "country": p.country, "service": p.service,
                "operator": p.operator, "hours": p.hours,
                "cost": Money::from_minor(p.cost).to_decimal_string(),
            })
        })
        .collect();
    Ok(Reply::ok(json!({
        "countries": named(&c.countries),
        "services": named(&c.services),
        "operators": operators,
        "prices": prices,
    })))
}

/// `GET /admin/suppliers`: every supplier (newest first) and how many numbers it holds; the
/// secret is never shown again.
pub async fn suppliers(ctx: &Ctx) -> Result<Reply, AppError> {
    auth::admin(ctx)?;
    let list: Vec<Value> = (catalog::suppliers(&ctx.app).await?.iter())
        .map(|s| {
            json!({"supplier_id": s.id, "name": s.name, "created_at": s.created_at,
                   "numbers": s.numbers})
        })
        .collect();
    Ok(Reply::ok(json!({ "suppliers": list })))
}
