//! What the 5sim protocol needs beyond the other dialects (migration 0019): the countries'
//! and services' 5sim names, orders as rows (an activation by its integer id, with its SMS
//! and whether it was banned), payments (the ledger), price ceilings and bans.
use super::row::row;
use super::smsactivate::SaNames;
use super::{
    account_page, all, execute, first, first_value, int, stmt, text, Listing, Prepared, Result,
};
use crate::domain::pagination::Page;
use worker::D1Database;

row! {
    /// A catalog country or service that has a 5sim name.
    #[derive(Debug, Clone)]
    pub struct FsNamed {
        pub fs_name: String,
        pub code: String,
        pub name: String,
    }
}

const COUNTRY_NAMES: SaNames = SaNames {
    table: "countries",
    column: "fivesim_name",
    alias: "fs_name",
};

const PRODUCT_NAMES: SaNames = SaNames {
    table: "services",
    column: "fivesim_product",
    alias: "fs_name",
};

pub async fn countries(db: &D1Database) -> Result<Vec<FsNamed>> {
    COUNTRY_NAMES.listed(db).await
}

pub async fn products(db: &D1Database) -> Result<Vec<FsNamed>> {
    PRODUCT_NAMES.listed(db).await
}

pub async fn country(db: &D1Database, name: &str) -> Result<Option<FsNamed>> {
    COUNTRY_NAMES.named(db, text(name)).await
}

pub async fn product(db: &D1Database, name: &str) -> Result<Option<FsNamed>> {
    PRODUCT_NAMES.named(db, text(name)).await
}

/// Sets a country's 5sim name (`PUT /admin/catalog`, after the country's upsert).
pub fn set_country_name(db: &D1Database, code: &str, name: &str) -> Prepared {
    COUNTRY_NAMES.set(db, code, text(name))
}

/// Sets a service's 5sim product name (`PUT /admin/catalog`, after the service's upsert).
pub fn set_service_product(db: &D1Database, code: &str, name: &str) -> Prepared {
    PRODUCT_NAMES.set(db, code, text(name))
}

row! {
    /// An activation as an order, as D1 holds it: its SMS as a JSON array
    /// (`[{sender, text, code, received_at}]`, oldest first) and whether it was banned.
    #[derive(Debug, Clone)]
    pub struct OrderRow {
        pub num: i64,
        pub id: String,
        pub number: String,
        pub operator: String,
        pub cost: i64,
        pub status: String,
        pub created_at: i64,
        pub expires_at: i64,
        pub country: String,
        pub service: String,
        pub sms: String,
        pub banned: i64,
    }
}

/// The columns of `OrderRow` over an `activations` row (unaliased, as `account_page` reads).
const ORDER_COLUMNS: &str = "(SELECT n.num FROM numeric_ids n WHERE n.object_id = activations.id) \
     AS num, id, number, operator, cost, status, created_at, expires_at, \
     COALESCE((SELECT c.fivesim_name FROM countries c WHERE c.code = activations.country), \
       country) AS country, \
     COALESCE((SELECT s.fivesim_product FROM services s WHERE s.code = activations.service), \
       service) AS service, \
     (SELECT json_group_array(json_object('sender', m.sender, 'text', m.text, 'code', m.code, \
       'received_at', m.received_at) ORDER BY m.created_at, m.id) FROM inbound_sms m \
       WHERE m.target_kind = 'activation' AND m.target_id = activations.id) AS sms, \
     EXISTS (SELECT 1 FROM activation_bans b WHERE b.activation_id = activations.id) AS banned";

/// The activation behind an order id, if there is one.
pub async fn order(db: &D1Database, num: i64) -> Result<Option<OrderRow>> {
    let sql = format!(
        "SELECT {ORDER_COLUMNS} FROM activations WHERE id = (SELECT object_id FROM numeric_ids \
         WHERE num = ?1 AND kind = 'activation')"
    );
    first(stmt(db, &sql, &[int(num)])?).await
}

const NEWEST_ORDERS: Listing<'static> = Listing {
    columns: ORDER_COLUMNS,
    from: "activations",
    mine: "account_id = ?1",
    order: "created_at DESC, id DESC",
    counted: Some("activations"),
    key: None,
};

const OLDEST_ORDERS: Listing<'static> = Listing {
    columns: ORDER_COLUMNS,
    from: "activations",
    mine: "account_id = ?1",
    order: "created_at, id",
    counted: Some("activations"),
    key: None,
};

/// One page of the account's orders (newest first, or oldest first) and their total.
pub async fn orders(
    db: &D1Database,
    account_id: &str,
    page: Page,
    newest_first: bool,
) -> Result<(Vec<OrderRow>, u64)> {
    let listing = if newest_first {
        &NEWEST_ORDERS
    } else {
        &OLDEST_ORDERS
    };
    account_page(db, listing, account_id, page).await
}

row! {
    /// A ledger row as a payment.
    #[derive(Debug, Clone)]
    pub struct PaymentRow {
        pub seq: i64,
        pub kind: String,
        pub amount: i64,
        pub balance_after: i64,
        pub created_at: i64,
    }
}

/// One page of the account's ledger, newest first, and its total.
pub async fn payments(
    db: &D1Database,
    account_id: &str,
    page: Page,
) -> Result<(Vec<PaymentRow>, u64)> {
    let listing = super::Listing {
        columns: "seq, kind, amount, balance_after, CAST(created_at AS INTEGER) AS created_at",
        from: "ledger",
        mine: "account_id = ?1",
        order: "seq DESC",
        counted: Some("ledger"),
        key: None,
    };
    account_page(db, &listing, account_id, page).await
}

row! {
    /// A price ceiling, with the product's 5sim name (its service code when it has none).
    #[derive(Debug, Clone)]
    pub struct MaxPriceRow {
        pub id: i64,
        pub product: String,
        pub price: i64,
        pub created_at: i64,
    }
}

/// The account's price ceilings, by product.
pub async fn max_prices(db: &D1Database, account_id: &str) -> Result<Vec<MaxPriceRow>> {
    all(stmt(
        db,
        "SELECT m.id, COALESCE(s.fivesim_product, s.code) AS product, m.price, m.created_at \
         FROM fivesim_max_prices m JOIN services s ON s.code = m.service \
         WHERE m.account_id = ?1 ORDER BY product",
        &[text(account_id)],
    )?)
    .await
}

/// The account's price ceiling for a service, if it set one (minor units).
pub async fn max_price(db: &D1Database, account_id: &str, service: &str) -> Result<Option<i64>> {
    let sql = "SELECT price FROM fivesim_max_prices WHERE account_id = ?1 AND service = ?2";
    first_value(stmt(db, sql, &[text(account_id), text(service)])?, "price").await
}

/// Sets (or replaces) the account's price ceiling for a service.
pub async fn set_max_price(
    db: &D1Database,
    account_id: &str,
    service: &str,
    price: i64,
    now_ms: i64,
) -> Result<()> {
    let sql = "INSERT INTO fivesim_max_prices (account_id, service, price, created_at) \
               VALUES (?1, ?2, ?3, ?4) \
               ON CONFLICT (account_id, service) DO UPDATE SET price = excluded.price";
    execute(
        db,
        sql,
        &[text(account_id), text(service), int(price), int(now_ms)],
    )
    .await
}

/// Removes the account's price ceiling for a service, if there is one.
pub async fn delete_max_price(db: &D1Database, account_id: &str, service: &str) -> Result<()> {
    let sql = "DELETE FROM fivesim_max_prices WHERE account_id = ?1 AND service = ?2";
    execute(db, sql, &[text(account_id), text(service)]).await
}

/// Records that a cancelled activation was cancelled as banned (once).
pub async fn ban(db: &D1Database, activation_id: &str, now_ms: i64) -> Result<()> {
    let sql = "INSERT OR IGNORE INTO activation_bans (activation_id, created_at) VALUES (?1, ?2)";
    execute(db, sql, &[text(activation_id), int(now_ms)]).await
}
