//! D1 and KV access. Statements are built here; handlers never write SQL.
pub mod accounts;
pub mod activations;
pub mod catalog;
pub mod idempotency;
pub mod messages;
pub mod otp;
pub mod verify;
pub mod wallet;
pub mod webhooks;

use crate::http::error::{ApiError, Code};
use serde::de::DeserializeOwned;
use worker::wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement, D1Result, Env};

pub fn db(env: &Env) -> Result<D1Database, ApiError> {
    env.d1("DB").map_err(|e| ApiError::internal(format!("D1 binding DB: {e}")))
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

/// What went wrong with a D1 call: a schema constraint (the last line of defence, which
/// callers map to a client error) or anything else (a 500, logged).
#[derive(Debug)]
pub enum DbError {
    Check(String),
    Unique(String),
    Other(String),
}

impl DbError {
    fn classify(e: worker::Error) -> DbError {
        let msg = e.to_string();
        if msg.contains("CHECK constraint failed") {
            DbError::Check(msg)
        } else if msg.contains("UNIQUE constraint failed") {
            DbError::Unique(msg)
        } else {
            DbError::Other(msg)
        }
    }

    pub fn mentions(&self, needle: &str) -> bool {
        match self {
            DbError::Check(m) | DbError::Unique(m) | DbError::Other(m) => m.contains(needle),
        }
    }
}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> ApiError {
        match e {
            DbError::Check(m) if m.contains("balance") => ApiError::of(Code::InsufficientFunds),
            DbError::Check(m) | DbError::Unique(m) | DbError::Other(m) => ApiError::internal(format!("D1: {m}")),
        }
    }
}

pub fn stmt(db: &D1Database, sql: &str, args: &[JsValue]) -> Result<D1PreparedStatement, ApiError> {
    db.prepare(sql).bind(args).map_err(|e| ApiError::internal(format!("D1 bind: {e}")))
}

pub async fn first<T: DeserializeOwned>(statement: D1PreparedStatement) -> Result<Option<T>, ApiError> {
    statement.first::<T>(None).await.map_err(|e| ApiError::internal(format!("D1 first: {e}")))
}

pub async fn all<T: DeserializeOwned>(statement: D1PreparedStatement) -> Result<Vec<T>, ApiError> {
    let result = statement.all().await.map_err(|e| ApiError::internal(format!("D1 all: {e}")))?;
    result.results::<T>().map_err(|e| ApiError::internal(format!("D1 rows: {e}")))
}

/// Whether a query returns any row.
pub async fn exists(statement: D1PreparedStatement) -> Result<bool, ApiError> {
    Ok(first::<serde_json::Value>(statement).await?.is_some())
}

/// An optional integer as a binding: NULL when absent.
pub fn opt_int(n: Option<i64>) -> JsValue {
    n.map_or(JsValue::NULL, int)
}

/// Runs one statement and returns how many rows it changed.
pub async fn run(statement: D1PreparedStatement) -> Result<usize, DbError> {
    let result = statement.run().await.map_err(DbError::classify)?;
    Ok(changes(&result))
}

/// Runs statements as one transaction: all or nothing.
pub async fn batch(db: &D1Database, statements: Vec<D1PreparedStatement>) -> Result<Vec<D1Result>, DbError> {
    db.batch(statements).await.map_err(DbError::classify)
}

pub fn changes(result: &D1Result) -> usize {
    result.meta().ok().flatten().and_then(|m| m.changes).unwrap_or(0)
}

/// One page of rows and the total count, read in one round trip (`count` must select
/// `COUNT(*) AS total`).
pub async fn page_of<T: DeserializeOwned>(db: &D1Database, rows: D1PreparedStatement, count: D1PreparedStatement) -> Result<(Vec<T>, u64), ApiError> {
    #[derive(serde::Deserialize)]
    struct Count {
        total: u64,
    }
    let results = batch(db, vec![rows, count]).await.map_err(ApiError::from)?;
    let rows = results.first().map(|r| r.results::<T>()).transpose().map_err(|e| ApiError::internal(format!("page rows: {e}")))?.unwrap_or_default();
    let total = results
        .get(1)
        .map(|r| r.results::<Count>())
        .transpose()
        .map_err(|e| ApiError::internal(format!("page count: {e}")))?
        .and_then(|c| c.into_iter().next())
        .map_or(0, |c| c.total);
    Ok((rows, total))
}
