//! Spend caps and what has been spent against them. An account's caps live in
//! `account_limits`; what it spent, per UTC day and UTC month, in `spend`, which every ledger
//! row that charges or refunds updates in its own batch (`spend_statement`, added by
//! `wallet::change_statements`). The cap in force is copied
//! into the spend row by that same statement, so the table's CHECKs (`spend_cap_daily`,
//! `spend_cap_monthly`) refuse a charge past a cap inside the debit's transaction: parallel
//! charges cannot overrun it.
use super::{first, int, opt_int, stmt, text, Prepared, Result};
use crate::domain::account::Spending;
use worker::{D1Database, D1PreparedStatement};

/// Updates the spend of ledger row `tx_id`'s account, and of the API key that paid it when
/// one did (`ledger.key_id`): a charge adds to the day and the month it was made in, with
/// the cap in force for each (the account's, the key's) copied in, so the spend CHECKs
/// refuse it past either cap; a refund gives back to the day and month of the charge of the
/// same object, to the charge's key too. Other rows (top-ups) change nothing.
pub fn spend_statement(db: &D1Database, tx_id: &str) -> Prepared {
    stmt(
        db,
        "INSERT INTO spend (scope_kind, scope_id, period, amount, cap) \
         SELECT scope.kind, CASE scope.kind WHEN 'key' THEN l.key_id ELSE l.account_id END, \
           period.kind || ':' || strftime(period.fmt, l.charged_at / 1000, 'unixepoch'), \
           -l.amount, \
           CASE period.kind WHEN 'd' THEN COALESCE(lim.spend_cap_daily, k.spend_cap_daily) \
             ELSE COALESCE(lim.spend_cap_monthly, k.spend_cap_monthly) END \
         FROM (SELECT r.account_id, r.amount, c.created_at AS charged_at, c.key_id \
           FROM ledger r JOIN ledger c ON c.id = CASE WHEN r.amount < 0 THEN r.id ELSE \
             (SELECT p.id FROM ledger p WHERE p.object_id = r.object_id \
              AND p.account_id = r.account_id AND p.amount < 0) END \
           WHERE r.id = ?1 AND r.kind NOT IN ('topup', 'adjustment')) l \
         JOIN (SELECT 'd' AS kind, '%Y-%m-%d' AS fmt UNION ALL SELECT 'm', '%Y-%m') period \
         JOIN (SELECT 'account' AS kind UNION ALL SELECT 'key') scope \
         LEFT JOIN account_limits lim ON scope.kind = 'account' \
           AND lim.account_id = l.account_id \
         LEFT JOIN api_keys k ON scope.kind = 'key' AND k.id = l.key_id \
         WHERE scope.kind = 'account' OR l.key_id IS NOT NULL \
         ON CONFLICT (scope_kind, scope_id, period) DO UPDATE SET \
           amount = amount + excluded.amount, \
           cap = CASE WHEN excluded.amount > 0 THEN excluded.cap ELSE cap END",
        &[text(tx_id)],
    )
}

/// The account's caps and spend in the periods of `now_ms`.
pub async fn get(db: &D1Database, account_id: &str, now_ms: i64) -> Result<Spending> {
    let found = first::<Spending>(
        db,
        "SELECT (SELECT spend_cap_daily FROM account_limits WHERE account_id = ?1) \
           AS spend_cap_daily, \
         (SELECT spend_cap_monthly FROM account_limits WHERE account_id = ?1) \
           AS spend_cap_monthly, \
         COALESCE((SELECT amount FROM spend WHERE scope_kind = 'account' AND scope_id = ?1 \
           AND period = 'd:' || strftime('%Y-%m-%d', ?2 / 1000, 'unixepoch')), 0) \
           AS spent_today, \
         COALESCE((SELECT amount FROM spend WHERE scope_kind = 'account' AND scope_id = ?1 \
           AND period = 'm:' || strftime('%Y-%m', ?2 / 1000, 'unixepoch')), 0) \
           AS spent_this_month",
        &[text(account_id), int(now_ms)],
    )
    .await?;
    Ok(found.unwrap_or_default())
}

/// Sets the account's caps (`None`: no cap), in one transaction with its audit row; they
/// hold from the next charge.
pub async fn put(
    db: &D1Database,
    account_id: &str,
    daily: Option<i64>,
    monthly: Option<i64>,
    now_ms: i64,
    audit: D1PreparedStatement,
) -> Result<()> {
    let sql = "INSERT INTO account_limits (account_id, spend_cap_daily, spend_cap_monthly, \
         updated_at) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (account_id) DO UPDATE SET \
         spend_cap_daily = excluded.spend_cap_daily, \
         spend_cap_monthly = excluded.spend_cap_monthly, updated_at = excluded.updated_at";
    super::audited(
        db,
        sql,
        &[
            text(account_id),
            opt_int(daily),
            opt_int(monthly),
            int(now_ms),
        ],
        audit,
    )
    .await?;
    Ok(())
}
