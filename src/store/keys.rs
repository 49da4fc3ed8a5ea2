//! API keys, the operator's and a customer's alike: named or not, listed without the secret,
//! at most N live per account when the caller sets a limit (checked inside the INSERT
//! itself, so parallel creations cannot overrun it), revoked at once, with an approximate
//! last use. A key is stored only as its SHA-256; the plain key exists in the response that
//! creates it and nowhere else.
use super::row::row;
use super::{
    all, all_values, batch, changes, execute, int, opt_int, opt_text, stmt, text, Prepared, Result,
};
use crate::domain::account::{ApiKey, NewKey, SpendCaps, Spending};
use crate::domain::crypto::sha256_hex;
use crate::domain::ids::{new_api_key, new_id};
use crate::domain::twilio_verify::{new_sid, SidKind};
use worker::wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement};

/// How many leading characters of a key are kept (and shown) to tell keys apart.
pub const PREFIX_CHARS: usize = 4;

/// Every key of the account, revoked ones included, newest first, with its caps and what
/// it spent in the UTC day and month of `now_ms`.
pub async fn list(db: &D1Database, account_id: &str, now_ms: i64) -> Result<Vec<ApiKey>> {
    all(
        db,
        "SELECT id, name, prefix, created_at, last_used_at, revoked_at, scopes, \
         spend_cap_daily, spend_cap_monthly, \
         COALESCE((SELECT amount FROM spend WHERE scope_kind = 'key' AND scope_id = k.id \
           AND period = 'd:' || strftime('%Y-%m-%d', ?2 / 1000, 'unixepoch')), 0) \
           AS spent_today, \
         COALESCE((SELECT amount FROM spend WHERE scope_kind = 'key' AND scope_id = k.id \
           AND period = 'm:' || strftime('%Y-%m', ?2 / 1000, 'unixepoch')), 0) \
           AS spent_this_month \
         FROM api_keys k WHERE account_id = ?1 ORDER BY created_at DESC, rowid DESC",
        &[text(account_id), int(now_ms)],
    )
    .await
}

/// What a new key is: its account, its name, the most live keys the account may hold
/// (`None`: no limit), its scopes as stored (`None`: every scope) and its spend caps.
pub struct KeySpec<'a> {
    pub account_id: &'a str,
    pub name: Option<&'a str>,
    pub max_live: Option<u32>,
    pub scopes: Option<&'a str>,
    pub caps: SpendCaps,
}

/// The INSERT of a new key: it adds nothing when the account does not exist or already
/// holds `max_live` unrevoked keys. The sid is bound, not left to migration 0007's trigger
/// (D1 would count the trigger's write as a second change).
pub fn insert(
    db: &D1Database,
    spec: &KeySpec<'_>,
    now_ms: i64,
) -> Result<(NewKey, D1PreparedStatement)> {
    let api_key = new_api_key()?;
    let key = NewKey {
        key: ApiKey {
            id: new_id("key")?,
            name: spec.name.map(str::to_owned),
            prefix: api_key.get(..PREFIX_CHARS).unwrap_or_default().to_owned(),
            created_at: now_ms,
            last_used_at: None,
            revoked_at: None,
            scopes: spec.scopes.map(str::to_owned),
            spending: Spending {
                caps: spec.caps,
                ..Spending::default()
            },
        },
        twilio_sid: new_sid(SidKind::ApiKey)?,
        api_key,
    };
    let statement = stmt(
        db,
        "INSERT INTO api_keys (id, account_id, key_hash, prefix, created_at, twilio_sid, name, \
         scopes, spend_cap_daily, spend_cap_monthly) \
         SELECT ?1, id, ?3, ?4, ?5, ?6, ?7, ?9, ?10, ?11 FROM accounts WHERE id = ?2 \
         AND (?8 IS NULL OR (SELECT COUNT(*) FROM api_keys WHERE account_id = ?2 \
         AND revoked_at IS NULL) < ?8)",
        &[
            text(&key.key.id),
            text(spec.account_id),
            text(&sha256_hex(key.api_key.as_bytes())),
            text(&key.key.prefix),
            int(key.key.created_at),
            text(&key.twilio_sid),
            opt_text(spec.name),
            spec.max_live.map_or(JsValue::NULL, |n| int(i64::from(n))),
            opt_text(spec.scopes),
            opt_int(spec.caps.daily),
            opt_int(spec.caps.monthly),
        ],
    )?;
    Ok((key, statement))
}

/// A new key, in one transaction with its audit row (`audit`: an `append_if_changed`
/// statement for the key); `None` when the account does not exist or is at its limit.
pub async fn create(
    db: &D1Database,
    spec: &KeySpec<'_>,
    now_ms: i64,
    audit: impl FnOnce(&NewKey) -> Prepared,
) -> Result<Option<NewKey>> {
    let (key, statement) = insert(db, spec, now_ms)?;
    let row = audit(&key)?;
    let results = batch(db, vec![statement, row]).await?;
    Ok((results.first().map(changes) > Some(0)).then_some(key))
}

/// The hashes of every live key of the account (to tell their objects of a change).
pub async fn hashes(db: &D1Database, account_id: &str) -> Result<Vec<String>> {
    let sql = "SELECT key_hash FROM api_keys WHERE account_id = ?1 AND revoked_at IS NULL";
    all_values(db, sql, &[text(account_id)], "key_hash").await
}

row! {
    /// A key's hash and its account (which never changes).
    #[derive(Debug)]
    pub struct KeyOwner {
        pub key_hash: String,
        pub account_id: String,
    }
}

/// Revokes a key (of `account_id` only, when given) unless it already is, in one
/// transaction with its audit row (an `append_if_changed` statement); the key's hash and
/// account when such a key exists, revoked now or before (to tell the objects that answer
/// for it), `None` when there is none (or it is another account's).
pub async fn revoke(
    db: &D1Database,
    key_id: &str,
    account_id: Option<&str>,
    now_ms: i64,
    audit: D1PreparedStatement,
) -> Result<Option<KeyOwner>> {
    let owner = opt_text(account_id);
    let revoke = stmt(
        db,
        "UPDATE api_keys SET revoked_at = ?3 WHERE id = ?1 AND (?2 IS NULL OR account_id = ?2) \
         AND revoked_at IS NULL",
        &[text(key_id), owner.clone(), int(now_ms)],
    )?;
    let read = stmt(
        db,
        "SELECT key_hash, account_id FROM api_keys WHERE id = ?1 \
         AND (?2 IS NULL OR account_id = ?2)",
        &[text(key_id), owner],
    )?;
    let results = batch(db, vec![revoke, audit, read]).await?;
    super::first_of(results.get(2))
}

/// What a change of a key sets: each `Some` is set (its inner `None`: every scope, no cap).
#[derive(Debug, Default)]
pub struct KeyChange<'a> {
    pub scopes: Option<Option<&'a str>>,
    pub spend_cap_daily: Option<Option<i64>>,
    pub spend_cap_monthly: Option<Option<i64>>,
}

/// Changes a live key of `account_id`; the key's hash when there is such a key (`None`: no
/// live key of that account has this id), in one transaction with its audit row (an
/// `append_if_changed` statement). New caps hold from the key's next charge.
pub async fn update(
    db: &D1Database,
    key_id: &str,
    account_id: &str,
    change: &KeyChange<'_>,
    audit: D1PreparedStatement,
) -> Result<Option<KeyOwner>> {
    let flag = |set: bool| int(i64::from(set));
    let update = stmt(
        db,
        "UPDATE api_keys SET scopes = CASE WHEN ?4 THEN ?3 ELSE scopes END, \
         spend_cap_daily = CASE WHEN ?6 THEN ?5 ELSE spend_cap_daily END, \
         spend_cap_monthly = CASE WHEN ?8 THEN ?7 ELSE spend_cap_monthly END \
         WHERE id = ?1 AND account_id = ?2 AND revoked_at IS NULL \
         RETURNING key_hash, account_id",
        &[
            text(key_id),
            text(account_id),
            opt_text(change.scopes.flatten()),
            flag(change.scopes.is_some()),
            opt_int(change.spend_cap_daily.flatten()),
            flag(change.spend_cap_daily.is_some()),
            opt_int(change.spend_cap_monthly.flatten()),
            flag(change.spend_cap_monthly.is_some()),
        ],
    )?;
    let results = batch(db, vec![update, audit]).await?;
    super::first_of(results.first())
}

/// Records a use of a live key, unless one was recorded at or after `used_before`.
pub async fn touch(db: &D1Database, key_hash: &str, now_ms: i64, used_before: i64) -> Result<()> {
    let sql = "UPDATE api_keys SET last_used_at = ?2 WHERE key_hash = ?1 AND revoked_at IS NULL \
               AND (last_used_at IS NULL OR last_used_at < ?3)";
    execute(db, sql, &[text(key_hash), int(now_ms), int(used_before)]).await
}
