//! Who is calling. API keys come from `Authorization: Bearer` on every route, and also from
//! `X-OTP-Key` or HTTP Basic (key as username) on GetOTP's `/api/verify/` routes. A key in
//! a query string is never read. A login session token (`ots_…`) is accepted only as
//! `Authorization: Bearer` or, when no such header is sent, as the session cookie
//! (`otpedge_session`): never from `X-OTP-Key`, HTTP Basic, a form or a URL. The pipeline
//! refuses a cookie-authenticated state change from another origin (`csrf`). The one key
//! read from a query string is sms-activate's, on `/stubs/handler_api.php` only
//! (`query_key`), and it is an API key or nothing.
use super::head::Head;
use super::server::Ctx;
use crate::app::accounts;
use crate::app::customers::{self, SessionPrincipal};
use crate::config::secret;
use crate::domain::audit::{Actor, ActorType};
use crate::domain::crypto::{constant_time_eq, sha256};
use crate::domain::error::{AppError, Code};
use crate::domain::ids::{looks_like_api_key, AccountId, KeyHash};
use crate::domain::scope::Scope;
use crate::domain::session::{
    console_cookie_token, cookie_token, looks_like_session_token, same_origin,
};

fn bearer(headers: &Head) -> Option<String> {
    let value = headers.get("Authorization")?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
}

fn basic_username(headers: &Head) -> Option<String> {
    crate::http::basic::username(&headers.get("Authorization")?)
}

/// The API key a request presents, by the rules of its path's dialect.
pub fn presented_key(headers: &Head, path: &str) -> Option<String> {
    let prelude = path.starts_with(super::dialects::prelude::PATH_PREFIX);
    if path.starts_with("/v2/") && !prelude {
        // Twilio Verify: HTTP Basic, the key as the password (the username, an AC/SK sid,
        // is checked by the dialect). Nothing else counts there.
        let value = headers.get("Authorization")?;
        return super::basic::credentials(&value)
            .map(|(_, key)| key)
            .filter(|key| !looks_like_session_token(key));
    }
    if let Some(key) = bearer(headers) {
        return Some(key);
    }
    if path.starts_with("/api/verify") {
        let key = match headers.get("X-OTP-Key") {
            Some(key) => key.trim().to_owned(),
            None => basic_username(headers)?,
        };
        return (!looks_like_session_token(&key)).then_some(key);
    }
    None
}

/// The credential a request presents: a key or token by `presented_key`'s rules, else the
/// session cookie (`true`: it came from the cookie).
pub fn presented_credential(headers: &Head, path: &str) -> Option<(String, bool)> {
    if let Some(key) = presented_key(headers, path) {
        return Some((key, false));
    }
    let cookie = headers.get("Cookie")?;
    cookie_token(&cookie).map(|t| (t.to_owned(), true))
}

/// CSRF: a state-changing request authenticated by the session cookie must carry an
/// `Origin` naming this deployment's own origin (403, 2406), unless the route reads no
/// session (sign-up and login check the Origin themselves).
pub fn csrf(ctx: &Ctx, reads_session: bool) -> Result<(), AppError> {
    let safe = matches!(ctx.method.as_str(), "GET" | "HEAD" | "OPTIONS");
    if !ctx.via_cookie || safe || !reads_session {
        return Ok(());
    }
    if same_origin(&ctx.url, ctx.header("Origin").as_deref()) {
        Ok(())
    } else {
        Err(AppError::of(Code::CrossOrigin))
    }
}

fn session_token(ctx: &Ctx) -> Option<String> {
    presented_credential(&ctx.headers, &ctx.path)
        .map(|(token, _)| token)
        .filter(|t| looks_like_session_token(t))
}

/// The live login session of the request, or 401 (an API key is not a session).
pub async fn session(ctx: &Ctx) -> Result<SessionPrincipal, AppError> {
    let token = session_token(ctx).ok_or_else(AppError::unauthorized)?;
    customers::session(&ctx.app, &token).await
}

/// A session that may manage API keys: an API key is refused with 403 (2407), so a leaked
/// key cannot list or mint keys; no credential at all is 401.
pub async fn key_manager(ctx: &Ctx) -> Result<SessionPrincipal, AppError> {
    match session_token(ctx) {
        Some(token) => customers::session(&ctx.app, &token).await,
        None if presented_key(&ctx.headers, &ctx.path).is_some_and(|k| looks_like_api_key(&k)) => {
            Err(AppError::of(Code::SessionRequired))
        }
        None => Err(AppError::unauthorized()),
    }
}

/// The account behind the presented key or session, for a money-moving call: 401 as
/// `account`, 403 (2405) while the account awaits the operator's approval.
pub async fn payer(ctx: &Ctx) -> Result<AccountId, AppError> {
    accounts::authenticate_payer(&ctx.app, &key_hash(ctx)?).await
}

/// sms-activate's handler takes the key as `api_key` in the query string: the one exception
/// to keys travelling in headers, on that path only (it is never logged). Used for the
/// rate-limit subject; the dialect reads it (or a form body's) itself.
pub fn query_key(path: &str, query: &str) -> Option<String> {
    let on_path = path.trim_end_matches('/') == super::envelope::SMS_ACTIVATE_PATH;
    on_path
        .then(|| super::routes::query_param(query, "api_key"))
        .flatten()
        .filter(|key| looks_like_api_key(key))
}

/// The hash of the presented key if it is well formed, else 401. Cheap shape check: a
/// malformed key never costs a D1 round trip.
pub fn key_hash(ctx: &Ctx) -> Result<KeyHash, AppError> {
    presented_credential(&ctx.headers, &ctx.path)
        .and_then(|(k, _)| KeyHash::of(&k))
        .ok_or_else(AppError::unauthorized)
}

/// The account behind the presented key, or 401 (missing, malformed, unknown or revoked
/// key alike, so the answer reveals nothing about which).
pub async fn account(ctx: &Ctx) -> Result<AccountId, AppError> {
    accounts::authenticate(&ctx.app, &key_hash(ctx)?).await
}

/// The payer of an OTP send (`accounts::payer_for_send`): no D1 round trip, and no call to
/// the key's object once this isolate knows whose the key is (the send's batch confirms
/// it, and its `otp:send` scope). 401, then 403 (2405) while the account awaits the
/// operator's approval, as `payer`, then 403 (2410) without the scope; a login session is
/// checked in D1. The dialect answers its errors through `Payer::error`, so a key that is
/// not live, or may not send, is refused before its input is judged.
pub async fn payer_near(ctx: &Ctx) -> Result<accounts::Payer, AppError> {
    let idempotent = ctx.header("Idempotency-Key").is_some();
    accounts::payer_for_send(&ctx.app, &key_hash(ctx)?, idempotent).await
}

/// Refuses (403, `insufficient_scope`) a live API key without the `needed` scope; a request
/// without a well-formed key passes, for its route to answer as before.
pub async fn require_scope(ctx: &Ctx, needed: Scope) -> Result<(), AppError> {
    match key_hash(ctx) {
        Ok(hash) => accounts::require_scope(&ctx.app, &hash, needed).await,
        Err(_) => Ok(()),
    }
}

/// A request's parsed input, reported after the key: a bad body with a bad key is a 401,
/// as on routes that check the key first.
pub async fn input_after_key<T>(ctx: &Ctx, parsed: Result<T, AppError>) -> Result<T, AppError> {
    match parsed {
        Ok(value) => Ok(value),
        Err(e) => Err(match account(ctx).await {
            Ok(_) => e,
            Err(unauthorized) => unauthorized,
        }),
    }
}

/// Whether `presented` is the admin token, compared in constant time.
pub fn is_admin_token(ctx: &Ctx, presented: &str) -> Result<bool, AppError> {
    let expected = secret(&ctx.app.env, "ADMIN_TOKEN")?;
    Ok(constant_time_eq(
        &sha256(presented.as_bytes()),
        &sha256(expected.as_bytes()),
    ))
}

/// The operator: `Authorization: Bearer <ADMIN_TOKEN>`, or the console's session cookie
/// (checked, with its CSRF rule, by the pipeline: `Ctx::console`). Answers the operator as
/// the audit log records it.
pub fn admin(ctx: &Ctx) -> Result<Actor, AppError> {
    if let Some(session_id) = &ctx.console {
        return Ok(actor(ctx, ActorType::Admin, Some(session_id.clone())));
    }
    let presented = bearer(&ctx.headers).ok_or_else(AppError::unauthorized)?;
    if is_admin_token(ctx, &presented)? {
        Ok(actor(ctx, ActorType::Admin, Some("token".to_owned())))
    } else {
        Err(AppError::unauthorized())
    }
}

/// The request as the audit log records it: who (`kind`, `id`), its client IP and its id
/// (the edge's `CF-Ray`, else a new random one).
pub fn actor(ctx: &Ctx, kind: ActorType, id: Option<String>) -> Actor {
    let request_id = ctx
        .header("CF-Ray")
        .or_else(|| crate::domain::ids::new_id("req").ok());
    Actor {
        kind,
        id,
        ip: Some(ctx.ip.clone()),
        request_id,
    }
}

/// A customer acting on `account`: the user when a login session authenticated the request,
/// else the API key it presented (recorded by the key's id).
pub fn customer(ctx: &Ctx, account: &AccountId) -> Actor {
    match session_token(ctx) {
        Some(_) => actor(ctx, ActorType::User, Some(account.0.clone())),
        None => actor(ctx, ActorType::ApiKey, ctx.key_hash().map(str::to_owned)),
    }
}

/// The console's sign-in session named by the `otpedge_admin` cookie on an `/admin/` path
/// without an `Authorization` header: its id when it is live, under the CSRF rule for a
/// state change (a same-origin `Origin`, 403 otherwise). `None` without such a cookie, or
/// when its session is unknown or ended (the route then asks for the token: 401).
pub async fn console_session(ctx: &Ctx) -> Result<Option<String>, AppError> {
    if !ctx.path.starts_with("/admin/") || ctx.header("Authorization").is_some() {
        return Ok(None);
    }
    let Some(token) = ctx
        .header("Cookie")
        .and_then(|c| console_cookie_token(&c).map(str::to_owned))
    else {
        return Ok(None);
    };
    let live = crate::app::console::session(&ctx.app, &token).await?;
    let safe = matches!(ctx.method.as_str(), "GET" | "HEAD" | "OPTIONS");
    if live.is_some() && !safe && !same_origin(&ctx.url, ctx.header("Origin").as_deref()) {
        return Err(AppError::of(Code::CrossOrigin));
    }
    Ok(live)
}
