//! Twilio Verify v2 compatibility: Basic-auth principals (AC / SK sids), Verify services,
//! verifications and their sends. A verification's state is read from the OTP session of its
//! latest send (`otp_sessions`, where every check is counted); only a cancel is its own.
use super::row::row;
use super::{all, batch, execute, first, int, run, stmt, text, Result};
use crate::domain::twilio_verify::{Send, Service, VerificationRecord};
use worker::D1Database;

row! {
    /// The account an HTTP Basic pair authenticates, and its `AC…` sid.
    #[derive(Debug, Clone)]
    pub struct Principal {
        pub account_id: String,
        pub account_sid: String,
    }
}

/// The account of the live key with this hash, if `username` is that account's `AC…` sid
/// or the key's own `SK…` sid. Read from D1 on every request, as every key check is.
pub async fn principal(
    db: &D1Database,
    key_hash: &str,
    username: &str,
) -> Result<Option<Principal>> {
    first(
        db,
        "SELECT k.account_id AS account_id, a.twilio_sid AS account_sid \
         FROM api_keys k JOIN accounts a ON a.id = k.account_id \
         WHERE k.key_hash = ?1 AND k.revoked_at IS NULL AND a.status = 'active' \
           AND (a.twilio_sid = ?2 OR k.twilio_sid = ?2)",
        &[text(key_hash), text(username)],
    )
    .await
}

const SERVICE_COLUMNS: &str = "sid, account_id, friendly_name, code_length, created_at, updated_at";

/// The live service `sid` of the account (?1 = sid, ?2 = account).
pub(super) fn find_service_sql() -> String {
    format!(
        "SELECT {SERVICE_COLUMNS} FROM verify_services \
         WHERE sid = ?1 AND account_id = ?2 AND deleted_at IS NULL"
    )
}

pub async fn create_service(db: &D1Database, s: &Service) -> Result<()> {
    execute(
        db,
        "INSERT INTO verify_services (sid, account_id, friendly_name, code_length, created_at, \
         updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        &[
            text(&s.sid),
            text(&s.account_id),
            text(&s.friendly_name),
            int(s.code_length),
            int(s.created_at),
            int(s.updated_at),
        ],
    )
    .await
}

/// The service, if it exists, is the account's and is not deleted.
pub async fn find_service(db: &D1Database, account_id: &str, sid: &str) -> Result<Option<Service>> {
    first(db, &find_service_sql(), &[text(sid), text(account_id)]).await
}

/// Up to `limit` services of the account from `offset`, oldest first.
pub async fn list_services(
    db: &D1Database,
    account_id: &str,
    offset: i64,
    limit: i64,
) -> Result<Vec<Service>> {
    all(
        db,
        &format!(
            "SELECT {SERVICE_COLUMNS} FROM verify_services \
             WHERE account_id = ?1 AND deleted_at IS NULL \
             ORDER BY created_at, sid LIMIT ?2 OFFSET ?3"
        ),
        &[text(account_id), int(limit), int(offset)],
    )
    .await
}

/// Deletes the service (it disappears from every route); false when there was none.
pub async fn delete_service(
    db: &D1Database,
    account_id: &str,
    sid: &str,
    now_ms: i64,
) -> Result<bool> {
    let sql = "UPDATE verify_services SET deleted_at = ?3, updated_at = ?3 \
               WHERE sid = ?1 AND account_id = ?2 AND deleted_at IS NULL";
    stamp(db, sql, account_id, sid, now_ms).await
}

/// Runs `sql`, an UPDATE of the row ?1 (a sid) of account ?2 at ?3 (now); whether it
/// changed that row.
async fn stamp(
    db: &D1Database,
    sql: &str,
    account_id: &str,
    sid: &str,
    now_ms: i64,
) -> Result<bool> {
    let changed = run(stmt(db, sql, &[text(sid), text(account_id), int(now_ms)])?).await?;
    Ok(changed > 0)
}

const VERIFICATION_SELECT: &str = "SELECT v.sid AS sid, v.service_sid AS service_sid, \
     v.to_phone AS to_phone, v.created_at AS created_at, \
     v.canceled_at AS canceled_at, vs.channel AS channel, s.id AS session_id, \
     s.created_at AS sent_at, s.expires_at AS expires_at, s.attempts AS attempts, \
     s.max_attempts AS max_attempts, s.verified_at AS verified_at \
     FROM verify_verifications v \
     JOIN verify_sends vs ON vs.verification_sid = v.sid \
     JOIN otp_sessions s ON s.id = vs.session_id";

/// Which verification of a service to read.
pub enum Which<'a> {
    /// The one with this sid.
    Sid(&'a str),
    /// The latest one of this number.
    LatestFor(&'a str),
}

/// The verification, within the account's service, with its latest send.
pub async fn verification(
    db: &D1Database,
    account_id: &str,
    service_sid: &str,
    which: Which<'_>,
) -> Result<Option<VerificationRecord>> {
    let (key, filter) = match which {
        Which::Sid(sid) => (sid, "v.sid = ?1 ORDER BY s.created_at DESC, vs.rowid DESC"),
        Which::LatestFor(phone) => (
            phone,
            "v.to_phone = ?1 \
             ORDER BY v.created_at DESC, v.rowid DESC, s.created_at DESC, vs.rowid DESC",
        ),
    };
    first(
        db,
        &format!(
            "{VERIFICATION_SELECT} WHERE v.service_sid = ?2 AND v.account_id = ?3 AND {filter} \
             LIMIT 1"
        ),
        &[text(key), text(service_sid), text(account_id)],
    )
    .await
}

/// The recorded sends of a verification, oldest first.
pub async fn sends(db: &D1Database, verification_sid: &str) -> Result<Vec<Send>> {
    all(
        db,
        "SELECT vs.session_id AS session_id, vs.channel AS channel, s.created_at AS created_at \
         FROM verify_sends vs JOIN otp_sessions s ON s.id = vs.session_id \
         WHERE vs.verification_sid = ?1 ORDER BY s.created_at, vs.rowid",
        &[text(verification_sid)],
    )
    .await
}

/// A send about to happen.
pub struct NewSend<'a> {
    /// The verification, and whether it is new (else a resend of a pending one).
    pub verification_sid: &'a str,
    pub new_verification: bool,
    pub service_sid: &'a str,
    pub account_id: &'a str,
    pub to_phone: &'a str,
    /// The OTP session the send will record (`VL…`).
    pub session_id: &'a str,
    /// Twilio's channel name.
    pub channel: &'a str,
    pub now_ms: i64,
}

/// Records the verification (if new) and the send BEFORE the OTP engine sends: if the send
/// is refused (resend rules, wallet, price) no OTP session appears, and the rows written here
/// match nothing in the joins above: the verification and the send do not exist.
pub async fn prepare_send(db: &D1Database, s: &NewSend<'_>) -> Result<()> {
    let mut statements = Vec::new();
    if s.new_verification {
        statements.push(stmt(
            db,
            "INSERT INTO verify_verifications (sid, service_sid, account_id, to_phone, \
             created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            &[
                text(s.verification_sid),
                text(s.service_sid),
                text(s.account_id),
                text(s.to_phone),
                int(s.now_ms),
            ],
        )?);
    }
    statements.push(stmt(
        db,
        "INSERT INTO verify_sends (session_id, verification_sid, channel, created_at) \
         VALUES (?1, ?2, ?3, ?4)",
        &[
            text(s.session_id),
            text(s.verification_sid),
            text(s.channel),
            int(s.now_ms),
        ],
    )?);
    batch(db, statements).await?;
    Ok(())
}

/// Cancels the verification unless it is already canceled; false when nothing changed.
/// (The caller has seen it pending; an approval that races with the cancel still wins, as
/// the status puts an approval first.)
pub async fn cancel(db: &D1Database, account_id: &str, sid: &str, now_ms: i64) -> Result<bool> {
    let sql = "UPDATE verify_verifications SET canceled_at = ?3 \
               WHERE sid = ?1 AND account_id = ?2 AND canceled_at IS NULL";
    stamp(db, sql, account_id, sid, now_ms).await
}

/// Stores a service's new name and code length; false when it is gone.
pub async fn update_service(db: &D1Database, s: &Service) -> Result<bool> {
    let changed = run(stmt(
        db,
        "UPDATE verify_services SET friendly_name = ?3, code_length = ?4, updated_at = ?5 \
         WHERE sid = ?1 AND account_id = ?2 AND deleted_at IS NULL",
        &[
            text(&s.sid),
            text(&s.account_id),
            text(&s.friendly_name),
            int(s.code_length),
            int(s.updated_at),
        ],
    )?)
    .await?;
    Ok(changed > 0)
}
