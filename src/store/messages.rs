//! Templates, template messages and the sandbox outbox in D1.
use super::row::row;
use super::sessions::SendTo;
use super::{all, first, first_value, int, opt_text, run, stmt, text, Prepared, Result};
use crate::domain::message::{Message, OutboxText};
use crate::domain::template::TemplateRecord;
use worker::{D1Database, D1PreparedStatement};

/// A new template, in one transaction with its audit row.
pub async fn create_template(
    db: &D1Database,
    t: &TemplateRecord,
    audit: D1PreparedStatement,
) -> Result<()> {
    let sql = "INSERT INTO templates (id, name, channel, body, created_at, account_id) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
    super::audited(
        db,
        sql,
        &[
            text(&t.id),
            text(&t.name),
            text(&t.channel),
            text(&t.body),
            int(t.created_at),
            opt_text(t.account_id.as_deref()),
        ],
        audit,
    )
    .await?;
    Ok(())
}

const TEMPLATE_COLUMNS: &str = "id, name, channel, body, created_at, account_id";

/// A template `account_id` may see and send with: its own or a shared one, not deleted.
pub async fn template(
    db: &D1Database,
    id: &str,
    account_id: &str,
) -> Result<Option<TemplateRecord>> {
    first(
        db,
        &format!(
            "SELECT {TEMPLATE_COLUMNS} FROM templates WHERE id = ?1 AND deleted_at IS NULL \
             AND (account_id IS NULL OR account_id = ?2)"
        ),
        &[text(id), text(account_id)],
    )
    .await
}

/// Every template the account may see (its own and the shared ones), newest first.
pub async fn visible_templates(db: &D1Database, account_id: &str) -> Result<Vec<TemplateRecord>> {
    all(
        db,
        &format!(
            "SELECT {TEMPLATE_COLUMNS} FROM templates WHERE deleted_at IS NULL \
             AND (account_id IS NULL OR account_id = ?1) ORDER BY created_at DESC, rowid DESC \
             LIMIT 1000"
        ),
        &[text(account_id)],
    )
    .await
}

/// Deletes (softly) one of the account's own templates; `false` when it has no such live
/// template (messages keep referencing a deleted one).
pub async fn delete_own_template(
    db: &D1Database,
    id: &str,
    account_id: &str,
    now_ms: i64,
) -> Result<bool> {
    let changed = run(stmt(
        db,
        "UPDATE templates SET deleted_at = ?3 WHERE id = ?1 AND account_id = ?2 \
         AND deleted_at IS NULL",
        &[text(id), text(account_id), int(now_ms)],
    )?)
    .await?;
    Ok(changed > 0)
}

/// A message to record: its send, its template, and its session when the template has a
/// code.
pub struct NewMessage<'a> {
    pub to: SendTo<'a>,
    pub template_id: &'a str,
    pub session_id: Option<&'a str>,
    pub cost: i64,
    pub created_at: i64,
    pub expires_at: i64,
}

pub fn insert_message(db: &D1Database, m: &NewMessage<'_>) -> Prepared {
    stmt(
        db,
        "INSERT INTO messages (id, account_id, template_id, phone, channel, session_id, cost, \
            created_at, expires_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        &[
            text(m.to.id),
            text(m.to.account_id),
            text(m.template_id),
            text(m.to.phone),
            text(m.to.channel),
            opt_text(m.session_id),
            int(m.cost),
            int(m.created_at),
            int(m.expires_at),
        ],
    )
}

/// Moves a queued or claimed (`sending`) message to `sent` (with the provider's id for it)
/// or `failed` (once).
pub fn settle_message(
    db: &D1Database,
    id: &str,
    provider_message_id: Result<&str, &str>,
    now_ms: i64,
) -> Prepared {
    let (status, provider_id, error) = match provider_message_id {
        Ok(pid) => ("sent", Some(pid), None),
        Err(error) => ("failed", None, Some(error)),
    };
    stmt(
        db,
        "UPDATE messages SET status = ?2, sent_at = CASE WHEN ?2 = 'sent' THEN ?3 END, error = ?4, \
            provider_message_id = ?5 WHERE id = ?1 AND status IN ('queued', 'sending')",
        &[text(id), text(status), int(now_ms), opt_text(error), opt_text(provider_id)],
    )
}

/// Claims a queued message for its delivery (`queued` → `sending`): `true` for the one
/// caller whose UPDATE moved it, who alone hands it to the provider.
pub async fn claim_delivery(db: &D1Database, id: &str, now_ms: i64) -> Result<bool> {
    let sql = "UPDATE messages SET status = 'sending', sending_at = ?2 \
               WHERE id = ?1 AND status = 'queued'";
    Ok(run(stmt(db, sql, &[text(id), int(now_ms)])?).await? > 0)
}

row! {
    /// Where a template message's delivery stands, as its delivery job reads it.
    #[derive(Debug, Clone)]
    pub struct DeliveryState {
        pub status: String,
        pub expires_at: i64,
        /// Set once a provider accepted it (a later failure by receipt is not refunded).
        pub provider_message_id: Option<String>,
    }
}

/// The delivery state of a message, by id.
pub async fn delivery_state(db: &D1Database, id: &str) -> Result<Option<DeliveryState>> {
    let sql = "SELECT status, expires_at, provider_message_id FROM messages WHERE id = ?1";
    first(db, sql, &[text(id)]).await
}

row! {
    /// A message whose state a delivery receipt changed.
    #[derive(Debug, Clone)]
    pub struct Receipted {
        pub id: String,
        pub account_id: String,
        pub phone: String,
        pub channel: String,
    }
}

/// Applies a provider's delivery receipt: `queued` → `sent`/`failed`, `sent` → `failed`
/// (undelivered after acceptance). Nothing else moves; `None` when nothing changed.
pub async fn apply_receipt(
    db: &D1Database,
    provider_message_id: &str,
    status: &str,
    error: Option<&str>,
    now_ms: i64,
) -> Result<Option<Receipted>> {
    first(
        db,
        "UPDATE messages SET status = ?2, error = COALESCE(?3, error), sent_at = CASE WHEN ?2 = \
            'sent' THEN COALESCE(sent_at, ?4) ELSE sent_at END \
         WHERE provider_message_id = ?1 AND (status = 'queued' OR (status = 'sent' AND ?2 = \
         'failed')) AND status <> ?2 \
         RETURNING id, account_id, phone, channel",
        &[
            text(provider_message_id),
            text(status),
            opt_text(error),
            int(now_ms),
        ],
    )
    .await
}

pub async fn message(db: &D1Database, account_id: &str, id: &str) -> Result<Option<Message>> {
    first(
        db,
        "SELECT id, template_id, phone, channel, status, session_id, cost, created_at, expires_at, \
            sent_at, error FROM messages WHERE id = ?1 AND account_id = ?2",
        &[text(id), text(account_id)],
    )
    .await
}

pub struct OutboxEntry<'a> {
    pub id: &'a str,
    pub to: &'a str,
    pub channel: &'a str,
    pub sender: Option<&'a str>,
    pub text: &'a str,
    pub object_id: &'a str,
    pub created_at: i64,
}

pub async fn append_outbox(db: &D1Database, e: &OutboxEntry<'_>) -> Result<()> {
    run(outbox_statement(db, e)?).await?;
    Ok(())
}

/// The outbox row of one text, for a batch (the sandbox's delivery of an OTP send commits
/// with its session and charge).
pub fn outbox_statement(db: &D1Database, e: &OutboxEntry<'_>) -> Prepared {
    stmt(
        db,
        "INSERT INTO outbox (id, to_phone, channel, sender, text, object_id, created_at) VALUES \
            (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        &[
            text(e.id),
            text(e.to),
            text(e.channel),
            opt_text(e.sender),
            text(e.text),
            text(e.object_id),
            int(e.created_at),
        ],
    )
}

/// The newest `limit` outbox entries, for one phone or all.
pub async fn outbox(db: &D1Database, to: Option<&str>, limit: i64) -> Result<Vec<OutboxText>> {
    // One phone's entries come from its index; all entries, from the newest end of the table.
    let sql = if to.is_some() {
        "SELECT id, to_phone, channel, sender, text, status, object_id, created_at FROM outbox \
            WHERE to_phone = ?1 ORDER BY seq DESC LIMIT ?2"
    } else {
        "SELECT id, to_phone, channel, sender, text, status, object_id, created_at FROM outbox \
            WHERE ?1 IS NULL ORDER BY seq DESC LIMIT ?2"
    };
    all(db, sql, &[opt_text(to), int(limit)]).await
}

/// The price of one send to `country` on `channel`, if the catalog has one.
pub async fn otp_price(db: &D1Database, country: &str, channel: &str) -> Result<Option<i64>> {
    let sql = "SELECT cost FROM otp_prices WHERE country = ?1 AND channel = ?2";
    first_value(db, sql, &[text(country), text(channel)], "cost").await
}
