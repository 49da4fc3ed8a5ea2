//! OTP dispatch and verification: sending a code (resend rules, charge, delivery, refund)
//! and checking what the user typed. Shared by every front door that sends codes.
use super::idempotency::{self, Answer, Idem};
use super::messages::{self, LoadedTemplate};
use super::{webhooks, App};
use crate::config::secret;
use crate::domain::crypto::{from_hex, to_hex};
use crate::domain::error::{AppError, Code};
use crate::domain::ids::{AccountId, KeyHash};
use crate::domain::otp::{self, next_send, SendBlock, SendRules, Terminal};
use crate::domain::phone::Phone;
use crate::domain::template::{TemplateError, Variables};
use crate::domain::time::rfc3339;
use crate::providers::{self, Outgoing, Provider};
pub use crate::store::sessions::SessionRow;
use crate::store::sessions::{self, KvSession, NewSession, ResultEvents};
use crate::store::wallet::{self, Entry, Kind};
use crate::store::{self, batch};
use worker::{console_error, console_log, D1Database, D1PreparedStatement};

/// A channel this deployment delivers on (case-insensitive), or 1515.
pub fn channel(app: &App, input: Option<&str>) -> Result<&'static str, AppError> {
    let offered = &app.config.otp_channels;
    input
        .and_then(otp::known_channel)
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

fn send_rules(app: &App) -> SendRules {
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

pub fn template_error(e: TemplateError) -> AppError {
    AppError::new(Code::TemplateVariables, e.to_string())
}

/// The price of one send to this phone on this channel (2200 when the catalog has none).
pub(super) async fn price(db: &D1Database, phone: &Phone, channel: &str) -> Result<i64, AppError> {
    let no_price = || {
        let to = phone.country().unwrap_or("this destination");
        AppError::new(
            Code::NoOtpPrice,
            format!("No OTP price for {to} on {channel}"),
        )
    };
    let country = phone.country().ok_or_else(no_price)?;
    store::messages::otp_price(db, country, channel)
        .await?
        .ok_or_else(no_price)
}

/// A session to open with a send: its code, who and what it is for.
pub(super) struct NewCode<'a> {
    pub id: &'a str,
    pub account_id: &'a str,
    pub phone: &'a Phone,
    pub channel: &'static str,
    pub dialect: &'static str,
    pub sender: Option<&'a str>,
    pub template_id: Option<&'a str>,
    pub payload: Option<&'a str>,
    pub cost: i64,
    pub ttl_secs: u32,
    pub code: &'a str,
}

/// An opened session: the guarded insert for the send's batch, and when the next send to
/// the phone will be allowed if this one goes through.
pub(super) struct Opened {
    pub insert: D1PreparedStatement,
    pub expires_at: i64,
    pub resend_available_at: i64,
}

/// The one way a code is issued (OTP sends and template messages with `{code}`): refuses
/// early when the resend rules already forbid a send (the guard in the insert is what holds
/// under races), stores the code's MAC in KV, and builds the session's guarded insert.
pub(super) async fn open_session(
    app: &App,
    db: &D1Database,
    s: &NewCode<'_>,
) -> Result<Opened, AppError> {
    let now = app.now_ms;
    let rules = send_rules(app);
    let mut times =
        sessions::send_times(db, s.account_id, s.phone.e164(), now - rules.window_ms).await?;
    if let (next, Some(block)) = next_send(&times, rules, now) {
        return Err(send_refused(block, next, now));
    }
    let hmac_secret = secret(&app.env, "OTP_HMAC_SECRET")?;
    let expires_at = now + i64::from(s.ttl_secs) * 1000;
    let mac = to_hex(&otp::code_mac(&hmac_secret, s.id, s.code));
    let kv = KvSession {
        account_id: s.account_id.to_owned(),
        phone: s.phone.e164().to_owned(),
        channel: s.channel.to_owned(),
        code_mac: mac,
        expires_at,
    };
    // KV first: if the batch fails, the orphan entry has no D1 row and is never checked.
    sessions::put_kv(&app.env, s.id, &kv, u64::from(s.ttl_secs)).await?;
    let session = NewSession {
        id: s.id,
        account_id: s.account_id,
        phone: s.phone.e164(),
        channel: s.channel,
        dialect: s.dialect,
        sender: s.sender,
        template_id: s.template_id,
        payload: s.payload,
        cost: s.cost,
        created_at: now,
        expires_at,
        max_attempts: otp::MAX_ATTEMPTS,
    };
    let insert = sessions::insert_statement(db, &session, rules)?;
    times.push(now);
    let (resend_available_at, _) = next_send(&times, rules, now);
    Ok(Opened {
        insert,
        expires_at,
        resend_available_at: resend_available_at.max(now),
    })
}

/// Runs a send's batch; a send that lost the resend guard to a parallel one is refused.
pub(super) async fn commit_send(
    app: &App,
    db: &D1Database,
    statements: Vec<D1PreparedStatement>,
    account_id: &str,
    phone: &Phone,
) -> Result<(), AppError> {
    match batch(db, statements).await {
        Ok(_) => Ok(()),
        Err(e) if sessions::send_refused(&e) => {
            Err(refused_after_race(app, db, account_id, phone.e164()).await)
        }
        Err(e) => Err(e.into()),
    }
}

/// What to send.
pub struct OtpSend<'a> {
    /// The new session's id (its form is the front door's: `otp_…` or a UUID).
    pub session_id: String,
    pub phone: Phone,
    pub channel: &'static str,
    /// The caller's own code (GetOTP), or `None` to generate one of `length` digits.
    pub code: Option<String>,
    pub length: usize,
    pub ttl_secs: u32,
    /// Which front door opened the session (`whatotp`, `getotp`).
    pub dialect: &'static str,
    pub sender: Option<String>,
    pub payload: Option<String>,
    pub template: Option<&'a LoadedTemplate>,
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
    let plural = if minutes == 1 { "" } else { "s" };
    format!("Your verification code is {code}. It expires in {minutes} minute{plural}.")
}

/// Sends a code: in ONE D1 batch records the session (guarded by the resend rules), charges
/// the wallet and stores the answer, then delivers. 402 / 429 leave nothing sent; a provider
/// refusal is refunded (and the key released, so a retry sends again).
pub async fn send(
    app: &App,
    account: &AccountId,
    spec: OtpSend<'_>,
    idem: Idem<'_, Sent>,
) -> Result<Answer<Sent>, AppError> {
    idempotency::run(app, idem, |done| async move {
        let db = app.db()?;
        let now = app.now_ms;
        let account_id = account.as_str();
        let cost = price(&db, &spec.phone, spec.channel).await?;
        let code = match spec.code {
            Some(c) => c,
            None => otp::generate(spec.length)?,
        };
        let text = match spec.template {
            Some(t) => t
                .parsed
                .render(Some(&code), &Variables::new())
                .map_err(template_error)?,
            None => default_text(&code, spec.ttl_secs),
        };
        let new = NewCode {
            id: &spec.session_id,
            account_id,
            phone: &spec.phone,
            channel: spec.channel,
            dialect: spec.dialect,
            sender: spec.sender.as_deref(),
            template_id: spec.template.map(|t| t.row.id.as_str()),
            payload: spec.payload.as_deref(),
            cost,
            ttl_secs: spec.ttl_secs,
            code: &code,
        };
        let opened = open_session(app, &db, &new).await?;
        let sent = Sent {
            session_id: spec.session_id.clone(),
            cost,
            created_at: now,
            expires_at: opened.expires_at,
            resend_available_at: opened.resend_available_at,
        };
        let charge = Entry {
            account_id,
            kind: Kind::OtpSend,
            amount: -cost,
            reference: None,
            object_id: Some(&spec.session_id),
            description: "OTP send",
        };
        let mut statements = vec![opened.insert];
        statements.extend(wallet::entry_statements(&db, &charge, now)?.1);
        statements.extend(done.statement(&db, &sent, None)?);
        commit_send(app, &db, statements, account_id, &spec.phone).await?;
        let outgoing = Outgoing {
            to: spec.phone.e164(),
            channel: spec.channel,
            sender: spec.sender.as_deref(),
            text: &text,
            code: Some(&code),
            object_id: &spec.session_id,
        };
        let delivered = match providers::configured(&app.env, &app.config, spec.channel) {
            Ok(provider) => provider.deliver(&outgoing, now).await,
            Err(e) => Err(e),
        };
        if let Err(e) = delivered {
            refund(
                &db,
                account_id,
                Kind::OtpRefund,
                cost,
                &spec.session_id,
                now,
            )
            .await;
            done.forget(&db).await;
            // A provider's refusal keeps its message (with the provider's error code);
            // anything else is ours: logged, answered as a plain delivery failure.
            return Err(if e.code == Code::DeliveryFailed {
                e
            } else {
                AppError {
                    internal: e.internal.or(Some(e.message)),
                    ..AppError::of(Code::DeliveryFailed)
                }
            });
        }
        // Operational trace: ids and routing only, never the code or the text.
        console_log!(
            "otp sent session={} country={} channel={}",
            spec.session_id,
            spec.phone.country().unwrap_or("??"),
            spec.channel
        );
        Ok(sent)
    })
    .await
}

/// Gives a charge back (a provider refused the text). At most once per object (unique
/// index); a failure is logged, as the send already failed for the client.
pub(super) async fn refund(
    db: &D1Database,
    account_id: &str,
    kind: Kind,
    cost: i64,
    object_id: &str,
    now_ms: i64,
) {
    let entry = Entry {
        account_id,
        kind,
        amount: cost,
        reference: None,
        object_id: Some(object_id),
        description: "refund: delivery failed",
    };
    let result = match wallet::entry_statements(db, &entry, now_ms) {
        Ok((_, statements)) => batch(db, statements).await.map(|_| ()),
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
    Wrong {
        remaining: i64,
    },
    /// Not evaluated: the session no longer accepts checks.
    Refused(Terminal),
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
pub async fn check(
    app: &App,
    key: &KeyHash,
    session_id: &str,
    code: &str,
) -> Result<(SessionRow, Checked), AppError> {
    let hmac_secret = secret(&app.env, "OTP_HMAC_SECRET")?;
    let db = app.db()?;
    let now = app.now_ms;
    let stored = sessions::get_kv(&app.env, session_id).await?;
    if let Some(stored) = &stored {
        let mac = from_hex(&stored.code_mac).unwrap_or_default();
        let matched = otp::matches(&hmac_secret, session_id, code, &mac);
        let statements = vec![
            sessions::check_statement(
                &db,
                key.as_str(),
                &stored.account_id,
                session_id,
                matched,
                now,
            )?,
            sessions::result_event_statement(&db, session_id, now, ResultEvents::OfCheck)?,
        ];
        let results = batch(&db, statements).await?;
        if results.get(1).map(store::changes) == Some(1) {
            webhooks::kick_soon(app, &stored.account_id);
        }
        let after: Option<SessionRow> = results
            .first()
            .map(|r| r.results::<SessionRow>())
            .transpose()
            .map_err(|e| AppError::internal(format!("check rows: {e}")))?
            .and_then(|rows| rows.into_iter().next());
        if let Some(after) = after {
            let outcome = if after.verified_at.is_some() {
                Checked::Verified
            } else {
                Checked::Wrong {
                    remaining: after.attempts_remaining(),
                }
            };
            return Ok((after, outcome));
        }
    }
    let row = match sessions::find_for_key(&db, key.as_str(), session_id).await? {
        Some(row) => row,
        None => {
            let missing = AppError::not_found("session");
            return Err(super::accounts::unauthorized_or(app, key, missing).await);
        }
    };
    if let Some(t) = row.terminal(now) {
        if t == Terminal::Expired {
            record_expiry(app, &db, &row).await?;
        }
        return Ok((row, Checked::Refused(t)));
    }
    // Live, yours, and nothing counted: the KV entry (TTL ≥ lifetime) is not visible at this
    // location yet (KV takes up to 60 s to reach other locations). Retry shortly.
    let m = "the session is not visible at this location yet; retry in a few seconds (nothing was counted)";
    Err(AppError::new(Code::Conflict, m).with_retry_after(5))
}

/// Records an expired session's `otp.expired` event (once) and wakes the dispatcher.
async fn record_expiry(app: &App, db: &D1Database, row: &SessionRow) -> Result<(), AppError> {
    let statement = sessions::result_event_statement(db, &row.id, app.now_ms, ResultEvents::All)?;
    if store::run(statement).await? == 1 {
        webhooks::kick_soon(app, &row.account_id);
    }
    Ok(())
}

/// A session of the account, by id (an expired one records its event on the way).
pub async fn session(app: &App, account: &AccountId, id: &str) -> Result<SessionRow, AppError> {
    let db = app.db()?;
    let row = sessions::find(&db, account.as_str(), id).await?;
    let row = row.ok_or_else(|| AppError::not_found("message"))?;
    if row.terminal(app.now_ms) == Some(Terminal::Expired) {
        record_expiry(app, &db, &row).await?;
    }
    Ok(row)
}

// Template lookups are the messages module's; re-exported for the OTP front doors.
pub use messages::find_template;
