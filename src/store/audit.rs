//! The audit log (`audit_events`, migration 0016): the statement that appends one row, to
//! put in the same batch as the change it records, and the newest-first lists. The table
//! refuses UPDATE and DELETE, so nothing here (or anywhere) edits a row.
use super::row::row;
use super::{all_as, int, opt_int, opt_text, stmt, text, Prepared, Result};
use crate::domain::audit::{Actor, Change, Event, Filter, PAGE};
use worker::wasm_bindgen::JsValue;
use worker::D1Database;

/// A row (bound as ?1..?12). An API key actor is recorded by the key's id, looked up by its
/// hash inside the statement; a change to a key whose account is not given is recorded
/// under the key's account.
const INSERT: &str = "INSERT INTO audit_events (at, actor_type, actor_id, ip, account_id, \
    action, resource_type, resource_id, before, after, reason, request_id) \
    SELECT ?1, ?2, CASE WHEN ?2 = 'api_key' \
      THEN COALESCE((SELECT id FROM api_keys WHERE key_hash = ?3), ?3) ELSE ?3 END, ?4, \
    COALESCE(?5, CASE WHEN ?7 = 'api_key' \
      THEN (SELECT account_id FROM api_keys WHERE id = ?8) END), \
    ?6, ?7, ?8, ?9, ?10, ?11, ?12";

fn json_text(value: Option<&serde_json::Value>) -> JsValue {
    value.map_or(JsValue::NULL, |v| text(&v.to_string()))
}

fn bound(actor: &Actor, change: &Change<'_>, now_ms: i64) -> [JsValue; 12] {
    [
        int(now_ms),
        text(actor.kind.as_str()),
        opt_text(actor.id.as_deref()),
        opt_text(actor.ip.as_deref()),
        opt_text(change.account_id),
        text(change.action),
        text(change.resource_type),
        opt_text(change.resource_id),
        json_text(change.before.as_ref()),
        json_text(change.after.as_ref()),
        opt_text(change.reason),
        opt_text(actor.request_id.as_deref()),
    ]
}

/// The row recording `change` by `actor`: append it to the batch that makes the change.
pub fn append(db: &D1Database, actor: &Actor, change: &Change<'_>, now_ms: i64) -> Prepared {
    stmt(db, INSERT, &bound(actor, change, now_ms))
}

/// As `append`, recorded only if the statement just before it in the batch changed a row
/// (SQLite's `changes()`): an UPDATE that found nothing to change leaves no audit row.
pub fn append_if_changed(
    db: &D1Database,
    actor: &Actor,
    change: &Change<'_>,
    now_ms: i64,
) -> Prepared {
    stmt(
        db,
        &format!("{INSERT} WHERE changes() > 0"),
        &bound(actor, change, now_ms),
    )
}

/// As `append`, for a balance change: `before` and `after` also hold the wallet's balance
/// (`balance_minor`, in minor units) before and after ledger row `tx_id` (read from that row
/// inside the batch, so the audit row and the ledger agree). Put it after the statements that
/// write the row.
pub fn append_money(
    db: &D1Database,
    actor: &Actor,
    change: &Change<'_>,
    tx_id: &str,
    now_ms: i64,
) -> Prepared {
    let mut args = bound(actor, change, now_ms).to_vec();
    args.push(text(tx_id));
    stmt(
        db,
        "INSERT INTO audit_events (at, actor_type, actor_id, ip, account_id, action, \
         resource_type, resource_id, before, after, reason, request_id) \
         SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, \
         json_set(COALESCE(?9, '{}'), '$.balance_minor', l.balance_after - l.amount), \
         json_set(COALESCE(?10, '{}'), '$.balance_minor', l.balance_after), ?11, ?12 \
         FROM ledger l WHERE l.id = ?13",
        &args,
    )
}

row! {
    /// One audit row as the store reads it.
    struct Row {
        id: i64,
        at: i64,
        actor_type: String,
        actor_id: Option<String>,
        ip: Option<String>,
        account_id: Option<String>,
        action: String,
        resource_type: String,
        resource_id: Option<String>,
        before: Option<String>,
        after: Option<String>,
        reason: Option<String>,
        request_id: Option<String>,
    }
}

impl From<Row> for Event {
    fn from(r: Row) -> Event {
        let json = |t: Option<String>| t.and_then(|t| serde_json::from_str(&t).ok());
        Event {
            id: r.id,
            at: r.at,
            actor_type: r.actor_type,
            actor_id: r.actor_id,
            ip: r.ip,
            account_id: r.account_id,
            action: r.action,
            resource_type: r.resource_type,
            resource_id: r.resource_id,
            before: json(r.before),
            after: json(r.after),
            reason: r.reason,
            request_id: r.request_id,
        }
    }
}

const COLUMNS: &str = "id, at, actor_type, actor_id, ip, account_id, action, resource_type, \
    resource_id, before, after, reason, request_id";

/// The rows `filter` selects, newest first, at most `PAGE`, older than its cursor. The walk
/// goes down the primary key from the cursor (an account's rows: down the account's index)
/// and stops at the page.
pub async fn list(db: &D1Database, filter: &Filter) -> Result<Vec<Event>> {
    let sql = if filter.account_id.is_some() {
        format!(
            "SELECT {COLUMNS} FROM audit_events WHERE account_id = ?2 AND id < ?1 \
             AND (?3 IS NULL OR actor_id = ?3) AND (?4 IS NULL OR action = ?4) \
             AND (?5 IS NULL OR resource_type = ?5) AND (?6 IS NULL OR resource_id = ?6) \
             AND (?7 IS NULL OR at >= ?7) AND (?8 IS NULL OR at <= ?8) \
             ORDER BY id DESC LIMIT ?9"
        )
    } else {
        format!(
            "SELECT {COLUMNS} FROM audit_events WHERE id < ?1 AND ?2 IS NULL \
             AND (?3 IS NULL OR actor_id = ?3) AND (?4 IS NULL OR action = ?4) \
             AND (?5 IS NULL OR resource_type = ?5) AND (?6 IS NULL OR resource_id = ?6) \
             AND (?7 IS NULL OR at >= ?7) AND (?8 IS NULL OR at <= ?8) \
             ORDER BY id DESC LIMIT ?9"
        )
    };
    let t = |v: &Option<String>| opt_text(v.as_deref());
    let args = [
        int(filter.before_id.unwrap_or(i64::MAX)),
        t(&filter.account_id),
        t(&filter.actor),
        t(&filter.action),
        t(&filter.resource_type),
        t(&filter.resource_id),
        opt_int(filter.from_ms),
        opt_int(filter.to_ms),
        int(i64::from(PAGE)),
    ];
    all_as::<Row, Event>(stmt(db, &sql, &args)?).await
}
