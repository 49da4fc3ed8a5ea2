//! Twilio Verify service rate limits and their buckets (definitions only: the counts live
//! in the account's fraud guard object). Every statement is scoped by the account.
use super::row::row;
use super::verify::SERVICE_COLUMNS;
use super::{all, batch, first, int, opt_text, run, stmt, text, FromRow, Prepared, Result};
use crate::domain::twilio_verify::Service;
use crate::domain::verify_limits::{Bucket, RateLimit, MAX_BUCKETS, MAX_RATE_LIMITS};
use std::marker::PhantomData;
use wasm_bindgen::JsValue;
use worker::D1Database;

/// A table of definitions under a parent row of the account (rate limits under a service,
/// buckets under a rate limit), read as `T`: every statement names the account and the parent.
pub struct Definitions<T> {
    table: &'static str,
    /// The columns read (as `T`'s fields).
    columns: &'static str,
    /// The column holding the parent's sid.
    parent: &'static str,
    /// The most rows one parent holds.
    max: i64,
    /// Inserts a row unless its parent holds `max` already: the account's id `?1`, then
    /// `Definition::values`, then `max`.
    insert: &'static str,
    /// Updates the row: its sid `?1`, the account's id `?2`, then `Definition::changes`.
    update: &'static str,
    row: PhantomData<fn() -> T>,
}

pub const LIMITS: Definitions<RateLimit> = Definitions {
    table: "verify_rate_limits",
    columns: "sid, service_sid, unique_name, description, created_at, updated_at",
    parent: "service_sid",
    max: MAX_RATE_LIMITS,
    insert: "INSERT INTO verify_rate_limits (account_id, sid, service_sid, unique_name, \
             description, created_at, updated_at) SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7 \
             WHERE (SELECT COUNT(*) FROM verify_rate_limits WHERE service_sid = ?3) < ?8",
    update: "UPDATE verify_rate_limits SET description = ?3, updated_at = ?4 \
             WHERE sid = ?1 AND account_id = ?2",
    row: PhantomData,
};

pub const BUCKETS: Definitions<Bucket> = Definitions {
    table: "verify_rate_limit_buckets",
    columns: "sid, rate_limit_sid, service_sid, max, interval_s AS interval, created_at, \
              updated_at",
    parent: "rate_limit_sid",
    max: MAX_BUCKETS,
    insert: "INSERT INTO verify_rate_limit_buckets (account_id, sid, rate_limit_sid, \
             service_sid, max, interval_s, created_at, updated_at) \
             SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8 \
             WHERE (SELECT COUNT(*) FROM verify_rate_limit_buckets WHERE rate_limit_sid = ?3) \
             < ?9",
    update: "UPDATE verify_rate_limit_buckets SET max = ?3, interval_s = ?4, updated_at = ?5 \
             WHERE sid = ?1 AND account_id = ?2",
    row: PhantomData,
};

/// A definition as its table's `insert` and `update` bind it.
pub trait Definition: FromRow {
    const TABLE: Definitions<Self>;
    fn sid(&self) -> &str;
    /// What `insert` binds from `?2`.
    fn values(&self) -> Vec<JsValue>;
    /// What `update` binds from `?3`.
    fn changes(&self) -> Vec<JsValue>;
}

impl Definition for RateLimit {
    const TABLE: Definitions<Self> = LIMITS;
    fn sid(&self) -> &str {
        &self.sid
    }
    fn values(&self) -> Vec<JsValue> {
        vec![
            text(&self.sid),
            text(&self.service_sid),
            text(&self.unique_name),
            opt_text(self.description.as_deref()),
            int(self.created_at),
            int(self.updated_at),
        ]
    }
    fn changes(&self) -> Vec<JsValue> {
        vec![opt_text(self.description.as_deref()), int(self.updated_at)]
    }
}

impl Definition for Bucket {
    const TABLE: Definitions<Self> = BUCKETS;
    fn sid(&self) -> &str {
        &self.sid
    }
    fn values(&self) -> Vec<JsValue> {
        vec![
            text(&self.sid),
            text(&self.rate_limit_sid),
            text(&self.service_sid),
            int(self.max),
            int(self.interval),
            int(self.created_at),
            int(self.updated_at),
        ]
    }
    fn changes(&self) -> Vec<JsValue> {
        vec![int(self.max), int(self.interval), int(self.updated_at)]
    }
}

/// Inserts the account's `row` unless its parent holds the table's `max` rows already (false
/// then). A unique index the row breaks (a rate limit's name, a bucket's interval) fails it.
pub async fn create<T: Definition>(db: &D1Database, account_id: &str, row: &T) -> Result<bool> {
    let mut args = vec![text(account_id)];
    args.extend(row.values());
    args.push(int(T::TABLE.max));
    Ok(run(stmt(db, T::TABLE.insert, &args)?).await? > 0)
}

/// Stores what an update of the account's `row` changes; false when it is gone.
pub async fn update<T: Definition>(db: &D1Database, account_id: &str, row: &T) -> Result<bool> {
    let mut args = vec![text(row.sid()), text(account_id)];
    args.extend(row.changes());
    Ok(run(stmt(db, T::TABLE.update, &args)?).await? > 0)
}

/// Where definitions are read: the account's rows under one parent row.
pub struct Under<'a> {
    pub db: &'a D1Database,
    pub account_id: &'a str,
    pub parent_sid: &'a str,
}

impl<T: FromRow> Definitions<T> {
    /// The row `sid`, if any.
    pub async fn one(&self, at: &Under<'_>, sid: &str) -> Result<Option<T>> {
        let (columns, table, parent) = (self.columns, self.table, self.parent);
        let sql = format!(
            "SELECT {columns} FROM {table} WHERE {parent} = ?1 AND account_id = ?2 AND sid = ?3"
        );
        first(stmt(
            at.db,
            &sql,
            &[text(at.parent_sid), text(at.account_id), text(sid)],
        )?)
        .await
    }

    /// Up to `limit` rows from `offset`, oldest first.
    pub async fn page(&self, at: &Under<'_>, offset: i64, limit: i64) -> Result<Vec<T>> {
        let (columns, table, parent) = (self.columns, self.table, self.parent);
        let sql = format!(
            "SELECT {columns} FROM {table} WHERE {parent} = ?1 AND account_id = ?2 \
             ORDER BY created_at, sid LIMIT ?3 OFFSET ?4"
        );
        let args = [
            text(at.parent_sid),
            text(at.account_id),
            int(limit),
            int(offset),
        ];
        all(stmt(at.db, &sql, &args)?).await
    }

    /// Deletes the row `sid`.
    fn delete(&self, at: &Under<'_>, sid: &str) -> Prepared {
        let (table, parent) = (self.table, self.parent);
        let sql =
            format!("DELETE FROM {table} WHERE {parent} = ?1 AND account_id = ?2 AND sid = ?3");
        stmt(
            at.db,
            &sql,
            &[text(at.parent_sid), text(at.account_id), text(sid)],
        )
    }
}

/// Deletes a rate limit with its buckets (one batch); false when there was none.
pub async fn delete_limit(at: &Under<'_>, sid: &str) -> Result<bool> {
    let buckets = stmt(
        at.db,
        "DELETE FROM verify_rate_limit_buckets \
         WHERE rate_limit_sid = ?1 AND service_sid = ?2 AND account_id = ?3",
        &[text(sid), text(at.parent_sid), text(at.account_id)],
    )?;
    let limit = LIMITS.delete(at, sid)?;
    let results = batch(at.db, vec![buckets, limit]).await?;
    Ok(results.get(1).map_or(0, super::changes) > 0)
}

/// Deletes a bucket; false when there was none.
pub async fn delete_bucket(at: &Under<'_>, sid: &str) -> Result<bool> {
    Ok(run(BUCKETS.delete(at, sid)?).await? > 0)
}

row! {
    /// A rate limit of a service, with one of its buckets (none: it has no bucket).
    #[derive(Debug, Clone)]
    pub struct Named {
        pub unique_name: String,
        pub rate_limit_sid: String,
        pub bucket_sid: Option<String>,
        pub max: Option<i64>,
        pub interval: Option<i64>,
    }
}

/// The account's live service and its rate limits, each with its buckets (a service has
/// at most `MAX_RATE_LIMITS` × `MAX_BUCKETS` of them): one round trip.
pub async fn service_with_limits(
    db: &D1Database,
    account_id: &str,
    service_sid: &str,
) -> Result<(Option<Service>, Vec<Named>)> {
    let results = batch(
        db,
        vec![
            stmt(
                db,
                &format!(
                    "SELECT {SERVICE_COLUMNS} FROM verify_services \
                     WHERE sid = ?1 AND account_id = ?2 AND deleted_at IS NULL"
                ),
                &[text(service_sid), text(account_id)],
            )?,
            stmt(
                db,
                "SELECT r.unique_name AS unique_name, r.sid AS rate_limit_sid, \
                 b.sid AS bucket_sid, b.max AS max, b.interval_s AS interval \
                 FROM verify_rate_limits r \
                 LEFT JOIN verify_rate_limit_buckets b ON b.rate_limit_sid = r.sid \
                 WHERE r.service_sid = ?1 AND r.account_id = ?2",
                &[text(service_sid), text(account_id)],
            )?,
        ],
    )
    .await?;
    let service = super::row::read_opt::<Service>(results.first())?
        .into_iter()
        .next();
    Ok((service, super::row::read_opt(results.get(1))?))
}
