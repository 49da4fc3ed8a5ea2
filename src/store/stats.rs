//! Statistics: the rollups `otp_stats` and `activation_stats` (per account and UTC day),
//! kept by the triggers of migration `0015_stats_rollups` in the transaction of each send,
//! check, order, status change and ledger row; and the fraud guard's refusals, written here
//! (`blocked_statement`) with the refusal's own record. Every read covers a range of days
//! of the rollups, never the sessions or activations themselves.
use super::{all, first, int, opt_text, stmt, text, Prepared, Result};
use crate::domain::stats::{ActivationGroup, ActivationStats, AttemptFilter, Conversion};
use crate::domain::stats::{OtpGroup, OtpStats, Range};
use worker::D1Database;

/// Whose rollup rows a query reads: `account_id = ?1`, or every account's (the operator).
fn scope(account: Option<&str>) -> &'static str {
    match account {
        Some(_) => "account_id = ?1 AND ",
        None => "",
    }
}

/// The account's (or every account's) OTP counters in the range, one row per group.
pub async fn otp(
    db: &D1Database,
    account: Option<&str>,
    group: OtpGroup,
    range: &Range,
) -> Result<Vec<OtpStats>> {
    let (scope, otp_key) = (scope(account), group.column());
    let sql = format!(
        "SELECT {otp_key} AS key, SUM(sends) AS sends, SUM(verified) AS verified, \
           SUM(blocked) AS blocked, SUM(spend) AS spend \
         FROM otp_stats WHERE {scope}day BETWEEN ?2 AND ?3 GROUP BY 1 ORDER BY 1"
    );
    let args = [opt_text(account), text(&range.from), text(&range.to)];
    all(stmt(db, &sql, &args)?).await
}

/// The account's (or every account's) activation counters in the range, one row per group.
pub async fn activations(
    db: &D1Database,
    account: Option<&str>,
    group: ActivationGroup,
    range: &Range,
) -> Result<Vec<ActivationStats>> {
    let (scope, activation_key) = (scope(account), group.column());
    let sql = format!(
        "SELECT {activation_key} AS key, SUM(orders) AS orders, \
           SUM(sms_received) AS sms_received, SUM(completed) AS completed, \
           SUM(cancelled) AS cancelled, SUM(expired) AS expired, SUM(refunded) AS refunded, \
           SUM(spend) AS spend \
         FROM activation_stats WHERE {scope}day BETWEEN ?2 AND ?3 GROUP BY 1 ORDER BY 1"
    );
    let args = [opt_text(account), text(&range.from), text(&range.to)];
    all(stmt(db, &sql, &args)?).await
}

/// A send the fraud guard refused, as the rollup counts it.
pub struct Blocked<'a> {
    pub account_id: &'a str,
    pub country: Option<&'a str>,
    pub channel: &'a str,
    /// The prefix the fraud guard counts (`domain::fraud::prefix`).
    pub prefix: &'a str,
    pub door: &'a str,
    pub at_ms: i64,
}

/// Counts a refused send on its day (for the batch that records the refusal).
pub fn blocked_statement(db: &D1Database, b: &Blocked<'_>) -> Prepared {
    stmt(
        db,
        "INSERT INTO otp_stats (account_id, day, country, channel, prefix, api_key, door, \
           blocked) VALUES (?1, strftime('%Y-%m-%d', ?2 / 1000, 'unixepoch'), ?3, ?4, ?5, '', \
           ?6, 1) \
         ON CONFLICT (account_id, day, country, channel, prefix, api_key, door) \
         DO UPDATE SET blocked = blocked + 1",
        &[
            text(b.account_id),
            int(b.at_ms),
            text(b.country.unwrap_or("")),
            text(b.channel),
            text(b.prefix),
            text(b.door),
        ],
    )
}

/// The account's Twilio Verify sends and conversions over whole UTC days, from the rollups
/// (`f`'s country, channel and prefix; its other filters are not in the rollups).
pub async fn twilio_conversion(
    db: &D1Database,
    account_id: &str,
    range: &Range,
    f: &AttemptFilter,
) -> Result<Conversion> {
    let found = first::<Conversion>(stmt(
        db,
        "SELECT COALESCE(SUM(sends), 0) AS attempts, COALESCE(SUM(verified), 0) AS converted \
         FROM otp_stats WHERE account_id = ?1 AND day BETWEEN ?2 AND ?3 AND door = 'twilio' \
           AND (?4 IS NULL OR country = ?4) AND (?5 IS NULL OR channel = ?5) \
           AND (?6 IS NULL OR substr(prefix, 1, length(?6)) = ?6)",
        &[
            text(account_id),
            text(&range.from),
            text(&range.to),
            opt_text(f.country.as_deref()),
            opt_text(f.channel.as_deref()),
            opt_text(f.prefix.as_deref()),
        ],
    )?)
    .await?;
    Ok(found.unwrap_or_default())
}
