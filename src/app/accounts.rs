//! Accounts: who is calling (by key or session), the operator's accounts, the profile.
use super::App;
use crate::domain::account::{require_approved, NewKey, Profile};
use crate::domain::audit::{Actor, Change};
use crate::domain::error::AppError;
use crate::domain::ids::{AccountId, KeyHash};
use crate::domain::scope::{self, Scope};
use crate::durable::api_key;
use crate::store::accounts as store;
use std::cell::RefCell;
use std::collections::HashMap;

/// The account behind a live key, or 401 (unknown and revoked keys alike, so the answer
/// reveals nothing about which).
pub async fn authenticate(app: &App, key: &KeyHash) -> Result<AccountId, AppError> {
    let principal = store::find_by_key_hash(&app.db()?, key.as_str()).await?;
    let account = principal
        .map(|p| AccountId(p.account_id))
        .ok_or_else(AppError::unauthorized)?;
    remember_owner(key.as_str(), &account);
    Ok(account)
}

/// The account behind a live key or session that may move money: 401 as `authenticate`,
/// then 403 (2405) while it awaits the operator's approval (`SIGNUP_APPROVAL = "manual"`).
/// The approval is read in the same query as the key.
pub async fn authenticate_payer(app: &App, key: &KeyHash) -> Result<AccountId, AppError> {
    let principal = store::find_by_key_hash(&app.db()?, key.as_str()).await?;
    let principal = principal.ok_or_else(AppError::unauthorized)?;
    let account = AccountId(principal.account_id);
    remember_owner(key.as_str(), &account);
    require_approved(principal.approved == 1)?;
    spends(app, key);
    Ok(account)
}

/// The key pays this request's charges: they count against its spend caps too (a login
/// session has none).
fn spends(app: &App, key: &KeyHash) {
    if !key.is_session() {
        let _ = app.spender.set(key.clone());
    }
}

thread_local! {
    /// Whose each API key (or login session) is, as this isolate has learnt it from an answer
    /// that found it live. A key never changes account, so the memo is never stale; whether
    /// the key is still live is asked elsewhere (the key's object, or the OTP-session object
    /// that keeps it current). A credential in it has a rate-limit bucket of its own, and its
    /// use is recorded (`proven`); any other counts against its IP.
    static OWNERS: RefCell<HashMap<String, AccountId>> = RefCell::new(HashMap::new());
}

/// Keys remembered per isolate before the memo starts over.
const OWNERS_KEPT: usize = 4096;

/// The account a key belongs to, if this isolate has seen the key live before. Says
/// nothing about whether the key is live now.
pub fn known_owner(key: &KeyHash) -> Option<AccountId> {
    OWNERS.with(|m| m.borrow().get(key.as_str()).cloned())
}

/// Whether this isolate has found the credential of this hash (SHA-256 hex) live.
pub fn proven(hash: &str) -> bool {
    OWNERS.with(|m| m.borrow().contains_key(hash))
}

/// Notes that the credential of this hash was found live, as `account`'s.
pub fn remember_owner(hash: &str, account: &AccountId) {
    OWNERS.with(|m| {
        let mut m = m.borrow_mut();
        if m.len() >= OWNERS_KEPT {
            m.clear();
        }
        m.insert(hash.to_owned(), account.clone());
    });
}

/// The account behind a live key as the key's Durable Object knows it (near the caller; no
/// D1 round trip once the object has read the key), or 401; then 403 (2410) when the key
/// lacks `needed`, read from the same answer. Revocations and changes of scopes reach the
/// object before they are answered (`keys`), so they hold at once.
pub async fn authenticate_near_for(
    app: &App,
    key: &KeyHash,
    needed: Scope,
) -> Result<AccountId, AppError> {
    near(app, key, false, Some(needed)).await
}

/// As `authenticate_near_for`; for a call that moves money (`pays`), then 403 (2405) while the
/// account awaits the operator's approval, as `authenticate_payer` (the key's object re-reads
/// a pending account's approval from D1 on every call; an approval is final); and 403 (2410)
/// when the key lacks the `needed` scope, read from the same answer (no call of its own).
async fn near(
    app: &App,
    key: &KeyHash,
    pays: bool,
    needed: Option<Scope>,
) -> Result<AccountId, AppError> {
    if key.is_session() {
        // A login session ends in D1 (logout, expiry): D1 answers for it.
        return if pays {
            authenticate_payer(app, key).await
        } else {
            authenticate(app, key).await
        };
    }
    let answer = api_key::account(&app.env, key.as_str()).await?;
    let account = answer
        .account_id
        .map(AccountId)
        .ok_or_else(AppError::unauthorized)?;
    remember_owner(key.as_str(), &account);
    if pays {
        require_approved(answer.approved)?;
    }
    if let Some(needed) = needed.filter(|n| !scope::allows(answer.scopes.as_deref(), *n)) {
        return Err(scope::refused(needed));
    }
    if pays {
        spends(app, key);
    }
    Ok(account)
}

/// Refuses (403, `insufficient_scope`, naming it) a live API key that lacks `needed`, as
/// the key's object knows its scopes now (a change of scopes reaches the object before it
/// is answered). A login session holds every scope; a key that is not live passes, for the
/// route to refuse it as it always has (401).
pub async fn require_scope(app: &App, key: &KeyHash, needed: Scope) -> Result<(), AppError> {
    if key.is_session() {
        return Ok(());
    }
    let answer = api_key::account(&app.env, key.as_str()).await?;
    let Some(account) = answer.account_id else {
        return Ok(());
    };
    remember_owner(key.as_str(), &AccountId(account));
    if scope::allows(answer.scopes.as_deref(), needed) {
        return Ok(());
    }
    Err(scope::refused(needed))
}

/// Who pays for an OTP send.
pub struct Payer {
    pub account: AccountId,
    /// The key, when nothing has confirmed it live for this request yet: the isolate knew
    /// whose it is, so the send's own D1 batch confirms it (the key live with the
    /// `otp:send` scope, its account active and approved) instead of a call to the key's
    /// object.
    pub unconfirmed: Option<KeyHash>,
    /// The key that sends, for the statistics by key (`None`: not known).
    pub key: Option<KeyHash>,
}

impl Payer {
    /// A payer already authenticated by the caller.
    pub fn confirmed(account: AccountId) -> Payer {
        Payer {
            account,
            unconfirmed: None,
            key: None,
        }
    }

    /// A payer already authenticated by the caller with this key.
    pub fn confirmed_key(account: AccountId, key: KeyHash) -> Payer {
        Payer {
            key: Some(key),
            ..Payer::confirmed(account)
        }
    }

    /// The error to answer for this payer: an unconfirmed key is confirmed first, so a key
    /// that is not live is refused (401, or 403 while awaiting approval, or 403 without the
    /// `otp:send` scope) before anything else about the request is reported.
    pub async fn error(&self, app: &App, e: AppError) -> AppError {
        match &self.unconfirmed {
            Some(key) => match near(app, key, true, Some(Scope::OtpSend)).await {
                Ok(_) => e,
                Err(refused) => refused,
            },
            None => e,
        }
    }
}

/// The payer of an OTP send, whose key needs the `otp:send` scope. A key whose owner this
/// isolate knows is confirmed, scope included, by the send's D1 batch (no near round
/// trip); otherwise, and for a request with an `Idempotency-Key` (a replay is answered
/// before any batch), from the key's object, the scope read from the same answer.
pub async fn payer_for_send(app: &App, key: &KeyHash, idempotent: bool) -> Result<Payer, AppError> {
    if !key.is_session() && !idempotent {
        if let Some(account) = known_owner(key) {
            spends(app, key);
            return Ok(Payer {
                account,
                unconfirmed: Some(key.clone()),
                key: Some(key.clone()),
            });
        }
    }
    let account = near(app, key, true, Some(Scope::OtpSend)).await?;
    Ok(Payer::confirmed_key(account, key.clone()))
}

/// Hot routes fold the key check into their first query (`store::accounts::LIVE_KEY_ACCOUNT`);
/// when that query finds nothing, this tells why: 401 if the key is not live, else
/// `missing`. Only the failure path pays the second round trip.
pub async fn unauthorized_or(app: &App, key: &KeyHash, missing: AppError) -> AppError {
    match authenticate(app, key).await {
        Ok(_) => missing,
        Err(e) => e,
    }
}

/// An account as the operator names it: 404 when there is none.
pub async fn existing(app: &App, account_id: &str) -> Result<AccountId, AppError> {
    if store::exists(&app.db()?, account_id).await? {
        Ok(AccountId(account_id.to_owned()))
    } else {
        Err(AppError::not_found("account"))
    }
}

pub struct CreatedAccount {
    pub account_id: String,
    /// `AC…`: the Twilio Verify username.
    pub account_sid: String,
    pub name: String,
    pub key: NewKey,
}

/// Creates an account, its empty wallet (in the deployment's currency) and its first key,
/// in one batch with the audit row (`account.create`).
pub async fn create_account(
    app: &App,
    name: String,
    actor: &Actor,
) -> Result<CreatedAccount, AppError> {
    let db = app.db()?;
    let row = |account_id: &str| {
        let change = Change {
            account_id: Some(account_id),
            action: "account.create",
            resource_type: "account",
            resource_id: Some(account_id),
            after: Some(serde_json::json!({"name": name})),
            ..Change::default()
        };
        crate::store::audit::append(&db, actor, &change, app.now_ms)
    };
    let currency = &app.config.currency;
    let (account_id, account_sid, key) =
        store::create_account(&db, &name, currency, app.now_ms, row).await?;
    Ok(CreatedAccount {
        account_id,
        account_sid,
        name,
        key,
    })
}

pub async fn profile(app: &App, account: &AccountId) -> Result<Profile, AppError> {
    let profile = store::profile(&app.db()?, account.as_str()).await?;
    profile.ok_or_else(|| AppError::not_found("account"))
}
