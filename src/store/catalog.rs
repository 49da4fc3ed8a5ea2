//! Catalog (countries, services, operators, prices) and number inventory in D1.
use super::row::row;
use super::{all, exists, first_value, int, opt_text, stmt, text, Prepared, Result};
use crate::domain::catalog::{
    ListedPrice, Named, Operator, OperatorStock, Price, RentPrice, SupplierStock,
};
use crate::domain::crypto::{derived_key, to_hex};
use worker::D1Database;

/// SQL condition (on `n`, a `numbers` row) for "free to sell for service ?svc at time ?now":
/// no live lease, and never sold for that service. Used for stock counts and for picking.
pub fn free_for_service(svc: &str, now: &str) -> String {
    format!(
        "NOT EXISTS (SELECT 1 FROM number_leases l WHERE l.number_id = n.id AND (l.kind = \
            'activation' OR l.expires_at > {now})) \
         AND NOT EXISTS (SELECT 1 FROM activations a WHERE a.number_id = n.id AND a.service = \
         {svc})"
    )
}

pub async fn countries(db: &D1Database) -> Result<Vec<Named>> {
    all(db, "SELECT code, name FROM countries ORDER BY code", &[]).await
}

pub async fn services(db: &D1Database) -> Result<Vec<Named>> {
    all(db, "SELECT code, name FROM services ORDER BY code", &[]).await
}

/// An ISO code (any case) or an alias (`pkr`) → the country's code.
pub async fn resolve_country(db: &D1Database, input: &str) -> Result<Option<String>> {
    let input = input.trim();
    let sql = "SELECT code FROM countries WHERE code = upper(?1) UNION ALL SELECT country AS code \
        FROM country_aliases WHERE alias = lower(?1) LIMIT 1";
    first_value(db, sql, &[text(input)], "code").await
}

pub async fn resolve_service(db: &D1Database, input: &str) -> Result<Option<String>> {
    let sql = "SELECT code FROM services WHERE code = lower(?1)";
    first_value(db, sql, &[text(input.trim())], "code").await
}

/// The operators of one country, or of all.
pub async fn operators(db: &D1Database, country: Option<&str>) -> Result<Vec<Operator>> {
    let sql = "SELECT country, id, name FROM operators WHERE ?1 IS NULL OR country = ?1";
    all(db, sql, &[opt_text(country)]).await
}

pub async fn all_aliases(db: &D1Database) -> Result<Vec<(String, String)>> {
    row! {
        struct Row {
            alias: String,
            country: String,
        }
    }
    let rows: Vec<Row> = all(db, "SELECT alias, country FROM country_aliases", &[]).await?;
    Ok(rows.into_iter().map(|r| (r.alias, r.country)).collect())
}

// ---- the operator's reads (the console) ----

/// Every price: activations, rents (with their hours) and OTP sends (by channel), in order.
pub async fn listed_prices(db: &D1Database) -> Result<Vec<ListedPrice>> {
    all(db, LISTED_PRICES, &[]).await
}

const LISTED_PRICES: &str =
    "SELECT 'activation' AS kind, country, service, operator, NULL AS hours, cost \
    FROM prices UNION ALL SELECT 'rent', country, service, operator, hours, cost \
    FROM rent_prices UNION ALL SELECT 'otp', country, channel, '', NULL, cost \
    FROM otp_prices ORDER BY 1, 2, 3, 4, 5";

/// Every supplier and how many numbers it holds (an index search per supplier).
pub async fn supplier_stock(db: &D1Database) -> Result<Vec<SupplierStock>> {
    all(db, SUPPLIER_STOCK, &[]).await
}

const SUPPLIER_STOCK: &str = "SELECT s.id AS id, s.name AS name, s.created_at AS created_at, \
    (SELECT COUNT(*) FROM numbers n WHERE n.supplier_id = s.id) AS numbers \
    FROM suppliers s ORDER BY s.created_at DESC";

/// Every operator and how many numbers the inventory holds for it.
pub async fn operator_stock(db: &D1Database) -> Result<Vec<OperatorStock>> {
    all(db, OPERATOR_STOCK, &[]).await
}

const OPERATOR_STOCK: &str = "SELECT o.country AS country, o.id AS operator, o.name AS name, \
    (SELECT COUNT(*) FROM numbers n WHERE n.country = o.country AND n.operator = o.id) \
    AS numbers FROM operators o ORDER BY o.country, o.id";

// ---- PUT /admin/catalog upserts (validated by the handler) ----

/// A table of one value per key: (table, key column, value column).
pub type Keyed = (&'static str, &'static str, &'static str);
pub const COUNTRIES: Keyed = ("countries", "code", "name");
pub const ALIASES: Keyed = ("country_aliases", "alias", "country");
pub const SERVICES: Keyed = ("services", "code", "name");

/// `table`'s row keyed by `key` (column `key_col`): inserted, or its `value_col` updated.
pub fn upsert_keyed(
    db: &D1Database,
    (table, key_col, value_col): Keyed,
    key: &str,
    value: &str,
) -> Prepared {
    let sql = format!(
        "INSERT INTO {table} ({key_col}, {value_col}) VALUES (?1, ?2) ON CONFLICT ({key_col}) \
         DO UPDATE SET {value_col} = excluded.{value_col}"
    );
    stmt(db, &sql, &[text(key), text(value)])
}

pub fn upsert_operator(db: &D1Database, country: &str, id: &str, name: &str) -> Prepared {
    stmt(
        db,
        "INSERT INTO operators (country, id, name) VALUES (?1, ?2, ?3) ON CONFLICT (country, id) \
            DO UPDATE SET name = excluded.name",
        &[text(country), text(id), text(name)],
    )
}

pub fn upsert_price(
    db: &D1Database,
    country: &str,
    service: &str,
    operator: &str,
    cost: i64,
) -> Prepared {
    stmt(
        db,
        "INSERT INTO prices (country, service, operator, cost) VALUES (?1, ?2, ?3, ?4) ON CONFLICT \
            (country, service, operator) DO UPDATE SET cost = excluded.cost",
        &[text(country), text(service), text(operator), int(cost)],
    )
}

pub fn upsert_rent_price(
    db: &D1Database,
    country: &str,
    service: &str,
    operator: &str,
    hours: i64,
    cost: i64,
) -> Prepared {
    stmt(
        db,
        "INSERT INTO rent_prices (country, service, operator, hours, cost) VALUES (?1, ?2, ?3, ?4, \
            ?5) \
         ON CONFLICT (country, service, operator, hours) DO UPDATE SET cost = excluded.cost",
        &[text(country), text(service), text(operator), int(hours), int(cost)],
    )
}

pub fn upsert_otp_price(db: &D1Database, country: &str, channel: &str, cost: i64) -> Prepared {
    stmt(
        db,
        "INSERT INTO otp_prices (country, channel, cost) VALUES (?1, ?2, ?3) ON CONFLICT (country, \
            channel) DO UPDATE SET cost = excluded.cost",
        &[text(country), text(channel), int(cost)],
    )
}

// ---- price lists with stock ----

pub async fn prices(
    db: &D1Database,
    service: Option<&str>,
    country: Option<&str>,
    now_ms: i64,
) -> Result<Vec<Price>> {
    let sql = format!(
        "SELECT p.country, p.service, p.operator, o.name AS operator_name, p.cost, \
           (SELECT COUNT(*) FROM numbers n WHERE n.country = p.country AND n.operator = p.operator \
           AND {free}) AS count \
         FROM prices p JOIN operators o ON o.country = p.country AND o.id = p.operator \
         WHERE (?1 IS NULL OR p.service = ?1) AND (?2 IS NULL OR p.country = ?2) \
         ORDER BY p.country, p.service, p.operator",
        free = free_for_service("p.service", "?3")
    );
    all(
        db,
        &sql,
        &[opt_text(service), opt_text(country), int(now_ms)],
    )
    .await
}

pub async fn rent_prices(
    db: &D1Database,
    service: &str,
    country: Option<&str>,
    operator: Option<&str>,
    now_ms: i64,
) -> Result<Vec<RentPrice>> {
    let sql = format!(
        "SELECT r.country, r.service, r.operator, o.name AS operator_name, r.hours, r.cost, \
           (SELECT COUNT(*) FROM numbers n WHERE n.country = r.country AND n.operator = r.operator \
           AND {free}) AS count \
         FROM rent_prices r JOIN operators o ON o.country = r.country AND o.id = r.operator \
         WHERE r.service = ?1 AND (?2 IS NULL OR r.country = ?2) AND (?4 IS NULL OR r.operator = \
         ?4) \
         ORDER BY r.country, r.operator, r.hours",
        free = free_for_service("r.service", "?3")
    );
    all(
        db,
        &sql,
        &[
            text(service),
            opt_text(country),
            int(now_ms),
            opt_text(operator),
        ],
    )
    .await
}

// ---- inventory and suppliers ----

pub fn insert_number(
    db: &D1Database,
    id: &str,
    number: &str,
    country: &str,
    operator: &str,
    supplier_id: Option<&str>,
    now: &str,
) -> Prepared {
    stmt(
        db,
        "INSERT INTO numbers (id, number, country, operator, supplier_id, created_at) VALUES (?1, \
            ?2, ?3, ?4, ?5, ?6) ON CONFLICT (number) DO NOTHING",
        &[
            text(id),
            text(number),
            text(country),
            text(operator),
            opt_text(supplier_id),
            text(now),
        ],
    )
}

pub async fn supplier_exists(db: &D1Database, supplier_id: &str) -> Result<bool> {
    let sql = "SELECT id FROM suppliers WHERE id = ?1";
    exists(db, sql, &[text(supplier_id)]).await
}

/// A new supplier, in one transaction with its audit row.
pub async fn create_supplier(
    db: &D1Database,
    (id, name): (&str, &str),
    now: &str,
    audit: worker::D1PreparedStatement,
) -> Result<()> {
    let sql = "INSERT INTO suppliers (id, name, secret_version, created_at) VALUES (?1, ?2, 1, ?3)";
    super::audited(db, sql, &[text(id), text(name), text(now)], audit).await?;
    Ok(())
}

row! {
    pub struct SupplierKey {
        pub id: String,
        pub secret_version: i64,
    }
}

impl SupplierKey {
    /// The supplier's signing secret, derived (never stored): `whsec_` + 64 hex digits.
    pub fn secret(&self, server_key: &str) -> String {
        format!(
            "whsec_{}",
            to_hex(&derived_key(
                server_key,
                "supplier",
                &self.id,
                self.secret_version
            ))
        )
    }
}

/// Suppliers who may have signed an inbound SMS: the named one, or all of them (an operator
/// has a handful; each is tried in constant time).
pub async fn supplier_keys(db: &D1Database, only: Option<&str>) -> Result<Vec<SupplierKey>> {
    all(
        db,
        "SELECT id, secret_version FROM suppliers WHERE ?1 IS NULL OR id = ?1 ORDER BY \
        created_at LIMIT 100",
        &[opt_text(only)],
    )
    .await
}
