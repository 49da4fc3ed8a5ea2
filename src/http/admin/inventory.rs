//! Operator routes for the activation side: catalog, number inventory, suppliers.
use super::{auth, label, Named};
use crate::config::server_key;
use crate::domain::ids::new_id;
use crate::domain::money::Money;
use crate::domain::phone::{Phone, PlusSign};
use crate::domain::time::rfc3339;
use crate::http::error::{ApiError, Code};
use crate::http::server::{Ctx, Reply};
use crate::store::{self, catalog, DbError};
use serde::Deserialize;
use serde_json::json;
use std::collections::HashMap;

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
fn country_code(field: &str, v: &str) -> Result<String, ApiError> {
    let v = v.trim();
    if v.len() == 2 && v.bytes().all(|b| b.is_ascii_alphabetic()) {
        Ok(v.to_ascii_uppercase())
    } else {
        Err(ApiError::invalid(format!(
            "'{field}' must be a 2-letter ISO 3166-1 country code, got '{v}'"
        )))
    }
}

/// Lower-case `[a-z0-9_-]`, 1 to 32 characters (service codes, aliases).
fn slug(field: &str, v: &str) -> Result<String, ApiError> {
    let v = v.trim().to_ascii_lowercase();
    if (1..=32).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        Ok(v)
    } else {
        Err(ApiError::invalid(format!(
            "'{field}' must be 1 to 32 characters of a-z, 0-9, '_' or '-', got '{v}'"
        )))
    }
}

fn cost(field: &str, v: &serde_json::Value) -> Result<i64, ApiError> {
    let m = Money::parse_json(v)
        .map_err(|e| ApiError::new(Code::InvalidAmount, format!("'{field}': {e}")))?;
    if !m.is_positive() {
        return Err(ApiError::new(
            Code::InvalidAmount,
            format!("'{field}' must be greater than 0"),
        ));
    }
    Ok(m.minor())
}

/// `PUT /admin/catalog`: upserts every list given, all or nothing. Prices name operators
/// by id. Codes are normalised (countries upper-case, services and aliases lower-case).
pub async fn put_catalog(ctx: &Ctx) -> Result<Reply, ApiError> {
    auth::admin(ctx)?;
    let body: CatalogIn = ctx.json()?;
    let rows = body.countries.len()
        + body.services.len()
        + body.operators.len()
        + body.prices.len()
        + body.rent_prices.len()
        + body.otp_prices.len();
    if rows > MAX_CATALOG_ROWS {
        return Err(ApiError::invalid(format!(
            "at most {MAX_CATALOG_ROWS} catalog rows per request"
        )));
    }
    let db = ctx.db()?;
    let mut statements = Vec::with_capacity(rows);
    let mut aliases = 0;
    for (i, c) in body.countries.iter().enumerate() {
        let code = country_code(&format!("countries[{i}].code"), &c.code)?;
        statements.push(catalog::upsert_country(
            &db,
            &code,
            &label(&format!("countries[{i}].name"), &c.name)?,
        )?);
        for a in &c.aliases {
            statements.push(catalog::upsert_alias(
                &db,
                &slug(&format!("countries[{i}].aliases"), a)?,
                &code,
            )?);
            aliases += 1;
        }
    }
    for (i, s) in body.services.iter().enumerate() {
        statements.push(catalog::upsert_service(
            &db,
            &slug(&format!("services[{i}].code"), &s.code)?,
            &label(&format!("services[{i}].name"), &s.name)?,
        )?);
    }
    for (i, o) in body.operators.iter().enumerate() {
        let country = country_code(&format!("operators[{i}].country"), &o.country)?;
        statements.push(catalog::upsert_operator(
            &db,
            &country,
            &label(&format!("operators[{i}].id"), &o.id)?,
            &label(&format!("operators[{i}].name"), &o.name)?,
        )?);
    }
    for (i, p) in body.prices.iter().enumerate() {
        let f = |n: &str| format!("prices[{i}].{n}");
        statements.push(catalog::upsert_price(
            &db,
            &country_code(&f("country"), &p.country)?,
            &slug(&f("service"), &p.service)?,
            &label(&f("operator"), &p.operator)?,
            cost(&f("cost"), &p.cost)?,
        )?);
    }
    for (i, p) in body.rent_prices.iter().enumerate() {
        let f = |n: &str| format!("rent_prices[{i}].{n}");
        if !(1..=8760).contains(&p.hours) {
            return Err(ApiError::invalid(format!(
                "'{}' must be 1 to 8760",
                f("hours")
            )));
        }
        statements.push(catalog::upsert_rent_price(
            &db,
            &country_code(&f("country"), &p.country)?,
            &slug(&f("service"), &p.service)?,
            &label(&f("operator"), &p.operator)?,
            i64::from(p.hours),
            cost(&f("cost"), &p.cost)?,
        )?);
    }
    for (i, p) in body.otp_prices.iter().enumerate() {
        let f = |n: &str| format!("otp_prices[{i}].{n}");
        let channel = p.channel.trim().to_ascii_lowercase();
        if !matches!(channel.as_str(), "sms" | "whatsapp" | "voice") {
            return Err(ApiError::new(
                Code::InvalidChannel,
                format!("'{}' must be sms, whatsapp or voice", f("channel")),
            ));
        }
        statements.push(catalog::upsert_otp_price(
            &db,
            &country_code(&f("country"), &p.country)?,
            &channel,
            cost(&f("cost"), &p.cost)?,
        )?);
    }
    if !statements.is_empty() {
        store::batch(&db, statements).await.map_err(|e| match e {
            DbError::Other(m) if m.contains("FOREIGN KEY") => {
                ApiError::invalid("the catalog references a country, service or operator that does not exist (load it in this request or before)")
            }
            DbError::Unique(m) if m.contains("operators") => ApiError::invalid("two operators of one country have the same name"),
            e => e.into(),
        })?;
    }
    super::super::numberotp::forget_prices();
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
struct NumberIn {
    number: String,
    country: String,
    operator: String,
}

#[derive(Deserialize)]
struct NumbersIn {
    numbers: Vec<NumberIn>,
    supplier_id: Option<String>,
}

/// `POST /admin/numbers`: bulk import. A number already in the inventory is skipped (its
/// country, operator and supplier stay as they were). Countries by code or alias,
/// operators by id or name.
pub async fn import_numbers(ctx: &Ctx) -> Result<Reply, ApiError> {
    auth::admin(ctx)?;
    let body: NumbersIn = ctx.json()?;
    if body.numbers.is_empty() || body.numbers.len() > MAX_NUMBERS {
        return Err(ApiError::invalid(format!(
            "'numbers' must hold 1 to {MAX_NUMBERS} entries"
        )));
    }
    let db = ctx.db()?;
    if let Some(s) = &body.supplier_id {
        if !catalog::supplier_exists(&db, s).await? {
            return Err(ApiError::not_found("supplier"));
        }
    }
    let countries: Vec<String> = catalog::countries(&db)
        .await?
        .into_iter()
        .map(|c| c.code)
        .collect();
    let aliases: HashMap<String, String> = catalog::all_aliases(&db).await?.into_iter().collect();
    let operators = catalog::all_operators(&db).await?;
    let now = rfc3339(ctx.now_ms);
    let mut statements = Vec::with_capacity(body.numbers.len());
    for (i, n) in body.numbers.iter().enumerate() {
        let phone = Phone::parse(&n.number, PlusSign::Required)
            .map_err(|e| ApiError::invalid(format!("numbers[{i}].number: {e}")))?;
        let input = n.country.trim();
        let country = countries
            .iter()
            .find(|c| c.eq_ignore_ascii_case(input))
            .cloned()
            .or_else(|| aliases.get(&input.to_ascii_lowercase()).cloned())
            .ok_or_else(|| {
                ApiError::new(
                    Code::UnknownCountry,
                    format!("numbers[{i}].country: unknown country '{input}'"),
                )
            })?;
        let op = n.operator.trim();
        let operator = operators
            .iter()
            .find(|o| o.country == country && o.id == op)
            .or_else(|| {
                operators
                    .iter()
                    .find(|o| o.country == country && o.name.eq_ignore_ascii_case(op))
            })
            .ok_or_else(|| {
                ApiError::new(
                    Code::UnknownOperator,
                    format!("numbers[{i}].operator: no operator '{op}' in {country}"),
                )
            })?;
        statements.push(catalog::insert_number(
            &db,
            &new_id("num")?,
            phone.e164(),
            &country,
            &operator.id,
            body.supplier_id.as_deref(),
            &now,
        )?);
    }
    let results = store::batch(&db, statements)
        .await
        .map_err(ApiError::from)?;
    let imported = results.iter().map(store::changes).sum::<usize>();
    super::super::numberotp::forget_prices();
    Ok(Reply::ok(
        json!({"imported": imported, "skipped": body.numbers.len().saturating_sub(imported)}),
    ))
}

/// `POST /admin/suppliers` → `{"supplier_id","secret"}`. The secret is shown here only; the
/// supplier signs every inbound SMS with it.
pub async fn create_supplier(ctx: &Ctx) -> Result<Reply, ApiError> {
    auth::admin(ctx)?;
    let body: Named = ctx.json()?;
    let name = label("name", &body.name)?;
    let id = new_id("sup")?;
    catalog::create_supplier(&ctx.db()?, &id, &name, &rfc3339(ctx.now_ms)).await?;
    let secret = catalog::SupplierKey {
        id: id.clone(),
        secret_version: 1,
    }
    .secret(&server_key(&ctx.env)?);
    Ok(Reply::json(
        201,
        &json!({"supplier_id": id, "name": name, "secret": secret}),
    ))
}
