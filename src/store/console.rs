//! The operator console's sign-in sessions (`admin_sessions`): the admin token exchanged once
//! for a cookie. A session is stored as the SHA-256 of its token, with its audit row in the
//! same batch when it opens and when it ends.
use super::{first_value, int, opt_text, text, Result};
use worker::{D1Database, D1PreparedStatement};

/// Opens a session, in one transaction with its audit row.
pub async fn open(
    db: &D1Database,
    id: &str,
    token_hash: &str,
    ip: Option<&str>,
    (now_ms, expires_at): (i64, i64),
    audit: D1PreparedStatement,
) -> Result<()> {
    let sql = "INSERT INTO admin_sessions (id, token_hash, created_at, expires_at, ip) \
         VALUES (?1, ?2, ?3, ?4, ?5)";
    super::audited(
        db,
        sql,
        &[
            text(id),
            text(token_hash),
            int(now_ms),
            int(expires_at),
            opt_text(ip),
        ],
        audit,
    )
    .await?;
    Ok(())
}

/// The id of the live session (not revoked, not expired at `now_ms`) behind a token hash.
pub async fn live(db: &D1Database, token_hash: &str, now_ms: i64) -> Result<Option<String>> {
    let sql = "SELECT id FROM admin_sessions WHERE token_hash = ?1 AND revoked_at IS NULL \
               AND expires_at > ?2";
    first_value(db, sql, &[text(token_hash), int(now_ms)], "id").await
}

/// Ends a session, in one transaction with its audit row (an `append_if_changed`).
pub async fn revoke(
    db: &D1Database,
    id: &str,
    now_ms: i64,
    audit: D1PreparedStatement,
) -> Result<()> {
    let sql = "UPDATE admin_sessions SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL";
    super::audited(db, sql, &[text(id), int(now_ms)], audit).await?;
    Ok(())
}
