//! D1 and KV access. Statements are built here; handlers never write SQL.
pub mod accounts;
pub mod activations;
pub mod attempts;
pub mod audit;
pub mod catalog;
pub mod console;
pub mod constraint;
pub mod dashboard;
mod domain_rows;
pub mod fivesim;
pub mod fraud;
pub mod idempotency;
pub mod keys;
pub mod limits;
pub mod logins;
pub mod messages;
pub mod refunds;
pub mod row;
pub mod sessions;
pub mod smsactivate;
pub mod stats;
pub mod upkeep;
pub mod usage;
pub mod verify;
pub mod verify_limits;
pub mod vonage;
pub mod wallet;
pub mod webhooks;
pub mod workflow;

use crate::domain::ids::RandomUnavailable;
use crate::domain::pagination::{Cursor, Page, Slice};
pub use constraint::{Constraint, ConstraintKind};
pub use row::{first_of, Column, FromRow, Row};
use std::fmt;
use worker::wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement, D1Result, Env};

pub fn db(env: &Env) -> Result<D1Database, StoreError> {
    env.d1("DB")
        .map_err(|e| StoreError::other(format!("D1 binding DB: {e}")))
}

pub fn text(s: &str) -> JsValue {
    JsValue::from_str(s)
}

pub fn opt_text(s: Option<&str>) -> JsValue {
    s.map_or(JsValue::NULL, JsValue::from_str)
}

/// D1 cannot bind a BigInt, so integers travel as f64 (exact below 2^53).
pub fn int(n: i64) -> JsValue {
    JsValue::from_f64(n as f64)
}

/// What went wrong in the store: a schema constraint (the last line of defence, which the
/// application maps to a client error) or anything else (a 500, logged).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreError {
    Constraint(Constraint),
    Other(String),
}

impl StoreError {
    pub fn other(detail: impl Into<String>) -> StoreError {
        StoreError::Other(detail.into())
    }

    fn classify(e: worker::Error) -> StoreError {
        let msg = e.to_string();
        Constraint::parse(&msg).map_or(StoreError::Other(msg), StoreError::Constraint)
    }

    /// Whether this is a violation of a constraint of `kind` on `target` (see
    /// `Constraint::is`).
    pub fn on_constraint(&self, kind: ConstraintKind, target: &str) -> bool {
        matches!(self, StoreError::Constraint(c) if c.is(kind, target))
    }

    /// The wallet's `CHECK (balance >= 0 …)` (or the ledger's `balance_after >= 0`) refused
    /// a charge: the whole batch rolled back.
    pub fn is_overdraft(&self) -> bool {
        matches!(self, StoreError::Constraint(c) if c.is_overdraft())
    }

    /// A spend cap refused a charge (`spend` CHECKs): which one (the account's or the paying
    /// key's, daily or monthly); the whole batch rolled back.
    pub fn spend_cap(&self) -> Option<CapHit> {
        let StoreError::Constraint(c) = self else {
            return None;
        };
        [
            ("spend_cap_daily", false, true),
            ("spend_cap_monthly", false, false),
            ("key_spend_cap_daily", true, true),
            ("key_spend_cap_monthly", true, false),
        ]
        .into_iter()
        .find(|(name, _, _)| c.is(ConstraintKind::Check, name))
        .map(|(_, key, daily)| CapHit { key, daily })
    }
}

/// Which spend cap refused a charge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CapHit {
    /// The paying API key's cap (else the account's).
    pub key: bool,
    /// The daily cap (else the monthly one).
    pub daily: bool,
}
impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Constraint(c) => {
                write!(f, "D1: {:?} constraint failed: {}", c.kind, c.name)
            }
            StoreError::Other(m) => write!(f, "D1: {m}"),
        }
    }
}

impl From<RandomUnavailable> for StoreError {
    fn from(e: RandomUnavailable) -> StoreError {
        StoreError::Other(e.to_string())
    }
}

/// A statement bound and ready for a batch, or why it could not be built.
pub type Prepared = Result<D1PreparedStatement>;

/// What a store function answers: its value, or what went wrong in the store.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

pub fn stmt(db: &D1Database, sql: &str, args: &[JsValue]) -> Prepared {
    db.prepare(sql)
        .bind(args)
        .map_err(|e| StoreError::other(format!("D1 bind: {e}")))
}

/// The rows of a query (`sql` with `args` bound).
async fn query(db: &D1Database, sql: &str, args: &[JsValue]) -> Result<Vec<Row>> {
    let statement = stmt(db, sql, args)?;
    let result = (statement.all().await).map_err(|e| StoreError::other(format!("D1 all: {e}")))?;
    row::rows(&result)
}

/// The first row of a query, as `T` (`None`: no row).
pub async fn first<T: FromRow>(db: &D1Database, sql: &str, args: &[JsValue]) -> Result<Option<T>> {
    let rows = query(db, sql, args).await?;
    rows.first().map(T::from_row).transpose()
}

/// Every row of a query, as `T`.
pub async fn all<T: FromRow>(db: &D1Database, sql: &str, args: &[JsValue]) -> Result<Vec<T>> {
    let rows = query(db, sql, args).await?;
    rows.iter().map(T::from_row).collect()
}

/// One column of every row of a query.
pub async fn all_values<T: Column>(
    db: &D1Database,
    sql: &str,
    args: &[JsValue],
    column: &str,
) -> Result<Vec<T>> {
    let rows = query(db, sql, args).await?;
    rows.iter().map(|row| row.get(column)).collect()
}

/// One column of a query's first row (`None`: no row, or NULL).
pub async fn first_value<T: Column>(
    db: &D1Database,
    sql: &str,
    args: &[JsValue],
    column: &str,
) -> Result<Option<T>> {
    match query(db, sql, args).await?.first() {
        Some(row) => row.get(column),
        None => Ok(None),
    }
}

/// One column of the first row a statement of a batch read: a value the batch wrote, read
/// back inside it (put that statement last, so the answer needs no read after the commit).
/// `what` names the value when the row is missing.
pub fn batch_value<T: Column>(result: Option<&D1Result>, column: &str, what: &str) -> Result<T> {
    let rows = result.map(row::rows).transpose()?.unwrap_or_default();
    rows.first()
        .map(|row| row.get::<Option<T>>(column))
        .transpose()?
        .flatten()
        .ok_or_else(|| StoreError::other(format!("the batch's {what} is missing")))
}

/// A query's rows, as a type of the layers above (the columns stay in the store).
pub async fn all_as<R: FromRow + Into<T>, T>(
    db: &D1Database,
    sql: &str,
    args: &[JsValue],
) -> Result<Vec<T>> {
    let rows = all::<R>(db, sql, args).await?;
    Ok(rows.into_iter().map(Into::into).collect())
}

/// Whether a query returns any row.
pub async fn exists(db: &D1Database, sql: &str, args: &[JsValue]) -> Result<bool> {
    Ok(!query(db, sql, args).await?.is_empty())
}

/// An optional integer as a binding: NULL when absent.
pub fn opt_int(n: Option<i64>) -> JsValue {
    n.map_or(JsValue::NULL, int)
}

/// Runs one statement and returns how many rows it changed.
pub async fn run(statement: D1PreparedStatement) -> Result<usize> {
    let result = statement.run().await.map_err(StoreError::classify)?;
    Ok(changes(&result))
}

/// Runs one statement for its effect alone.
pub async fn execute(db: &D1Database, sql: &str, args: &[JsValue]) -> Result<()> {
    run(stmt(db, sql, args)?).await.map(drop)
}

/// Runs statements as one transaction: all or nothing.
pub async fn batch(db: &D1Database, statements: Vec<D1PreparedStatement>) -> Result<Vec<D1Result>> {
    db.batch(statements).await.map_err(StoreError::classify)
}

/// Runs a statement (`sql` with `args` bound) in one transaction with its audit row:
/// whether the statement changed a row.
pub async fn audited(
    db: &D1Database,
    sql: &str,
    args: &[JsValue],
    audit: D1PreparedStatement,
) -> Result<bool> {
    let results = batch(db, vec![stmt(db, sql, args)?, audit]).await?;
    Ok(results.first().map_or(0, changes) > 0)
}

pub fn changes(result: &D1Result) -> usize {
    result
        .meta()
        .ok()
        .flatten()
        .and_then(|m| m.changes)
        .unwrap_or(0)
}

/// One page of rows and the total count, read in one round trip (`count` must select
/// `COUNT(*) AS total`).
pub async fn page_of<T: FromRow>(
    db: &D1Database,
    rows: D1PreparedStatement,
    count: D1PreparedStatement,
) -> Result<(Vec<T>, u64)> {
    let results = batch(db, vec![rows, count]).await?;
    let rows = row::read_opt(results.first())?;
    let counts = results
        .get(1)
        .map(row::rows)
        .transpose()?
        .unwrap_or_default();
    let total = counts.first().map(|c| c.get("total")).transpose()?;
    Ok((rows, total.unwrap_or(0)))
}

/// Which of an account's rows a list shows: `SELECT {columns} FROM {from} WHERE {mine}
/// ORDER BY {order}`, with the account's id bound as `?1`. `counted` names the list in
/// `list_counts` when triggers keep its total there (else the total is counted). `key`: the
/// columns `order` sorts on, all descending and ending in a unique one, when the list can be
/// walked by keyset (`after` a row's id).
pub struct Listing<'a> {
    pub columns: &'a str,
    pub from: &'a str,
    pub mine: &'a str,
    pub order: &'a str,
    pub counted: Option<&'a str>,
    pub key: Option<&'a str>,
}

/// The rows of `slice` (a page by number, or the rows after a row) and the list's total;
/// `None` when `after` names no row of this account's list.
pub async fn account_slice<T: FromRow>(
    db: &D1Database,
    listing: &Listing<'_>,
    account_id: &str,
    slice: &Slice,
) -> Result<Option<(Vec<T>, u64)>> {
    match (&slice.after, listing.key) {
        (Some(after), Some(key)) => {
            account_after(db, listing, key, account_id, slice.page.limit, after).await
        }
        _ => account_page(db, listing, account_id, slice.page)
            .await
            .map(Some),
    }
}

/// The `limit` rows after row `after` in the list's order: a range on the index that holds
/// the order's columns, as cheap at any depth as the first page.
async fn account_after<T: FromRow>(
    db: &D1Database,
    listing: &Listing<'_>,
    key: &str,
    account_id: &str,
    limit: u32,
    after: &Cursor,
) -> Result<Option<(Vec<T>, u64)>> {
    let Listing { from, mine, .. } = listing;
    let (columns, order) = (listing.columns, listing.order);
    let args = [
        text(account_id),
        text(after.as_str()),
        int(i64::from(limit)),
    ];
    let rows = stmt(
        db,
        &format!(
            "SELECT {columns} FROM {from} WHERE {mine} AND ({key}) < \
             (SELECT {key} FROM {from} WHERE id = ?2 AND {mine}) ORDER BY {order} LIMIT ?3"
        ),
        &args,
    )?;
    let known = stmt(
        db,
        &format!("SELECT COUNT(*) AS n FROM {from} WHERE id = ?2 AND {mine}"),
        &args[..2],
    )?;
    let results = batch(
        db,
        vec![rows, known, total_statement(db, listing, account_id)?],
    )
    .await?;
    if batch_value::<i64>(results.get(1), "n", "cursor check")? == 0 {
        return Ok(None);
    }
    let total = batch_value::<i64>(results.get(2), "total", "list total")?;
    let total = u64::try_from(total).unwrap_or(0);
    Ok(Some((row::read_opt(results.first())?, total)))
}

/// One page of an account's rows and their total, in one round trip. The page is found
/// by stepping over the rowids of `{mine}` in order (index entries alone when an index
/// holds the order's columns), and only its rows are read whole.
pub async fn account_page<T: FromRow>(
    db: &D1Database,
    listing: &Listing<'_>,
    account_id: &str,
    page: Page,
) -> Result<(Vec<T>, u64)> {
    let Listing {
        columns,
        from,
        mine,
        order,
        ..
    } = listing;
    let rows = stmt(
        db,
        &format!(
            "SELECT {columns} FROM {from} WHERE rowid IN (SELECT rowid FROM {from} \
             WHERE {mine} ORDER BY {order} LIMIT ?2 OFFSET ?3) ORDER BY {order}"
        ),
        &[
            text(account_id),
            int(i64::from(page.limit)),
            int(i64::try_from(page.offset()).unwrap_or(i64::MAX)),
        ],
    )?;
    page_of(db, rows, total_statement(db, listing, account_id)?).await
}

/// `SELECT … AS total`: the list's row count, kept in `list_counts` or counted.
fn total_statement(db: &D1Database, listing: &Listing<'_>, account_id: &str) -> Prepared {
    let Listing { from, mine, .. } = listing;
    match listing.counted {
        Some(list) => stmt(
            db,
            "SELECT COALESCE((SELECT n FROM list_counts WHERE account_id = ?1 AND list = ?2), \
             0) AS total",
            &[text(account_id), text(list)],
        ),
        None => stmt(
            db,
            &format!("SELECT COUNT(*) AS total FROM {from} WHERE {mine}"),
            &[text(account_id)],
        ),
    }
}
