//! OTP dispatch and verification: sending a code (through `codes`, which issues it) and
//! checking what the user typed. Shared by every front door that sends codes.
use super::accounts::Payer;
use super::codes::{
    charge, commit_send, new_session, no_price, open_object, precheck_resend, price,
    resend_available_at, send_rules, NewCode, Opened,
};
use super::idempotency::{self, Answer, Completion, Idem, IdemRequest, Saved};
use super::jobs::{self, Refund, RefundKind, Refunded};
use super::templates::{template_error, LoadedTemplate};
use super::{fraud, webhooks, App, Listed};
use crate::config::secret;
use crate::domain::crypto::to_hex;
use crate::domain::error::{AppError, Code};
use crate::domain::fraud::Reason;
use crate::domain::ids::new_id;
use crate::domain::ids::{AccountId, KeyHash};
use crate::domain::otp::{self, Terminal};
use crate::domain::otp_check::Session;
use crate::domain::phone::Phone;
use crate::domain::scope::Scope;
use crate::domain::template::Variables;
use crate::domain::verify_limits::Take;
use crate::domain::workflow::Step;
use crate::durable::otp_session::{self, Op, Outcome};
use crate::providers::{self, Configured, Outgoing, Provider};
use crate::store;
use crate::store::messages::OutboxEntry;
use crate::store::sessions::{self, Cost, Issue, ResultEvents, SendTo, SentRow};
use worker::{console_error, console_log, D1Database, D1PreparedStatement, D1Result};

// The front doors validate a send's channel and lifetime as codes are issued.
pub use super::codes::{channel, lifetime};

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
    /// Whether the fraud guard decides this send (Twilio's `RiskCheck=disable` skips it).
    pub risk_check: bool,
    /// The rate-limit tokens the send takes first (Twilio's `RateLimits`; empty: none).
    pub limits: Vec<Take>,
    /// The channel fallback: steps sent after this first message while the code stays
    /// unverified (`app::workflow::steps` checks them; empty: none).
    pub fallback: Vec<Step>,
}

#[derive(Clone)]
pub struct Sent {
    pub session_id: String,
    pub cost: i64,
    pub created_at: i64,
    pub expires_at: i64,
    pub resend_available_at: i64,
    /// Monitor mode: the reason the fraud guard would have refused this send.
    pub flagged: Option<Reason>,
}

pub(super) fn default_text(code: &str, ttl_secs: u32) -> String {
    let minutes = ttl_secs.div_ceil(60);
    let plural = if minutes == 1 { "" } else { "s" };
    format!("Your verification code is {code}. It expires in {minutes} minute{plural}.")
}

/// The text that carries the code: the template's, else the default one.
fn text_of(spec: &OtpSend<'_>, code: &str) -> Result<String, AppError> {
    match spec.template {
        Some(t) => t
            .parsed
            .render(Some(code), &Variables::new())
            .map_err(template_error),
        None => Ok(default_text(code, spec.ttl_secs)),
    }
}

fn new_code<'a>(payer: &'a Payer, spec: &'a OtpSend<'_>, code: &'a str) -> NewCode<'a> {
    NewCode {
        issue: Issue {
            to: SendTo {
                id: &spec.session_id,
                account_id: payer.account.as_str(),
                phone: spec.phone.e164(),
                channel: spec.channel,
            },
            dialect: spec.dialect,
            sender: spec.sender.as_deref(),
            template_id: spec.template.map(|t| t.row.id.as_str()),
            payload: spec.payload.as_deref(),
            key_hash: payer.unconfirmed.as_ref().map(|k| k.as_str()),
            api_key: payer.key.as_ref().map(|k| k.as_str()),
        },
        code,
        ttl_secs: spec.ttl_secs,
        fallback: &spec.fallback,
    }
}

/// The answer to record with the money (an `Idempotency-Key`), read before the batch: the
/// price, and the resend rules (refused here when they forbid the send).
async fn answer_before(
    app: &App,
    db: &D1Database,
    account_id: &str,
    spec: &OtpSend<'_>,
) -> Result<Sent, AppError> {
    let cost = price(db, &spec.phone, spec.channel).await?;
    let mut times = precheck_resend(app, db, account_id, &spec.phone).await?;
    times.push(app.now_ms);
    Ok(Sent {
        session_id: spec.session_id.clone(),
        cost,
        created_at: app.now_ms,
        expires_at: 0,
        resend_available_at: resend_available_at(app, &times),
        flagged: None,
    })
}

/// The send's batch: the session's guarded insert, the charge of exactly its cost with its
/// ledger row, the sandbox's outbox row (`sandbox_text`: its delivery commits with the
/// charge), the recorded answer, and last the read-back of the cost and the send times.
fn send_statements(
    app: &App,
    db: &D1Database,
    spec: &OtpSend<'_>,
    opened: &Opened,
    sandbox_text: Option<&str>,
    recorded: Option<D1PreparedStatement>,
) -> Result<Vec<D1PreparedStatement>, AppError> {
    let now = app.now_ms;
    let account_id = &opened.object.account_id;
    let mut statements = vec![opened.insert.clone()];
    statements.extend(charge(
        app,
        db,
        account_id,
        &spec.session_id,
        sessions::COST_OF_SESSION,
    )?);
    if let Some(text) = sandbox_text {
        let entry = OutboxEntry {
            id: &new_id("out")?,
            to: spec.phone.e164(),
            channel: spec.channel,
            sender: spec.sender.as_deref(),
            text,
            object_id: &spec.session_id,
            created_at: now,
        };
        statements.push(store::messages::outbox_statement(db, &entry)?);
    }
    statements.extend(recorded);
    let window_ms = send_rules(app).window_ms;
    statements.push(sessions::sent_statement(db, &spec.session_id, window_ms)?);
    Ok(statements)
}

/// What the send's batch read back (its last statement): the cost and the send times.
fn sent_of(
    app: &App,
    spec: &OtpSend<'_>,
    opened: &Opened,
    results: &[D1Result],
) -> Result<Sent, AppError> {
    let read = store::first_of::<SentRow>(results.last())
        .map_err(|e| AppError::internal(format!("send rows: {e}")))?
        .ok_or_else(|| AppError::internal("the send's batch read back no session"))?;
    let times: Vec<i64> = serde_json::from_str(&read.times)
        .map_err(|e| AppError::internal(format!("send times: {e}")))?;
    Ok(Sent {
        session_id: spec.session_id.clone(),
        cost: read.cost,
        created_at: app.now_ms,
        expires_at: opened.expires_at,
        resend_available_at: resend_available_at(app, &times),
        flagged: None,
    })
}

/// Opens the session's object, then hands the text to a real provider (the sandbox's
/// delivery already committed with the batch).
async fn deliver(
    app: &App,
    spec: &OtpSend<'_>,
    opened: &Opened,
    provider: Result<Configured, AppError>,
    text: &str,
    code: &str,
) -> Result<(), AppError> {
    open_object(app, opened).await?;
    let provider = match provider {
        Ok(Configured::Sandbox(_)) => return Ok(()),
        Ok(provider) => provider,
        Err(e) => return Err(e),
    };
    let outgoing = Outgoing {
        to: spec.phone.e164(),
        channel: spec.channel,
        sender: spec.sender.as_deref(),
        text,
        code: Some(code),
        object_id: &spec.session_id,
    };
    provider.deliver(&outgoing, app.now_ms).await.map(|_| ())
}

/// A delivery that failed: the charge is refunded (now, or, when that fails, recorded as
/// owed and queued: its job or the scheduled pass makes it) and the key released (a retry
/// sends again). The answer says "refunded" only when the refund committed. A provider's
/// refusal keeps its message (with the provider's error code); anything else is ours:
/// logged, answered as a plain delivery failure.
async fn undo_send(
    app: &App,
    db: &D1Database,
    done: &Completion<'_, Sent>,
    sent: &Sent,
    account_id: &str,
    e: AppError,
) -> AppError {
    let id = &sent.session_id;
    let owed = Refund {
        account_id: account_id.to_owned(),
        kind: RefundKind::OtpRefund,
        cost: sent.cost,
        object_id: id.clone(),
    };
    let refund = match jobs::refund(&app.env, db, owed, app.now_ms, app.fault).await {
        Ok(Refunded::Now) => "the charge was refunded",
        Ok(Refunded::Queued) => "the charge is owed back: its refund is queued",
        Err(e) => {
            console_error!("refund for {id} not made nor recorded: {}", e.detail());
            "the charge is owed back: its refund is logged for the operator"
        }
    };
    done.forget(db).await;
    let e = if e.code == Code::DeliveryFailed {
        e
    } else {
        AppError {
            internal: e.internal.or(Some(e.message)),
            ..AppError::of(Code::DeliveryFailed)
        }
    };
    AppError {
        message: format!("{}; {refund}", e.message),
        ..e
    }
}

/// Sends a code. Common case (no `Idempotency-Key`): ONE D1 round trip on the request
/// path — a batch that inserts the session (account active, the payer's key live when
/// nothing confirmed it yet, price from the catalog, resend rules as a guard), charges
/// exactly that price with its ledger row, records the sandbox's outbox row, and reads
/// back the cost and the send times; then the session's Durable Object is opened (near: it
/// stores the session) and the answer goes out. A real provider is called before the answer
/// (the answer says whether the text went out). With an `Idempotency-Key` the answer is
/// rendered before the batch that stores it, so the price and the resend rules are read
/// first. 402 / 429 leave nothing sent; a provider refusal is refunded (and the key
/// released, so a retry sends again).
pub async fn send(
    app: &App,
    payer: &Payer,
    spec: OtpSend<'_>,
    idem: Idem<'_, Sent>,
) -> Result<Answer<Sent>, AppError> {
    idempotency::run(app, idem, |done| async move {
        let db = app.db()?;
        let account_id = payer.account.as_str();
        let flagged = guard(app, account_id, &spec).await?;
        let code = match &spec.code {
            Some(c) => c.clone(),
            None => otp::generate(spec.length)?,
        };
        let text = text_of(&spec, &code)?;
        let country = (spec.phone.country()).ok_or_else(|| no_price(&spec.phone, spec.channel))?;
        // An answer recorded with the money is rendered before the batch: read what it shows.
        let known = match done.claimed() {
            true => Some(Sent {
                flagged,
                ..answer_before(app, &db, account_id, &spec).await?
            }),
            false => None,
        };
        let cost = (known.as_ref()).map_or(Cost::Catalog { country }, |k| Cost::Fixed(k.cost));
        let opened = new_session(app, &db, &new_code(payer, &spec, &code), cost)?;
        let recorded = match &known {
            Some(k) => {
                let recorded = Sent {
                    expires_at: opened.expires_at,
                    ..k.clone()
                };
                done.statement(&db, &recorded, None)?
            }
            None => None,
        };
        let provider = providers::configured(&app.env, &app.config, spec.channel);
        let sandbox = matches!(provider, Ok(Configured::Sandbox(_)));
        let sandbox_text = sandbox.then_some(text.as_str());
        let statements = send_statements(app, &db, &spec, &opened, sandbox_text, recorded)?;
        let results = commit_send(app, &db, statements, &opened, &spec.phone, spec.channel).await?;
        let sent = Sent {
            flagged,
            ..sent_of(app, &spec, &opened, &results)?
        };
        if let Err(e) = deliver(app, &spec, &opened, provider, &text, &code).await {
            return Err(undo_send(app, &db, &done, &sent, account_id, e).await);
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

/// `send` for a front door whose protocol has no `Idempotency-Key` (every request is a
/// send): the fresh result.
pub async fn send_unkeyed(app: &App, payer: &Payer, spec: OtpSend<'_>) -> Result<Sent, AppError> {
    let request = IdemRequest {
        scope: payer.account.as_str().to_owned(),
        key: None,
        fingerprint: String::new(),
    };
    let unused = |_: &Sent| Saved {
        status: 0,
        body: String::new(),
        balance_fill: None,
    };
    let idem = Idem::new(&request, &unused);
    match send(app, payer, spec, idem).await? {
        Answer::Fresh(sent) => Ok(sent),
        Answer::Replay(_) => Err(AppError::internal("a send without a key was replayed")),
    }
}

/// The fraud guard's decision on a send (`app::fraud::guard`), unless the caller skipped it,
/// with the send's rate-limit tokens.
async fn guard(
    app: &App,
    account_id: &str,
    spec: &OtpSend<'_>,
) -> Result<Option<Reason>, AppError> {
    if !spec.risk_check && spec.limits.is_empty() {
        return Ok(None);
    }
    let attempt = fraud::Attempt {
        account_id,
        phone: &spec.phone,
        channel: spec.channel,
        dialect: spec.dialect,
    };
    fraud::guard_limited(app, &attempt, &spec.limits, spec.risk_check).await
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
) -> Result<(Session, Checked), AppError> {
    let (account, key_hash) = checker(app, key, session_id).await?;
    check_by(app, &account, key_hash, session_id, code).await
}

/// `check` for a caller the front door authenticated itself (a Vonage application's JWT):
/// the same one call to the session's object.
pub async fn check_as(
    app: &App,
    account: &AccountId,
    session_id: &str,
    code: &str,
) -> Result<(Session, Checked), AppError> {
    check_by(app, account, None, session_id, code).await
}

async fn check_by(
    app: &App,
    account: &AccountId,
    key_hash: Option<String>,
    session_id: &str,
    code: &str,
) -> Result<(Session, Checked), AppError> {
    let hmac_secret = secret(&app.env, "OTP_HMAC_SECRET")?;
    let mac = to_hex(&otp::code_mac(&hmac_secret, session_id, code));
    let op = Op::Check {
        id: session_id.to_owned(),
        account_id: account.0.clone(),
        key_hash,
        mac,
    };
    decide(app, account, session_id, &op).await
}

/// Whose session a check may look at, and the key the session's object is to check: an API
/// key this isolate has seen is known to be the account's (a key never changes account), so
/// only the session's object, which keeps the key's liveness current, is asked; a key seen
/// for the first time is asked of its own object first. A login session is checked in D1,
/// and so is the key of a check no object is asked about (an id no session can have).
pub(super) async fn checker(
    app: &App,
    key: &KeyHash,
    session_id: &str,
) -> Result<(AccountId, Option<String>), AppError> {
    let near = || super::accounts::authenticate_near_for(app, key, Scope::OtpVerify);
    if key.is_session() || !otp::could_be_session_id(session_id) {
        return Ok((near().await?, None));
    }
    let account = match super::accounts::known_owner(key) {
        Some(account) => account,
        None => near().await?,
    };
    Ok((account, Some(key.as_str().to_owned())))
}

/// `checker`, for a change the account makes to its own session: 404 when the key is
/// another account's.
async fn owners_checker(
    app: &App,
    key: &KeyHash,
    account_id: &str,
    session_id: &str,
) -> Result<(AccountId, Option<String>), AppError> {
    let (account, key_hash) = checker(app, key, session_id).await?;
    if account.as_str() != account_id {
        return Err(AppError::not_found("session"));
    }
    Ok((account, key_hash))
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
    let (account, key_hash) = owners_checker(app, key, account_id, session_id).await?;
    let op = Op::Approve {
        id: session_id.to_owned(),
        account_id: account.0.clone(),
        key_hash,
    };
    let (_, checked) = decide(app, &account, session_id, &op).await?;
    Ok(matches!(checked, Checked::Verified))
}

/// Who changes a session: a caller's key, asked of the session's object as `check` asks it
/// (the session must be `account_id`'s, 404 otherwise), or an account its front door
/// authenticated itself (a Vonage application's JWT).
pub enum Owner<'a> {
    Key {
        key: &'a KeyHash,
        account_id: &'a str,
    },
    Account(&'a AccountId),
}

/// What a cancel came to.
pub enum Cancelled {
    /// The session's object ended it (now, or by an earlier cancel); D1's row ends too.
    Now,
    /// Its object holds nothing of it (or the id is none a session can have).
    NotHeld,
    /// It had ended otherwise (verified, attempts spent, expired): nothing was cancelled.
    Ended,
}

/// Cancels a live session through its object, so a check racing the cancel resolves one
/// way: verified before it (the cancel is refused: `Ended`) or refused after it. No check
/// is accepted after it and its channel fallback stops.
pub async fn cancel(app: &App, owner: Owner<'_>, session_id: &str) -> Result<Cancelled, AppError> {
    let (account, key_hash) = match owner {
        Owner::Key { key, account_id } => owners_checker(app, key, account_id, session_id).await?,
        Owner::Account(account) => (account.clone(), None),
    };
    if !otp::could_be_session_id(session_id) {
        return Ok(Cancelled::NotHeld);
    }
    let op = Op::Cancel {
        id: session_id.to_owned(),
        account_id: account.0.clone(),
        key_hash,
    };
    let object = otp::session_object(account.as_str(), session_id);
    match otp_session::call(&app.env, &object, &op).await? {
        Outcome::Cancelled { .. } => {
            let db = app.db()?;
            let statements = vec![
                store::workflow::end_session_statement(&db, session_id, app.now_ms)?,
                store::vonage::summary_statement(&db, session_id, app.now_ms, true, false)?,
            ];
            let results = store::batch(&db, statements).await?;
            if results.get(1).is_some_and(|r| store::changes(r) >= 1) {
                webhooks::kick_soon(app, account.as_str());
            }
            Ok(Cancelled::Now)
        }
        Outcome::Unknown => Ok(Cancelled::NotHeld),
        Outcome::KeyRefused => Err(AppError::unauthorized()),
        _ => Ok(Cancelled::Ended),
    }
}

/// One check (or approval) decided by the session's object; D1 says why only when the
/// object holds no session of this account.
async fn decide(
    app: &App,
    account: &AccountId,
    session_id: &str,
    op: &Op,
) -> Result<(Session, Checked), AppError> {
    // An id no session can have (too long, or not printable) is not sent to an object: D1
    // finds nothing and the answer is 404.
    let outcome = if otp::could_be_session_id(session_id) {
        let object = otp::session_object(account.as_str(), session_id);
        let outcome = otp_session::call(&app.env, &object, op).await?;
        app.object_answered()?;
        outcome
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
        Outcome::ScopeRefused => Err(crate::domain::scope::refused(Scope::OtpVerify)),
        Outcome::Opened
        | Outcome::State { .. }
        | Outcome::Unknown
        | Outcome::Revoked
        | Outcome::KeyForgotten
        | Outcome::Step { .. }
        | Outcome::NoStep { .. }
        | Outcome::Cancelled { .. }
        | Outcome::Jti { .. }
        | Outcome::WindowOpened { .. } => {
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
async fn from_d1(app: &App, account: &AccountId, id: &str) -> Result<Session, AppError> {
    let db = app.db()?;
    let row = sessions::find(&db, account.as_str(), id).await?;
    let row = row.ok_or_else(|| AppError::not_found("session"))?;
    if row.terminal(app.now_ms) == Some(Terminal::Expired) {
        let statement =
            sessions::result_event_statement(&db, &row.id, app.now_ms, ResultEvents::All)?;
        if store::run(statement).await? > 0 {
            webhooks::kick_soon(app, &row.account_id);
        }
    }
    Ok(row)
}

/// A session of the account, by id, as its object (the authority) holds it, else as D1
/// has it (an expired one records its event on the way, either way).
pub async fn session(app: &App, account: &AccountId, id: &str) -> Result<Session, AppError> {
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

/// One of the account's OTP sessions as its list shows it, with its state now.
pub struct SessionSummary {
    pub row: crate::domain::otp::SessionRecord,
    /// `pending`, `verified`, `failed` or `expired`.
    pub status: &'static str,
}

/// The account's OTP sessions, newest first.
pub async fn recent_sessions(
    app: &App,
    account: &AccountId,
    slice: &crate::domain::pagination::Slice,
) -> Listed<SessionSummary> {
    let db = app.db()?;
    let list = &crate::store::dashboard::OTP_SESSIONS;
    let listed = crate::store::account_slice(&db, list, account.as_str(), slice).await?;
    let (rows, total): (Vec<otp::SessionRecord>, u64) = super::listed(listed)?;
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
