//! The catalog (countries, services, operators, prices), the number inventory and the
//! suppliers; price lists with stock, cached per isolate for `PRICES_CACHE_SECS`.
use super::App;
use crate::config::server_key;
use crate::domain::audit::{Actor, Change};
use crate::domain::catalog::check;
pub use crate::domain::catalog::{
    CatalogInput, ListedPrice, Named, Operator, OperatorStock, Price, RentPrice, SupplierStock,
};
use crate::domain::error::{AppError, Code};
use crate::domain::ids::new_id;
use crate::domain::phone::{Phone, PlusSign};
use crate::domain::time::rfc3339;
use crate::store::activations::Wanted;
use crate::store::catalog as store;
use crate::store::{audit, batch, changes, ConstraintKind, StoreError};
use std::cell::RefCell;
use std::collections::HashMap;

pub async fn countries(app: &App) -> Result<Vec<Named>, AppError> {
    Ok(store::countries(&app.db()?).await?)
}

pub async fn services(app: &App) -> Result<Vec<Named>, AppError> {
    Ok(store::services(&app.db()?).await?)
}

/// Whether `input` names this operator: its id, or its name in any case.
pub fn operator_matches(operator: &Operator, input: &str) -> bool {
    operator.id == input || operator.name.eq_ignore_ascii_case(input)
}

/// The operator `input` names among `operators` (of `country`, if given): by id first,
/// then by name. The one rule for "operator by id or name".
pub fn find_operator<'a>(
    operators: &'a [Operator],
    country: Option<&str>,
    input: &str,
) -> Option<&'a Operator> {
    let input = input.trim();
    let candidates = || {
        operators
            .iter()
            .filter(move |o| country.is_none_or(|c| o.country == c))
    };
    candidates()
        .find(|o| o.id == input)
        .or_else(|| candidates().find(|o| operator_matches(o, input)))
}

/// (country, service[, operator]): as a buyer names them (codes, aliases, names), or
/// resolved against the catalog (`resolve_offer`: codes and an operator id).
pub struct Offer {
    pub country: String,
    pub service: String,
    pub operator: Option<String>,
}

impl Offer {
    /// What a buyer of this offer asks the store for (`hours`: a rent's duration).
    pub fn wanted(&self, hours: Option<i64>) -> Wanted<'_> {
        Wanted {
            country: &self.country,
            service: &self.service,
            operator: self.operator.as_deref(),
            hours,
        }
    }
}

/// Country by ISO code (any case) or alias, service by code (any case), operator by id or
/// name ("any" or blank: every operator).
pub async fn resolve_offer(app: &App, asked: &Offer) -> Result<Offer, AppError> {
    let (country, service) = (asked.country.as_str(), asked.service.as_str());
    let db = app.db()?;
    let country_code = known(
        COUNTRY,
        country.trim(),
        store::resolve_country(&db, country).await?,
    )?;
    let service_code = known(
        SERVICE,
        service.trim(),
        store::resolve_service(&db, service).await?,
    )?;
    let wanted = (asked.operator.as_deref())
        .map(str::trim)
        .filter(|o| !o.is_empty() && !o.eq_ignore_ascii_case("any"));
    let operator_id = match wanted {
        None => None,
        Some(o) => {
            let operators = store::operators(&db, Some(&country_code)).await?;
            let found = find_operator(&operators, Some(&country_code), o).ok_or_else(|| {
                AppError::new(
                    Code::UnknownOperator,
                    format!("no operator '{o}' in {country_code}"),
                )
            })?;
            Some(found.id.clone())
        }
    };
    Ok(Offer {
        country: country_code,
        service: service_code,
        operator: operator_id,
    })
}

/// The code the catalog resolved `given` to; `unknown` (naming the `what`) when none.
fn known(
    (what, unknown): (&str, Code),
    given: &str,
    resolved: Option<String>,
) -> Result<String, AppError> {
    resolved.ok_or_else(|| AppError::new(unknown, format!("unknown {what} '{given}'")))
}

const COUNTRY: (&str, Code) = ("country", Code::UnknownCountry);
const SERVICE: (&str, Code) = ("service", Code::UnknownService);

async fn country_param(app: &App, input: Option<&str>) -> Result<Option<String>, AppError> {
    let Some(c) = input else { return Ok(None) };
    let code = store::resolve_country(&app.db()?, c).await?;
    known(COUNTRY, c, code).map(Some)
}

async fn service_param(app: &App, input: Option<&str>) -> Result<Option<String>, AppError> {
    let Some(s) = input else { return Ok(None) };
    let code = store::resolve_service(&app.db()?, s).await?;
    known(SERVICE, s, code).map(Some)
}

/// A cached price list and until when it may answer.
type CachedPrices = (i64, Vec<Price>);

thread_local! {
    /// Public price lists per query, reused for `PRICES_CACHE_SECS` by this isolate.
    static PRICE_CACHE: RefCell<HashMap<String, CachedPrices>> = RefCell::new(HashMap::new());
}

/// Drops this isolate's cached price lists (after the operator changes the catalog or stock,
/// here or, through the front, in the Worker that serves the change: `http::forward`).
pub fn forget_prices() {
    PRICE_CACHE.with(|c| c.borrow_mut().clear());
}

/// A price list with stock, and whether this isolate's cached copy answered.
pub struct PriceList {
    pub rows: Vec<Price>,
    pub cached: bool,
}

/// Prices with free stock, for a service and a country (each optional, as given).
pub async fn prices(
    app: &App,
    service: Option<&str>,
    country: Option<&str>,
) -> Result<PriceList, AppError> {
    // Keyed by the query as given, so a cached answer costs no D1 round trip at all (not
    // even resolving the names); an unknown name is never cached.
    let cache_key = format!("{}|{}", service.unwrap_or("*"), country.unwrap_or("*"));
    let now = app.now_ms;
    let cached = PRICE_CACHE.with(|c| {
        c.borrow()
            .get(&cache_key)
            .filter(|(until, _)| *until > now)
            .map(|(_, rows)| rows.clone())
    });
    if let Some(rows) = cached {
        return Ok(PriceList { rows, cached: true });
    }
    let service = service_param(app, service).await?;
    let country = country_param(app, country).await?;
    let rows = store::prices(&app.db()?, service.as_deref(), country.as_deref(), now).await?;
    if app.config.prices_cache_ms > 0 {
        let until = now + app.config.prices_cache_ms;
        PRICE_CACHE.with(|c| c.borrow_mut().insert(cache_key, (until, rows.clone())));
    }
    Ok(PriceList {
        rows,
        cached: false,
    })
}

/// Rent prices with free stock for a service (required), a country and an operator.
pub async fn rent_prices(
    app: &App,
    service: Option<&str>,
    country: Option<&str>,
    operator: Option<&str>,
) -> Result<Vec<RentPrice>, AppError> {
    let service = service_param(app, service)
        .await?
        .ok_or_else(|| AppError::invalid("query parameter 'service' is required"))?;
    let country = country_param(app, country).await?;
    let db = app.db()?;
    let rows = store::rent_prices(&db, &service, country.as_deref(), None, app.now_ms).await?;
    let Some(op) = operator else { return Ok(rows) };
    let known = store::operators(&db, country.as_deref()).await?;
    let matching: Vec<&Operator> = known.iter().filter(|o| operator_matches(o, op)).collect();
    if matching.is_empty() {
        return Err(AppError::new(
            Code::UnknownOperator,
            format!("unknown operator '{op}'"),
        ));
    }
    let offered = |r: &RentPrice| {
        matching
            .iter()
            .any(|o| o.country == r.country && o.id == r.operator)
    };
    Ok(rows.into_iter().filter(offered).collect())
}

/// An operator's change to the platform's own data (no account), as the audit log keeps it.
fn platform_change<'a>(action: &'a str, kind: &'a str, id: Option<&'a str>) -> Change<'a> {
    Change {
        action,
        resource_type: kind,
        resource_id: id,
        ..Change::default()
    }
}

/// Checks the update against the catalog's rules (`domain::catalog::check`), then upserts
/// every list given, all or nothing (one D1 batch, with the audit row: `catalog.put` and
/// the rows given).
pub async fn put_catalog(
    app: &App,
    input: &CatalogInput,
    actor: &Actor,
) -> Result<usize, AppError> {
    let update = &check(input)?;
    let db = app.db()?;
    let mut statements = Vec::new();
    let mut aliases = 0;
    for c in &update.countries {
        statements.push(store::upsert_keyed(
            &db,
            store::COUNTRIES,
            &c.code,
            &c.name,
        )?);
        if let Some(sa_id) = c.sms_activate_id {
            statements.push(crate::store::smsactivate::set_country_id(
                &db, &c.code, sa_id,
            )?);
        }
        if let Some(name) = &c.fivesim_name {
            statements.push(crate::store::fivesim::set_country_name(&db, &c.code, name)?);
        }
        for a in &c.aliases {
            statements.push(store::upsert_keyed(&db, store::ALIASES, a, &c.code)?);
            aliases += 1;
        }
    }
    for (code, name) in &update.services {
        statements.push(store::upsert_keyed(&db, store::SERVICES, code, name)?);
    }
    for (code, sa_code) in &update.service_codes {
        statements.push(crate::store::smsactivate::set_service_code(
            &db, code, sa_code,
        )?);
    }
    for (code, product) in &update.fivesim_products {
        statements.push(crate::store::fivesim::set_service_product(
            &db, code, product,
        )?);
    }
    for (country, id, name) in &update.operators {
        statements.push(store::upsert_operator(&db, country, id, name)?);
    }
    for p in &update.prices {
        statements.push(store::upsert_price(
            &db,
            &p.country,
            &p.service,
            &p.operator,
            p.cost,
        )?);
    }
    for p in &update.rent_prices {
        let hours = p.hours.unwrap_or(1);
        statements.push(store::upsert_rent_price(
            &db,
            &p.country,
            &p.service,
            &p.operator,
            hours,
            p.cost,
        )?);
    }
    for (country, channel, cost) in &update.otp_prices {
        statements.push(store::upsert_otp_price(&db, country, channel, *cost)?);
    }
    if !statements.is_empty() {
        let change = Change {
            after: Some(catalog_summary(update)),
            ..platform_change("catalog.put", "catalog", None)
        };
        statements.push(audit::append(&db, actor, &change, app.now_ms)?);
        batch(&db, statements).await.map_err(catalog_refusal)?;
    }
    forget_prices();
    Ok(aliases)
}

/// Price rows an audit row lists one by one (beyond: counted only).
const AUDITED_PRICES: usize = 100;

/// A catalog change as the audit log keeps it: how many rows of each list, and the prices
/// set (country, service, operator, hours, cost in minor units) up to `AUDITED_PRICES`.
fn catalog_summary(u: &crate::domain::catalog::CatalogUpdate) -> serde_json::Value {
    let prices: Vec<serde_json::Value> = (u.prices.iter().chain(&u.rent_prices))
        .take(AUDITED_PRICES)
        .map(|p| serde_json::json!([p.country, p.service, p.operator, p.hours, p.cost]))
        .collect();
    let otp: Vec<serde_json::Value> = (u.otp_prices.iter().take(AUDITED_PRICES))
        .map(|(country, channel, cost)| serde_json::json!([country, channel, cost]))
        .collect();
    serde_json::json!({
        "countries": u.countries.len(),
        "services": u.services.len(),
        "operators": u.operators.len(),
        "prices": u.prices.len(),
        "rent_prices": u.rent_prices.len(),
        "otp_prices": u.otp_prices.len(),
        "price_rows": prices,
        "otp_price_rows": otp,
    })
}

fn catalog_refusal(e: StoreError) -> AppError {
    if matches!(&e, StoreError::Constraint(c) if c.kind == ConstraintKind::ForeignKey) {
        AppError::invalid(
            "the catalog references a country, service or operator that does not exist (load it in \
                this request or before)",
        )
    } else if e.on_constraint(ConstraintKind::Unique, "operators")
        || e.on_constraint(ConstraintKind::Unique, "operators_name")
    {
        AppError::invalid("two operators of one country have the same name")
    } else if e.on_constraint(ConstraintKind::Unique, "countries.sms_activate_id")
        || e.on_constraint(ConstraintKind::Unique, "countries_sms_activate_id")
    {
        AppError::invalid("two countries have the same sms_activate_id")
    } else if e.on_constraint(ConstraintKind::Unique, "services.sms_activate_code")
        || e.on_constraint(ConstraintKind::Unique, "services_sms_activate_code")
    {
        AppError::invalid("two services have the same sms_activate_code")
    } else if e.on_constraint(ConstraintKind::Unique, "countries.fivesim_name") {
        AppError::invalid("two countries have the same fivesim_name")
    } else if e.on_constraint(ConstraintKind::Unique, "services.fivesim_product") {
        AppError::invalid("two services have the same fivesim_product")
    } else {
        e.into()
    }
}

/// A number to import: as given, resolved here.
pub struct NumberIn {
    pub number: String,
    pub country: String,
    pub operator: String,
}

/// Bulk import; a number already in the inventory is skipped (its country, operator and
/// supplier stay as they were). Countries by code or alias, operators by id or name.
/// Returns how many were imported.
pub async fn import_numbers(
    app: &App,
    numbers: &[NumberIn],
    supplier_id: Option<&str>,
    actor: &Actor,
) -> Result<usize, AppError> {
    let db = app.db()?;
    if let Some(s) = supplier_id {
        if !store::supplier_exists(&db, s).await? {
            return Err(AppError::not_found("supplier"));
        }
    }
    let countries: Vec<String> = store::countries(&db)
        .await?
        .into_iter()
        .map(|c| c.code)
        .collect();
    let aliases: HashMap<String, String> = store::all_aliases(&db).await?.into_iter().collect();
    let operators = store::operators(&db, None).await?;
    let now = rfc3339(app.now_ms);
    let mut statements = Vec::with_capacity(numbers.len());
    for (i, n) in numbers.iter().enumerate() {
        let phone = Phone::parse(&n.number, PlusSign::Required)
            .map_err(|e| AppError::invalid(format!("numbers[{i}].number: {e}")))?;
        let input = n.country.trim();
        let country = countries
            .iter()
            .find(|c| c.eq_ignore_ascii_case(input))
            .cloned()
            .or_else(|| aliases.get(&input.to_ascii_lowercase()).cloned())
            .ok_or_else(|| {
                let m = format!("numbers[{i}].country: unknown country '{input}'");
                AppError::new(Code::UnknownCountry, m)
            })?;
        let op = n.operator.trim();
        let operator = find_operator(&operators, Some(&country), op).ok_or_else(|| {
            let m = format!("numbers[{i}].operator: no operator '{op}' in {country}");
            AppError::new(Code::UnknownOperator, m)
        })?;
        let id = new_id("num")?;
        statements.push(store::insert_number(
            &db,
            &id,
            phone.e164(),
            &country,
            &operator.id,
            supplier_id,
            &now,
        )?);
    }
    let given = statements.len();
    let change = Change {
        after: Some(serde_json::json!({"numbers": given, "supplier_id": supplier_id})),
        ..platform_change("numbers.import", "inventory", supplier_id)
    };
    statements.push(audit::append(&db, actor, &change, app.now_ms)?);
    let results = batch(&db, statements).await?;
    forget_prices();
    Ok(results.iter().take(given).map(changes).sum::<usize>())
}

pub struct NewSupplier {
    pub id: String,
    pub name: String,
    /// Shown once: the supplier signs every inbound SMS with it.
    pub secret: String,
}

pub async fn create_supplier(
    app: &App,
    name: String,
    actor: &Actor,
) -> Result<NewSupplier, AppError> {
    let id = new_id("sup")?;
    let db = app.db()?;
    let change = Change {
        after: Some(serde_json::json!({"name": name})),
        ..platform_change("supplier.create", "supplier", Some(&id))
    };
    let row = audit::append(&db, actor, &change, app.now_ms)?;
    store::create_supplier(&db, (&id, &name), &rfc3339(app.now_ms), row).await?;
    let key = store::SupplierKey {
        id: id.clone(),
        secret_version: 1,
    };
    let secret = key.secret(&server_key(&app.env)?);
    Ok(NewSupplier { id, name, secret })
}

/// The catalog as the operator's console lists it.
pub struct CatalogView {
    pub countries: Vec<Named>,
    pub services: Vec<Named>,
    pub operators: Vec<OperatorStock>,
    pub prices: Vec<ListedPrice>,
}

/// Countries, services, operators (with their numbers in stock) and every price.
pub async fn catalog_view(app: &App) -> Result<CatalogView, AppError> {
    let db = app.db()?;
    Ok(CatalogView {
        countries: store::countries(&db).await?,
        services: store::services(&db).await?,
        operators: store::operator_stock(&db).await?,
        prices: store::listed_prices(&db).await?,
    })
}

/// Every supplier, newest first, with how many numbers it holds.
pub async fn suppliers(app: &App) -> Result<Vec<SupplierStock>, AppError> {
    Ok(store::supplier_stock(&app.db()?).await?)
}
