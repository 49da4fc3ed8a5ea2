//! Twilio Verify v2 compatibility: Verify services and verifications, on the OTP engine.
//! A verification is a sequence of OTP sends to one number (the first and every resend);
//! each send is `otp::send` (charged, counted by the resend rules, its own session whose id
//! is the send's `VL…` sid), every check is `otp::check` of the latest send's session, and
//! an approval is `otp::approve`: no rule of the engine is restated here. A verification's
//! state is that latest session's (approved, attempts spent, expired), or its own cancel.
use super::otp::{self, Cancelled, Checked, OtpSend};
use super::App;
use crate::domain::error::{AppError, Code};
use crate::domain::ids::{AccountId, KeyHash};
use crate::domain::otp::{terminal, Terminal};
use crate::domain::phone::Phone;
use crate::domain::twilio_verify::{
    self as tv, Paging, Send, Service, SidKind, Status, Update, VerificationRecord,
};
use crate::domain::verify_limits::{Bucket, Take};
use crate::store::verify::{self as store, NewSend, Which};
use crate::store::verify_limits as limits_store;
use worker::D1Database;

/// Who calls: the account behind an HTTP Basic pair, its `AC…` sid, and the key presented.
pub struct Caller {
    pub account: AccountId,
    pub account_sid: String,
    pub key: KeyHash,
}

/// The account of a live key whose username is the account's `AC…` sid or the key's own
/// `SK…` sid; 401 otherwise (whatever is wrong).
pub async fn authenticate(app: &App, username: &str, key: KeyHash) -> Result<Caller, AppError> {
    let sid_shaped =
        tv::is_sid(SidKind::Account, username) || tv::is_sid(SidKind::ApiKey, username);
    if !sid_shaped {
        return Err(AppError::unauthorized());
    }
    let principal = store::principal(&app.db()?, key.as_str(), username).await?;
    let p = principal.ok_or_else(AppError::unauthorized)?;
    Ok(Caller {
        account: AccountId(p.account_id),
        account_sid: p.account_sid,
        key,
    })
}

fn no_such(what: &str) -> AppError {
    AppError::not_found(what)
}

// --- Services ---

/// A new service of the caller's account.
pub async fn create_service(
    app: &App,
    caller: &Caller,
    friendly_name: String,
    code_length: u32,
) -> Result<Service, AppError> {
    let row = Service {
        sid: tv::new_sid(SidKind::Service)?,
        account_id: caller.account.as_str().to_owned(),
        friendly_name,
        code_length: i64::from(code_length),
        created_at: app.now_ms,
        updated_at: app.now_ms,
    };
    store::create_service(&app.db()?, &row).await?;
    Ok(row)
}

async fn find_service(db: &D1Database, caller: &Caller, sid: &str) -> Result<Service, AppError> {
    if !tv::is_sid(SidKind::Service, sid) {
        return Err(no_such("service"));
    }
    let row = store::find_service(db, caller.account.as_str(), sid).await?;
    row.ok_or_else(|| no_such("service"))
}

/// A service of the caller's account (404 for another's, a deleted one, or none).
pub async fn service(app: &App, caller: &Caller, sid: &str) -> Result<Service, AppError> {
    find_service(&app.db()?, caller, sid).await
}

/// Renames a service and/or changes its code length (for the verifications started after).
pub async fn update_service(
    app: &App,
    caller: &Caller,
    sid: &str,
    friendly_name: Option<String>,
    code_length: Option<u32>,
) -> Result<Service, AppError> {
    let db = app.db()?;
    let mut row = find_service(&db, caller, sid).await?;
    if let Some(name) = friendly_name {
        row.friendly_name = name;
    }
    if let Some(length) = code_length {
        row.code_length = i64::from(length);
    }
    row.updated_at = app.now_ms;
    if !store::update_service(&db, &row).await? {
        return Err(no_such("service"));
    }
    Ok(row)
}

pub async fn delete_service(app: &App, caller: &Caller, sid: &str) -> Result<(), AppError> {
    let deleted = tv::is_sid(SidKind::Service, sid)
        && store::delete_service(&app.db()?, caller.account.as_str(), sid, app.now_ms).await?;
    if deleted {
        Ok(())
    } else {
        Err(no_such("service"))
    }
}

/// One page of the account's services (oldest first), and whether another page follows.
pub async fn list_services(
    app: &App,
    caller: &Caller,
    paging: Paging,
) -> Result<(Vec<Service>, bool), AppError> {
    let account = caller.account.as_str();
    let size = i64::from(paging.size);
    let mut rows = store::list_services(&app.db()?, account, paging.offset(), size + 1).await?;
    let has_next = rows.len() > paging.size as usize;
    rows.truncate(paging.size as usize);
    Ok((rows, has_next))
}

// --- Verifications ---

/// A verification as the API shows it.
pub struct Verification {
    pub row: VerificationRecord,
    pub status: Status,
    pub sends: Vec<Send>,
    /// When it last changed (latest send, cancel or approval).
    pub updated_at: i64,
}

/// The verification with its latest session's state as the OTP engine holds it
/// (`otp::session`: the authority for checks, wherever it keeps them), not as the join
/// read it.
async fn current(
    app: &App,
    caller: &Caller,
    mut row: VerificationRecord,
) -> Result<VerificationRecord, AppError> {
    let session = otp::session(app, &caller.account, &row.session_id).await?;
    row.expires_at = session.expires_at;
    row.attempts = session.attempts;
    row.max_attempts = session.max_attempts;
    row.verified_at = session.verified_at;
    Ok(row)
}

fn session_terminal(v: &VerificationRecord, now_ms: i64) -> Option<Terminal> {
    terminal(
        v.verified_at.is_some(),
        v.attempts,
        v.max_attempts,
        v.expires_at,
        now_ms,
    )
}

pub fn status_of(v: &VerificationRecord, now_ms: i64) -> Status {
    tv::status(v.canceled_at.is_some(), session_terminal(v, now_ms))
}

/// The verification as the API shows it (`row` already `current`).
async fn view(
    app: &App,
    db: &D1Database,
    row: VerificationRecord,
) -> Result<Verification, AppError> {
    let sends = store::sends(db, &row.sid).await?;
    let updated_at = [Some(row.sent_at), row.canceled_at, row.verified_at]
        .into_iter()
        .flatten()
        .max()
        .unwrap_or(row.sent_at);
    Ok(Verification {
        status: status_of(&row, app.now_ms),
        row,
        sends,
        updated_at,
    })
}

async fn find_verification(
    app: &App,
    db: &D1Database,
    caller: &Caller,
    service_sid: &str,
    sid: &str,
) -> Result<VerificationRecord, AppError> {
    find_service(db, caller, service_sid).await?;
    if !tv::is_sid(SidKind::Verification, sid) {
        return Err(no_such("verification"));
    }
    let row =
        store::verification(db, caller.account.as_str(), service_sid, Which::Sid(sid)).await?;
    current(app, caller, row.ok_or_else(|| no_such("verification"))?).await
}

/// What to start: the number, the engine's channel, the caller's own code (if any).
pub struct Start {
    pub phone: Phone,
    pub channel: &'static str,
    pub code: Option<String>,
    /// `RiskCheck` (Twilio): `false` (`disable`) skips the fraud guard, on SMS only.
    pub risk_check: bool,
    /// `RateLimits` (Twilio): unique name → value; each names a rate limit of the service.
    pub rate_limits: Vec<(String, String)>,
}

/// Starts a verification, or — while one is pending for this number in this service —
/// sends its next code (Twilio's resend). Either way ONE `otp::send`, with the service's
/// code length: 402 / 429 (resend rules, a spent rate-limit bucket) / 400 (no price, a rate
/// limit the service does not have) leave nothing sent or recorded.
pub async fn start(
    app: &App,
    caller: &Caller,
    service_sid: &str,
    start: Start,
) -> Result<Verification, AppError> {
    // A send is charged: refused while the account awaits the operator's approval (2405).
    super::accounts::authenticate_payer(app, &caller.key).await?;
    let db = app.db()?;
    // The service and the rate limits the request names: one read.
    let (svc, limits) = match start.rate_limits.is_empty() {
        true => (find_service(&db, caller, service_sid).await?, Vec::new()),
        false => {
            let requested = &start.rate_limits;
            service_and_takes(app, caller, service_sid, requested).await?
        }
    };
    let channel = otp::channel(app, Some(start.channel))?;
    let account = caller.account.as_str();
    let phone = start.phone.e164().to_owned();
    let pending =
        match store::verification(&db, account, &svc.sid, Which::LatestFor(&phone)).await? {
            Some(v) => Some(current(app, caller, v).await?),
            None => None,
        }
        .filter(|v| status_of(v, app.now_ms).is_pending());
    let (verification_sid, new_verification) = match &pending {
        Some(v) => (v.sid.clone(), false),
        None => (tv::new_sid(SidKind::Verification)?, true),
    };
    let session_id = tv::new_sid(SidKind::Attempt)?;
    let send = NewSend {
        verification_sid: &verification_sid,
        new_verification,
        service_sid: &svc.sid,
        account_id: account,
        to_phone: &phone,
        session_id: &session_id,
        channel: tv::twilio_channel(channel),
        now_ms: app.now_ms,
    };
    store::prepare_send(&db, &send).await?;
    let send_request = OtpSend {
        session_id,
        phone: start.phone,
        channel,
        code: start.code,
        length: usize::try_from(svc.code_length).unwrap_or(crate::domain::otp::DEFAULT_LENGTH),
        ttl_secs: app.config.otp_ttl_secs,
        dialect: "whatotp",
        sender: None,
        payload: None,
        template: None,
        risk_check: start.risk_check,
        limits,
        fallback: Vec::new(),
    };
    // Twilio Verify has no Idempotency-Key: every start is a send.
    let payer = super::accounts::Payer::confirmed_key(caller.account.clone(), caller.key.clone());
    otp::send_unkeyed(app, &payer, send_request).await?;
    let row = store::verification(&db, account, &svc.sid, Which::Sid(&verification_sid)).await?;
    let row = row.ok_or_else(|| AppError::internal("verification not readable after its send"))?;
    view(app, &db, current(app, caller, row).await?).await
}

/// A verification of the caller's service.
pub async fn verification(
    app: &App,
    caller: &Caller,
    service_sid: &str,
    sid: &str,
) -> Result<Verification, AppError> {
    let db = app.db()?;
    let row = find_verification(app, &db, caller, service_sid, sid).await?;
    view(app, &db, row).await
}

/// Which verification a check is for.
pub enum Target {
    Sid(String),
    /// The latest verification of this number in the service.
    Phone(Phone),
}

/// Checks a code: `otp::check` of the latest send's session. Returns the verification and
/// its status after the check (`approved`, `pending`, or `max_attempts_reached` when this
/// wrong code spent the last attempt). No pending verification (approved, canceled,
/// expired, none) → 404; attempts already spent → 429 (`CheckAttemptsSpent`).
pub async fn check(
    app: &App,
    caller: &Caller,
    service_sid: &str,
    target: Target,
    code: &str,
) -> Result<(VerificationRecord, Status), AppError> {
    let db = app.db()?;
    let svc = find_service(&db, caller, service_sid).await?;
    let account = caller.account.as_str();
    let found = match target {
        Target::Sid(sid) if tv::is_sid(SidKind::Verification, &sid) => {
            store::verification(&db, account, &svc.sid, Which::Sid(&sid)).await?
        }
        Target::Sid(_) => None,
        Target::Phone(phone) => {
            store::verification(&db, account, &svc.sid, Which::LatestFor(phone.e164())).await?
        }
    };
    let v = current(app, caller, found.ok_or_else(|| no_such("verification"))?).await?;
    match status_of(&v, app.now_ms) {
        Status::Pending => {}
        Status::MaxAttemptsReached => return Err(AppError::of(Code::CheckAttemptsSpent)),
        Status::Approved | Status::Canceled | Status::Expired => {
            return Err(no_such("verification"))
        }
    }
    let (_, checked) = otp::check(app, &caller.key, &v.session_id, code).await?;
    let status = match checked {
        Checked::Verified => Status::Approved,
        Checked::Wrong { remaining: 0 } => Status::MaxAttemptsReached,
        Checked::Wrong { .. } => Status::Pending,
        Checked::Refused(Terminal::MaxAttempts) => {
            return Err(AppError::of(Code::CheckAttemptsSpent))
        }
        Checked::Refused(_) => return Err(no_such("verification")),
    };
    Ok((v, status))
}

/// Cancels a pending verification (it takes no more checks or resends: its latest send's
/// session is cancelled by its object first, `otp::cancel`, so a racing check resolves one
/// way) or approves it without a code (`otp::approve`, racing with checks as a right check
/// would); 404 for one that is not pending.
pub async fn update(
    app: &App,
    caller: &Caller,
    service_sid: &str,
    sid: &str,
    update: Update,
) -> Result<Verification, AppError> {
    let db = app.db()?;
    let v = find_verification(app, &db, caller, service_sid, sid).await?;
    let account = caller.account.as_str();
    let done = status_of(&v, app.now_ms).is_pending()
        && match update {
            Update::Cancel => {
                let owner = otp::Owner::Key {
                    key: &caller.key,
                    account_id: account,
                };
                let cancelled = otp::cancel(app, owner, &v.session_id).await?;
                matches!(cancelled, Cancelled::Now | Cancelled::NotHeld)
                    && store::cancel(&db, account, &v.sid, app.now_ms).await?
            }
            Update::Approve => otp::approve(app, &caller.key, account, &v.session_id).await?,
        };
    if !done {
        return Err(no_such("verification"));
    }
    let row = find_verification(app, &db, caller, service_sid, sid).await?;
    view(app, &db, row).await
}

// --- A verification request's rate limits ---

/// The caller's service and the tokens a request naming `requested` (unique name → value)
/// takes, read in one round trip: one per bucket of each named rate limit. A name the
/// service has no rate limit for is a 400.
pub async fn service_and_takes(
    app: &App,
    caller: &Caller,
    service_sid: &str,
    requested: &[(String, String)],
) -> Result<(Service, Vec<Take>), AppError> {
    if !tv::is_sid(SidKind::Service, service_sid) {
        return Err(no_such("service"));
    }
    let account = caller.account.as_str();
    let (svc, named) = limits_store::service_with_limits(&app.db()?, account, service_sid).await?;
    let svc = svc.ok_or_else(|| no_such("service"))?;
    let mut takes = Vec::new();
    for (name, value) in requested {
        let mut rows = named.iter().filter(|n| &n.unique_name == name).peekable();
        if rows.peek().is_none() {
            let why = format!("Invalid parameter `RateLimits`: no rate limit named '{name}'");
            return Err(AppError::invalid(why));
        }
        for n in rows {
            if let (Some(sid), Some(max), Some(interval)) = (&n.bucket_sid, n.max, n.interval) {
                let bucket = Bucket {
                    sid: sid.clone(),
                    rate_limit_sid: n.rate_limit_sid.clone(),
                    service_sid: svc.sid.clone(),
                    max,
                    interval,
                    created_at: 0,
                    updated_at: 0,
                };
                takes.push(Take::of(&bucket, value));
            }
        }
    }
    Ok((svc, takes))
}
