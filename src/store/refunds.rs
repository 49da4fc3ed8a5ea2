//! Refunds owed (`refunds_owed`): a refund that could not be made on the spot is written
//! here, and the scheduled pass pays it. One row per charged object and refund kind.
use super::row::from_row;
use super::wallet::Kind;
use super::{all, int, run, stmt, text, StoreError};
use worker::{D1Database, D1PreparedStatement};

/// A refund owed: `cost` (minor units) back to `account_id` for `object_id`, as `kind`.
#[derive(Debug, Clone)]
pub struct Owed {
    pub object_id: String,
    pub kind: String,
    pub account_id: String,
    pub cost: i64,
}
from_row!(Owed {
    object_id,
    kind,
    account_id,
    cost
});

/// Records a refund owed; recording the same one again changes nothing.
pub async fn owe(
    db: &D1Database,
    object_id: &str,
    kind: Kind,
    account_id: &str,
    cost: i64,
    now_ms: i64,
) -> Result<(), StoreError> {
    let sql = "INSERT INTO refunds_owed (object_id, kind, account_id, cost, created_at) \
               VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (object_id, kind) DO NOTHING";
    let args = [
        text(object_id),
        text(kind.as_str()),
        text(account_id),
        int(cost),
        int(now_ms),
    ];
    run(stmt(db, sql, &args)?).await?;
    Ok(())
}

/// Marks the refund owed for `object_id` as `kind` paid, for the batch of its ledger row
/// (it changes nothing when none is owed).
pub fn paid_statement(
    db: &D1Database,
    object_id: &str,
    kind: Kind,
    now_ms: i64,
) -> Result<D1PreparedStatement, StoreError> {
    stmt(
        db,
        "UPDATE refunds_owed SET paid_at = ?3 WHERE object_id = ?1 AND kind = ?2 \
         AND paid_at IS NULL",
        &[text(object_id), text(kind.as_str()), int(now_ms)],
    )
}

/// Up to `limit` refunds owed at or before `now_ms` and not yet paid, the oldest first.
pub async fn unpaid(db: &D1Database, now_ms: i64, limit: u32) -> Result<Vec<Owed>, StoreError> {
    let sql = "SELECT object_id, kind, account_id, cost FROM refunds_owed \
               WHERE paid_at IS NULL AND created_at <= ?1 ORDER BY created_at LIMIT ?2";
    all(stmt(db, sql, &[int(now_ms), int(i64::from(limit))])?).await
}
