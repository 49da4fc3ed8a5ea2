//! API keys, for the operator (any account's) and for an account's owner (their own) alike:
//! listed, created, their scopes changed, and revoked at once (the objects that answer for a
//! key without D1 are told before the change or revocation is answered).
use super::App;
use crate::domain::account::{key_name, ApiKey, NewKey, MAX_LIVE_KEYS};
use crate::domain::audit::{Actor, Change};
use crate::domain::error::{AppError, Code};
use crate::domain::ids::AccountId;
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
pub async fn list(app: &App, account: &AccountId) -> Result<Vec<ApiKey>, AppError> {
    Ok(store::list(&app.db()?, account.as_str()).await?)
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
    };
    let key = create(app, &spec, actor).await?;
    key.ok_or_else(|| AppError::not_found("account"))
}

/// An owner's new named key, shown once, with the given scopes (`None`: every scope; an
/// unknown scope: 400 naming it); 409 (2408) past `MAX_LIVE_KEYS` live keys.
pub async fn create_own(
    app: &App,
    account: &AccountId,
    name: Option<&str>,
    scopes: Option<&[String]>,
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

/// Sets the scopes of one of the owner's live keys (`None`: every scope; an unknown scope:
/// 400 naming it; no such live key: 404). D1 first, then the key's object, before answering:
/// every request by the key from now on, anywhere, is checked against the new scopes.
/// Returns the scopes as stored.
pub async fn set_scopes(
    app: &App,
    key_id: &str,
    owner: &AccountId,
    scopes: Option<&[String]>,
    actor: &Actor,
) -> Result<Option<String>, AppError> {
    let scopes = scopes.map(scope::normalize).transpose();
    let scopes = scopes.map_err(AppError::invalid)?;
    let db = app.db()?;
    let change = Change {
        after: Some(json!({"scopes": scope::listed(scopes.as_deref())})),
        ..key_change(Some(owner.as_str()), "key.scopes", key_id)
    };
    let row = audit::append_if_changed(&db, actor, &change, app.now_ms)?;
    let found = store::set_scopes(&db, key_id, owner.as_str(), scopes.as_deref(), row).await?;
    let key = found.ok_or_else(|| AppError::not_found("key"))?;
    api_key::refresh(&app.env, &key.key_hash).await?;
    Ok(scopes)
}
