//! Accounts: creation (with the wallet and the first key), who is calling, the profile.
use super::keys::{self, KeySpec};
use super::row::row;
use super::{batch, first, int, stmt, text, Prepared, Result};
use crate::domain::account::{NewKey, Profile};
use crate::domain::ids::new_uuid;
use crate::domain::scope::Scope;
use crate::domain::time::rfc3339;
use crate::domain::twilio_verify::{new_sid, SidKind};
use worker::D1Database;

row! {
    /// Who is calling: the account behind a valid, unrevoked key.
    #[derive(Debug, Clone)]
    pub struct Principal {
        pub account_id: String,
        /// 1 when the account may move money (`SIGNUP_APPROVAL`).
        pub approved: i64 = default,
        /// The key's scopes as stored (`domain::scope`); `None`: every scope (and any session).
        pub scopes: Option<String> = default,
    }
}

/// Creates an account, its empty wallet and its first key in one transaction with its audit
/// row (`audit`, given the new account's id); returns the account's id and `AC…` sid, and
/// the key.
pub async fn create_account(
    db: &D1Database,
    name: &str,
    currency: &str,
    now_ms: i64,
    audit: impl FnOnce(&str) -> Prepared,
) -> Result<(String, String, NewKey)> {
    let account_id = new_uuid()?;
    let account_sid = new_sid(SidKind::Account)?;
    let now = rfc3339(now_ms);
    let spec = KeySpec {
        account_id: &account_id,
        name: None,
        max_live: None,
        scopes: None,
        caps: Default::default(),
    };
    let (key, insert_key) = keys::insert(db, &spec, now_ms)?;
    let statements = vec![
        stmt(
            db,
            "INSERT INTO accounts (id, name, status, created_at, twilio_sid) \
             VALUES (?1, ?2, 'active', ?3, ?4)",
            &[
                text(&account_id),
                text(name),
                text(&now),
                text(&account_sid),
            ],
        )?,
        stmt(
            db,
            "INSERT INTO wallets (account_id, balance, currency, updated_at) VALUES (?1, 0, \
            ?2, ?3)",
            &[text(&account_id), text(currency), int(now_ms)],
        )?,
        insert_key,
        audit(&account_id)?,
    ];
    batch(db, statements).await?;
    Ok((account_id, account_sid, key))
}

/// The account of a live key (unrevoked, account active), by the key's hash bound as `?1`.
/// Hot routes embed it as a subquery (`account_id = (…)`) so that the key check and the
/// route's own read are ONE D1 round trip; it is still read from D1 on every request.
///
/// A login session's token (hashed the same way) is accepted too, wherever a key is: a live
/// session (not revoked, before its idle and absolute expiry, by D1's own clock in ms) of an
/// active account. Keys and tokens have distinct shapes, so at most one branch matches.
pub const LIVE_KEY_ACCOUNT: &str =
    "SELECT k.account_id FROM api_keys k JOIN accounts a ON a.id = k.account_id \
     WHERE k.key_hash = ?1 AND k.revoked_at IS NULL AND a.status = 'active' \
     UNION ALL SELECT s.account_id FROM sessions s JOIN accounts a ON a.id = s.account_id \
     WHERE s.token_hash = ?1 AND s.revoked_at IS NULL AND a.status = 'active' \
     AND MIN(s.idle_expires_at, s.expires_at) > \
     CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)";

/// `sql`, whose key check is `LIVE_KEY_ACCOUNT`, for a route that needs `scope`: the key must
/// also hold it (a key without a recorded set holds every scope, as does a login session), so
/// a key without it matches nothing, and the key, its scope and the route's own read stay one
/// D1 round trip.
pub fn holding(sql: &str, scope: Scope) -> String {
    let holds = format!(
        " AND (k.scopes IS NULL OR instr(' ' || k.scopes || ' ', ' {} ') > 0) UNION ALL ",
        scope.as_str()
    );
    sql.replacen(" UNION ALL ", &holds, 1)
}

/// The principal for a presented key's hash, if the key is live and its account active.
/// Read from D1 (strongly consistent) on every request, so revocation takes effect at once.
pub async fn find_by_key_hash(db: &D1Database, key_hash: &str) -> Result<Option<Principal>> {
    first(stmt(
        db,
        &format!(
            "SELECT p.account_id AS account_id, a.approved AS approved, \
             (SELECT scopes FROM api_keys WHERE key_hash = ?1) AS scopes \
             FROM ({LIVE_KEY_ACCOUNT}) p JOIN accounts a ON a.id = p.account_id"
        ),
        &[text(key_hash)],
    )?)
    .await
}

pub async fn exists(db: &D1Database, account_id: &str) -> Result<bool> {
    super::exists(stmt(
        db,
        "SELECT id FROM accounts WHERE id = ?1",
        &[text(account_id)],
    )?)
    .await
}

pub async fn profile(db: &D1Database, account_id: &str) -> Result<Option<Profile>> {
    first(stmt(
        db,
        "SELECT a.id AS id, a.name AS name, a.email AS email, a.approved AS approved, \
            a.status AS status, a.created_at AS created_at, \
            w.balance AS balance, w.currency AS currency, a.twilio_sid AS twilio_sid \
         FROM accounts a JOIN wallets w ON w.account_id = a.id WHERE a.id = ?1",
        &[text(account_id)],
    )?)
    .await
}
