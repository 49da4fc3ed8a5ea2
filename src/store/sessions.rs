//! OTP sessions in D1 (`otp_sessions`, the durable record: the send's guarded insert, and
//! the counters mirrored from the session's Durable Object, which decides the checks) and
//! the KV record a send writes when it could not open the session's object (`OTP_SESSIONS`,
//! TTL = lifetime; the code only as its MAC).
use super::row::row;
use super::webhooks::OTP_RESULT_SQL;
use super::{all_values, first, int, opt_text, stmt, text, Prepared, Result};
use super::{ConstraintKind, StoreError};
use crate::domain::ids::new_id;
use crate::domain::otp::SendRules;
use crate::domain::otp_check::Session;
use crate::domain::phone::{Phone, PlusSign};
use serde::{Deserialize, Serialize};
use worker::{D1Database, Env};

/// KV's smallest TTL; shorter lifetimes are enforced by `expires_at` instead.
const KV_MIN_TTL_SECS: u64 = 60;

/// What KV holds for a session. The code is never stored, only its MAC.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KvSession {
    pub account_id: String,
    pub phone: String,
    pub channel: String,
    pub code_mac: String,
    pub expires_at: i64,
    /// Absent in records written before the session's object could restore a session from
    /// KV; such a record is not used for that.
    #[serde(default)]
    pub created_at: Option<i64>,
}

fn kv_key(session_id: &str) -> String {
    format!("otp:{session_id}")
}

pub async fn put_kv(env: &Env, session_id: &str, session: &KvSession, ttl_secs: u64) -> Result<()> {
    let kv = env
        .kv("OTP_SESSIONS")
        .map_err(|e| StoreError::other(format!("KV binding OTP_SESSIONS: {e}")))?;
    let value = serde_json::to_string(session)
        .map_err(|e| StoreError::other(format!("session encode: {e}")))?;
    kv.put(&kv_key(session_id), value)
        .map_err(|e| StoreError::other(format!("KV put: {e}")))?
        .expiration_ttl(ttl_secs.max(KV_MIN_TTL_SECS))
        .execute()
        .await
        .map_err(|e| StoreError::other(format!("KV put: {e}")))
}

/// A session's KV record, if KV has it here (`None`: never written, expired, or not yet
/// visible in this location).
pub async fn get_kv(env: &Env, session_id: &str) -> Result<Option<KvSession>> {
    let kv = env
        .kv("OTP_SESSIONS")
        .map_err(|e| StoreError::other(format!("KV binding OTP_SESSIONS: {e}")))?;
    let value = kv
        .get(&kv_key(session_id))
        .text()
        .await
        .map_err(|e| StoreError::other(format!("KV get: {e}")))?;
    match value {
        Some(json) => serde_json::from_str(&json)
            .map(Some)
            .map_err(|e| StoreError::other(format!("session decode: {e}"))),
        None => Ok(None),
    }
}

/// A send: its id, the account that sends, and to which phone on which channel.
#[derive(Debug, Clone, Copy)]
pub struct SendTo<'a> {
    pub id: &'a str,
    pub account_id: &'a str,
    pub phone: &'a str,
    pub channel: &'a str,
}

/// What a session is for: the send it checks, and where it comes from.
#[derive(Debug, Clone, Copy)]
pub struct Issue<'a> {
    pub to: SendTo<'a>,
    /// Which front door opened it (`whatotp`, `getotp`, `message`, …).
    pub dialect: &'a str,
    pub sender: Option<&'a str>,
    pub template_id: Option<&'a str>,
    /// Echoed to the webhook with the session's result event.
    pub payload: Option<&'a str>,
    /// The hash of an API key that must be live, with the `otp:send` scope (its account
    /// approved), for the insert to happen: the send's batch confirms a key nothing else
    /// confirmed (`account_id` NULL otherwise, so the batch fails as for an inactive account).
    pub key_hash: Option<&'a str>,
    /// The hash of the API key that sends, recorded (as the key's id) for the statistics.
    pub api_key: Option<&'a str>,
}

/// A session to record with its send.
pub struct NewSession<'a> {
    pub issue: Issue<'a>,
    pub created_at: i64,
    pub expires_at: i64,
    pub max_attempts: i64,
}

/// Whether a send's batch failed on the resend guard (`send_allowed` is NOT NULL): a
/// parallel send to the same phone passed it first.
pub fn send_refused(e: &StoreError) -> bool {
    e.on_constraint(ConstraintKind::NotNull, "otp_sessions.send_allowed")
}

/// Whether a send's batch failed because its account is not active (the insert's account
/// is read inside the batch, NULL then).
pub fn account_inactive(e: &StoreError) -> bool {
    e.on_constraint(ConstraintKind::NotNull, "otp_sessions.account_id")
}

/// Whether a send priced from the catalog found no price (`cost` NULL).
pub fn no_price(e: &StoreError) -> bool {
    e.on_constraint(ConstraintKind::NotNull, "otp_sessions.cost")
}

/// Where a new session's cost comes from.
#[derive(Debug, Clone, Copy)]
pub enum Cost<'a> {
    /// Already known (read before the batch, or free).
    Fixed(i64),
    /// The catalog's price for this country on the session's channel, read inside the batch
    /// (NULL when there is none: the batch fails, see `no_price`).
    Catalog { country: &'a str },
}

/// Inserts the session only if its account is active and the resend rules allow a send to
/// this phone now: otherwise `account_id` or `send_allowed` is NULL and the whole batch
/// (charge included) rolls back. D1 runs the statement atomically, so parallel sends cannot
/// both pass the guard. With `Cost::Catalog` the price is read in the same statement, so a
/// send is ONE round trip: account, price, resend rules and the session together.
pub fn insert_statement(
    db: &D1Database,
    s: &NewSession<'_>,
    rules: SendRules,
    cost: Cost<'_>,
) -> Prepared {
    let (cost_sql, cost_arg) = match cost {
        Cost::Fixed(c) => ("?9", int(c)),
        Cost::Catalog { country } => (
            "(SELECT cost FROM otp_prices WHERE country = ?9 AND channel = ?4)",
            text(country),
        ),
    };
    let sql = format!(
        "INSERT INTO otp_sessions (id, account_id, phone, channel, dialect, sender, \
        template_id, payload, cost, created_at, expires_at, max_attempts, send_allowed, country, \
        api_key_id) \
         VALUES (?1, (SELECT id FROM accounts WHERE id = ?2 AND status = 'active' AND (?16 IS NULL \
           OR (approved = 1 AND EXISTS (SELECT 1 FROM api_keys WHERE key_hash = ?16 \
           AND account_id = ?2 AND revoked_at IS NULL \
           AND (scopes IS NULL OR instr(' ' || scopes || ' ', ' otp:send ') > 0))))), \
           ?3, ?4, ?5, \
           ?6, ?7, ?8, {cost_sql}, ?10, ?11, ?12, \
           (SELECT 1 WHERE (SELECT COUNT(*) FROM otp_sessions WHERE account_id = ?2 AND phone = ?3 \
           AND created_at > ?10 - ?13) < ?14 \
             AND NOT EXISTS (SELECT 1 FROM otp_sessions WHERE account_id = ?2 AND phone = ?3 AND \
             created_at > ?10 - ?15)), ?17, \
           (SELECT id FROM api_keys WHERE key_hash = ?18 AND account_id = ?2))"
    );
    let (i, to) = (&s.issue, &s.issue.to);
    let country = Phone::parse(to.phone, PlusSign::Required)
        .ok()
        .and_then(|p| p.country());
    stmt(
        db,
        &sql,
        &[
            text(to.id),
            text(to.account_id),
            text(to.phone),
            text(to.channel),
            text(i.dialect),
            opt_text(i.sender),
            opt_text(i.template_id),
            opt_text(i.payload),
            cost_arg,
            int(s.created_at),
            int(s.expires_at),
            int(s.max_attempts),
            int(rules.window_ms),
            int(rules.max_sends),
            int(rules.interval_ms),
            opt_text(i.key_hash),
            opt_text(country),
            opt_text(i.api_key),
        ],
    )
}

/// What a new session costs, as recorded by its insert: an SQL expression over the session
/// id bound as `?2` (for `wallet::Delta::ChargeOf`, so the charge is exactly that).
pub const COST_OF_SESSION: &str = "(SELECT cost FROM otp_sessions WHERE id = ?2)";

/// What a send's batch reads back after it wrote: the session's cost and the send times to
/// its phone within the window (its own included), for `resend_available_at`.
pub fn sent_statement(db: &D1Database, id: &str, window_ms: i64) -> Prepared {
    stmt(
        db,
        "SELECT s.cost, (SELECT json_group_array(created_at) FROM (SELECT o.created_at \
           FROM otp_sessions o WHERE o.account_id = s.account_id AND o.phone = s.phone \
           AND o.created_at > s.created_at - ?2 ORDER BY o.created_at)) AS times \
         FROM otp_sessions s WHERE s.id = ?1",
        &[text(id), int(window_ms)],
    )
}

row! {
    /// The row `sent_statement` reads.
    #[derive(Debug, Clone)]
    pub struct SentRow {
        pub cost: i64,
        /// A JSON array of Unix milliseconds.
        pub times: String,
    }
}

/// Send times (ms) to this phone from this account within the window.
pub async fn send_times(
    db: &D1Database,
    account_id: &str,
    phone: &str,
    since_ms: i64,
) -> Result<Vec<i64>> {
    let sql = "SELECT created_at FROM otp_sessions WHERE account_id = ?1 AND phone = ?2 \
        AND created_at > ?3 ORDER BY created_at";
    all_values(
        db,
        sql,
        &[text(account_id), text(phone), int(since_ms)],
        "created_at",
    )
    .await
}

const SESSION_COLUMNS: &str =
    "id, account_id, phone, channel, created_at, expires_at, attempts, max_attempts, verified_at";

/// The session, if it exists and belongs to this account.
pub async fn find(db: &D1Database, account_id: &str, id: &str) -> Result<Option<Session>> {
    first(
        db,
        &format!("SELECT {SESSION_COLUMNS} FROM otp_sessions WHERE id = ?1 AND account_id = ?2"),
        &[text(id), text(account_id)],
    )
    .await
}

/// The counters of the session's Durable Object (the authority) into its D1 row. Each only
/// grows, so mirrors that arrive in any order, or twice, leave the row at the latest state.
pub fn mirror_statement(
    db: &D1Database,
    id: &str,
    attempts: i64,
    verified_at: Option<i64>,
) -> Prepared {
    stmt(
        db,
        "UPDATE otp_sessions SET attempts = MAX(attempts, ?2), \
            verified_at = COALESCE(verified_at, ?3) WHERE id = ?1",
        &[text(id), int(attempts), super::opt_int(verified_at)],
    )
}

/// Which result events a statement may record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResultEvents {
    /// Any the session's state implies, expiry included (after the owner's key was checked).
    All,
    /// Only what a check can cause (verified, failed): the check batch runs before anyone
    /// is known to own the session, and must have no effect when the key is not the owner's.
    OfCheck,
}

/// Records the session's result event (`otp.verified`, `otp.failed`, `otp.expired`) for the
/// account's webhook (if it has an endpoint), once per type, if the session is in that state.
/// The payload the client sent with the send is echoed in `data.payload`.
pub fn result_event_statement(
    db: &D1Database,
    id: &str,
    now_ms: i64,
    events: ResultEvents,
) -> Prepared {
    let event_id = new_id("evt")?;
    let sql = format!(
        "INSERT OR IGNORE INTO webhook_events (id, account_id, event_type, object_id, data, \
            created_at) \
         SELECT ?2, account_id, event_type, id, {OTP_RESULT_SQL}, ?3 \
         FROM (SELECT *, CASE WHEN verified_at IS NOT NULL THEN 'otp.verified' \
           WHEN attempts >= max_attempts THEN 'otp.failed' \
           WHEN ?4 = 1 AND expires_at <= ?3 THEN 'otp.expired' END AS event_type \
           FROM otp_sessions WHERE id = ?1) s \
         WHERE s.event_type IS NOT NULL \
           AND EXISTS (SELECT 1 FROM webhook_endpoints w WHERE w.account_id = s.account_id)"
    );
    let all = i64::from(events == ResultEvents::All);
    stmt(
        db,
        &sql,
        &[text(id), text(&event_id), int(now_ms), int(all)],
    )
}
