//! Verification windows by number (Prelude's model): a send to a number opens its window,
//! and a send while the window is open is a retry that issues a FRESH code, every unexpired
//! code of the window verifying; a check names the number, not a session. Each send is one
//! `otp::send` (charged, counted by the resend rules, decided by the fraud guard, its own
//! session in D1); the window itself lives in the object its number names
//! (`durable::otp_session::window_anchor`), which decides every check without D1.
use super::accounts::Payer;
use super::otp::{self, checker, OtpSend, Sent};
use super::templates::LoadedTemplate;
use super::App;
use crate::config::{secret, server_key};
use crate::domain::crypto::to_hex;
use crate::domain::error::AppError;
use crate::domain::events::{self, PreludeCallback};
use crate::domain::ids::{new_id, KeyHash};
use crate::domain::money::Money;
use crate::domain::otp::{code_mac, generate, session_object, Terminal, MAX_ATTEMPTS};
use crate::domain::otp_check::Session;
use crate::domain::phone::Phone;
use crate::domain::time::rfc3339;
use crate::domain::workflow::{self, Step, Workflow, MAX_STEPS};
use crate::durable::otp_session::{self, window_anchor, Op, Opening, Outcome};
use crate::store::{self, webhooks::callback_event_statement, webhooks::Event};
use worker::{console_error, Env};

/// A send to a number's window.
pub struct WindowSend<'a> {
    pub phone: Phone,
    pub channel: &'static str,
    /// The caller's own code, or `None` to generate one of `length` digits.
    pub code: Option<String>,
    pub length: usize,
    pub template: Option<&'a LoadedTemplate>,
    /// The channels to fall back to, in order, while the code is not verified: each sent
    /// `PRELUDE_FALLBACK_TIMEOUT_SECS` after the message before it, by the window's workflow
    /// (as many as fit in the code's lifetime).
    pub fallbacks: Vec<&'static str>,
    /// Where to report the verification and its sends (Prelude's status callbacks).
    pub callback: Option<Callback>,
}

/// A status-callback URL (already checked by the webhook URL rules) and the caller's
/// correlation id, echoed in each callback.
pub struct Callback {
    pub url: String,
    pub correlation_id: Option<String>,
}

/// A send that went out: the window it joined, whether that was a retry, the send, and the
/// fallback channels its workflow will send while the code is unverified.
pub struct WindowSent {
    pub id: String,
    pub retry: bool,
    pub sent: Sent,
    pub fallbacks: Vec<String>,
}

/// Sends a fresh code to the number and adds it to the number's open window, or opens a
/// new one. 402 / 429 (resend rules) / a fraud-guard refusal leave the window as it was.
pub async fn send(app: &App, payer: &Payer, w: WindowSend<'_>) -> Result<WindowSent, AppError> {
    let code = match w.code {
        Some(code) => code,
        None => generate(w.length)?,
    };
    let session_id = new_id("otp")?;
    let spec = OtpSend {
        session_id: session_id.clone(),
        phone: w.phone.clone(),
        channel: w.channel,
        code: Some(code.clone()),
        length: w.length,
        ttl_secs: app.config.otp_ttl_secs,
        dialect: "prelude",
        sender: None,
        payload: None,
        template: w.template,
        risk_check: true,
        limits: Vec::new(),
        // The fallbacks run in the window's object, where its checks are decided (a step
        // that loses the race to a right code is neither sent nor charged).
        fallback: Vec::new(),
    };
    let sent = otp::send_unkeyed(app, payer, spec).await?;
    let workflow = fallback_workflow(app, &w.fallbacks, &session_id, &code, sent.created_at)?;
    let fallbacks = workflow.as_ref().map_or_else(Vec::new, |f| {
        f.steps.iter().map(|s| s.channel.clone()).collect()
    });
    let account_id = payer.account.as_str();
    let anchor = window_anchor(w.phone.e164());
    let hmac_secret = secret(&app.env, "OTP_HMAC_SECRET")?;
    let send = Opening {
        id: session_id,
        account_id: account_id.to_owned(),
        phone: w.phone.e164().to_owned(),
        channel: w.channel.to_owned(),
        code_mac: to_hex(&code_mac(&hmac_secret, &anchor, &code)),
        created_at: sent.created_at,
        expires_at: sent.expires_at,
        max_attempts: MAX_ATTEMPTS,
        workflow,
    };
    let op = Op::WindowSend {
        window_id: new_id("vrf")?,
        send,
    };
    let object = session_object(account_id, &anchor);
    let done = match otp_session::call(&app.env, &object, &op).await? {
        Outcome::WindowOpened { id, retry } => WindowSent {
            id,
            retry,
            sent,
            fallbacks,
        },
        _ => return Err(AppError::internal("window: unexpected answer to a send")),
    };
    if let Some(callback) = w.callback {
        report(app, account_id, &w.phone, w.channel, &done, callback);
    }
    Ok(done)
}

/// The send's fallback steps, each `PRELUDE_FALLBACK_TIMEOUT_SECS` after the message before
/// it, as many as fit in the code's lifetime, with its code sealed for them (`None`: none).
fn fallback_workflow(
    app: &App,
    channels: &[&str],
    session_id: &str,
    code: &str,
    now_ms: i64,
) -> Result<Option<Workflow>, AppError> {
    let timeout_s = i64::from(app.config.prelude_fallback_timeout_secs);
    let ttl_s = i64::from(app.config.otp_ttl_secs);
    let steps: Vec<Step> = (channels.iter().take(MAX_STEPS))
        .scan(0, |waited, channel| {
            *waited += timeout_s;
            (*waited < ttl_s).then(|| Step {
                channel: (*channel).to_owned(),
                timeout_s,
            })
        })
        .collect();
    if steps.is_empty() {
        return Ok(None);
    }
    let sealed = workflow::seal(&server_key(&app.env)?, session_id, code)
        .ok_or_else(|| AppError::invalid("the code is too long for a fallback"))?;
    Ok(Workflow::new(steps, sealed, now_ms))
}

/// Records the send's status callbacks after the answer (`verify.authentication` for a new
/// window, `verify.attempt` for every send) and wakes the account's dispatcher, which
/// delivers them to the callback's URL in order, with its retries.
fn report(
    app: &App,
    account_id: &str,
    phone: &Phone,
    channel: &str,
    done: &WindowSent,
    callback: Callback,
) {
    let kinds: &[(&str, &str)] = match done.retry {
        false => &[
            ("verify.authentication", "window"),
            ("verify.attempt", "send"),
        ],
        true => &[("verify.attempt", "send")],
    };
    let mut events = Vec::new();
    for (event_type, object) in kinds {
        let Ok(event_id) = new_id("evt") else {
            return;
        };
        let object_id = match *object {
            "window" => done.id.clone(),
            _ => done.sent.session_id.clone(),
        };
        let body = events::prelude_callback(&PreludeCallback {
            event_id: &event_id,
            event_type,
            verification_id: &done.id,
            phone_number: phone.e164(),
            channel,
            price: &Money::from_minor(done.sent.cost).to_decimal_string(),
            currency: &app.config.currency,
            correlation_id: callback.correlation_id.as_deref(),
            time: &rfc3339(app.now_ms),
        });
        events.push((event_id, event_type.to_string(), object_id, body));
    }
    let (env, account_id, url, now) = (
        app.env.clone(),
        account_id.to_owned(),
        callback.url,
        app.now_ms,
    );
    app.later(async move {
        if let Err(e) = record(&env, &account_id, &url, events, now).await {
            console_error!("prelude callbacks not recorded: {}", e.detail());
        }
    });
}

async fn record(
    env: &Env,
    account_id: &str,
    url: &str,
    events: Vec<(String, String, String, serde_json::Value)>,
    now_ms: i64,
) -> Result<(), AppError> {
    let db = store::db(env)?;
    let mut statements = Vec::with_capacity(events.len());
    for (id, event_type, object_id, data) in events {
        let event = Event {
            account_id,
            event_type: &event_type,
            object_id: &object_id,
            version: 0,
            data,
        };
        statements.push(callback_event_statement(&db, &id, &event, url, now_ms)?);
    }
    store::batch(&db, statements).await?;
    super::webhooks::kick_env(env, account_id).await
}

/// The outcome of a check by number.
pub enum WindowChecked {
    Verified(Session),
    Wrong(Session),
    /// The window's attempts are spent (nothing was counted).
    AttemptsSpent,
    /// No open window for the number: none, verified already, or expired.
    NotFound,
}

/// Checks a code against the number's window, without D1: the key's object when this
/// isolate does not know the key yet, then the window's object (near), which decides.
pub async fn check(
    app: &App,
    key: &KeyHash,
    phone: &Phone,
    code: &str,
) -> Result<WindowChecked, AppError> {
    let anchor = window_anchor(phone.e164());
    let (account, key_hash) = checker(app, key, &anchor).await?;
    let hmac_secret = secret(&app.env, "OTP_HMAC_SECRET")?;
    let op = Op::WindowCheck {
        account_id: account.as_str().to_owned(),
        phone: phone.e164().to_owned(),
        key_hash,
        mac: to_hex(&code_mac(&hmac_secret, &anchor, code)),
    };
    let object = session_object(account.as_str(), &anchor);
    Ok(match otp_session::call(&app.env, &object, &op).await? {
        Outcome::Verified { session } => WindowChecked::Verified(session),
        Outcome::Wrong { session } => WindowChecked::Wrong(session),
        Outcome::Refused { ended, .. } => match Terminal::from(ended) {
            Terminal::MaxAttempts => WindowChecked::AttemptsSpent,
            Terminal::AlreadyVerified | Terminal::Expired => WindowChecked::NotFound,
        },
        Outcome::KeyRefused => return Err(AppError::unauthorized()),
        Outcome::ScopeRefused => {
            return Err(crate::domain::scope::refused(
                crate::domain::scope::Scope::OtpVerify,
            ))
        }
        _ => WindowChecked::NotFound,
    })
}
