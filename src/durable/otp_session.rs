//! One Durable Object per OTP session (`id_from_name(session_id)`), opened by the send that
//! creates the session, so it lives near the sender: the authority for the session's checks.
//! It holds the code's MAC, the counters and the expiry. A check is decided by the pure rules
//! (`domain::otp_check`) on the state in memory, with no await between reading and changing
//! it, and the new state is WRITTEN to the object's storage before anything else is awaited
//! (the runtime holds the answer until that write is durable). So parallel checks are
//! serialized without D1: at most `max_attempts` wrong codes are counted and one success.
//!
//! D1 follows after the answer: the object mirrors its counters into the `otp_sessions` row
//! (`attempts = MAX(…)`, `verified_at = COALESCE(…)`: copies that arrive in any order
//! converge) and records the result event in the same batch, then wakes the account's
//! webhook dispatcher. A mirror that fails is retried by the object's alarm, which also
//! clears the object's storage some time after the session ended (a later check then finds
//! the ended session in D1).
//!
//! The Worker never sends the code: it sends the candidate's MAC (HMAC under the server
//! secret, bound to the session id), which the object compares with the stored one in
//! constant time.
use super::webhook_dispatcher;
use crate::domain::crypto::{constant_time_eq, from_hex};
use crate::domain::error::AppError;
use crate::domain::otp::Terminal;
use crate::domain::otp_check::{apply, Counters, Decision};
use crate::store::sessions::{self, ResultEvents, SessionRow};
use crate::store::{self, batch};
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use worker::wasm_bindgen::JsValue;
use worker::{
    console_error, durable_object, Date, DurableObject, Env, Method, Request, RequestInit,
    Response, Result, State,
};

/// The binding (wrangler.toml `[durable_objects]`).
pub const BINDING: &str = "OTP_SESSION";
const STATE_KEY: &str = "session";
/// How soon a failed D1 mirror is tried again.
const MIRROR_RETRY_MS: i64 = 30_000;
/// How long after its end the object keeps the session (D1 has it for good).
const KEEP_AFTER_END_MS: i64 = 60 * 60 * 1000;

/// A new session, as the send opens it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Opening {
    pub id: String,
    pub account_id: String,
    pub phone: String,
    pub channel: String,
    /// Hex HMAC-SHA256 of the code (`domain::otp::code_mac`).
    pub code_mac: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub max_attempts: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Stored {
    session: Opening,
    counters: Counters,
    /// A check by the owner found the session expired: `otp.expired` is to be recorded.
    expiry_seen: bool,
}

impl Stored {
    fn row(&self) -> SessionRow {
        let s = &self.session;
        SessionRow {
            id: s.id.clone(),
            account_id: s.account_id.clone(),
            phone: s.phone.clone(),
            channel: s.channel.clone(),
            created_at: s.created_at,
            expires_at: s.expires_at,
            attempts: self.counters.attempts,
            max_attempts: self.counters.max_attempts,
            verified_at: self.counters.verified_at,
        }
    }
}

/// What the Worker asks of the object.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Op {
    /// Store a new session (a repeated open of the same session changes nothing).
    Open { session: Opening },
    /// Check a candidate for `account_id`: `mac` is the candidate's hex MAC.
    Check { account_id: String, mac: String },
    /// The session's state, for its owner.
    Get { account_id: String },
    /// Approve without a code (Twilio Verify's `Status=approved`): a check whose code
    /// matched, under the same rules.
    Approve { account_id: String },
}

/// Why a check was not evaluated (`domain::otp::Terminal`, as it travels).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ended {
    AlreadyVerified,
    MaxAttempts,
    Expired,
}

impl From<Terminal> for Ended {
    fn from(t: Terminal) -> Ended {
        match t {
            Terminal::AlreadyVerified => Ended::AlreadyVerified,
            Terminal::MaxAttempts => Ended::MaxAttempts,
            Terminal::Expired => Ended::Expired,
        }
    }
}

impl From<Ended> for Terminal {
    fn from(e: Ended) -> Terminal {
        match e {
            Ended::AlreadyVerified => Terminal::AlreadyVerified,
            Ended::MaxAttempts => Terminal::MaxAttempts,
            Ended::Expired => Terminal::Expired,
        }
    }
}

/// The object's answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum Outcome {
    Opened,
    Verified {
        session: SessionRow,
    },
    Wrong {
        session: SessionRow,
    },
    Refused {
        ended: Ended,
        session: SessionRow,
    },
    State {
        session: SessionRow,
    },
    /// The object holds no session (never opened here, or cleared long after its end), or
    /// not one of this account: the caller looks in D1.
    Unknown,
}

#[durable_object]
pub struct OtpSession {
    state: State,
    env: Env,
    /// The stored state once read: the object is its only writer.
    cache: RefCell<Option<Stored>>,
}

fn now_ms() -> i64 {
    Date::now().as_millis() as i64
}

impl OtpSession {
    async fn load(&self) -> Result<Option<Stored>> {
        if let Some(s) = self.cache.borrow().as_ref() {
            return Ok(Some(s.clone()));
        }
        let stored = self.state.storage().get::<Stored>(STATE_KEY).await?;
        // Another event may have filled the cache while storage answered; it is newer.
        let mut cache = self.cache.borrow_mut();
        if cache.is_none() {
            cache.clone_from(&stored);
        }
        Ok(cache.clone())
    }

    /// Remembers `s` and writes it to storage: nothing else is awaited before this.
    async fn save(&self, s: &Stored) -> Result<()> {
        *self.cache.borrow_mut() = Some(s.clone());
        self.state.storage().put(STATE_KEY, s).await
    }

    async fn open(&self, session: Opening) -> Result<Outcome> {
        if self.load().await?.is_some() {
            return Ok(Outcome::Opened);
        }
        let cleanup_at = session.expires_at + KEEP_AFTER_END_MS;
        let s = Stored {
            counters: Counters::new(session.max_attempts, session.expires_at),
            session,
            expiry_seen: false,
        };
        self.save(&s).await?;
        self.state
            .storage()
            .set_alarm((cleanup_at - now_ms()).max(0))
            .await?;
        Ok(Outcome::Opened)
    }

    async fn check(&self, account_id: &str, mac: Option<&str>) -> Result<Outcome> {
        let Some(mut s) = self.load().await? else {
            return Ok(Outcome::Unknown);
        };
        if s.session.account_id != account_id {
            return Ok(Outcome::Unknown);
        }
        // From `load` (which answers from memory once the state was read) to the storage
        // write nothing is awaited: this check sees the state every earlier check left, and
        // the next sees this one's.
        // `None`: an approval, which counts as the right code.
        let matched = match mac {
            Some(mac) => {
                let stored_mac = from_hex(&s.session.code_mac).unwrap_or_default();
                let candidate = from_hex(mac).unwrap_or_default();
                !stored_mac.is_empty() && constant_time_eq(&stored_mac, &candidate)
            }
            None => true,
        };
        let decision = apply(&mut s.counters, matched, now_ms());
        let newly_expired = decision == Decision::Refused(Terminal::Expired) && !s.expiry_seen;
        if newly_expired {
            s.expiry_seen = true;
        }
        if decision.counted() || newly_expired {
            self.save(&s).await?;
            self.mirror_later(&s);
        }
        let session = s.row();
        Ok(match decision {
            Decision::Verified => Outcome::Verified { session },
            Decision::Wrong => Outcome::Wrong { session },
            Decision::Refused(t) => Outcome::Refused {
                ended: t.into(),
                session,
            },
        })
    }

    /// The state for its owner; seeing it expired records `otp.expired` (once), as a check
    /// would.
    async fn get(&self, account_id: &str) -> Result<Outcome> {
        let Some(mut s) = self.load().await? else {
            return Ok(Outcome::Unknown);
        };
        if s.session.account_id != account_id {
            return Ok(Outcome::Unknown);
        }
        if s.counters.terminal(now_ms()) == Some(Terminal::Expired) && !s.expiry_seen {
            s.expiry_seen = true;
            self.save(&s).await?;
            self.mirror_later(&s);
        }
        Ok(Outcome::State { session: s.row() })
    }

    /// Brings D1 in line after the answer (a failure is retried by the alarm).
    fn mirror_later(&self, s: &Stored) {
        let env = self.env.clone();
        let storage = self.state.storage();
        let s = s.clone();
        self.state.wait_until(async move {
            if let Err(e) = mirror(&env, &s).await {
                console_error!(
                    "otp session {} D1 mirror failed (retried by alarm): {}",
                    s.session.id,
                    e.detail()
                );
                if let Err(e) = storage.set_alarm(MIRROR_RETRY_MS).await {
                    console_error!("otp session {} alarm: {e}", s.session.id);
                }
            }
        });
    }
}

/// The session's counters into its D1 row, and its result event (once per type), in one
/// batch; then the account's dispatcher is woken if an event was recorded.
async fn mirror(env: &Env, s: &Stored) -> std::result::Result<(), AppError> {
    let db = store::db(env)?;
    let now = now_ms();
    let events = if s.expiry_seen {
        ResultEvents::All
    } else {
        ResultEvents::OfCheck
    };
    let statements = vec![
        sessions::mirror_statement(
            &db,
            &s.session.id,
            s.counters.attempts,
            s.counters.verified_at,
        )?,
        sessions::result_event_statement(&db, &s.session.id, now, events)?,
    ];
    let results = batch(&db, statements).await?;
    if results.get(1).map(store::changes) == Some(1) {
        webhook_dispatcher::kick(env, &s.session.account_id).await?;
    }
    Ok(())
}

impl DurableObject for OtpSession {
    fn new(state: State, env: Env) -> Self {
        Self {
            state,
            env,
            cache: RefCell::new(None),
        }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        let op: Op = match req.json().await {
            Ok(op) => op,
            Err(e) => return Response::error(format!("bad command: {e}"), 400),
        };
        let outcome = match op {
            Op::Open { session } => self.open(session).await?,
            Op::Check { account_id, mac } => self.check(&account_id, Some(&mac)).await?,
            Op::Approve { account_id } => self.check(&account_id, None).await?,
            Op::Get { account_id } => self.get(&account_id).await?,
        };
        Response::from_json(&outcome)
    }

    /// Mirrors the state once more (idempotent), and clears it long after the end.
    async fn alarm(&self) -> Result<Response> {
        let Some(s) = self.load().await? else {
            return Response::ok("empty");
        };
        if let Err(e) = mirror(&self.env, &s).await {
            console_error!(
                "otp session {} D1 mirror failed (retried by alarm): {}",
                s.session.id,
                e.detail()
            );
            self.state.storage().set_alarm(MIRROR_RETRY_MS).await?;
            return Response::ok("retry");
        }
        let cleanup_at = s.session.expires_at + KEEP_AFTER_END_MS;
        let now = now_ms();
        if now >= cleanup_at {
            *self.cache.borrow_mut() = None;
            self.state.storage().delete_all().await?;
        } else {
            self.state.storage().set_alarm(cleanup_at - now).await?;
        }
        Response::ok("ok")
    }
}

/// Sends one command to a session's object (Worker side).
pub async fn call(env: &Env, session_id: &str, op: &Op) -> std::result::Result<Outcome, AppError> {
    let fail = |what: &str, e: worker::Error| {
        AppError::internal(format!("otp session object {what}: {e}"))
    };
    let body = serde_json::to_string(op)
        .map_err(|e| AppError::internal(format!("encode command: {e}")))?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_body(Some(JsValue::from_str(&body)));
    let req = Request::new_with_init("https://otp-session.internal/command", &init)
        .map_err(|e| fail("request", e))?;
    let stub = env
        .durable_object(BINDING)
        .and_then(|ns| ns.id_from_name(session_id)?.get_stub())
        .map_err(|e| fail("stub", e))?;
    let mut res = stub
        .fetch_with_request(req)
        .await
        .map_err(|e| fail("fetch", e))?;
    if res.status_code() != 200 {
        let text = res.text().await.unwrap_or_default();
        return Err(AppError::internal(format!(
            "otp session object answered {}: {text}",
            res.status_code()
        )));
    }
    res.json::<Outcome>().await.map_err(|e| fail("answer", e))
}
