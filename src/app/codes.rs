//! Issuing a code: the channel and lifetime asked for, the resend rules, the price, the
//! session (its guarded insert, KV record and Durable Object) and the send's batch (the
//! refund of a delivery that failed is `jobs::refund`). Used by OTP sends and by template
//! messages with `{code}`, which are OTP sends too (same resend rules, same checks).
use super::{App, Fault};
use crate::config::{secret, server_key};
use crate::domain::crypto::to_hex;
use crate::domain::error::{AppError, Code};
use crate::domain::otp::{self, next_send, SendBlock, SendRules};
use crate::domain::phone::Phone;
use crate::domain::time::rfc3339;
use crate::domain::workflow::{self, Step, Workflow};
use crate::durable::otp_session::{self, Op, Opening};
use crate::store::sessions::{self, Cost, Issue, KvSession, NewSession};
use crate::store::wallet::{self, Delta, Entry, Kind};
use crate::store::{self, batch};
use worker::{console_error, D1Database, D1PreparedStatement, D1Result};

/// A channel this deployment delivers on (case-insensitive), or 1515.
pub fn channel(app: &App, input: Option<&str>) -> Result<&'static str, AppError> {
    let offered = &app.config.otp_channels;
    let Some(input) = input.filter(|c| !c.trim().is_empty()) else {
        // The channel is required: say so rather than "invalid".
        let m = format!("'channel' is required: one of {}", offered.join(", "));
        return Err(AppError::new(Code::InvalidChannel, m));
    };
    otp::known_channel(input)
        .filter(|c| offered.iter().any(|allowed| allowed == c))
        .ok_or_else(|| {
            let m = format!(
                "Invalid channel specified; this deployment delivers on: {}",
                offered.join(", ")
            );
            AppError::new(Code::InvalidChannel, m)
        })
}

/// A session lifetime in seconds: the requested one (1 to the maximum) or the default.
pub fn lifetime(app: &App, requested: Option<i64>, field: &str) -> Result<u32, AppError> {
    let max = app.config.otp_max_ttl_secs;
    match requested {
        None => Ok(app.config.otp_ttl_secs),
        Some(s) if s >= 1 && s <= i64::from(max) => Ok(u32::try_from(s).unwrap_or(max)),
        Some(_) => Err(AppError::invalid(format!(
            "'{field}' must be 1 to {max} seconds"
        ))),
    }
}

pub(super) fn send_rules(app: &App) -> SendRules {
    let c = &app.config;
    SendRules {
        max_sends: i64::from(c.otp_max_sends_per_window),
        window_ms: i64::from(c.otp_send_window_secs) * 1000,
        interval_ms: i64::from(c.otp_resend_interval_secs) * 1000,
    }
}

/// A refused send says when the next one is allowed (message and `retry_after`).
fn send_refused(block: SendBlock, next_ms: i64, now_ms: i64) -> AppError {
    let code = match block {
        SendBlock::TooSoon => Code::ResendTooSoon,
        SendBlock::WindowFull => Code::SendLimitReached,
    };
    let wait_secs = u64::try_from((next_ms - now_ms).max(0))
        .unwrap_or(0)
        .div_ceil(1000)
        .max(1);
    let at = now_ms + i64::try_from(wait_secs).unwrap_or(0) * 1000;
    let message = format!(
        "{}; the next send to this number is allowed at {} (resend_available_at)",
        code.default_message(),
        rfc3339(at)
    );
    AppError::new(code, message).with_retry_after(wait_secs)
}

/// After the D1 guard refused a send that raced another.
async fn refused_after_race(app: &App, db: &D1Database, account_id: &str, phone: &str) -> AppError {
    let rules = send_rules(app);
    let now = app.now_ms;
    match sessions::send_times(db, account_id, phone, now - rules.window_ms).await {
        Ok(times) => {
            let (next, block) = next_send(&times, rules, now);
            send_refused(
                block.unwrap_or(SendBlock::TooSoon),
                next.max(now + 1000),
                now,
            )
        }
        Err(e) => e.into(),
    }
}

/// The price of one send to this phone on this channel (2200 when the catalog has none).
pub(super) async fn price(db: &D1Database, phone: &Phone, channel: &str) -> Result<i64, AppError> {
    let country = phone.country().ok_or_else(|| no_price(phone, channel))?;
    store::messages::otp_price(db, country, channel)
        .await?
        .ok_or_else(|| no_price(phone, channel))
}

/// 2200: the catalog has no price for this destination on this channel.
pub(super) fn no_price(phone: &Phone, channel: &str) -> AppError {
    let to = phone.country().unwrap_or("this destination");
    AppError::new(
        Code::NoOtpPrice,
        format!("No OTP price for {to} on {channel}"),
    )
}

/// A session to open with a send: what it is for, its code and lifetime. Its `key_hash`
/// is a key the send's batch is to confirm (`accounts::Payer::unconfirmed`).
pub(super) struct NewCode<'a> {
    pub issue: Issue<'a>,
    pub code: &'a str,
    pub ttl_secs: u32,
    /// The workflow's steps after the first message (`durable::otp_session` runs them).
    pub fallback: &'a [Step],
}

/// An opened session: the guarded insert for the send's batch, what its Durable Object is
/// opened with once the batch committed (`open_object`), and its KV record, written only
/// when that open fails.
pub(super) struct Opened {
    pub insert: D1PreparedStatement,
    pub kv: KvSession,
    pub object: Opening,
    pub expires_at: i64,
}

/// Builds a session (no I/O): the code's MAC, the guarded insert priced by `cost`, the KV
/// record and the object's opening state. The one way a code is issued (OTP sends and
/// template messages with `{code}`).
pub(super) fn new_session(
    app: &App,
    db: &D1Database,
    s: &NewCode<'_>,
    cost: Cost<'_>,
) -> Result<Opened, AppError> {
    let now = app.now_ms;
    let hmac_secret = secret(&app.env, "OTP_HMAC_SECRET")?;
    let expires_at = now + i64::from(s.ttl_secs) * 1000;
    let i = &s.issue.to;
    let mac = to_hex(&otp::code_mac(&hmac_secret, i.id, s.code));
    let session = NewSession {
        issue: s.issue,
        created_at: now,
        expires_at,
        max_attempts: otp::MAX_ATTEMPTS,
    };
    let insert = sessions::insert_statement(db, &session, send_rules(app), cost)?;
    let kv = KvSession {
        account_id: i.account_id.to_owned(),
        phone: i.phone.to_owned(),
        channel: i.channel.to_owned(),
        code_mac: mac.clone(),
        expires_at,
        created_at: Some(now),
    };
    let object = Opening {
        id: i.id.to_owned(),
        account_id: i.account_id.to_owned(),
        phone: i.phone.to_owned(),
        channel: i.channel.to_owned(),
        code_mac: mac,
        created_at: now,
        expires_at,
        max_attempts: otp::MAX_ATTEMPTS,
        workflow: workflow_of(app, s)?,
    };
    Ok(Opened {
        insert,
        kv,
        object,
        expires_at,
    })
}

/// The session's workflow: its steps, with the code sealed for them (`None`: no fallback).
fn workflow_of(app: &App, s: &NewCode<'_>) -> Result<Option<Workflow>, AppError> {
    if s.fallback.is_empty() {
        return Ok(None);
    }
    let sealed = workflow::seal(&server_key(&app.env)?, s.issue.to.id, s.code)
        .ok_or_else(|| AppError::invalid("the code is too long for a fallback"))?;
    Ok(Workflow::new(s.fallback.to_vec(), sealed, app.now_ms))
}

/// The charge of one send, the session's or a workflow step's: exactly the amount
/// `amount_sql` reads for `object_id` inside the batch (`wallet::Delta::ChargeOf`), one
/// ledger row, and the spend against the caps, which refuse a charge past a cap in the same
/// batch. The one charge step of every OTP send.
pub(super) fn charge(
    app: &App,
    db: &D1Database,
    account_id: &str,
    object_id: &str,
    amount_sql: &str,
) -> Result<Vec<D1PreparedStatement>, AppError> {
    let charge = Entry {
        account_id,
        kind: Kind::OtpSend,
        reference: None,
        object_id: Some(object_id),
        description: "OTP send",
        key_hash: app.spender(),
    };
    Ok(wallet::change_statements(db, &charge, Delta::ChargeOf(amount_sql), app.now_ms)?.1)
}

/// Send times to this phone within the window; refuses early (with when the next send is
/// allowed) when the resend rules already forbid one. The guard in the insert is what holds
/// under races; this read is for answers rendered before the batch (`Idempotency-Key`).
pub(super) async fn precheck_resend(
    app: &App,
    db: &D1Database,
    account_id: &str,
    phone: &Phone,
) -> Result<Vec<i64>, AppError> {
    let rules = send_rules(app);
    let now = app.now_ms;
    let times = sessions::send_times(db, account_id, phone.e164(), now - rules.window_ms).await?;
    if let (next, Some(block)) = next_send(&times, rules, now) {
        return Err(send_refused(block, next, now));
    }
    Ok(times)
}

/// When the next send to the phone is allowed, given the send times in the window (this
/// one's included).
pub(super) fn resend_available_at(app: &App, times: &[i64]) -> i64 {
    let now = app.now_ms;
    next_send(times, send_rules(app), now).0.max(now)
}

/// Runs a send's batch. A send that lost the resend guard to a parallel one is refused with
/// when the next is allowed; an inactive account is 401, a destination without a price
/// 2200, an empty wallet 402.
pub(super) async fn commit_send(
    app: &App,
    db: &D1Database,
    statements: Vec<D1PreparedStatement>,
    opened: &Opened,
    phone: &Phone,
    channel: &str,
) -> Result<Vec<D1Result>, AppError> {
    let account_id = opened.object.account_id.as_str();
    match batch(db, statements).await {
        Ok(results) => Ok(results),
        Err(e) if sessions::send_refused(&e) => {
            Err(refused_after_race(app, db, account_id, phone.e164()).await)
        }
        Err(e) if sessions::account_inactive(&e) => Err(AppError::unauthorized()),
        Err(e) if sessions::no_price(&e) => Err(no_price(phone, channel)),
        Err(e) => Err(e.into()),
    }
}

/// Opens the session's Durable Object (after its batch committed), which stores it: from
/// then on the object answers its checks. When the open fails, the session's KV record is
/// written instead, from which the object restores the session at its first check; only
/// when both fail is the send's delivery refused (and refunded by the caller).
pub(super) async fn open_object(app: &App, opened: &Opened) -> Result<(), AppError> {
    let restarted = matches!(
        app.fault,
        Some(Fault::ObjectRestarted | Fault::KvWriteFails)
    );
    let opening = if restarted {
        Err(AppError::internal(
            "test fault: the session's object was not opened",
        ))
    } else {
        let op = Op::Open {
            session: opened.object.clone(),
        };
        let object = otp::session_object(&opened.object.account_id, &opened.object.id);
        otp_session::call(&app.env, &object, &op).await.map(|_| ())
    };
    let Err(e) = opening else {
        return Ok(());
    };
    let id = &opened.object.id;
    let ttl_secs = u64::try_from((opened.expires_at - app.now_ms).max(0) / 1000).unwrap_or(0);
    let stored = match app.fault {
        Some(Fault::KvWriteFails) => Err("test fault: the KV write failed".to_owned()),
        _ => {
            (sessions::put_kv(&app.env, id, &opened.kv, ttl_secs).await).map_err(|e| e.to_string())
        }
    };
    match stored {
        Ok(()) => {
            console_error!(
                "otp session {id} not opened, restorable from KV: {}",
                e.detail()
            );
            Ok(())
        }
        Err(kv) => {
            console_error!("otp session {id}: KV record not written either: {kv}");
            Err(e)
        }
    }
}
