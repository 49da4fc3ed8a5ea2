//! The OTP send and check flow shared by the WhatOTP and GetOTP dialects. Handlers parse
//! and render; this module generates, stores, charges, delivers and checks.
use super::auth;
use super::error::{ApiError, Code, Dialect};
use super::server::{Ctx, Reply};
use crate::config::{secret, Config};
use crate::domain::crypto::{from_hex, to_hex};
use crate::domain::ids::is_uuid;
use crate::domain::otp::{self, next_send, SendBlock, SendRules, Terminal};
use crate::domain::phone::Phone;
use crate::domain::template::{Template, TemplateError};
use crate::domain::time::rfc3339;
use crate::providers::{self, Outgoing, Provider};
use crate::store::idempotency::{self, Begin, Claim};
use crate::store::messages::{self, TemplateRow};
use crate::store::otp::{self as sessions, KvSession, NewSession, ResultEvents, SessionRow, SEND_GUARD_COLUMN};
use crate::store::wallet::{self, Entry, Kind};
use crate::store::{self, batch, webhooks};
use worker::{console_error, console_log, D1Database};

pub const CHANNELS: [&str; 3] = ["sms", "whatsapp", "voice"];

/// A channel this deployment delivers on (case-insensitive), or 1515.
pub fn channel(config: &Config, input: Option<&str>) -> Result<&'static str, ApiError> {
    let wanted = input.map(|c| c.trim().to_ascii_lowercase()).unwrap_or_default();
    CHANNELS
        .iter()
        .find(|c| **c == wanted && config.otp_channels.iter().any(|allowed| allowed == *c))
        .copied()
        .ok_or_else(|| ApiError::new(Code::InvalidChannel, format!("Invalid channel specified; this deployment delivers on: {}", config.otp_channels.join(", "))))
}

/// A session lifetime in seconds: the requested one (1 to the maximum) or the default.
pub fn lifetime(config: &Config, requested: Option<i64>, field: &str) -> Result<u32, ApiError> {
    match requested {
        None => Ok(config.otp_ttl_secs),
        Some(s) if s >= 1 && s <= i64::from(config.otp_max_ttl_secs) => Ok(s as u32),
        Some(_) => Err(ApiError::invalid(format!("'{field}' must be 1 to {} seconds", config.otp_max_ttl_secs))),
    }
}

pub fn send_rules(config: &Config) -> SendRules {
    SendRules {
        max_sends: i64::from(config.otp_max_sends_per_window),
        window_ms: i64::from(config.otp_send_window_secs) * 1000,
        interval_ms: i64::from(config.otp_resend_interval_secs) * 1000,
    }
}

/// A refused send says when the next one is allowed (message and `Retry-After`).
fn send_refused(block: SendBlock, next_ms: i64, now_ms: i64) -> ApiError {
    let code = match block {
        SendBlock::TooSoon => Code::ResendTooSoon,
        SendBlock::WindowFull => Code::SendLimitReached,
    };
    let wait_secs = ((next_ms - now_ms).max(0) as u64).div_ceil(1000).max(1);
    ApiError { retry_after: Some(wait_secs), ..ApiError::new(code, format!("{}; the next send to this number is allowed at {} (resend_available_at)", code.default_message(), rfc3339(resend_at(now_ms, wait_secs)))) }
}

/// The instant a refusal's `Retry-After` points at (whole seconds from now).
fn resend_at(now_ms: i64, wait_secs: u64) -> i64 {
    now_ms + (wait_secs as i64) * 1000
}

/// A refused send as a reply: the dialect's error envelope with `resend_available_at` in the
/// error object (as the send answer has it), and `Retry-After`. Other errors pass through.
pub fn refusal_reply(ctx: &Ctx, result: Result<Reply, ApiError>) -> Result<Reply, ApiError> {
    match result {
        Err(e) if matches!(e.code, Code::ResendTooSoon | Code::SendLimitReached) => {
            let wait_secs = e.retry_after.unwrap_or(1);
            let mut body: serde_json::Value = serde_json::from_str(&e.body(Dialect::for_path(&ctx.path), &ctx.path, &ctx.method, ctx.now_ms)).map_err(|x| ApiError::internal(format!("error body: {x}")))?;
            if let Some(first) = body.get_mut("errors").and_then(|v| v.get_mut(0)).and_then(|v| v.as_object_mut()) {
                first.insert("resend_available_at".to_owned(), serde_json::Value::String(rfc3339(resend_at(ctx.now_ms, wait_secs))));
            }
            Ok(Reply::json(e.status(), &body).with_header("Retry-After", wait_secs.to_string()))
        }
        other => other,
    }
}

/// Refuses early when the resend rules already forbid a send (the D1 guard in the send's
/// batch is what holds under races); returns the send times seen.
pub async fn precheck_resend(db: &D1Database, config: &Config, account_id: &str, phone: &str, now_ms: i64) -> Result<Vec<i64>, ApiError> {
    let rules = send_rules(config);
    let times = sessions::send_times(db, account_id, phone, now_ms - rules.window_ms).await?;
    match next_send(&times, rules, now_ms) {
        (next, Some(block)) => Err(send_refused(block, next, now_ms)),
        (_, None) => Ok(times),
    }
}

/// After the D1 guard refused a send that raced another.
pub async fn refused_after_race(db: &D1Database, config: &Config, account_id: &str, phone: &str, now_ms: i64) -> ApiError {
    let rules = send_rules(config);
    match sessions::send_times(db, account_id, phone, now_ms - rules.window_ms).await {
        Ok(times) => {
            let (next, block) = next_send(&times, rules, now_ms);
            send_refused(block.unwrap_or(SendBlock::TooSoon), next.max(now_ms + 1000), now_ms)
        }
        Err(e) => e,
    }
}

pub fn template_error(e: TemplateError) -> ApiError {
    ApiError::new(Code::TemplateVariables, e.to_string())
}

/// A stored template by its UUID: 1512 when it is not one, 1513 when there is none.
pub async fn find_template(db: &D1Database, id: &str) -> Result<(TemplateRow, Template), ApiError> {
    if !is_uuid(id) {
        return Err(ApiError::of(Code::InvalidTemplateId));
    }
    let row = messages::template(db, &id.to_ascii_lowercase()).await?.ok_or_else(|| ApiError::of(Code::TemplateNotFound))?;
    let parsed = Template::parse(&row.body).map_err(|e| ApiError::internal(format!("stored template {} does not parse: {e}", row.id)))?;
    Ok((row, parsed))
}

/// The price of one send to this phone on this channel (2200 when the catalog has none).
pub async fn price(db: &D1Database, phone: &Phone, channel: &str) -> Result<i64, ApiError> {
    let no_price = || ApiError::new(Code::NoOtpPrice, format!("No OTP price for {} on {channel}", phone.country().unwrap_or("this destination")));
    let country = phone.country().ok_or_else(no_price)?;
    messages::otp_price(db, country, channel).await?.ok_or_else(no_price)
}

/// Claims the request's `Idempotency-Key`; `Err(reply)` is the stored answer to replay.
pub async fn idempotency_begin(ctx: &Ctx, db: &D1Database, account_id: &str) -> Result<Result<Option<Claim>, Reply>, ApiError> {
    match idempotency::begin(db, account_id, ctx.header("Idempotency-Key").as_deref(), &ctx.method, &ctx.path, &ctx.body, ctx.now_ms).await? {
        Begin::Replay { status, body } => Ok(Err(Reply { status, body, headers: vec![("Idempotent-Replayed", "true".to_owned())] })),
        Begin::Proceed(claim) => Ok(Ok(claim)),
    }
}

/// Stores the answer under the claimed key, or releases the key after a failure.
pub async fn idempotency_finish(db: &D1Database, claim: Option<Claim>, result: &Result<Reply, ApiError>) -> Result<(), ApiError> {
    if let Some(claim) = claim {
        match result {
            Ok(reply) => idempotency::complete(db, &claim, reply.status, &reply.body).await?,
            Err(_) => idempotency::release(db, &claim).await?,
        }
    }
    Ok(())
}

/// What to send.
pub struct SendSpec<'a> {
    pub session_id: String,
    pub phone: Phone,
    pub channel: &'static str,
    /// The caller's own code (GetOTP), or `None` to generate one of `length` digits.
    pub code: Option<String>,
    pub length: usize,
    pub ttl_secs: u32,
    pub dialect: &'static str,
    pub sender: Option<String>,
    pub payload: Option<String>,
    pub template: Option<(&'a TemplateRow, &'a Template)>,
}

pub struct Sent {
    pub session_id: String,
    pub cost: i64,
    pub created_at: i64,
    pub expires_at: i64,
    pub resend_available_at: i64,
}

fn default_text(code: &str, ttl_secs: u32) -> String {
    let minutes = ttl_secs.div_ceil(60);
    format!("Your verification code is {code}. It expires in {minutes} minute{}.", if minutes == 1 { "" } else { "s" })
}

/// Sends a code: checks the resend rules, stores the code's MAC in KV, then in ONE D1 batch
/// records the session (guarded by the resend rules) and charges the wallet, then
/// delivers. 402 / 429 leave nothing sent; a provider refusal is refunded.
pub async fn send(ctx: &Ctx, db: &D1Database, account_id: &str, spec: SendSpec<'_>) -> Result<Sent, ApiError> {
    let hmac_secret = secret(&ctx.env, "OTP_HMAC_SECRET")?;
    let now = ctx.now_ms;
    let cost = price(db, &spec.phone, spec.channel).await?;
    let mut times = precheck_resend(db, &ctx.config, account_id, spec.phone.e164(), now).await?;
    let code = match spec.code {
        Some(c) => c,
        None => otp::generate(spec.length)?,
    };
    let text = match spec.template {
        Some((_, template)) => template.render(Some(&code), &serde_json::Map::new()).map_err(template_error)?,
        None => default_text(&code, spec.ttl_secs),
    };
    let expires_at = now + i64::from(spec.ttl_secs) * 1000;
    let mac = to_hex(&otp::code_mac(&hmac_secret, &spec.session_id, &code));
    // KV first: if the batch below fails, the orphan entry has no D1 row and is never checked.
    sessions::put_kv(&ctx.env, &spec.session_id, &KvSession { account_id: account_id.to_owned(), phone: spec.phone.e164().to_owned(), channel: spec.channel.to_owned(), code_mac: mac, expires_at }, u64::from(spec.ttl_secs)).await?;
    let session = NewSession {
        id: &spec.session_id,
        account_id,
        phone: spec.phone.e164(),
        channel: spec.channel,
        dialect: spec.dialect,
        sender: spec.sender.as_deref(),
        template_id: spec.template.map(|(row, _)| row.id.as_str()),
        payload: spec.payload.as_deref(),
        cost,
        created_at: now,
        expires_at,
        max_attempts: otp::MAX_ATTEMPTS,
    };
    let mut statements = vec![sessions::insert_statement(db, &session, send_rules(&ctx.config))?];
    let charge = Entry { account_id, kind: Kind::OtpSend, amount: -cost, reference: None, object_id: Some(&spec.session_id), description: "OTP send" };
    statements.extend(wallet::entry_statements(db, &charge, now)?.1);
    match batch(db, statements).await {
        Ok(_) => {}
        Err(e) if e.mentions(SEND_GUARD_COLUMN) => return Err(refused_after_race(db, &ctx.config, account_id, spec.phone.e164(), now).await),
        Err(e) => return Err(e.into()),
    }
    let outgoing = Outgoing { to: spec.phone.e164(), channel: spec.channel, sender: spec.sender.as_deref(), text: &text, code: Some(&code), object_id: &spec.session_id };
    let delivered = match providers::configured(&ctx.env, &ctx.config, spec.channel) {
        Ok(provider) => provider.deliver(&outgoing, now).await,
        Err(e) => Err(e),
    };
    if let Err(e) = delivered {
        refund(db, account_id, Kind::OtpRefund, cost, &spec.session_id, now).await;
        // A provider's refusal keeps its message (with the provider's error code); anything
        // else is ours: logged, answered as a plain delivery failure.
        return Err(if e.code == Code::DeliveryFailed { e } else { ApiError { internal: e.internal.or(Some(e.message)), ..ApiError::of(Code::DeliveryFailed) } });
    }
    // Operational trace: ids and routing only, never the code or the text.
    console_log!("otp sent session={} country={} channel={}", spec.session_id, spec.phone.country().unwrap_or("??"), spec.channel);
    times.push(now);
    let (resend_available_at, _) = next_send(&times, send_rules(&ctx.config), now);
    Ok(Sent { session_id: spec.session_id, cost, created_at: now, expires_at, resend_available_at: resend_available_at.max(now) })
}

/// Gives a charge back (a provider refused the text). At most once per object (unique
/// index); a failure is logged, as the send already failed for the client.
pub async fn refund(db: &D1Database, account_id: &str, kind: Kind, cost: i64, object_id: &str, now_ms: i64) {
    let entry = Entry { account_id, kind, amount: cost, reference: None, object_id: Some(object_id), description: "refund: delivery failed" };
    let result = match wallet::entry_statements(db, &entry, now_ms) {
        Ok((_, statements)) => batch(db, statements).await.map(|_| ()).map_err(ApiError::from),
        Err(e) => Err(e),
    };
    if let Err(e) = result {
        console_error!("refund for {object_id} failed: {e}");
    }
}

/// The outcome of one check.
pub enum Checked {
    Verified,
    /// Counted as a wrong code; this many checks are left.
    Wrong { remaining: i64 },
    /// Not evaluated: the session no longer accepts checks.
    Refused(Terminal),
}

/// The user input of a check: 1–16 characters (a string, or a JSON number).
pub fn code_input(value: Option<&serde_json::Value>, field: &str) -> Result<String, ApiError> {
    let code = match value {
        Some(serde_json::Value::String(s)) => s.trim().to_owned(),
        Some(serde_json::Value::Number(n)) if n.is_u64() => n.to_string(),
        _ => return Err(ApiError::invalid(format!("'{field}' is required: the code the user typed, as a string"))),
    };
    if code.is_empty() || code.chars().count() > otp::MAX_INPUT_LENGTH {
        return Err(ApiError::invalid(format!("'{field}' must be 1 to {} characters", otp::MAX_INPUT_LENGTH)));
    }
    Ok(code)
}

/// Checks a code for the presented key. The comparison (constant time, against the MAC in
/// KV) decides what the ONE conditional D1 UPDATE records; its answer is only given when
/// that UPDATE matched, so parallel checks are serialized by D1: ≤ max_attempts wrong ones
/// counted, one success.
///
/// A check of a live session costs two round trips: the MAC from KV, then the check batch,
/// whose UPDATE also checks the key against D1 (so a revoked key stops working at once)
/// and returns the row after the check. Only when it counted nothing does a second read
/// say why (unknown key, no such session, already ended, lost a race, KV not caught up).
pub async fn check(ctx: &Ctx, session_id: &str, code: &str) -> Result<(SessionRow, Checked), ApiError> {
    let key_hash = auth::key_hash(ctx)?;
    let hmac_secret = secret(&ctx.env, "OTP_HMAC_SECRET")?;
    let db = ctx.db()?;
    let now = ctx.now_ms;
    let stored = sessions::get_kv(&ctx.env, session_id).await?;
    if let Some(stored) = &stored {
        let matched = otp::matches(&hmac_secret, session_id, code, &from_hex(&stored.code_mac).unwrap_or_default());
        let statements = vec![
            sessions::check_statement(&db, key_hash, &stored.account_id, session_id, matched, now)?,
            sessions::result_event_statement(&db, session_id, now, ResultEvents::OfCheck)?,
        ];
        let results = batch(&db, statements).await.map_err(ApiError::from)?;
        if results.get(1).map(store::changes) == Some(1) {
            webhooks::kick_soon(&ctx.wctx, &ctx.env, &stored.account_id);
        }
        let after: Option<SessionRow> = results
            .first()
            .map(|r| r.results::<SessionRow>())
            .transpose()
            .map_err(|e| ApiError::internal(format!("check rows: {e}")))?
            .and_then(|rows| rows.into_iter().next());
        if let Some(after) = after {
            let outcome = if after.verified_at.is_some() { Checked::Verified } else { Checked::Wrong { remaining: after.attempts_remaining() } };
            return Ok((after, outcome));
        }
    }
    let row = match sessions::find_for_key(&db, key_hash, session_id).await? {
        Some(row) => row,
        None => return Err(auth::unauthorized_or(ctx, ApiError::not_found("session")).await),
    };
    if let Some(t) = row.terminal(now) {
        if t == Terminal::Expired && store::run(sessions::result_event_statement(&db, session_id, now, ResultEvents::All)?).await.map_err(ApiError::from)? == 1 {
            webhooks::kick_soon(&ctx.wctx, &ctx.env, &row.account_id);
        }
        return Ok((row, Checked::Refused(t)));
    }
    // Live, yours, and nothing counted: the KV entry (TTL ≥ lifetime) is not visible at this
    // location yet (KV takes up to 60 s to reach other locations). Retry shortly.
    Err(ApiError { retry_after: Some(5), ..ApiError::new(Code::Conflict, "the session is not visible at this location yet; retry in a few seconds (nothing was counted)") })
}

/// Approves a live session without a code (Twilio Verify's `Status=approved`): the check's
/// own guarded statement, as a check that matched, so it races with checks exactly as a
/// check does (at most one success; nothing once the session has ended). The key is checked
/// in the same statement. True when this call approved it.
pub async fn approve(ctx: &Ctx, account_id: &str, session_id: &str) -> Result<bool, ApiError> {
    let key_hash = auth::key_hash(ctx)?;
    let db = ctx.db()?;
    let now = ctx.now_ms;
    let statements = vec![
        sessions::check_statement(&db, key_hash, account_id, session_id, true, now)?,
        sessions::result_event_statement(&db, session_id, now, ResultEvents::OfCheck)?,
    ];
    let results = batch(&db, statements).await.map_err(ApiError::from)?;
    if results.get(1).map(store::changes) == Some(1) {
        webhooks::kick_soon(&ctx.wctx, &ctx.env, account_id);
    }
    let rows = results
        .first()
        .map(|r| r.results::<SessionRow>())
        .transpose()
        .map_err(|e| ApiError::internal(format!("approve rows: {e}")))?
        .unwrap_or_default();
    Ok(rows.iter().any(|r| r.verified_at.is_some()))
}
