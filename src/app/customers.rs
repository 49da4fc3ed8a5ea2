//! Customers sign themselves up: registration, login sessions, password changes, the
//! approval of accounts and the operator's account list. Their API keys: `keys`.
//!
//! The rules live in `domain`: `account` (email, password policy, names, approval mode),
//! `password` (argon2id), `session` (tokens, lifetimes), `lockout` (failed-login throttle).
//! SQL lives in `store::logins`.
use super::{App, Listed};
use crate::domain::account::{check_password, display_name, AccountSummary, Email};
use crate::domain::audit::{Actor, Change};
use crate::domain::error::{AppError, Code};
use crate::domain::ids::{new_id, new_uuid, AccountId};
use crate::domain::lockout::{email_subject, ip_subject, strictest, LockoutPolicy, Verdict};
use crate::domain::pagination::Page;
use crate::domain::password;
use crate::domain::session::{
    looks_like_session_token, new_token, token_hash, SessionInfo, SessionPolicy, TouchMemo,
};
use crate::store::audit;
use crate::store::keys as keys_store;
use crate::store::logins::{self as store, NewLoginAccount, NewSession, Registered};
use std::cell::RefCell;

/// An account as its owner sees it (`{"id","email","name","approved"}`).
#[derive(Debug, Clone)]
pub struct AccountView {
    pub id: String,
    pub email: Option<String>,
    pub name: String,
    pub approved: bool,
}

/// A session just opened: the token is in this answer (and the cookie) and nowhere else.
pub struct Opened {
    pub token: String,
    pub session_id: String,
    /// When the session ends if unused (the earlier of idle and absolute expiry), ms.
    pub expires_at: i64,
    /// The absolute lifetime, for the cookie's Max-Age.
    pub max_age_secs: i64,
    pub account: AccountView,
}

/// The caller behind a live session token.
#[derive(Debug, Clone)]
pub struct SessionPrincipal {
    pub session_id: String,
    pub account: AccountView,
    pub expires_at: i64,
}

impl SessionPrincipal {
    pub fn account_id(&self) -> AccountId {
        AccountId(self.account.id.clone())
    }
}

/// Where a login comes from: the throttle is per email and per client IP; the audit log
/// records the request (`actor`, its id set to the account here).
pub struct Client<'a> {
    pub ip: &'a str,
    pub user_agent: Option<&'a str>,
    pub actor: Actor,
}

/// The audit row of a sign-in event of `account_id` (`auth.login`, `auth.logout`, …),
/// recorded only if the statement before it in the batch changed a row (every one does,
/// but a revocation of a session that is no longer live).
fn auth_event(
    app: &App,
    actor: &Actor,
    account_id: &str,
    action: &str,
    session_id: &str,
) -> Result<worker::D1PreparedStatement, AppError> {
    let actor = Actor {
        id: Some(account_id.to_owned()),
        ..actor.clone()
    };
    let change = Change {
        account_id: Some(account_id),
        action,
        resource_type: "session",
        resource_id: Some(session_id),
        ..Change::default()
    };
    Ok(audit::append_if_changed(
        &app.db()?,
        &actor,
        &change,
        app.now_ms,
    )?)
}

fn session_policy(app: &App) -> SessionPolicy {
    SessionPolicy {
        idle_ms: app.config.session_idle_ms,
        absolute_ms: app.config.session_max_ms,
    }
}

fn lockouts(app: &App) -> (LockoutPolicy, LockoutPolicy) {
    let c = &app.config;
    let per = |max_failures| LockoutPolicy {
        max_failures,
        window_ms: c.login_lock_ms,
        lock_ms: c.login_lock_ms,
    };
    (per(c.login_max_failures), per(c.login_max_failures_per_ip))
}

fn invalid_email(e: impl std::fmt::Display) -> AppError {
    AppError::new(Code::InvalidEmail, e.to_string())
}

fn rejected(e: impl std::fmt::Display) -> AppError {
    AppError::new(Code::PasswordRejected, e.to_string())
}

fn hash_failed(e: impl std::fmt::Display) -> AppError {
    AppError::internal(format!("password hash: {e}"))
}

fn user_agent(ua: Option<&str>) -> Option<String> {
    ua.map(|u| u.chars().filter(|c| !c.is_control()).take(255).collect())
}

async fn open(
    app: &App,
    account: AccountView,
    client: &Client<'_>,
    batch_with: Option<NewLoginAccount<'_>>,
) -> Result<Result<Opened, Registered>, AppError> {
    let policy = session_policy(app);
    let token = new_token()?;
    let session_id = new_id("ses")?;
    let expiry = policy.start(app.now_ms);
    let ua = user_agent(client.user_agent);
    let session = NewSession {
        id: &session_id,
        account_id: &account.id,
        token_hash: &token.hash,
        expiry,
        now_ms: app.now_ms,
        user_agent: ua.as_deref(),
    };
    let db = app.db()?;
    let action = if batch_with.is_some() {
        "auth.register"
    } else {
        "auth.login"
    };
    let insert = vec![
        store::insert_session(&db, &session)?,
        auth_event(app, &client.actor, &account.id, action, &session_id)?,
    ];
    match batch_with {
        Some(new_account) => {
            if let Registered::EmailTaken = store::register(&db, &new_account, insert).await? {
                return Ok(Err(Registered::EmailTaken));
            }
        }
        None => {
            crate::store::batch(&db, insert).await?;
        }
    }
    Ok(Ok(Opened {
        token: token.token,
        session_id,
        expires_at: expiry.effective(),
        max_age_secs: policy.cookie_max_age_secs(),
        account,
    }))
}

/// `POST /api/v1/auth/register`: a new account (empty wallet, approved unless
/// `SIGNUP_APPROVAL = "manual"`) and its first session. One account per email: a second
/// registration, even in parallel, is 409 (2401).
pub async fn register(
    app: &App,
    email: &str,
    password: &str,
    name: Option<&str>,
    client: &Client<'_>,
) -> Result<Opened, AppError> {
    let email = Email::parse(email).map_err(invalid_email)?;
    check_password(password, Some(&email)).map_err(rejected)?;
    let name = display_name(name, &email).map_err(AppError::invalid)?;
    let hash = password::hash(password).map_err(hash_failed)?;
    let account_id = new_uuid()?;
    let approved = app.config.signup_approval.starts_approved();
    let view = AccountView {
        id: account_id.clone(),
        email: Some(email.as_str().to_owned()),
        name: name.clone(),
        approved,
    };
    let new_account = NewLoginAccount {
        account_id: &account_id,
        email: email.as_str(),
        name: &name,
        password_hash: &hash,
        approved,
        currency: &app.config.currency,
        now_ms: app.now_ms,
    };
    match open(app, view, client, Some(new_account)).await? {
        Ok(opened) => Ok(opened),
        Err(_) => Err(AppError::of(Code::EmailTaken)),
    }
}

/// Counts one password attempt for the email and the client IP (before the password is
/// checked), and refuses (429, 2404) when either is locked.
async fn admit_attempt(app: &App, email: &str, ip: &str) -> Result<(String, String), AppError> {
    let (per_email, per_ip) = lockouts(app);
    let subjects = (email_subject(email), ip_subject(ip));
    let db = app.db()?;
    let counted = store::count_attempts(
        &db,
        &[&subjects.0, &subjects.1],
        app.now_ms,
        per_email.stale_before(app.now_ms),
    )
    .await?;
    let verdicts: Vec<Verdict> = counted
        .iter()
        .zip([per_email, per_ip])
        .map(|(row, policy)| policy.judge(*row, app.now_ms))
        .collect();
    for (verdict, subject) in verdicts.iter().zip([&subjects.0, &subjects.1]) {
        if let Verdict::Locked {
            until, newly: true, ..
        } = verdict
        {
            store::lock(&db, subject, *until, app.now_ms).await?;
        }
    }
    match strictest(&verdicts) {
        Verdict::Proceed => Ok(subjects),
        Verdict::Locked {
            retry_after_secs, ..
        } => Err(AppError::new(
            Code::LoginLocked,
            format!(
                "too many failed logins; try again in {} minute(s)",
                retry_after_secs.div_ceil(60)
            ),
        )
        .with_retry_after(retry_after_secs)),
    }
}

fn bad_credentials() -> AppError {
    AppError::of(Code::BadCredentials)
}

/// `POST /api/v1/auth/login`. An unknown email and a wrong password get the same answer
/// (401, 2400) after the same work (one argon2id hash each).
pub async fn login(
    app: &App,
    email: &str,
    password: &str,
    client: &Client<'_>,
) -> Result<Opened, AppError> {
    // A malformed address cannot belong to any account: nothing to throttle or to hash.
    let Ok(email) = Email::parse(email) else {
        return Err(bad_credentials());
    };
    let (email_key, ip_key) = admit_attempt(app, email.as_str(), client.ip).await?;
    let db = app.db()?;
    let found = store::by_email(&db, email.as_str()).await?;
    let stored = found.as_ref().and_then(|l| l.password_hash.as_deref());
    if !password::verify_or_dummy(password, stored) {
        return Err(bad_credentials());
    }
    let Some(login) = found else {
        return Err(bad_credentials());
    };
    store::attempt_succeeded(&db, &email_key, &ip_key, app.now_ms).await?;
    if let Some(old) = login
        .password_hash
        .as_deref()
        .filter(|h| password::needs_rehash(h))
    {
        let new = password::hash(password).map_err(hash_failed)?;
        store::rehash(&db, &login.id, old, &new).await?;
    }
    let view = AccountView {
        id: login.id,
        email: login.email,
        name: login.name,
        approved: login.approved == 1,
    };
    match open(app, view, client, None).await? {
        Ok(opened) => Ok(opened),
        Err(_) => Err(AppError::internal("a login opened no session")),
    }
}

/// The live session behind a presented token, or 401 (malformed, unknown, expired or
/// revoked alike).
pub async fn session(app: &App, token: &str) -> Result<SessionPrincipal, AppError> {
    if !looks_like_session_token(token) {
        return Err(AppError::unauthorized());
    }
    let hash = token_hash(token);
    let live = store::live_session(&app.db()?, &hash, app.now_ms).await?;
    let live = live.ok_or_else(AppError::unauthorized)?;
    super::accounts::remember_owner(&hash, &AccountId(live.account_id.clone()));
    Ok(SessionPrincipal {
        expires_at: live.idle_expires_at.min(live.expires_at),
        session_id: live.session_id,
        account: AccountView {
            id: live.account_id,
            email: live.email,
            name: live.name,
            approved: live.approved == 1,
        },
    })
}

/// `POST /api/v1/auth/logout`: the session is dead at once.
pub async fn logout(app: &App, who: &SessionPrincipal, actor: &Actor) -> Result<(), AppError> {
    let (account, session) = (&who.account.id, &who.session_id);
    let audit = auth_event(app, actor, account, "auth.logout", session)?;
    store::revoke_session(&app.db()?, account, session, app.now_ms, audit).await?;
    Ok(())
}

/// `POST /api/v1/auth/password`: checks the current password (throttled like a login),
/// applies the policy to the new one, stores its hash and revokes every other session.
/// Returns how many sessions were revoked.
pub async fn change_password(
    app: &App,
    who: &SessionPrincipal,
    current: &str,
    new: &str,
    client: &Client<'_>,
) -> Result<usize, AppError> {
    let db = app.db()?;
    let login = store::by_id(&db, &who.account.id)
        .await?
        .ok_or_else(AppError::unauthorized)?;
    let email = login.email.as_deref().and_then(|e| Email::parse(e).ok());
    let subject_email = email.as_ref().map_or(login.id.as_str(), Email::as_str);
    let (email_key, ip_key) = admit_attempt(app, subject_email, client.ip).await?;
    if !password::verify_or_dummy(current, login.password_hash.as_deref()) {
        return Err(AppError::of(Code::WrongPassword));
    }
    store::attempt_succeeded(&db, &email_key, &ip_key, app.now_ms).await?;
    check_password(new, email.as_ref()).map_err(rejected)?;
    let hash = password::hash(new).map_err(hash_failed)?;
    let audit = auth_event(
        app,
        &client.actor,
        &login.id,
        "auth.password",
        &who.session_id,
    )?;
    let keep = &who.session_id;
    Ok(store::change_password(&db, &login.id, &hash, keep, app.now_ms, audit).await?)
}

/// The account's live sessions, newest first.
pub async fn sessions(app: &App, who: &SessionPrincipal) -> Result<Vec<SessionInfo>, AppError> {
    Ok(store::live_sessions(&app.db()?, &who.account.id, app.now_ms).await?)
}

/// Revokes one of the caller's own sessions (another account's: 404, as for no session).
pub async fn revoke_session(
    app: &App,
    who: &SessionPrincipal,
    session_id: &str,
    actor: &Actor,
) -> Result<(), AppError> {
    let account = &who.account.id;
    let audit = auth_event(app, actor, account, "auth.session_revoke", session_id)?;
    if store::revoke_session(&app.db()?, account, session_id, app.now_ms, audit).await? {
        Ok(())
    } else {
        Err(AppError::not_found("session"))
    }
}

thread_local! {
    static TOUCHED: RefCell<TouchMemo> = RefCell::new(TouchMemo::default());
}

/// Records, after the response, that a session token or an API key (by its hash) was used:
/// a session's idle expiry moves forward, a key's `last_used_at` is set. At most one D1
/// write a minute per credential per isolate; a failed write is only logged.
pub fn note_use(app: &App, credential_hash: &str, is_session: bool) {
    let due = TOUCHED.with(|m| m.borrow_mut().due(credential_hash, app.now_ms));
    if !due {
        return;
    }
    let Ok(db) = app.db() else {
        return;
    };
    let (hash, now) = (credential_hash.to_owned(), app.now_ms);
    let touch = session_policy(app).touch(now);
    app.later(async move {
        let result = if is_session {
            store::touch_session(&db, &hash, now, touch.idle_expires_at, touch.seen_before).await
        } else {
            keys_store::touch(&db, &hash, now, touch.seen_before).await
        };
        if let Err(e) = result {
            worker::console_error!("recording a credential's use failed: {e}");
        }
    });
}

// --- the operator ---

/// What the operator does to an account's standing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// Money may move (`SIGNUP_APPROVAL = "manual"`).
    Approve,
    /// Every key, session and login of the account is refused from now on.
    Suspend,
    /// A suspended account is active again.
    Reinstate,
}

impl Standing {
    fn action(self) -> &'static str {
        match self {
            Standing::Approve => "account.approve",
            Standing::Suspend => "account.suspend",
            Standing::Reinstate => "account.reinstate",
        }
    }
}

fn standing_json(a: &AccountSummary) -> serde_json::Value {
    serde_json::json!({"approved": a.approved, "status": a.status})
}

/// Changes an account's standing (404 when there is no such account), in one batch with its
/// audit row; answers the account as it is now. A suspension or reinstatement reaches every
/// key's object before the answer, so the keys are refused (or served) from the next request.
pub async fn set_standing(
    app: &App,
    account_id: &str,
    standing: Standing,
    reason: Option<&str>,
    actor: &Actor,
) -> Result<AccountSummary, AppError> {
    let db = app.db()?;
    let before = store::summary(&db, account_id).await?;
    let mut account = before.ok_or_else(|| AppError::not_found("account"))?;
    let was = standing_json(&account);
    match standing {
        Standing::Approve => account.approved = true,
        Standing::Suspend => account.status = "suspended".to_owned(),
        Standing::Reinstate => account.status = "active".to_owned(),
    }
    let change = Change {
        account_id: Some(account_id),
        action: standing.action(),
        resource_type: "account",
        resource_id: Some(account_id),
        before: Some(was),
        after: Some(standing_json(&account)),
        reason,
    };
    let row = audit::append(&db, actor, &change, app.now_ms)?;
    if standing == Standing::Approve {
        store::approve(&db, account_id, app.now_ms, row).await?;
        return Ok(account);
    }
    store::set_status(&db, account_id, &account.status, row).await?;
    for hash in keys_store::hashes(&db, account_id).await? {
        crate::durable::api_key::refresh(&app.env, &hash).await?;
    }
    Ok(account)
}

/// `GET /admin/accounts?page&limit`: newest first, and the total.
pub async fn list_accounts(app: &App, page: Page) -> Listed<AccountSummary> {
    Ok(store::list(&app.db()?, page.limit, page.offset()).await?)
}

/// Accounts found by id, email prefix or name prefix, at most this many.
pub const SEARCH_LIMIT: u32 = 50;

/// The operator's search: the account with this id, or those whose email or name starts
/// with `query` (newest first).
pub async fn search_accounts(app: &App, query: &str) -> Result<Vec<AccountSummary>, AppError> {
    Ok(store::search(&app.db()?, query, SEARCH_LIMIT).await?)
}

/// One account as the operator sees it (404 when there is none).
pub async fn account(app: &App, account_id: &str) -> Result<AccountSummary, AppError> {
    let found = store::summary(&app.db()?, account_id).await?;
    found.ok_or_else(|| AppError::not_found("account"))
}
