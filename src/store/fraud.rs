//! The fraud guard's policy per account (`fraud_policies`).
use super::{first, int, run, stmt, text, StoreError};
use worker::D1Database;

/// The account's stored policy (JSON), if it set one.
pub async fn policy(db: &D1Database, account_id: &str) -> Result<Option<String>, StoreError> {
    #[derive(serde::Deserialize)]
    struct Row {
        policy: String,
    }
    let sql = "SELECT policy FROM fraud_policies WHERE account_id = ?1";
    let row: Option<Row> = first(stmt(db, sql, &[text(account_id)])?).await?;
    Ok(row.map(|r| r.policy))
}

/// Stores the account's policy (JSON), replacing the one before.
pub async fn set_policy(
    db: &D1Database,
    account_id: &str,
    policy: &str,
    now_ms: i64,
) -> Result<(), StoreError> {
    let sql = "INSERT INTO fraud_policies (account_id, policy, updated_at) VALUES (?1, ?2, ?3) \
        ON CONFLICT (account_id) DO UPDATE SET policy = excluded.policy, \
        updated_at = excluded.updated_at";
    run(stmt(
        db,
        sql,
        &[text(account_id), text(policy), int(now_ms)],
    )?)
    .await?;
    Ok(())
}
