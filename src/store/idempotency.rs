//! `Idempotency-Key` records in D1 (rules in `domain::idempotency`, the entry point in
//! `app::idempotency`). A money-moving operation puts `completion` in its own batch, so the
//! stored answer commits with the money.
use super::row::row;
use super::{execute, first, int, run, stmt, text, Prepared, Result};
use crate::domain::money::BalanceAs;
use worker::D1Database;

row! {
    /// A stored record of an earlier request with the same key.
    pub struct Row {
        pub fingerprint: String,
        pub created_at: i64,
        pub status: Option<u16>,
        pub body: Option<String>,
    }
}

/// Claims `key` in `scope` for a request with this fingerprint, or takes over a record
/// created at or before `stale_before`, or a claim without an answer created at or before
/// `abandoned_before`; false when a live record holds the key.
pub async fn claim(
    db: &D1Database,
    scope: &str,
    key: &str,
    fingerprint: &str,
    now_ms: i64,
    stale_before: i64,
    abandoned_before: i64,
) -> Result<bool> {
    let sql = "INSERT INTO idempotency (scope, idem_key, fingerprint, created_at) VALUES (?1, ?2, \
        ?3, ?4) \
         ON CONFLICT (scope, idem_key) DO UPDATE SET fingerprint = excluded.fingerprint, \
           created_at = excluded.created_at, status = NULL, body = NULL \
         WHERE idempotency.created_at <= ?5 \
            OR (idempotency.status IS NULL AND idempotency.created_at <= ?6)";
    let args = [
        text(scope),
        text(key),
        text(fingerprint),
        int(now_ms),
        int(stale_before),
        int(abandoned_before),
    ];
    Ok(run(stmt(db, sql, &args)?).await? > 0)
}

pub async fn record(db: &D1Database, scope: &str, key: &str) -> Result<Option<Row>> {
    let sql = "SELECT fingerprint, created_at, status, body FROM idempotency \
         WHERE scope = ?1 AND idem_key = ?2";
    first(db, sql, &[text(scope), text(key)]).await
}

/// A field of the stored answer (a JSON path) to set, in the batch, to the balance after
/// the ledger row `tx_id` of the same batch.
pub struct BalanceFill<'a> {
    pub path: &'a str,
    pub tx_id: &'a str,
    pub format: BalanceAs,
}

/// The statement that stores the answer; put it in the batch that does the work.
pub fn completion(
    db: &D1Database,
    scope: &str,
    key: &str,
    status: u16,
    body: &str,
    fill: Option<BalanceFill<'_>>,
) -> Prepared {
    let args = [text(scope), text(key), int(i64::from(status)), text(body)];
    let Some(fill) = fill else {
        let sql =
            "UPDATE idempotency SET status = ?3, body = ?4 WHERE scope = ?1 AND idem_key = ?2";
        return stmt(db, sql, &args);
    };
    // `b` is the balance after the ledger row (never negative: CHECK balance_after >= 0).
    let value = match fill.format {
        BalanceAs::Credits => "b / 100",
        BalanceAs::Decimal => {
            "(b / 10000) || '.' || CASE WHEN length(rtrim(printf('%04d', b % 10000), '0')) < 2 \
             THEN substr(printf('%04d', b % 10000), 1, 2) ELSE rtrim(printf('%04d', b % 10000), \
             '0') END"
        }
    };
    let sql = format!(
        "UPDATE idempotency SET status = ?3, body = json_set(?4, ?5, \
           (SELECT {value} FROM (SELECT balance_after AS b FROM ledger WHERE id = ?6))) \
         WHERE scope = ?1 AND idem_key = ?2"
    );
    let [a, b, c, d] = args;
    stmt(db, &sql, &[a, b, c, d, text(fill.path), text(fill.tx_id)])
}

/// A statement that fails its batch (test fault injection: the answer cannot be stored).
pub fn failing(db: &D1Database, scope: &str) -> Prepared {
    let sql = "INSERT INTO idempotency (scope, idem_key, fingerprint, created_at) \
         VALUES (?1, NULL, NULL, NULL)";
    stmt(db, sql, &[text(scope)])
}

/// Releases the key after a failure that changed nothing, so the client may retry with it.
/// A record whose answer was stored (with the money) is kept.
pub async fn release(db: &D1Database, scope: &str, key: &str) -> Result<()> {
    let sql = "DELETE FROM idempotency WHERE scope = ?1 AND idem_key = ?2 AND status IS NULL";
    execute(db, sql, &[text(scope), text(key)]).await
}

/// Drops the record even if its answer was stored: the work it answered was undone (a
/// refunded delivery failure), so a retry with the key runs again.
pub async fn forget(db: &D1Database, scope: &str, key: &str) -> Result<()> {
    let sql = "DELETE FROM idempotency WHERE scope = ?1 AND idem_key = ?2";
    execute(db, sql, &[text(scope), text(key)]).await
}
