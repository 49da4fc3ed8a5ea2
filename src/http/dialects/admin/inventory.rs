//! Operator routes for the activation side: catalog, number inventory, suppliers.
use super::Named;
use crate::app::catalog::{
    self, CatalogInput, CountryInput, NumberIn, OperatorInput, OtpPriceInput, PriceInput,
    ServiceInput,
};
use crate::domain::error::AppError;
use crate::http::input::label;
use crate::http::server::Ctx;
use crate::http::{auth, Reply};
use serde::Deserialize;
use serde_json::{json, Value};

/// Bounds per request, so one call stays one reasonable D1 batch.
const MAX_CATALOG_ROWS: usize = 2000;
const MAX_NUMBERS: usize = 1000;

#[derive(Deserialize)]
struct CountryIn {
    code: String,
    name: String,
    #[serde(default)]
    aliases: Vec<String>,
    /// sms-activate's number for the country (its protocol's `country`).
    sms_activate_id: Option<i64>,
}

#[derive(Deserialize)]
struct ServiceIn {
    code: String,
    name: String,
    /// sms-activate's short code for the service (its protocol's `service`).
    sms_activate_code: Option<String>,
}

#[derive(Deserialize)]
struct OperatorIn {
    id: String,
    country: String,
    name: String,
}

#[derive(Deserialize)]
struct PriceIn {
    country: String,
    service: String,
    operator: String,
    cost: Value,
}

#[derive(Deserialize)]
struct RentPriceIn {
    country: String,
    service: String,
    operator: String,
    hours: u32,
    cost: Value,
}

#[derive(Deserialize)]
struct OtpPriceIn {
    country: String,
    channel: String,
    cost: Value,
}

#[derive(Deserialize)]
struct CatalogIn {
    #[serde(default)]
    countries: Vec<CountryIn>,
    #[serde(default)]
    services: Vec<ServiceIn>,
    #[serde(default)]
    operators: Vec<OperatorIn>,
    #[serde(default)]
    prices: Vec<PriceIn>,
    #[serde(default)]
    rent_prices: Vec<RentPriceIn>,
    #[serde(default)]
    otp_prices: Vec<OtpPriceIn>,
}

/// The body as the catalog's input (checked by the operation).
fn input(body: &CatalogIn) -> CatalogInput {
    let price = |country: &str, service: &str, operator: &str, hours, cost: &Value| PriceInput {
        country: country.to_owned(),
        service: service.to_owned(),
        operator: operator.to_owned(),
        hours,
        cost: cost.clone(),
    };
    CatalogInput {
        countries: (body.countries.iter())
            .map(|c| CountryInput {
                code: c.code.clone(),
                name: c.name.clone(),
                aliases: c.aliases.clone(),
                sms_activate_id: c.sms_activate_id,
            })
            .collect(),
        services: (body.services.iter())
            .map(|s| ServiceInput {
                code: s.code.clone(),
                name: s.name.clone(),
                sms_activate_code: s.sms_activate_code.clone(),
            })
            .collect(),
        operators: (body.operators.iter())
            .map(|o| OperatorInput {
                id: o.id.clone(),
                country: o.country.clone(),
                name: o.name.clone(),
            })
            .collect(),
        prices: (body.prices.iter())
            .map(|p| price(&p.country, &p.service, &p.operator, None, &p.cost))
            .collect(),
        rent_prices: (body.rent_prices.iter())
            .map(|p| {
                let hours = Some(i64::from(p.hours));
                price(&p.country, &p.service, &p.operator, hours, &p.cost)
            })
            .collect(),
        otp_prices: (body.otp_prices.iter())
            .map(|p| OtpPriceInput {
                country: p.country.clone(),
                channel: p.channel.clone(),
                cost: p.cost.clone(),
            })
            .collect(),
    }
}

/// `PUT /admin/catalog`: upserts every list given, all or nothing. Prices name operators
/// by id. Codes are normalised (countries upper-case, services and aliases lower-case).
pub async fn put_catalog(ctx: &Ctx) -> Result<Reply, AppError> {
    auth::admin(ctx)?;
    let body: CatalogIn = ctx.json()?;
    let rows = body.countries.len()
        + body.services.len()
        + body.operators.len()
        + body.prices.len()
        + body.rent_prices.len()
        + body.otp_prices.len();
    if rows > MAX_CATALOG_ROWS {
        return Err(AppError::invalid(format!(
            "at most {MAX_CATALOG_ROWS} catalog rows per request"
        )));
    }
    let aliases = catalog::put_catalog(&ctx.app, &input(&body)).await?;
    Ok(Reply::ok(json!({
        "countries": body.countries.len(),
        "aliases": aliases,
        "services": body.services.len(),
        "operators": body.operators.len(),
        "prices": body.prices.len(),
        "rent_prices": body.rent_prices.len(),
        "otp_prices": body.otp_prices.len(),
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
    auth::admin(ctx)?;
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
    let imported = catalog::import_numbers(&ctx.app, &numbers, body.supplier_id.as_deref()).await?;
    let skipped = numbers.len().saturating_sub(imported);
    Ok(Reply::ok(json!({"imported": imported, "skipped": skipped})))
}

/// `POST /admin/suppliers` → `{"supplier_id","secret"}`. The secret is shown here only; the
/// supplier signs every inbound SMS with it.
pub async fn create_supplier(ctx: &Ctx) -> Result<Reply, AppError> {
    auth::admin(ctx)?;
    let body: Named = ctx.json()?;
    let s = catalog::create_supplier(&ctx.app, label("name", &body.name)?).await?;
    Ok(Reply::json(
        201,
        &json!({"supplier_id": s.id, "name": s.name, "secret": s.secret}),
    ))
}
