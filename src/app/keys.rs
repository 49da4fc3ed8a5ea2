//! API keys, for the operator (any account's) and for an account's owner (their own) alike:
//! listed, created, their scopes changed, and revoked at once (the objects that answer for a
//! key without D1 are told before the change or revocation is answered).
use super::App;
use crate::domain::account::{key_name, ApiKey, NewKey, SpendCaps, MAX_LIVE_KEYS};
use crate::domain::audit::{Actor, Change};
use crate::domain::error::{AppError, Code};
use crate::domain::ids::AccountId;
use crate::domain::money::Money;
use crate::domain::scope;
use crate::durable::{api_key, otp_session};
use crate::store::audit;
use crate::store::keys::{self as store, KeySpec};
use serde_json::json;

/// A change to a key, as the audit log records it.
fn key_change<'a>(account_id: Option<&'a str>, action: &'a str, key_id: &'a str) -> Change<'a> {
    Change {
        account_id,
        action,
        resource_type: "api_key",
        resource_id: Some(key_id),
        ..Change::default()
    }
}

/// Creates a key, in one batch with its audit row (`key.create`, its name and scopes).
async fn create(app: &App, spec: &KeySpec<'_>, actor: &Actor) -> Result<Option<NewKey>, AppError> {
    let db = app.db()?;
    let row = |key: &NewKey| {
        let after = json!({"name": key.key.name, "scopes": scope::listed(spec.scopes)});
        let change = Change {
            after: Some(after),
            ..key_change(Some(spec.account_id), "key.create", &key.key.id)
        };
        audit::append_if_changed(&db, actor, &change, app.now_ms)
    };
    Ok(store::create(&db, spec, app.now_ms, row).await?)
}

/// Every key of the account, revoked ones included, newest first.
/// Each with its caps and what it spent today and this month (UTC).
pub async fn list(app: &App, account: &AccountId) -> Result<Vec<ApiKey>, AppError> {
    Ok(store::list(&app.db()?, account.as_str(), app.now_ms).await?)
}

/// The operator's new key for an existing account (404 when there is none); no limit.
pub async fn create_for_operator(
    app: &App,
    account_id: &str,
    actor: &Actor,
) -> Result<NewKey, AppError> {
    let spec = KeySpec {
        account_id,
        name: None,
        max_live: None,
        scopes: None,
        caps: SpendCaps::default(),
    };
    let key = create(app, &spec, actor).await?;
    key.ok_or_else(|| AppError::not_found("account"))
}

/// An owner's new named key, shown once, with the given scopes (`None`: every scope; an
/// unknown scope: 400 naming it) and spend caps; 409 (2408) past `MAX_LIVE_KEYS` live keys.
pub async fn create_own(
    app: &App,
    account: &AccountId,
    name: Option<&str>,
    scopes: Option<&[String]>,
    caps: SpendCaps,
    actor: &Actor,
) -> Result<NewKey, AppError> {
    let name = key_name(name).map_err(AppError::invalid)?;
    let scopes = scopes.map(scope::normalize).transpose();
    let scopes = scopes.map_err(AppError::invalid)?;
    let spec = KeySpec {
        account_id: account.as_str(),
        name: Some(&name),
        max_live: Some(MAX_LIVE_KEYS),
        scopes: scopes.as_deref(),
        caps,
    };
    let key = create(app, &spec, actor).await?;
    key.ok_or_else(|| {
        AppError::new(
            Code::KeyLimit,
            format!("an account has at most {MAX_LIVE_KEYS} live keys; revoke one first"),
        )
    })
}

/// Revokes a key at once: any account's for the operator (`owner` `None`), else only the
/// owner's own (another's: 404, as for no key). Revoking a revoked key is no error. The key
/// is revoked in D1, then in its Durable Object and in each of the account's OTP-session
/// objects (which keep the keys they have checked in memory) before answering, so the
/// routes that ask the objects refuse it from now on; a revocation an object missed is
/// told again by a repeat.
pub async fn revoke(
    app: &App,
    key_id: &str,
    owner: Option<&AccountId>,
    actor: &Actor,
) -> Result<(), AppError> {
    let db = app.db()?;
    let owner = owner.map(AccountId::as_str);
    // The account of a key the operator revokes is read inside the audit row itself.
    let change = key_change(owner, "key.revoke", key_id);
    let row = audit::append_if_changed(&db, actor, &change, app.now_ms)?;
    let found = store::revoke(&db, key_id, owner, app.now_ms, row).await?;
    let key = found.ok_or_else(|| AppError::not_found("key"))?;
    api_key::revoke(&app.env, &key.key_hash).await?;
    otp_session::revoke_key(&app.env, &key.account_id, &key.key_hash).await
}

/// A change of a key: each `Some` is set (the inner `None`: every scope, no cap).
#[derive(Default)]
pub struct KeyUpdate {
    pub scopes: Option<Option<Vec<String>>>,
    pub spend_cap_daily: Option<Option<Money>>,
    pub spend_cap_monthly: Option<Option<Money>>,
}

/// Changes the scopes and caps of one of the owner's live keys (an unknown scope: 400
/// naming it; no such live key: 404), and answers the key as listed. D1 first, then the
/// key's object, before answering: every request by the key from now on, anywhere, is
/// checked against the new scopes, and its next charge against the new caps.
pub async fn update(
    app: &App,
    key_id: &str,
    owner: &AccountId,
    update: KeyUpdate,
    actor: &Actor,
) -> Result<ApiKey, AppError> {
    let scopes = update
        .scopes
        .map(|s| s.as_deref().map(scope::normalize).transpose());
    let scopes = scopes.transpose().map_err(AppError::invalid)?;
    let minor = |cap: Option<Option<Money>>| cap.map(|c| c.map(Money::minor));
    let stored = store::KeyChange {
        scopes: scopes.as_ref().map(Option::as_deref),
        spend_cap_daily: minor(update.spend_cap_daily),
        spend_cap_monthly: minor(update.spend_cap_monthly),
    };
    let db = app.db()?;
    let mut after = serde_json::Map::new();
    if let Some(s) = &scopes {
        after.insert("scopes".into(), json!(scope::listed(s.as_deref())));
    }
    if let Some(cap) = stored.spend_cap_daily {
        after.insert("spend_cap_daily_minor".into(), json!(cap));
    }
    if let Some(cap) = stored.spend_cap_monthly {
        after.insert("spend_cap_monthly_minor".into(), json!(cap));
    }
    let change = Change {
        after: Some(serde_json::Value::Object(after)),
        ..key_change(Some(owner.as_str()), "key.update", key_id)
    };
    let row = audit::append_if_changed(&db, actor, &change, app.now_ms)?;
    let found = store::update(&db, key_id, owner.as_str(), &stored, row).await?;
    let key = found.ok_or_else(|| AppError::not_found("key"))?;
    api_key::refresh(&app.env, &key.key_hash).await?;
    otp_session::key_changed(&app.env, &key.account_id, &key.key_hash).await?;
    let keys = store::list(&db, owner.as_str(), app.now_ms).await?;
    keys.into_iter()
        .find(|k| k.id == key_id)
        .ok_or_else(|| AppError::not_found("key"))
}
