//! Webhook endpoints, the event outbox (`webhook_events`, written in the same batch as the
//! state change it reports) and the record of every delivery attempt.
use super::row::row;
use super::{execute, first, int, opt_int, opt_text, run, stmt, text, Prepared, Result};
use crate::domain::crypto::derived_key;
use crate::domain::ids::new_id;
use crate::domain::pagination::Page;
use crate::domain::webhook::{secret_from_key, Delivery};
use worker::wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement};

/// The `data` of `otp.verified` / `otp.failed` / `otp.expired`, as a SQL expression over an
/// `otp_sessions` row with its `event_type` (and `?3` = the time it occurred, in ms): the
/// event is recorded in the statement that decides it. The payload the client sent with the
/// send is echoed in `payload`.
pub const OTP_RESULT_SQL: &str = "json_object('session_id', id, 'message_id', id, \
     'phone', phone, 'channel', channel, 'status', substr(event_type, 5), 'attempts', attempts, \
     'payload', payload, 'occurred_at', ?3)";

row! {
    #[derive(Debug, Clone)]
    pub struct Endpoint {
        pub account_id: String,
        pub url: String,
        pub secret_version: i64,
        pub updated_at: i64,
    }
}

impl Endpoint {
    /// The signing secret (`whsec_…`), derived from the server key: never stored.
    pub fn secret(&self, server_key: &str) -> String {
        let key = derived_key(server_key, "webhook", &self.account_id, self.secret_version);
        secret_from_key(key.get(..24).unwrap_or(&key))
    }
}

pub async fn endpoint(db: &D1Database, account_id: &str) -> Result<Option<Endpoint>> {
    first(
        db,
        "SELECT account_id, url, secret_version, updated_at FROM webhook_endpoints \
        WHERE account_id = ?1",
        &[text(account_id)],
    )
    .await
}

/// Sets the account's endpoint URL and returns the secret version now in force. A rotation
/// is one atomic increment in the same statement, so parallel rotations each get a version
/// of their own (never two answers for one version, nor an answer for a version overwritten).
pub async fn set_endpoint(
    db: &D1Database,
    account_id: &str,
    (url, rotate_secret): (&str, bool),
    now_ms: i64,
    audit: D1PreparedStatement,
) -> Result<i64> {
    let upsert = stmt(
        db,
        "INSERT INTO webhook_endpoints (account_id, url, secret_version, created_at, updated_at) \
            VALUES (?1, ?2, 1, ?4, ?4) \
         ON CONFLICT (account_id) DO UPDATE SET url = excluded.url, \
         secret_version = webhook_endpoints.secret_version + ?3, updated_at = excluded.updated_at \
         RETURNING secret_version",
        &[
            text(account_id),
            text(url),
            int(i64::from(rotate_secret)),
            int(now_ms),
        ],
    )?;
    let results = super::batch(db, vec![upsert, audit]).await?;
    super::batch_value(results.first(), "secret_version", "webhook endpoint row")
}

/// Deletes the account's endpoint, with its audit row (an `append_if_changed` statement);
/// `false` when it had none.
pub async fn delete_endpoint(
    db: &D1Database,
    account_id: &str,
    audit: D1PreparedStatement,
) -> Result<bool> {
    let sql = "DELETE FROM webhook_endpoints WHERE account_id = ?1";
    super::audited(db, sql, &[text(account_id)], audit).await
}

/// One event for the account's webhook.
pub struct Event<'a> {
    pub account_id: &'a str,
    pub event_type: &'a str,
    pub object_id: &'a str,
    /// Distinguishes repeated events of one type on one object (0 when it happens once).
    pub version: i64,
    pub data: serde_json::Value,
}

const INSERT_EVENT: &str = "INSERT OR IGNORE INTO webhook_events (id, account_id, event_type, \
    object_id, version, data, created_at)";
/// Events are recorded only for accounts with an endpoint: no queue grows for nobody, and an
/// account without one costs no dispatcher wake-up.
const HAS_ENDPOINT: &str = "EXISTS (SELECT 1 FROM webhook_endpoints WHERE account_id = ?2)";
/// The same for the sms-activate webhook's events.
const HAS_HOOK: &str = "EXISTS (SELECT 1 FROM sms_activate_webhooks WHERE account_id = ?2)";

/// Records an event if the account has an endpoint; put it in the batch that makes the
/// change it reports (at most one per object, type and version).
pub fn event_statement(db: &D1Database, e: &Event<'_>, now_ms: i64) -> Prepared {
    insert_event(db, e, now_ms, "")
}

/// The event types delivered to the account's sms-activate webhook (in sms-activate's
/// shape, the `data` itself as the body) rather than to its endpoint.
pub const SMS_ACTIVATE_EVENTS: &str = "sms_activate.";

/// Records an sms-activate webhook event (`SMS_ACTIVATE_EVENTS`) once per object and type,
/// if the account has an sms-activate webhook.
pub async fn record_sms_activate_event(db: &D1Database, e: &Event<'_>, now_ms: i64) -> Result<()> {
    let sql = format!("{INSERT_EVENT} SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7 WHERE {HAS_HOOK}");
    execute(db, &sql, &event_values(&new_id("evt")?, e, now_ms)).await
}

row! {
    /// The account's sms-activate webhook URL.
    #[derive(Debug, Clone)]
    pub struct SmsActivateHook {
        pub url: String,
        pub updated_at: i64,
    }
}

impl SmsActivateHook {
    /// The signing secret of its deliveries (`whsec_…`), derived from the server key.
    pub fn secret(server_key: &str, account_id: &str) -> String {
        let key = derived_key(server_key, "webhook-sms-activate", account_id, 1);
        secret_from_key(key.get(..24).unwrap_or(&key))
    }
}

pub async fn sms_activate_hook(
    db: &D1Database,
    account_id: &str,
) -> Result<Option<SmsActivateHook>> {
    let sql = "SELECT url, updated_at FROM sms_activate_webhooks WHERE account_id = ?1";
    first(db, sql, &[text(account_id)]).await
}

pub async fn set_sms_activate_hook(
    db: &D1Database,
    account_id: &str,
    url: &str,
    now_ms: i64,
) -> Result<()> {
    let sql = "INSERT INTO sms_activate_webhooks (account_id, url, created_at, updated_at) \
               VALUES (?1, ?2, ?3, ?3) \
               ON CONFLICT (account_id) DO UPDATE SET url = excluded.url, \
               updated_at = excluded.updated_at";
    execute(db, sql, &[text(account_id), text(url), int(now_ms)]).await
}

pub async fn delete_sms_activate_hook(db: &D1Database, account_id: &str) -> Result<bool> {
    Ok(run(stmt(
        db,
        "DELETE FROM sms_activate_webhooks WHERE account_id = ?1",
        &[text(account_id)],
    )?)
    .await?
        == 1)
}

/// As `event_statement`, but only while D1's copy of the activation is at `e.version`: an
/// activation's transitions reach D1 in any order, and a transition already overtaken by a
/// newer one is not reported after it, so the receiver sees each activation's events in order.
pub fn activation_event_statement(db: &D1Database, e: &Event<'_>, now_ms: i64) -> Prepared {
    insert_event(
        db,
        e,
        now_ms,
        " AND (SELECT version FROM activations WHERE id = ?4) = ?5",
    )
}

/// As `event_statement`, for a template message's delivery outcome: only while the message
/// is in the `status` the event reports (after the batch's own settle), so a settle that
/// found the message already settled the other way reports nothing.
pub fn message_event_statement(
    db: &D1Database,
    e: &Event<'_>,
    status: MessageStatus,
    now_ms: i64,
) -> Prepared {
    let and_also = match status {
        MessageStatus::Sent => " AND (SELECT status FROM messages WHERE id = ?4) = 'sent'",
        MessageStatus::Failed => " AND (SELECT status FROM messages WHERE id = ?4) = 'failed'",
    };
    insert_event(db, e, now_ms, and_also)
}

/// A delivery outcome a message event reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageStatus {
    Sent,
    Failed,
}

/// The insert of an event, recorded when the account has an endpoint and `and_also` (SQL
/// over ?1 = id, ?2 = account, ?3 = type, ?4 = object, ?5 = version) holds.
fn insert_event(db: &D1Database, e: &Event<'_>, now_ms: i64, and_also: &str) -> Prepared {
    stmt(
        db,
        &format!("{INSERT_EVENT} SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7 WHERE {HAS_ENDPOINT}{and_also}"),
        &event_values(&new_id("evt")?, e, now_ms),
    )
}

/// An event's insert values ?1–?7: id, account, type, object, version, data, time.
fn event_values(id: &str, e: &Event<'_>, now_ms: i64) -> Vec<JsValue> {
    vec![
        text(id),
        text(e.account_id),
        text(e.event_type),
        text(e.object_id),
        int(e.version),
        text(&e.data.to_string()),
        int(now_ms),
    ]
}

/// Records an event for a URL of its own (`url`, a callback), whether or not the account
/// has an endpoint; `data` is the whole body to deliver, under the event's id `id`.
pub fn callback_event_statement(
    db: &D1Database,
    id: &str,
    e: &Event<'_>,
    url: &str,
    now_ms: i64,
) -> Prepared {
    let sql = "INSERT OR IGNORE INTO webhook_events (id, account_id, event_type, object_id, \
        version, data, created_at, url) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
    let mut values = event_values(id, e, now_ms);
    values.push(text(url));
    stmt(db, sql, &values)
}

row! {
    #[derive(Debug, Clone)]
    pub struct PendingEvent {
        pub id: String,
        pub event_type: String,
        pub data: String,
        pub created_at: i64,
        pub attempts: i64,
        pub next_attempt_at: Option<i64>,
        /// A callback's own URL (its `data` is then the whole body); `None`: the endpoint.
        pub url: Option<String> = default,
        /// How a callback is signed (`domain::vonage_callback::signer`); `None`: Standard
        /// Webhooks.
        pub signer: Option<String> = default,
    }
}

/// The oldest event not yet delivered or given up on that has somewhere to go: events go out
/// in order. `(endpoint, hook)`: whether the account has an endpoint and an sms-activate
/// webhook; a callback (its own `url`) always has a target.
pub async fn next_pending(
    db: &D1Database,
    account_id: &str,
    (endpoint, hook): (bool, bool),
) -> Result<Option<PendingEvent>> {
    first(
        db,
        "SELECT id, event_type, data, created_at, attempts, next_attempt_at, url, signer \
         FROM webhook_events WHERE account_id = ?1 AND delivered_at IS NULL AND failed_at IS NULL \
         AND (url IS NOT NULL \
           OR CASE WHEN substr(event_type, 1, 13) = ?4 THEN ?3 ELSE ?2 END) \
         ORDER BY seq LIMIT 1",
        &[
            text(account_id),
            int(i64::from(endpoint)),
            int(i64::from(hook)),
            text(SMS_ACTIVATE_EVENTS),
        ],
    )
    .await
}

pub struct Attempt<'a> {
    pub event_id: &'a str,
    pub account_id: &'a str,
    pub number: i64,
    pub url: &'a str,
    pub status_code: Option<u16>,
    pub error: Option<&'a str>,
    pub duration_ms: i64,
    pub at_ms: i64,
}

pub enum Outcome {
    Delivered,
    RetryAt(i64),
    GaveUp,
}

/// Records one attempt and its consequence for the event, in one batch.
pub async fn record_attempt(db: &D1Database, a: &Attempt<'_>, outcome: &Outcome) -> Result<()> {
    let next_at = match outcome {
        Outcome::RetryAt(t) => Some(*t),
        _ => None,
    };
    let insert = stmt(
        db,
        "INSERT INTO webhook_attempts (id, event_id, account_id, attempt, url, status_code, error, \
            duration_ms, succeeded, created_at, next_attempt_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        &[
            text(&new_id("whatt")?),
            text(a.event_id),
            text(a.account_id),
            int(a.number),
            text(a.url),
            opt_int(a.status_code.map(i64::from)),
            opt_text(a.error),
            int(a.duration_ms),
            int(i64::from(matches!(outcome, Outcome::Delivered))),
            int(a.at_ms),
            opt_int(next_at),
        ],
    )?;
    let update = match outcome {
        Outcome::Delivered => stmt(
            db,
            "UPDATE webhook_events SET attempts = ?2, delivered_at = \
            ?3, next_attempt_at = NULL WHERE id = \
            ?1",
            &[text(a.event_id), int(a.number), int(a.at_ms)],
        )?,
        Outcome::RetryAt(t) => stmt(
            db,
            "UPDATE webhook_events SET attempts = ?2, next_attempt_at \
            = ?3 WHERE id = ?1",
            &[text(a.event_id), int(a.number), int(*t)],
        )?,
        Outcome::GaveUp => stmt(
            db,
            "UPDATE webhook_events SET attempts = ?2, failed_at = ?3, \
            next_attempt_at = NULL WHERE id = \
            ?1",
            &[text(a.event_id), int(a.number), int(a.at_ms)],
        )?,
    };
    super::batch(db, vec![insert, update]).await?;
    Ok(())
}

row! {
    #[derive(Debug, Clone)]
    struct DeliveryRow {
        id: String,
        event_id: String,
        event_type: String,
        object_id: String,
        attempt: i64,
        url: String,
        status_code: Option<i64>,
        error: Option<String>,
        duration_ms: i64,
        succeeded: i64,
        created_at: i64,
        next_attempt_at: Option<i64>,
    }
}

impl From<DeliveryRow> for Delivery {
    fn from(r: DeliveryRow) -> Delivery {
        Delivery {
            id: r.id,
            event_id: r.event_id,
            event_type: r.event_type,
            object_id: r.object_id,
            attempt: r.attempt,
            url: r.url,
            status_code: r.status_code,
            error: r.error,
            duration_ms: r.duration_ms,
            succeeded: r.succeeded == 1,
            created_at: r.created_at,
            next_attempt_at: r.next_attempt_at,
        }
    }
}

/// Every attempt for the account, newest first, with the total (kept in `list_counts`); the
/// page is found over the account's index entries and only its rows are read.
pub async fn deliveries(
    db: &D1Database,
    account_id: &str,
    page: Page,
) -> Result<(Vec<Delivery>, u64)> {
    let rows = stmt(
        db,
        "SELECT a.id, a.event_id, e.event_type, e.object_id, a.attempt, a.url, a.status_code, \
            a.error, a.duration_ms, a.succeeded, a.created_at, a.next_attempt_at \
         FROM webhook_attempts a JOIN webhook_events e ON e.id = a.event_id \
         WHERE a.seq IN (SELECT seq FROM webhook_attempts WHERE account_id = ?1 \
           ORDER BY seq DESC LIMIT ?2 OFFSET ?3) \
         ORDER BY a.seq DESC",
        &[
            text(account_id),
            int(i64::from(page.limit)),
            int(page.offset() as i64),
        ],
    )?;
    let count = stmt(
        db,
        "SELECT COALESCE((SELECT n FROM list_counts WHERE account_id = ?1 AND list = ?2), \
         0) AS total",
        &[text(account_id), text("webhook_attempts")],
    )?;
    let (rows, total) = super::page_of::<DeliveryRow>(db, rows, count).await?;
    Ok((rows.into_iter().map(Delivery::from).collect(), total))
}

/// Puts an event of the account back in the queue (same `webhook-id`, attempts counted
/// afresh); false when the account has no such event.
pub async fn redeliver(db: &D1Database, account_id: &str, event_id: &str) -> Result<bool> {
    let changed = run(stmt(
        db,
        "UPDATE webhook_events SET delivered_at = NULL, failed_at = NULL, attempts = 0, \
            next_attempt_at = NULL WHERE id = ?1 AND account_id = ?2",
        &[text(event_id), text(account_id)],
    )?)
    .await?;
    Ok(changed > 0)
}
