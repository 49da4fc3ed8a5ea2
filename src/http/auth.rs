//! Who is calling. API keys come from `Authorization: Bearer` on every route, and also from
//! `X-OTP-Key` or HTTP Basic (key as username) on GetOTP's `/api/verify/` routes. A key in
//! a query string is never read.
use super::server::Ctx;
use crate::app::accounts;
use crate::config::secret;
use crate::domain::crypto::{constant_time_eq, sha256};
use crate::domain::error::AppError;
use crate::domain::ids::{AccountId, KeyHash};
use base64::Engine;
use worker::Headers;

fn bearer(headers: &Headers) -> Option<String> {
    let value = headers.get("Authorization").ok().flatten()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
}

fn basic_username(headers: &Headers) -> Option<String> {
    let value = headers.get("Authorization").ok().flatten()?;
    let (scheme, encoded) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    Some(
        text.split_once(':')
            .map_or(text.as_str(), |(user, _)| user)
            .to_owned(),
    )
}

/// The API key a request presents, by the rules of its path's dialect.
pub fn presented_key(headers: &Headers, path: &str) -> Option<String> {
    if let Some(key) = bearer(headers) {
        return Some(key);
    }
    if path.starts_with("/api/verify") {
        if let Some(key) = headers.get("X-OTP-Key").ok().flatten() {
            return Some(key.trim().to_owned());
        }
        return basic_username(headers);
    }
    None
}

/// The hash of the presented key if it is well formed, else 401. Cheap shape check: a
/// malformed key never costs a D1 round trip.
pub fn key_hash(ctx: &Ctx) -> Result<KeyHash, AppError> {
    presented_key(&ctx.headers, &ctx.path)
        .and_then(|k| KeyHash::of(&k))
        .ok_or_else(AppError::unauthorized)
}

/// The account behind the presented key, or 401 (missing, malformed, unknown or revoked
/// key alike, so the answer reveals nothing about which).
pub async fn account(ctx: &Ctx) -> Result<AccountId, AppError> {
    accounts::authenticate(&ctx.app, &key_hash(ctx)?).await
}

/// The account behind the presented key as the key's Durable Object knows it (near the
/// caller, no D1 round trip; revocations reach it at once), or 401. For the OTP routes
/// that keep D1 off their request path (`app::accounts::authenticate_near`).
pub async fn account_near(ctx: &Ctx) -> Result<AccountId, AppError> {
    accounts::authenticate_near(&ctx.app, &key_hash(ctx)?).await
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

/// The operator: `Authorization: Bearer <ADMIN_TOKEN>`, compared in constant time.
pub fn admin(ctx: &Ctx) -> Result<(), AppError> {
    let presented = bearer(&ctx.headers).ok_or_else(AppError::unauthorized)?;
    let expected = secret(&ctx.app.env, "ADMIN_TOKEN")?;
    if constant_time_eq(&sha256(presented.as_bytes()), &sha256(expected.as_bytes())) {
        Ok(())
    } else {
        Err(AppError::unauthorized())
    }
}
