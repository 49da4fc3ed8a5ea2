//! Usage alerts (`usage_alerts`) and their crossings (`usage_notices`). A crossing is written
//! by the `spend` table's triggers (migration 0021) inside the charge's own batch, once per
//! alert and period; the scheduled pass turns each into a webhook event (`notified`).
use super::webhooks::{event_statement, Event};
use super::{all, batch, int, opt_int, run, stmt, text, Result};
use crate::domain::ids::new_id;
use crate::domain::usage::{Alert, Notice};
use worker::D1Database;

/// A new alert unless the account already holds `max` (`None` then).
pub async fn create(
    db: &D1Database,
    account_id: &str,
    period: &str,
    (threshold, percent): (Option<i64>, Option<i64>),
    max: u32,
    now_ms: i64,
) -> Result<Option<String>> {
    let id = new_id("ua")?;
    let added = run(stmt(
        db,
        "INSERT INTO usage_alerts (id, account_id, period, threshold, percent_of_cap, created_at) \
         SELECT ?1, ?2, ?3, ?4, ?5, ?6 \
         WHERE (SELECT COUNT(*) FROM usage_alerts WHERE account_id = ?2) < ?7",
        &[
            text(&id),
            text(account_id),
            text(period),
            opt_int(threshold),
            opt_int(percent),
            int(now_ms),
            int(i64::from(max)),
        ],
    )?)
    .await?;
    Ok((added > 0).then_some(id))
}

/// The account's alerts, oldest first, each with its crossing in the period of `now_ms`
/// (`d_key`, `m_key`: today's and this month's spend periods).
pub async fn list(
    db: &D1Database,
    account_id: &str,
    (d_key, m_key): (&str, &str),
) -> Result<Vec<Alert>> {
    all(stmt(
        db,
        "SELECT a.id, a.period, a.threshold, a.percent_of_cap, a.created_at, \
         (SELECT n.created_at FROM usage_notices n WHERE n.alert_id = a.id \
           AND n.period = CASE a.period WHEN 'daily' THEN ?2 ELSE ?3 END) AS crossed_at \
         FROM usage_alerts a WHERE a.account_id = ?1 ORDER BY a.created_at, a.id",
        &[text(account_id), text(d_key), text(m_key)],
    )?)
    .await
}

/// Deletes one of the account's alerts (its crossings stay recorded); whether there was one.
pub async fn delete(db: &D1Database, account_id: &str, id: &str) -> Result<bool> {
    let sql = "DELETE FROM usage_alerts WHERE id = ?1 AND account_id = ?2";
    Ok(run(stmt(db, sql, &[text(id), text(account_id)])?).await? > 0)
}

/// The account's latest crossings, newest first.
pub async fn notices(db: &D1Database, account_id: &str, limit: u32) -> Result<Vec<Notice>> {
    all(stmt(
        db,
        "SELECT alert_id, account_id, period, spent, threshold, created_at FROM usage_notices \
         WHERE account_id = ?1 ORDER BY created_at DESC LIMIT ?2",
        &[text(account_id), int(i64::from(limit))],
    )?)
    .await
}

/// Crossings not yet turned into webhook events, oldest first.
pub async fn unnotified(db: &D1Database, limit: u32) -> Result<Vec<Notice>> {
    all(stmt(
        db,
        "SELECT alert_id, account_id, period, spent, threshold, created_at FROM usage_notices \
         WHERE notified_at IS NULL ORDER BY created_at LIMIT ?1",
        &[int(i64::from(limit))],
    )?)
    .await
}

/// Records a crossing's webhook event (if the account has an endpoint; once per alert and
/// period: `version`) and marks the crossing notified, in one batch.
pub async fn notify(db: &D1Database, n: &Notice, event: &Event<'_>, now_ms: i64) -> Result<()> {
    let mark = stmt(
        db,
        "UPDATE usage_notices SET notified_at = ?3 WHERE alert_id = ?1 AND period = ?2",
        &[text(&n.alert_id), text(&n.period), int(now_ms)],
    )?;
    batch(db, vec![event_statement(db, event, now_ms)?, mark]).await?;
    Ok(())
}
