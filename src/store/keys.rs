//! A customer's own API keys (issue 11): named, listed without the secret, at most N live
//! per account (checked inside the INSERT itself, so parallel creations cannot overrun it),
//! revoked by their owner only, with an approximate last use.
use super::{all, exists, run, stmt, text, StoreError};
use crate::domain::crypto::sha256_hex;
use crate::domain::ids::{new_api_key, new_id};
use crate::domain::time::rfc3339;
use serde::Deserialize;
use worker::D1Database;

/// How many leading characters of a key are kept (and shown) to tell keys apart: the same
/// as the operator's keys (`store::accounts`).
pub const PREFIX_CHARS: usize = 4;

#[derive(Debug, Clone, Deserialize)]
pub struct KeyRow {
    pub id: String,
    pub name: Option<String>,
    pub prefix: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
}

/// Every key of the account, revoked ones included, newest first.
pub async fn list(db: &D1Database, account_id: &str) -> Result<Vec<KeyRow>, StoreError> {
    all(stmt(
        db,
        "SELECT id, name, prefix, created_at, last_used_at, revoked_at FROM api_keys \
         WHERE account_id = ?1 ORDER BY created_at DESC, rowid DESC",
        &[text(account_id)],
    )?)
    .await
}

pub struct CreatedKey {
    pub row: KeyRow,
    /// Shown once, in the answer that creates it.
    pub api_key: String,
}

/// A new named key, unless the account already has `max_live` unrevoked keys (`None`).
pub async fn create(
    db: &D1Database,
    account_id: &str,
    name: &str,
    max_live: u32,
    now_ms: i64,
) -> Result<Option<CreatedKey>, StoreError> {
    let api_key = new_api_key()?;
    let row = KeyRow {
        id: new_id("key")?,
        name: Some(name.to_owned()),
        prefix: api_key.get(..PREFIX_CHARS).unwrap_or_default().to_owned(),
        created_at: rfc3339(now_ms),
        last_used_at: None,
        revoked_at: None,
    };
    let inserted = run(stmt(
        db,
        "INSERT INTO api_keys (id, account_id, key_hash, prefix, created_at, name) \
         SELECT ?1, ?2, ?3, ?4, ?5, ?6 WHERE (SELECT COUNT(*) FROM api_keys \
         WHERE account_id = ?2 AND revoked_at IS NULL) < ?7",
        &[
            text(&row.id),
            text(account_id),
            text(&sha256_hex(api_key.as_bytes())),
            text(&row.prefix),
            text(&row.created_at),
            text(name),
            super::int(i64::from(max_live)),
        ],
    )?)
    .await?;
    // D1 counts the rows a trigger changes too (0007's `api_keys_twilio_sid_new` sets the new
    // key's `SK…` sid): any change means the guarded INSERT added the key.
    Ok((inserted > 0).then_some(CreatedKey { row, api_key }))
}

pub enum OwnRevocation {
    Revoked,
    AlreadyRevoked,
    /// No such key, or another account's: the same answer (404).
    NotYours,
}

pub async fn revoke(
    db: &D1Database,
    account_id: &str,
    key_id: &str,
    now_ms: i64,
) -> Result<OwnRevocation, StoreError> {
    let changed = run(stmt(
        db,
        "UPDATE api_keys SET revoked_at = ?3 WHERE id = ?1 AND account_id = ?2 \
         AND revoked_at IS NULL",
        &[text(key_id), text(account_id), text(&rfc3339(now_ms))],
    )?)
    .await?;
    if changed == 1 {
        return Ok(OwnRevocation::Revoked);
    }
    let mine = exists(stmt(
        db,
        "SELECT id FROM api_keys WHERE id = ?1 AND account_id = ?2",
        &[text(key_id), text(account_id)],
    )?)
    .await?;
    Ok(if mine {
        OwnRevocation::AlreadyRevoked
    } else {
        OwnRevocation::NotYours
    })
}

/// Records a use of a live key, unless one was recorded at or after `used_before`.
pub async fn touch(
    db: &D1Database,
    key_hash: &str,
    now_ms: i64,
    used_before: i64,
) -> Result<(), StoreError> {
    run(stmt(
        db,
        "UPDATE api_keys SET last_used_at = ?2 WHERE key_hash = ?1 AND revoked_at IS NULL \
         AND (last_used_at IS NULL OR last_used_at < ?3)",
        &[
            text(key_hash),
            text(&rfc3339(now_ms)),
            text(&rfc3339(used_before)),
        ],
    )?)
    .await?;
    Ok(())
}
