//! OTP sessions: the code's MAC in KV (`OTP_SESSIONS`, TTL = lifetime), and the session's
//! counters in D1 (`otp_sessions`). Every check is ONE conditional UPDATE of the D1 row, so
//! D1 (a single SQLite writer) serializes parallel checks: at most `max_attempts` wrong
//! checks are ever counted and `verified_at` is set at most once.
use super::accounts::LIVE_KEY_ACCOUNT;
use super::{all, first, int, opt_text, stmt, text};
use super::{ConstraintKind, StoreError};
use crate::domain::events::OTP_RESULT_SQL;
use crate::domain::ids::new_id;
use crate::domain::otp::{terminal, SendRules, Terminal};
use serde::{Deserialize, Serialize};
use worker::{D1Database, D1PreparedStatement, Env};

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
}

fn kv_key(session_id: &str) -> String {
    format!("otp:{session_id}")
}

pub async fn put_kv(
    env: &Env,
    session_id: &str,
    session: &KvSession,
    ttl_secs: u64,
) -> Result<(), StoreError> {
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

pub async fn get_kv(env: &Env, session_id: &str) -> Result<Option<KvSession>, StoreError> {
    let kv = env
        .kv("OTP_SESSIONS")
        .map_err(|e| StoreError::other(format!("KV binding OTP_SESSIONS: {e}")))?;
    kv.get(&kv_key(session_id))
        .json::<KvSession>()
        .await
        .map_err(|e| StoreError::other(format!("KV get: {e}")))
}

/// A session to record with its send.
pub struct NewSession<'a> {
    pub id: &'a str,
    pub account_id: &'a str,
    pub phone: &'a str,
    pub channel: &'a str,
    pub dialect: &'a str,
    pub sender: Option<&'a str>,
    pub template_id: Option<&'a str>,
    pub payload: Option<&'a str>,
    pub cost: i64,
    pub created_at: i64,
    pub expires_at: i64,
    pub max_attempts: i64,
}

/// Whether a send's batch failed on the resend guard (`send_allowed` is NOT NULL): a
/// parallel send to the same phone passed it first.
pub fn send_refused(e: &StoreError) -> bool {
    e.on_constraint(ConstraintKind::NotNull, "otp_sessions.send_allowed")
}

/// Inserts the session only if the resend rules allow a send to this phone now: otherwise
/// `send_allowed` is NULL and the whole batch (charge included) rolls back. D1 runs the
/// statement atomically, so parallel sends cannot both pass the guard.
pub fn insert_statement(
    db: &D1Database,
    s: &NewSession<'_>,
    rules: SendRules,
) -> Result<D1PreparedStatement, StoreError> {
    let sql = "INSERT INTO otp_sessions (id, account_id, phone, channel, dialect, sender, template_id, payload, cost, created_at, expires_at, max_attempts, send_allowed) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, \
           (SELECT 1 WHERE (SELECT COUNT(*) FROM otp_sessions WHERE account_id = ?2 AND phone = ?3 AND created_at > ?10 - ?13) < ?14 \
             AND NOT EXISTS (SELECT 1 FROM otp_sessions WHERE account_id = ?2 AND phone = ?3 AND created_at > ?10 - ?15)))";
    stmt(
        db,
        sql,
        &[
            text(s.id),
            text(s.account_id),
            text(s.phone),
            text(s.channel),
            text(s.dialect),
            opt_text(s.sender),
            opt_text(s.template_id),
            opt_text(s.payload),
            int(s.cost),
            int(s.created_at),
            int(s.expires_at),
            int(s.max_attempts),
            int(rules.window_ms),
            int(rules.max_sends),
            int(rules.interval_ms),
        ],
    )
}

/// Send times (ms) to this phone from this account within the window.
pub async fn send_times(
    db: &D1Database,
    account_id: &str,
    phone: &str,
    since_ms: i64,
) -> Result<Vec<i64>, StoreError> {
    #[derive(Deserialize)]
    struct Row {
        created_at: i64,
    }
    let rows: Vec<Row> = all(stmt(
        db,
        "SELECT created_at FROM otp_sessions WHERE account_id = ?1 AND phone = ?2 AND created_at > ?3 ORDER BY created_at",
        &[text(account_id), text(phone), int(since_ms)],
    )?)
    .await?;
    Ok(rows.into_iter().map(|r| r.created_at).collect())
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SessionRow {
    pub id: String,
    pub account_id: String,
    pub phone: String,
    pub channel: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub attempts: i64,
    pub max_attempts: i64,
    pub verified_at: Option<i64>,
}

impl SessionRow {
    pub fn terminal(&self, now_ms: i64) -> Option<Terminal> {
        terminal(
            self.verified_at.is_some(),
            self.attempts,
            self.max_attempts,
            self.expires_at,
            now_ms,
        )
    }

    pub fn attempts_remaining(&self) -> i64 {
        if self.verified_at.is_some() {
            0
        } else {
            (self.max_attempts - self.attempts).max(0)
        }
    }

    /// `pending`, `verified`, `failed` or `expired`.
    pub fn status(&self, now_ms: i64) -> &'static str {
        self.terminal(now_ms).map_or("pending", Terminal::status)
    }
}

const SESSION_COLUMNS: &str =
    "id, account_id, phone, channel, created_at, expires_at, attempts, max_attempts, verified_at";

/// The session, if it exists and belongs to this account.
pub async fn find(
    db: &D1Database,
    account_id: &str,
    id: &str,
) -> Result<Option<SessionRow>, StoreError> {
    first(stmt(
        db,
        &format!("SELECT {SESSION_COLUMNS} FROM otp_sessions WHERE id = ?1 AND account_id = ?2"),
        &[text(id), text(account_id)],
    )?)
    .await
}

/// The session, if it exists and belongs to the live key whose hash is given: the key check
/// and the session read in one D1 round trip (`None` says neither which nor why).
pub async fn find_for_key(
    db: &D1Database,
    key_hash: &str,
    id: &str,
) -> Result<Option<SessionRow>, StoreError> {
    first(stmt(db, &format!("SELECT {SESSION_COLUMNS} FROM otp_sessions WHERE id = ?2 AND account_id = ({LIVE_KEY_ACCOUNT})"), &[text(key_hash), text(id)])?).await
}

/// The check itself: counts a wrong code or records the success, but only while the
/// session is live (not verified, attempts left, not expired), belongs to the live key whose
/// hash is given (the key check rides in the same statement: no separate round trip) and
/// to the account its KV entry names. Returns the row after the check, or no row when
/// nothing was counted: a check that lost a race to another is refused, never evaluated.
pub fn check_statement(
    db: &D1Database,
    key_hash: &str,
    kv_account_id: &str,
    id: &str,
    matched: bool,
    now_ms: i64,
) -> Result<D1PreparedStatement, StoreError> {
    stmt(
        db,
        &format!(
            "UPDATE otp_sessions SET attempts = attempts + (1 - ?3), verified_at = CASE WHEN ?3 = 1 THEN ?4 ELSE NULL END \
             WHERE id = ?2 AND account_id = ?5 AND account_id = ({LIVE_KEY_ACCOUNT}) \
               AND verified_at IS NULL AND attempts < max_attempts AND expires_at > ?4 \
             RETURNING {SESSION_COLUMNS}"
        ),
        &[text(key_hash), text(id), int(i64::from(matched)), int(now_ms), text(kv_account_id)],
    )
}

/// The counters of the session's Durable Object (the authority) into its D1 row. Each only
/// grows, so mirrors that arrive in any order, or twice, leave the row at the latest state.
pub fn mirror_statement(db: &D1Database, id: &str, attempts: i64, verified_at: Option<i64>) -> Result<D1PreparedStatement, StoreError> {
    stmt(
        db,
        "UPDATE otp_sessions SET attempts = MAX(attempts, ?2), verified_at = COALESCE(verified_at, ?3) WHERE id = ?1",
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
/// account's webhook (if it has an endpoint), once per type, if the session is in that state. The payload the
/// client sent with the send is echoed in `data.payload`.
pub fn result_event_statement(
    db: &D1Database,
    id: &str,
    now_ms: i64,
    events: ResultEvents,
) -> Result<D1PreparedStatement, StoreError> {
    let event_id = new_id("evt")?;
    let sql = format!(
        "INSERT OR IGNORE INTO webhook_events (id, account_id, event_type, object_id, data, created_at) \
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
