//! The Worker's side: one command to a session's object, and a key's revocation or change
//! told to each of an account's objects.
#![cfg(target_arch = "wasm32")]
use super::protocol::{Op, Outcome};
use crate::domain::error::AppError;
use crate::domain::otp::{self, SESSION_SHARDS};
use worker::Env;

/// The binding (wrangler.toml `[durable_objects]`).
pub const BINDING: &str = "OTP_SESSION";

/// Sends one command to a session's object (Worker side).
/// `object` is the session's object's name (`domain::otp::session_object`).
pub async fn call(env: &Env, object: &str, op: &Op) -> Result<Outcome, AppError> {
    crate::durable::command::send(env, BINDING, "otp session object", object, op).await
}

/// Tells each of the account's objects that the key was revoked (they keep the keys they
/// checked in memory), before the revocation is answered.
pub async fn revoke_key(env: &Env, account_id: &str, key_hash: &str) -> Result<(), AppError> {
    let op = Op::RevokeKey {
        key_hash: key_hash.to_owned(),
    };
    tell_each(env, account_id, &op).await
}

/// Tells each of the account's objects that the key's scopes changed (they ask the key's
/// object again on its next use), before the change is answered.
pub async fn key_changed(env: &Env, account_id: &str, key_hash: &str) -> Result<(), AppError> {
    let op = Op::KeyChanged {
        key_hash: key_hash.to_owned(),
    };
    tell_each(env, account_id, &op).await
}

async fn tell_each(env: &Env, account_id: &str, op: &Op) -> Result<(), AppError> {
    let calls = (0..SESSION_SHARDS).map(|shard| {
        let object = otp::shard_object(account_id, shard);
        async move { call(env, &object, op).await }
    });
    for answer in futures_util::future::join_all(calls).await {
        answer?;
    }
    Ok(())
}
