//! Twilio Verify's Verification Attempts: each send of a verification (`verify_sends`) with
//! its OTP session, read newest first by the account's sessions index (`account_id,
//! created_at, id`), and counted over spans of time for summaries (whole days come from
//! `store::stats`).
use super::{all, first, int, opt_text, stmt, text, Result};
use crate::domain::stats::{Attempt, AttemptFilter, Conversion, PageToken};
use worker::D1Database;

const ATTEMPT_COLUMNS: &str = "s.id AS sid, v.service_sid, vs.verification_sid, vs.channel, \
    s.phone AS to_phone, s.country, s.cost, s.created_at, s.verified_at";

/// The joins from a session to its Twilio send and verification (sessions of other doors
/// have no `verify_sends` row and are left out).
const ATTEMPT_JOINS: &str = "otp_sessions s JOIN verify_sends vs ON vs.session_id = s.id \
    JOIN verify_verifications v ON v.sid = vs.verification_sid";

/// The filters, over `?1` (account) … `?10`.
const ATTEMPT_FILTER: &str = "s.account_id = ?1 AND s.created_at >= ?2 AND s.created_at < ?3 \
    AND (?4 IS NULL OR s.phone = ?4) AND (?5 IS NULL OR s.country = ?5) \
    AND (?6 IS NULL OR s.channel = ?6) AND (?7 IS NULL OR v.service_sid = ?7) \
    AND (?8 IS NULL OR vs.verification_sid = ?8) \
    AND (?9 IS NULL OR (s.verified_at IS NOT NULL) = ?9) \
    AND (?10 IS NULL OR substr(s.phone, 1, length(?10)) = ?10)";

fn filter_args(account_id: &str, f: &AttemptFilter) -> Vec<worker::wasm_bindgen::JsValue> {
    vec![
        text(account_id),
        int(f.after_ms),
        int(f.before_ms),
        opt_text(f.to.as_deref()),
        opt_text(f.country.as_deref()),
        opt_text(f.channel.as_deref()),
        opt_text(f.service_sid.as_deref()),
        opt_text(f.verification_sid.as_deref()),
        super::opt_int(f.converted.map(i64::from)),
        opt_text(f.prefix.as_deref()),
    ]
}

/// One page of the account's attempts, newest first: after `token` when given, else from
/// `offset`; `limit` rows at most.
pub async fn list(
    db: &D1Database,
    account_id: &str,
    f: &AttemptFilter,
    token: Option<&PageToken>,
    offset: i64,
    limit: i64,
) -> Result<Vec<Attempt>> {
    let sql = format!(
        "SELECT {ATTEMPT_COLUMNS} FROM {ATTEMPT_JOINS} WHERE {ATTEMPT_FILTER} \
           AND (?11 IS NULL OR s.created_at < ?11 OR (s.created_at = ?11 AND s.id < ?12)) \
         ORDER BY s.created_at DESC, s.id DESC LIMIT ?13 OFFSET ?14"
    );
    let mut args = filter_args(account_id, f);
    args.extend([
        super::opt_int(token.map(|t| t.created_at)),
        opt_text(token.map(|t| t.sid.as_str())),
        int(limit),
        int(offset),
    ]);
    all(stmt(db, &sql, &args)?).await
}

/// One attempt of the account.
pub async fn find(db: &D1Database, account_id: &str, sid: &str) -> Result<Option<Attempt>> {
    let sql = format!(
        "SELECT {ATTEMPT_COLUMNS} FROM {ATTEMPT_JOINS} WHERE s.id = ?1 AND s.account_id = ?2"
    );
    first(stmt(db, &sql, &[text(sid), text(account_id)])?).await
}

/// The account's attempts that pass `f`, and how many were verified.
pub async fn count(db: &D1Database, account_id: &str, f: &AttemptFilter) -> Result<Conversion> {
    let sql = format!(
        "SELECT COUNT(*) AS attempts, COUNT(s.verified_at) AS converted \
         FROM {ATTEMPT_JOINS} WHERE {ATTEMPT_FILTER}"
    );
    let found = first(stmt(db, &sql, &filter_args(account_id, f))?).await?;
    Ok(found.unwrap_or_default())
}
