//! Refunds owed (`refunds_owed`): a refund that could not be made on the spot is written
//! here, and the scheduled pass pays it. One row per charged object and refund kind. When
//! D1 cannot take that row either, the refund is kept in KV (`OTP_SESSIONS`, under
//! `refund:`), which the pass reads too.
use super::row::row;
use super::wallet::Kind;
use super::{all, execute, int, stmt, text, Prepared, Result, StoreError};
use worker::{D1Database, Env};

row! {
    /// A refund owed: `cost` (minor units) back to `account_id` for `object_id`, as `kind`.
    #[derive(Debug, Clone)]
    pub struct Owed {
        pub object_id: String,
        pub kind: String,
        pub account_id: String,
        pub cost: i64,
    }
}

/// Records a refund owed; recording the same one again changes nothing.
pub async fn owe(
    db: &D1Database,
    object_id: &str,
    kind: Kind,
    account_id: &str,
    cost: i64,
    now_ms: i64,
) -> Result<()> {
    let sql = "INSERT INTO refunds_owed (object_id, kind, account_id, cost, created_at) \
               VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (object_id, kind) DO NOTHING";
    let args = [
        text(object_id),
        text(kind.as_str()),
        text(account_id),
        int(cost),
        int(now_ms),
    ];
    execute(db, sql, &args).await
}

/// Marks the refund owed for `object_id` as `kind` paid, for the batch of its ledger row
/// (it changes nothing when none is owed).
pub fn paid_statement(db: &D1Database, object_id: &str, kind: Kind, now_ms: i64) -> Prepared {
    stmt(
        db,
        "UPDATE refunds_owed SET paid_at = ?3 WHERE object_id = ?1 AND kind = ?2 \
         AND paid_at IS NULL",
        &[text(object_id), text(kind.as_str()), int(now_ms)],
    )
}

/// Up to `limit` refunds owed at or before `now_ms` and not yet paid, the oldest first.
pub async fn unpaid(db: &D1Database, now_ms: i64, limit: u32) -> Result<Vec<Owed>> {
    let sql = "SELECT object_id, kind, account_id, cost FROM refunds_owed \
               WHERE paid_at IS NULL AND created_at <= ?1 ORDER BY created_at LIMIT ?2";
    all(db, sql, &[int(now_ms), int(i64::from(limit))]).await
}

/// The KV namespace of refunds kept out of D1, their key prefix, and how long one is kept.
const KV: &str = "OTP_SESSIONS";
const KV_PREFIX: &str = "refund:";
const KV_TTL_SECS: u64 = 30 * 86_400;

fn kv(env: &Env) -> Result<worker::kv::KvStore> {
    env.kv(KV)
        .map_err(|e| StoreError::other(format!("KV binding {KV}: {e}")))
}

/// Keeps a refund owed in KV (`json`: the refund to make), under one key per charged object
/// and refund kind.
pub async fn owe_in_kv(env: &Env, object_id: &str, kind: Kind, json: &str) -> Result<()> {
    let key = format!("{KV_PREFIX}{}:{object_id}", kind.as_str());
    let fail = |e: worker::kv::KvError| StoreError::other(format!("KV put: {e}"));
    kv(env)?
        .put(&key, json)
        .map_err(fail)?
        .expiration_ttl(KV_TTL_SECS)
        .execute()
        .await
        .map_err(fail)
}

/// Up to `limit` refunds kept in KV: each one's key and the refund (JSON).
pub async fn owed_in_kv(env: &Env, limit: u64) -> Result<Vec<(String, String)>> {
    let store = kv(env)?;
    let fail = |e: worker::kv::KvError| StoreError::other(format!("KV: {e}"));
    let listed = store
        .list()
        .prefix(KV_PREFIX.to_owned())
        .limit(limit)
        .execute()
        .await
        .map_err(fail)?;
    let mut out = Vec::with_capacity(listed.keys.len());
    for key in listed.keys {
        if let Some(json) = store.get(&key.name).text().await.map_err(fail)? {
            out.push((key.name, json));
        }
    }
    Ok(out)
}

/// Forgets a refund kept in KV once it was made.
pub async fn paid_in_kv(env: &Env, key: &str) -> Result<()> {
    let fail = |e: worker::kv::KvError| StoreError::other(format!("KV delete: {e}"));
    kv(env)?.delete(key).await.map_err(fail)
}
