//! The fraud guard's policy per account (`fraud_policies`).
use super::{first_value, int, text, Result};
use worker::{D1Database, D1PreparedStatement};

/// The account's stored policy (JSON), if it set one.
pub async fn policy(db: &D1Database, account_id: &str) -> Result<Option<String>> {
    let sql = "SELECT policy FROM fraud_policies WHERE account_id = ?1";
    first_value(db, sql, &[text(account_id)], "policy").await
}

/// Stores the account's policy (JSON), replacing the one before, in one transaction with its
/// audit row.
pub async fn set_policy(
    db: &D1Database,
    account_id: &str,
    policy: &str,
    now_ms: i64,
    audit: D1PreparedStatement,
) -> Result<()> {
    let sql = "INSERT INTO fraud_policies (account_id, policy, updated_at) VALUES (?1, ?2, ?3) \
        ON CONFLICT (account_id) DO UPDATE SET policy = excluded.policy, \
        updated_at = excluded.updated_at";
    super::audited(
        db,
        sql,
        &[text(account_id), text(policy), int(now_ms)],
        audit,
    )
    .await?;
    Ok(())
}
