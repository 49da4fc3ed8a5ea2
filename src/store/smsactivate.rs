//! What the sms-activate protocol needs beyond the other dialects (migration 0006): the
//! countries' and services' sms-activate numbers and codes, the integer ids of activations
//! and rents (`numeric_ids`), and the account's live activations and rents as lists.
use super::catalog::free_for_service;
use super::row::row;
use super::FromRow;
use super::{all, batch_value, first, first_value, int, opt_text, stmt, text, Prepared, Result};
use worker::wasm_bindgen::JsValue;
use worker::D1Database;

row! {
    /// A catalog country that has an sms-activate number.
    #[derive(Debug, Clone)]
    pub struct SaCountry {
        pub sa_id: i64,
        pub code: String,
        pub name: String,
    }
}

row! {
    /// A catalog service that has an sms-activate code.
    #[derive(Debug, Clone)]
    pub struct SaService {
        pub sa_code: String,
        pub code: String,
        pub name: String,
    }
}

/// Where a catalog table keeps a protocol's name for its rows (sms-activate's, 5sim's):
/// `column`, read back as `alias`.
pub(super) struct SaNames {
    pub(super) table: &'static str,
    pub(super) column: &'static str,
    pub(super) alias: &'static str,
}

const COUNTRY_IDS: SaNames = SaNames {
    table: "countries",
    column: "sms_activate_id",
    alias: "sa_id",
};

const SERVICE_CODES: SaNames = SaNames {
    table: "services",
    column: "sms_activate_code",
    alias: "sa_code",
};

impl SaNames {
    fn select(&self, filter: &str) -> String {
        let SaNames {
            table,
            column,
            alias,
        } = self;
        format!("SELECT {column} AS {alias}, code, name FROM {table} WHERE {column} {filter}")
    }

    /// Every row that has a name on the protocol, by that name.
    pub(super) async fn listed<T: FromRow>(&self, db: &D1Database) -> Result<Vec<T>> {
        let sql = self.select(&format!("IS NOT NULL ORDER BY {}", self.column));
        all(stmt(db, &sql, &[])?).await
    }

    /// Sets the name on the protocol of the row `code` (`PUT /admin/catalog`, after the
    /// row's upsert).
    pub(super) fn set(&self, db: &D1Database, code: &str, name: JsValue) -> Prepared {
        let SaNames { table, column, .. } = self;
        let sql = format!("UPDATE {table} SET {column} = ?2 WHERE code = ?1");
        stmt(db, &sql, &[text(code), name])
    }

    /// The row whose name on the protocol is `name`.
    pub(super) async fn named<T: FromRow>(
        &self,
        db: &D1Database,
        name: JsValue,
    ) -> Result<Option<T>> {
        first(stmt(db, &self.select("= ?1"), &[name])?).await
    }
}

pub async fn countries(db: &D1Database) -> Result<Vec<SaCountry>> {
    COUNTRY_IDS.listed(db).await
}

pub async fn services(db: &D1Database) -> Result<Vec<SaService>> {
    SERVICE_CODES.listed(db).await
}

pub async fn country(db: &D1Database, sa_id: i64) -> Result<Option<SaCountry>> {
    COUNTRY_IDS.named(db, int(sa_id)).await
}

pub async fn service(db: &D1Database, sa_code: &str) -> Result<Option<SaService>> {
    SERVICE_CODES.named(db, text(sa_code)).await
}

/// Sets a country's sms-activate number (`PUT /admin/catalog`, after the country's upsert).
pub fn set_country_id(db: &D1Database, code: &str, sa_id: i64) -> Prepared {
    COUNTRY_IDS.set(db, code, int(sa_id))
}

/// Sets a service's sms-activate code (`PUT /admin/catalog`, after the service's upsert).
pub fn set_service_code(db: &D1Database, code: &str, sa_code: &str) -> Prepared {
    SERVICE_CODES.set(db, code, text(sa_code))
}

/// The activation or rent behind an integer id, if it is `kind`.
pub async fn object_id(db: &D1Database, num: i64, kind: &str) -> Result<Option<String>> {
    let sql = "SELECT object_id FROM numeric_ids WHERE num = ?1 AND kind = ?2";
    first_value(stmt(db, sql, &[int(num), text(kind)])?, "object_id").await
}

/// Reads the integer id of an activation or rent (given by the trigger at its insert): the
/// last statement of the batch that inserts it, so the answer needs no read after the commit.
pub fn num_statement(db: &D1Database, object_id: &str) -> Prepared {
    stmt(
        db,
        "SELECT num FROM numeric_ids WHERE object_id = ?1",
        &[text(object_id)],
    )
}

/// The integer id read by `num_statement`.
pub fn num_of(result: Option<&worker::D1Result>) -> Result<i64> {
    batch_value(result, "num", "integer id")
}

row! {
    /// An SMS delivered to an activation or a rent whose account has an sms-activate webhook,
    /// with the protocol's ids for it.
    #[derive(Debug, Clone)]
    pub struct HookedSms {
        pub account_id: String,
        /// `activation` or `rent`.
        pub kind: String,
        pub num: i64,
        pub sa_service: String,
        pub sa_country: Option<i64>,
        pub sender: String,
        pub text: String,
        pub code: Option<String>,
        pub received_at: String,
    }
}

/// The SMS `sms_id` (an `inbound_sms` row) if it reached an activation or rent of an account
/// that has an sms-activate webhook.
pub async fn hooked_sms(db: &D1Database, sms_id: &str) -> Result<Option<HookedSms>> {
    first(stmt(
        db,
        "SELECT COALESCE(a.account_id, r.account_id) AS account_id, m.target_kind AS kind, n.num, \
           COALESCE(s.sms_activate_code, s.code) AS sa_service, c.sms_activate_id AS sa_country, \
           m.sender, m.text, m.code, m.received_at \
         FROM inbound_sms m JOIN numeric_ids n ON n.object_id = m.target_id \
         LEFT JOIN activations a ON m.target_kind = 'activation' AND a.id = m.target_id \
         LEFT JOIN rents r ON m.target_kind = 'rent' AND r.id = m.target_id \
         JOIN services s ON s.code = COALESCE(a.service, r.service) \
         JOIN countries c ON c.code = COALESCE(a.country, r.country) \
         WHERE m.id = ?1 AND EXISTS (SELECT 1 FROM sms_activate_webhooks w \
           WHERE w.account_id = COALESCE(a.account_id, r.account_id))",
        &[text(sms_id)],
    )?)
    .await
}

row! {
    /// A live activation of the account, with the D1 mirror of its state.
    #[derive(Debug, Clone)]
    pub struct ActiveRow {
        pub num: i64,
        pub service: String,
        pub sa_service: Option<String>,
        pub number: String,
        pub cost: i64,
        pub status: String,
        pub sms_count: i64,
        pub code: Option<String>,
        pub text: Option<String>,
        pub received_at: Option<String>,
        pub sa_country: Option<i64>,
        pub country_name: String,
        pub created_at: i64,
    }
}

/// The account's activations that are still live (waiting or received, not past their
/// lifetime), oldest first, each with its latest SMS.
pub async fn active_activations(
    db: &D1Database,
    account_id: &str,
    now_ms: i64,
) -> Result<Vec<ActiveRow>> {
    const LATEST: &str = "FROM inbound_sms m WHERE m.target_kind = 'activation' \
        AND m.target_id = a.id ORDER BY m.created_at DESC, m.id DESC LIMIT 1";
    let sql = format!(
        "SELECT n.num, a.service, s.sms_activate_code AS sa_service, a.number, a.cost, a.status, \
           (SELECT COUNT(*) FROM inbound_sms m WHERE m.target_kind = 'activation' \
             AND m.target_id = a.id) AS sms_count, \
           (SELECT m.code {LATEST}) AS code, (SELECT m.text {LATEST}) AS text, \
           (SELECT m.received_at {LATEST}) AS received_at, \
           c.sms_activate_id AS sa_country, c.name AS country_name, a.created_at \
         FROM activations a JOIN numeric_ids n ON n.object_id = a.id \
         JOIN services s ON s.code = a.service JOIN countries c ON c.code = a.country \
         WHERE a.account_id = ?1 AND a.status IN ('waiting', 'received') AND a.expires_at > ?2 \
         ORDER BY a.created_at, n.num LIMIT 500"
    );
    all(stmt(db, &sql, &[text(account_id), int(now_ms)])?).await
}

/// The account's rents that have not ended: (integer id, number).
pub async fn live_rents(
    db: &D1Database,
    account_id: &str,
    now_ms: i64,
) -> Result<Vec<(i64, String)>> {
    row! {
        struct Row {
            num: i64,
            number: String,
        }
    }
    let rows: Vec<Row> = all(stmt(
        db,
        "SELECT n.num, r.number FROM rents r JOIN numeric_ids n ON n.object_id = r.id \
         WHERE r.account_id = ?1 AND r.expires_at > ?2 ORDER BY r.created_at, n.num LIMIT 500",
        &[text(account_id), int(now_ms)],
    )?)
    .await?;
    Ok(rows.into_iter().map(|r| (r.num, r.number)).collect())
}

row! {
    /// A rent price of one country and duration, with the free stock of its operator.
    #[derive(Debug, Clone)]
    pub struct RentOfferRow {
        pub sa_service: String,
        pub cost: i64,
        pub count: i64,
    }
}

/// Rent prices for `hours` in one country (and operator), for services that have an
/// sms-activate code.
pub async fn rent_offers(
    db: &D1Database,
    country: &str,
    operator: Option<&str>,
    hours: i64,
    now_ms: i64,
) -> Result<Vec<RentOfferRow>> {
    let sql = format!(
        "SELECT s.sms_activate_code AS sa_service, r.cost, \
           (SELECT COUNT(*) FROM numbers n WHERE n.country = r.country \
             AND n.operator = r.operator AND {free}) AS count \
         FROM rent_prices r JOIN services s ON s.code = r.service \
         WHERE r.country = ?1 AND r.hours = ?2 AND (?4 IS NULL OR r.operator = ?4) \
           AND s.sms_activate_code IS NOT NULL \
         ORDER BY s.sms_activate_code, r.cost",
        free = free_for_service("r.service", "?3")
    );
    all(stmt(
        db,
        &sql,
        &[text(country), int(hours), int(now_ms), opt_text(operator)],
    )?)
    .await
}
