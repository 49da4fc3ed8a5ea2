//! Operator routes for the activation side: catalog, number inventory, suppliers.
use super::Named;
use crate::app::catalog::{self, CatalogUpdate, NumberIn};
use crate::domain::error::{AppError, Code};
use crate::domain::money::Money;
use crate::domain::otp::known_channel;
use crate::http::input::label;
use crate::http::server::Ctx;
use crate::http::{auth, Reply};
use serde::Deserialize;
use serde_json::json;

/// Bounds per request, so one call stays one reasonable D1 batch.
const MAX_CATALOG_ROWS: usize = 2000;
const MAX_NUMBERS: usize = 1000;

#[derive(Deserialize)]
struct CountryIn {
    code: String,
    name: String,
    #[serde(default)]
    aliases: Vec<String>,
}

#[derive(Deserialize)]
struct ServiceIn {
    code: String,
    name: String,
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
    cost: serde_json::Value,
}

#[derive(Deserialize)]
struct RentPriceIn {
    country: String,
    service: String,
    operator: String,
    hours: u32,
    cost: serde_json::Value,
}

#[derive(Deserialize)]
struct OtpPriceIn {
    country: String,
    channel: String,
    cost: serde_json::Value,
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

/// ISO 3166-1 alpha-2, upper-cased.
fn country_code(field: &str, v: &str) -> Result<String, AppError> {
    let v = v.trim();
    if v.len() == 2 && v.bytes().all(|b| b.is_ascii_alphabetic()) {
        Ok(v.to_ascii_uppercase())
    } else {
        Err(AppError::invalid(format!(
            "'{field}' must be a 2-letter ISO 3166-1 country code, got '{v}'"
        )))
    }
}

/// Lower-case `[a-z0-9_-]`, 1 to 32 characters (service codes, aliases).
fn slug(field: &str, v: &str) -> Result<String, AppError> {
    let v = v.trim().to_ascii_lowercase();
    if (1..=32).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        Ok(v)
    } else {
        Err(AppError::invalid(format!(
            "'{field}' must be 1 to 32 characters of a-z, 0-9, '_' or '-', got '{v}'"
        )))
    }
}

fn cost(field: &str, v: &serde_json::Value) -> Result<i64, AppError> {
    let m = Money::parse_json(v)
        .map_err(|e| AppError::new(Code::InvalidAmount, format!("'{field}': {e}")))?;
    if !m.is_positive() {
        return Err(AppError::new(
            Code::InvalidAmount,
            format!("'{field}' must be greater than 0"),
        ));
    }
    Ok(m.minor())
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
    let mut update = CatalogUpdate::default();
    for (i, c) in body.countries.iter().enumerate() {
        let code = country_code(&format!("countries[{i}].code"), &c.code)?;
        let name = label(&format!("countries[{i}].name"), &c.name)?;
        let aliases = c
            .aliases
            .iter()
            .map(|a| slug(&format!("countries[{i}].aliases"), a))
            .collect::<Result<Vec<_>, _>>()?;
        update.countries.push(catalog::CountryIn {
            code,
            name,
            aliases,
        });
    }
    for (i, s) in body.services.iter().enumerate() {
        let code = slug(&format!("services[{i}].code"), &s.code)?;
        update
            .services
            .push((code, label(&format!("services[{i}].name"), &s.name)?));
    }
    for (i, o) in body.operators.iter().enumerate() {
        let country = country_code(&format!("operators[{i}].country"), &o.country)?;
        let id = label(&format!("operators[{i}].id"), &o.id)?;
        update.operators.push((
            country,
            id,
            label(&format!("operators[{i}].name"), &o.name)?,
        ));
    }
    for (i, p) in body.prices.iter().enumerate() {
        let f = |n: &str| format!("prices[{i}].{n}");
        update.prices.push(catalog::PriceIn {
            country: country_code(&f("country"), &p.country)?,
            service: slug(&f("service"), &p.service)?,
            operator: label(&f("operator"), &p.operator)?,
            hours: None,
            cost: cost(&f("cost"), &p.cost)?,
        });
    }
    for (i, p) in body.rent_prices.iter().enumerate() {
        let f = |n: &str| format!("rent_prices[{i}].{n}");
        if !(1..=8760).contains(&p.hours) {
            return Err(AppError::invalid(format!(
                "'{}' must be 1 to 8760",
                f("hours")
            )));
        }
        update.rent_prices.push(catalog::PriceIn {
            country: country_code(&f("country"), &p.country)?,
            service: slug(&f("service"), &p.service)?,
            operator: label(&f("operator"), &p.operator)?,
            hours: Some(i64::from(p.hours)),
            cost: cost(&f("cost"), &p.cost)?,
        });
    }
    for (i, p) in body.otp_prices.iter().enumerate() {
        let f = |n: &str| format!("otp_prices[{i}].{n}");
        let channel = known_channel(&p.channel).ok_or_else(|| {
            let m = format!("'{}' must be sms, whatsapp or voice", f("channel"));
            AppError::new(Code::InvalidChannel, m)
        })?;
        let country = country_code(&f("country"), &p.country)?;
        update
            .otp_prices
            .push((country, channel.to_owned(), cost(&f("cost"), &p.cost)?));
    }
    let aliases = catalog::put_catalog(&ctx.app, &update).await?;
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
