//! OTP dispatch and verification: sending a code (resend rules, charge, delivery, refund)
//! and checking what the user typed. Shared by every front door that sends codes.
use super::accounts::Payer;
use super::idempotency::{self, Answer, Idem};
use super::messages::{self, LoadedTemplate};
use super::{webhooks, App, Fault};
use crate::config::secret;
use crate::domain::crypto::to_hex;
use crate::domain::error::{AppError, Code};
use crate::domain::ids::new_id;
use crate::domain::ids::{AccountId, KeyHash};
use crate::domain::otp::{self, next_send, SendBlock, SendRules, Terminal};
use crate::domain::phone::Phone;
use crate::domain::template::{TemplateError, Variables};
use crate::domain::time::rfc3339;
use crate::durable::otp_session::{self, Op, Opening, Outcome};
use crate::providers::Configured;
use crate::providers::{self, Outgoing, Provider};
use crate::store::messages::OutboxEntry;
pub use crate::store::sessions::SessionRow;
use crate::store::sessions::{self, Cost, KvSession, NewSession, ResultEvents, SentRow};
use crate::store::wallet::{self, Entry, Kind};
use crate::store::{self, batch};
use futures_util::future::join;
use worker::{console_error, console_log, D1Database, D1PreparedStatement, D1Result};

/// A channel this deployment delivers on (case-insensitive), or 1515.
pub fn channel(app: &App, input: Option<&str>) -> Result<&'static str, AppError> {
    let offered = &app.config.otp_channels;
    let Some(input) = input.filter(|c| !c.trim().is_empty()) else {
        // Required, as whatotp.txt marks it (`channel *`): say so rather than "invalid".
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
    let country = phone.country().ok_or_else(|| no_price(phone, channel))?;
    store::messages::otp_price(db, country, channel)
        .await?
        .ok_or_else(|| no_price(phone, channel))
}

/// 2200: the catalog has no price for this destination on this channel.
fn no_price(phone: &Phone, channel: &str) -> AppError {
    let to = phone.country().unwrap_or("this destination");
    AppError::new(
        Code::NoOtpPrice,
        format!("No OTP price for {to} on {channel}"),
    )
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
    pub ttl_secs: u32,
    pub code: &'a str,
    /// A key the send's batch is to confirm (`accounts::Payer::unconfirmed`).
    pub key_hash: Option<&'a str>,
}

/// An opened session: the guarded insert for the send's batch, its KV record, and what its
/// Durable Object is opened with once the batch committed (`open_object`).
pub(super) struct Opened {
    pub insert: D1PreparedStatement,
    pub kv: KvSession,
    pub object: Opening,
    pub expires_at: i64,
    /// Its KV record was written (`commit_send`): KV can restore the session, so its object
    /// keeps it in memory until a check changes it.
    pub kv_written: bool,
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
    let mac = to_hex(&otp::code_mac(&hmac_secret, s.id, s.code));
    let session = NewSession {
        id: s.id,
        account_id: s.account_id,
        phone: s.phone.e164(),
        channel: s.channel,
        dialect: s.dialect,
        sender: s.sender,
        template_id: s.template_id,
        payload: s.payload,
        created_at: now,
        expires_at,
        max_attempts: otp::MAX_ATTEMPTS,
        key_hash: s.key_hash,
    };
    let insert = sessions::insert_statement(db, &session, send_rules(app), cost)?;
    let kv = KvSession {
        account_id: s.account_id.to_owned(),
        phone: s.phone.e164().to_owned(),
        channel: s.channel.to_owned(),
        code_mac: mac.clone(),
        expires_at,
        created_at: Some(now),
    };
    let object = Opening {
        id: s.id.to_owned(),
        account_id: s.account_id.to_owned(),
        phone: s.phone.e164().to_owned(),
        channel: s.channel.to_owned(),
        code_mac: mac,
        created_at: now,
        expires_at,
        max_attempts: otp::MAX_ATTEMPTS,
    };
    Ok(Opened {
        insert,
        kv,
        object,
        expires_at,
        kv_written: false,
    })
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
fn resend_available_at(app: &App, times: &[i64]) -> i64 {
    let now = app.now_ms;
    next_send(times, send_rules(app), now).0.max(now)
}

/// Runs a send's batch, with the session's KV record written meanwhile (KV decides
/// nothing: an orphan record of a refused send is never read). A send that lost the resend
/// guard to a parallel one is refused with when the next is allowed; an inactive account
/// is 401, a destination without a price 2200, an empty wallet 402.
pub(super) async fn commit_send(
    app: &App,
    db: &D1Database,
    statements: Vec<D1PreparedStatement>,
    opened: &mut Opened,
    phone: &Phone,
    channel: &str,
) -> Result<Vec<D1Result>, AppError> {
    let ttl_secs = u64::try_from((opened.expires_at - app.now_ms).max(0) / 1000).unwrap_or(0);
    let kv = sessions::put_kv(&app.env, &opened.object.id, &opened.kv, ttl_secs);
    let (committed, kv) = join(batch(db, statements), kv).await;
    match kv {
        Ok(()) => opened.kv_written = true,
        // The object then stores the session itself when it is opened.
        Err(e) => console_error!(
            "otp session {} KV record not written: {e}",
            opened.object.id
        ),
    }
    let account_id = opened.object.account_id.as_str();
    match committed {
        Ok(results) => Ok(results),
        Err(e) if sessions::send_refused(&e) => {
            Err(refused_after_race(app, db, account_id, phone.e164()).await)
        }
        Err(e) if sessions::account_inactive(&e) => Err(AppError::unauthorized()),
        Err(e) if sessions::no_price(&e) => Err(no_price(phone, channel)),
        Err(e) => Err(e.into()),
    }
}

/// Opens the session's Durable Object (after its batch committed): from then on the object
/// answers its checks. With its KV record written, the object keeps the new session in
/// memory (no storage write: KV restores it if the object restarts before a check).
pub(super) async fn open_object(app: &App, opened: &Opened) -> Result<(), AppError> {
    if app.fault == Some(Fault::ObjectRestarted) && opened.kv_written {
        return Ok(());
    }
    let op = Op::Open {
        session: opened.object.clone(),
        store: !opened.kv_written,
    };
    let object = otp::session_object(&opened.object.account_id, &opened.object.id);
    otp_session::call(&app.env, &object, &op).await.map(|_| ())
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

#[derive(Clone)]
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

/// Sends a code. Common case (no `Idempotency-Key`): ONE D1 round trip on the request
/// path — a batch that inserts the session (account active, the payer's key live when
/// nothing confirmed it yet, price from the catalog, resend rules as a guard), charges
/// exactly that price with its ledger row, records the sandbox's outbox row, and reads
/// back the cost and the send times — with the session's KV record written meanwhile;
/// then the session's Durable Object is opened (near, in memory) and the answer
/// goes out. A real provider is called before the answer (the answer says whether the text
/// went out). With an `Idempotency-Key` the answer is rendered before the batch that stores
/// it, so the price and the resend rules are read first. 402 / 429 leave nothing sent; a
/// provider refusal is refunded (and the key released, so a retry sends again).
pub async fn send(
    app: &App,
    payer: &Payer,
    spec: OtpSend<'_>,
    idem: Idem<'_, Sent>,
) -> Result<Answer<Sent>, AppError> {
    idempotency::run(app, idem, |done| async move {
        let db = app.db()?;
        let now = app.now_ms;
        let account_id = payer.account.as_str();
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
            ttl_secs: spec.ttl_secs,
            code: &code,
            key_hash: payer.unconfirmed.as_ref().map(|k| k.as_str()),
        };
        let country = spec
            .phone
            .country()
            .ok_or_else(|| no_price(&spec.phone, spec.channel))?;
        // An answer recorded with the money is rendered before the batch: read what it shows.
        let known = if done.claimed() {
            let cost = price(&db, &spec.phone, spec.channel).await?;
            let mut times = precheck_resend(app, &db, account_id, &spec.phone).await?;
            times.push(now);
            Some(Sent {
                session_id: spec.session_id.clone(),
                cost,
                created_at: now,
                expires_at: 0,
                resend_available_at: resend_available_at(app, &times),
            })
        } else {
            None
        };
        let cost = known
            .as_ref()
            .map_or(Cost::Catalog { country }, |k| Cost::Fixed(k.cost));
        let mut opened = new_session(app, &db, &new, cost)?;
        let provider = providers::configured(&app.env, &app.config, spec.channel);
        let sandbox = matches!(provider, Ok(Configured::Sandbox(_)));
        let charge = Entry {
            account_id,
            kind: Kind::OtpSend,
            amount: 0,
            reference: None,
            object_id: Some(&spec.session_id),
            description: "OTP send",
        };
        let mut statements = vec![opened.insert.clone()];
        statements
            .extend(wallet::charge_statements(&db, &charge, sessions::COST_OF_SESSION, now)?.1);
        if sandbox {
            // The sandbox's delivery is its outbox row: it commits with the charge.
            let entry = OutboxEntry {
                id: &new_id("out")?,
                to: spec.phone.e164(),
                channel: spec.channel,
                sender: spec.sender.as_deref(),
                text: &text,
                object_id: &spec.session_id,
                created_at: now,
            };
            statements.push(store::messages::outbox_statement(&db, &entry)?);
        }
        if let Some(k) = &known {
            let recorded = Sent {
                expires_at: opened.expires_at,
                ..k.clone()
            };
            statements.extend(done.statement(&db, &recorded, None)?);
        }
        statements.push(sessions::sent_statement(
            &db,
            &spec.session_id,
            send_rules(app).window_ms,
        )?);
        let results =
            commit_send(app, &db, statements, &mut opened, &spec.phone, spec.channel).await?;
        let read = results
            .last()
            .map(|r| r.results::<SentRow>())
            .transpose()
            .map_err(|e| AppError::internal(format!("send rows: {e}")))?
            .and_then(|rows| rows.into_iter().next())
            .ok_or_else(|| AppError::internal("the send's batch read back no session"))?;
        let times: Vec<i64> = serde_json::from_str(&read.times)
            .map_err(|e| AppError::internal(format!("send times: {e}")))?;
        let sent = Sent {
            session_id: spec.session_id.clone(),
            cost: read.cost,
            created_at: now,
            expires_at: opened.expires_at,
            resend_available_at: resend_available_at(app, &times),
        };
        let delivered = match open_object(app, &opened).await {
            Err(e) => Err(e),
            Ok(()) if sandbox => Ok(()),
            Ok(()) => {
                let outgoing = Outgoing {
                    to: spec.phone.e164(),
                    channel: spec.channel,
                    sender: spec.sender.as_deref(),
                    text: &text,
                    code: Some(&code),
                    object_id: &spec.session_id,
                };
                match provider {
                    Ok(provider) => provider.deliver(&outgoing, now).await.map(|_| ()),
                    Err(e) => Err(e),
                }
            }
        };
        if let Err(e) = delivered {
            refund(
                &db,
                account_id,
                Kind::OtpRefund,
                sent.cost,
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
            "otp sent session={} country={country} channel={}",
            spec.session_id,
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

/// Checks a code for the presented key, without D1: the key's object (near) says whose the
/// key is (a revoked key is refused at once), then the session's object (near), the
/// authority for its checks, compares the candidate's MAC with the stored one and counts
/// the check before it answers, serializing parallel checks: ≤ max_attempts wrong ones
/// counted, one success. D1's row and the result event follow after the answer.
///
/// Only when the object holds no session of this account does D1 say why (no such
/// session, another account's, or ended long ago), or that the session is not open yet.
pub async fn check(
    app: &App,
    key: &KeyHash,
    session_id: &str,
    code: &str,
) -> Result<(SessionRow, Checked), AppError> {
    let (account, key_hash) = checker(app, key, session_id).await?;
    let hmac_secret = secret(&app.env, "OTP_HMAC_SECRET")?;
    let mac = to_hex(&otp::code_mac(&hmac_secret, session_id, code));
    let op = Op::Check {
        id: session_id.to_owned(),
        account_id: account.0.clone(),
        key_hash,
        mac,
    };
    decide(app, &account, session_id, &op).await
}

/// Whose session a check may look at, and the key the session's object is to check: an API
/// key this isolate has seen is known to be the account's (a key never changes account), so
/// only the session's object, which keeps the key's liveness current, is asked; a key seen
/// for the first time is asked of its own object first. A login session is checked in D1,
/// and so is the key of a check no object is asked about (an id no session can have).
async fn checker(
    app: &App,
    key: &KeyHash,
    session_id: &str,
) -> Result<(AccountId, Option<String>), AppError> {
    if key.is_session() || !otp::could_be_session_id(session_id) {
        return Ok((super::accounts::authenticate_near(app, key).await?, None));
    }
    let account = match super::accounts::known_owner(key) {
        Some(account) => account,
        None => super::accounts::authenticate_near(app, key).await?,
    };
    Ok((account, Some(key.as_str().to_owned())))
}

/// Approves a live session without a code (Twilio Verify's `Status=approved`): the session's
/// object applies it as a check whose code matched, so it is serialized with the checks
/// exactly as a right code is (one success at most; nothing once the session has ended).
/// The key is the caller's, asked of its object as `check` does, and must be `account_id`'s.
/// True when this call approved the session.
pub async fn approve(
    app: &App,
    key: &KeyHash,
    account_id: &str,
    session_id: &str,
) -> Result<bool, AppError> {
    let (account, key_hash) = checker(app, key, session_id).await?;
    if account.as_str() != account_id {
        return Err(AppError::not_found("session"));
    }
    let op = Op::Approve {
        id: session_id.to_owned(),
        account_id: account.0.clone(),
        key_hash,
    };
    let (_, checked) = decide(app, &account, session_id, &op).await?;
    Ok(matches!(checked, Checked::Verified))
}

/// One check (or approval) decided by the session's object; D1 says why only when the
/// object holds no session of this account.
async fn decide(
    app: &App,
    account: &AccountId,
    session_id: &str,
    op: &Op,
) -> Result<(SessionRow, Checked), AppError> {
    // An id no session can have (too long, or not printable) is not sent to an object: D1
    // finds nothing and the answer is 404.
    let outcome = if otp::could_be_session_id(session_id) {
        let object = otp::session_object(account.as_str(), session_id);
        otp_session::call(&app.env, &object, op).await?
    } else {
        Outcome::Unknown
    };
    match outcome {
        Outcome::Verified { session } => Ok((session, Checked::Verified)),
        Outcome::Wrong { session } => {
            let remaining = session.attempts_remaining();
            Ok((session, Checked::Wrong { remaining }))
        }
        Outcome::Refused { ended, session } => Ok((session, Checked::Refused(ended.into()))),
        Outcome::KeyRefused => Err(AppError::unauthorized()),
        Outcome::Opened | Outcome::State { .. } | Outcome::Unknown | Outcome::Revoked => {
            let row = from_d1(app, account, session_id).await?;
            match row.terminal(app.now_ms) {
                Some(t) => Ok((row, Checked::Refused(t))),
                // Live in D1, but its object holds nothing: the send has not opened it (yet).
                None => {
                    let m = "the session is not ready yet; retry in a few seconds (nothing was \
                        counted)";
                    Err(AppError::new(Code::Conflict, m).with_retry_after(5))
                }
            }
        }
    }
}

/// The session's D1 row, for its account (404 otherwise); an expired one records its
/// `otp.expired` event (once) on the way.
async fn from_d1(app: &App, account: &AccountId, id: &str) -> Result<SessionRow, AppError> {
    let db = app.db()?;
    let row = sessions::find(&db, account.as_str(), id).await?;
    let row = row.ok_or_else(|| AppError::not_found("session"))?;
    if row.terminal(app.now_ms) == Some(Terminal::Expired) {
        let statement =
            sessions::result_event_statement(&db, &row.id, app.now_ms, ResultEvents::All)?;
        if store::run(statement).await? == 1 {
            webhooks::kick_soon(app, &row.account_id);
        }
    }
    Ok(row)
}

/// A session of the account, by id, as its object (the authority) holds it, else as D1
/// has it (an expired one records its event on the way, either way).
pub async fn session(app: &App, account: &AccountId, id: &str) -> Result<SessionRow, AppError> {
    let op = Op::Get {
        id: id.to_owned(),
        account_id: account.0.clone(),
    };
    let outcome = if otp::could_be_session_id(id) {
        let object = otp::session_object(account.as_str(), id);
        otp_session::call(&app.env, &object, &op).await?
    } else {
        Outcome::Unknown
    };
    match outcome {
        Outcome::State { session } => Ok(session),
        _ => from_d1(app, account, id).await.map_err(|e| {
            if e.code == Code::NotFound {
                AppError::not_found("message")
            } else {
                e
            }
        }),
    }
}

// Template lookups are the messages module's; re-exported for the OTP front doors.
pub use messages::find_template;

/// One of the account's OTP sessions as its list shows it, with its state now.
pub struct SessionSummary {
    pub row: crate::store::dashboard::OtpSessionRow,
    /// `pending`, `verified`, `failed` or `expired`.
    pub status: &'static str,
}

/// The account's OTP sessions, newest first.
pub async fn recent_sessions(
    app: &App,
    account: &AccountId,
    page: crate::domain::pagination::Page,
) -> Result<(Vec<SessionSummary>, u64), AppError> {
    let db = app.db()?;
    let (rows, total) = crate::store::dashboard::otp_sessions(&db, account.as_str(), page).await?;
    let list = rows
        .into_iter()
        .map(|row| {
            let terminal = otp::terminal(
                row.verified_at.is_some(),
                row.attempts,
                row.max_attempts,
                row.expires_at,
                app.now_ms,
            );
            let status = terminal.map_or("pending", Terminal::status);
            SessionSummary { row, status }
        })
        .collect();
    Ok((list, total))
}
