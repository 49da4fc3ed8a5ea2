//! Vonage applications (`vonage_applications`): the public key a customer registered, whose
//! private key signs its SDK's JWTs, where its status callbacks go and the signature secret
//! (sealed) that signs them; the requests its JWTs started (`vonage_requests`), and their
//! callbacks, each recorded by a statement that finds nothing for any other session.
use super::{first, first_value, int, opt_text, run, stmt, text, Prepared, Result};
use crate::domain::vonage_callback::SIGNER_PREFIX;
use crate::domain::vonage_jwt::Application;
use worker::D1Database;

/// Registers an application with its sealed signature secret.
pub async fn insert(
    db: &D1Database,
    a: &Application,
    sealed_secret: &str,
    created_at: i64,
) -> Result<()> {
    run(stmt(
        db,
        "INSERT INTO vonage_applications (id, account_id, public_key, callback_url, \
           signature_secret, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        &[
            text(&a.id),
            text(&a.account_id),
            text(&a.public_key),
            opt_text(a.callback_url.as_deref()),
            text(sealed_secret),
            int(created_at),
        ],
    )?)
    .await
    .map(|_| ())
}

/// The application, if its account is active and approved (it may move money).
pub async fn live(db: &D1Database, id: &str) -> Result<Option<Application>> {
    first(
        db,
        "SELECT a.id, a.account_id, a.public_key, a.callback_url FROM vonage_applications a \
         JOIN accounts c ON c.id = a.account_id AND c.status = 'active' AND c.approved = 1 \
         WHERE a.id = ?1",
        &[text(id)],
    )
    .await
}

/// An application's sealed signature secret, if it has one.
pub async fn sealed_secret(db: &D1Database, application_id: &str) -> Result<Option<String>> {
    let sql = "SELECT signature_secret FROM vonage_applications WHERE id = ?1";
    first_value(db, sql, &[text(application_id)], "signature_secret").await
}

/// A request an application's JWT started, as its callbacks need it.
pub struct Request<'a> {
    pub session_id: &'a str,
    pub account_id: &'a str,
    pub application_id: &'a str,
    /// The workflow's channels in order (the first is the session's own message).
    pub channels: &'a [String],
    pub channel_timeout: i64,
    pub created_at: i64,
}

pub fn request_statement(db: &D1Database, r: &Request<'_>) -> Prepared {
    let channels = serde_json::Value::from(r.channels.to_vec()).to_string();
    stmt(
        db,
        "INSERT OR IGNORE INTO vonage_requests (session_id, account_id, application_id, \
           channels, channel_timeout, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        &[
            text(r.session_id),
            text(r.account_id),
            text(r.application_id),
            text(&channels),
            int(r.channel_timeout),
            int(r.created_at),
        ],
    )
}

/// The callback's target, from a request of an application with a callback URL and a
/// signature secret (`r`, `a`, `s`: the request, its application and its session).
const CALLBACK_FROM: &str = "FROM vonage_requests r \
    JOIN vonage_applications a ON a.id = r.application_id \
      AND a.callback_url IS NOT NULL AND a.signature_secret IS NOT NULL \
    JOIN otp_sessions s ON s.id = r.session_id";

/// Records an `event` callback (`data`: `domain::vonage_callback::event_body`, to which the
/// request's `client_ref` is added) under `object_id` (the message it reports, once), if the
/// session is a request of an application that takes callbacks.
pub fn event_statement(
    db: &D1Database,
    session_id: &str,
    object_id: &str,
    data: &serde_json::Value,
    now_ms: i64,
) -> Prepared {
    let sql = format!(
        "INSERT OR IGNORE INTO webhook_events (id, account_id, event_type, object_id, version, \
           data, created_at, url, signer) \
         SELECT ?1, r.account_id, 'vonage.event', ?2, 0, \
           json_patch(?3, json_object('client_ref', s.payload)), ?4, a.callback_url, ?6 || a.id \
         {CALLBACK_FROM} WHERE r.session_id = ?5"
    );
    stmt(
        db,
        &sql,
        &[
            text(&crate::domain::ids::new_id("evt")?),
            text(object_id),
            text(&data.to_string()),
            int(now_ms),
            text(session_id),
            text(SIGNER_PREFIX),
        ],
    )
}

/// How a request ended, as of `?3` (ms): `completed` (verified), `failed` (attempts spent),
/// `cancelled` (`?4` = 1: its cancel), `expired` (`?5` = 1 and past its expiry); NULL: open.
const SUMMARY_STATUS: &str = "CASE WHEN verified_at IS NOT NULL THEN 'completed' \
    WHEN attempts >= max_attempts THEN 'failed' WHEN ?4 = 1 THEN 'cancelled' \
    WHEN ?5 = 1 AND expires_at <= ?3 THEN 'expired' END";

/// The summary's `workflow`, per channel of the request (`c`, from its JSON list) with the
/// step that carried it (`p`; the first channel is the session's own message, `s`): the
/// channel, when it went out (Vonage's time format; absent when never sent) and its status:
/// `unused` (never sent), `expired` (a later channel followed it), or for the last one sent
/// `completed`, `failed`, or `expired` for an expired or cancelled request.
const SUMMARY_WORKFLOW: &str = "json((SELECT json_group_array(json(w)) FROM ( \
    SELECT json_patch(json_object('channel', c.value, 'status', \
      CASE WHEN (CASE WHEN c.key = 0 THEN s.created_at ELSE p.created_at END) IS NULL \
        THEN 'unused' \
      WHEN c.key < (SELECT COALESCE(MAX(n) + 1, 0) FROM otp_steps WHERE session_id = s.id) \
        THEN 'expired' \
      WHEN s.status IN ('completed', 'failed') THEN s.status ELSE 'expired' END), \
      json_object('initiated_at', strftime('%Y-%m-%dT%H:%M:%SZ', \
        (CASE WHEN c.key = 0 THEN s.created_at ELSE p.created_at END) / 1000, 'unixepoch'))) \
      AS w \
    FROM json_each(r.channels) c \
    LEFT JOIN otp_steps p ON p.session_id = s.id AND p.n = c.key - 1 ORDER BY c.key)))";

/// When the request ended, in Vonage's time format: verified, cancelled or expired; now
/// (`?3`) for the last wrong code.
const SUMMARY_FINALIZED: &str = "strftime('%Y-%m-%dT%H:%M:%SZ', \
    (CASE s.status WHEN 'completed' THEN s.verified_at WHEN 'failed' THEN ?3 \
      ELSE MIN(s.expires_at, ?3) END) / 1000, 'unixepoch')";

/// Records the request's `summary` callback once, when it has ended (`SUMMARY_STATUS`): its
/// status, when it was submitted and ended, and its `SUMMARY_WORKFLOW`.
pub fn summary_statement(
    db: &D1Database,
    session_id: &str,
    now_ms: i64,
    cancelled: bool,
    expiry: bool,
) -> Prepared {
    let sql = format!(
        "INSERT OR IGNORE INTO webhook_events (id, account_id, event_type, object_id, version, \
           data, created_at, url, signer) \
         SELECT ?2, r.account_id, 'vonage.summary', r.session_id, 0, \
           json_patch(json_object('request_id', r.session_id, \
             'submitted_at', strftime('%Y-%m-%dT%H:%M:%SZ', s.created_at / 1000, 'unixepoch'), \
             'status', s.status, 'type', 'summary', 'channel_timeout', r.channel_timeout, \
             'workflow', {SUMMARY_WORKFLOW}, 'finalized_at', {SUMMARY_FINALIZED}), \
             json_object('client_ref', s.payload)), \
           ?3, a.callback_url, ?6 || a.id \
         FROM vonage_requests r \
         JOIN vonage_applications a ON a.id = r.application_id \
           AND a.callback_url IS NOT NULL AND a.signature_secret IS NOT NULL \
         JOIN (SELECT *, {SUMMARY_STATUS} AS status FROM otp_sessions WHERE id = ?1) s \
           ON s.id = r.session_id \
         WHERE r.session_id = ?1 AND s.status IS NOT NULL"
    );
    stmt(
        db,
        &sql,
        &[
            text(session_id),
            text(&crate::domain::ids::new_id("evt")?),
            int(now_ms),
            int(i64::from(cancelled)),
            int(i64::from(expiry)),
            text(SIGNER_PREFIX),
        ],
    )
}
