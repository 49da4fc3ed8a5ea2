//! The OTP sessions' Durable Objects: the authority for each session's checks. An account's
//! sessions are spread over `SESSION_SHARDS` objects (`domain::otp::session_object`: the
//! account id and a hash of the session id), created by the account's first sends, so they
//! live near the account's servers, and a send stores its session in an object that
//! already exists instead of creating one per session. An object holds each of its
//! sessions' code MAC, counters and expiry (one storage key per session). A check is
//! decided by the pure rules (`domain::otp_check`) on the state in memory, with no await
//! between reading and changing it, and the new state is WRITTEN to the object's storage
//! before anything else is awaited (the runtime holds the answer until that write is
//! durable). So parallel checks of a session are serialized without D1: at most
//! `max_attempts` wrong codes are counted and one success.
//!
//! D1 follows after the answer: the object mirrors its counters into the `otp_sessions` row
//! (`attempts = MAX(…)`, `verified_at = COALESCE(…)`: copies that arrive in any order
//! converge) and records the result event in the same batch, then wakes the account's
//! webhook dispatcher. A mirror that fails is noted in storage and retried by the object's
//! alarm, which also clears sessions some time after they ended (a later check then finds
//! the ended session in D1).
//!
//! The Worker never sends the code: it sends the candidate's MAC (HMAC under the server
//! secret, bound to the session id), which the object compares with the stored one in
//! constant time.
use super::{api_key, webhook_dispatcher};
use crate::clock::now_ms;
use crate::domain::crypto::{constant_time_eq, from_hex};
use crate::domain::error::AppError;
use crate::domain::otp::{self, Terminal, SESSION_SHARDS};
use crate::domain::otp_check::Session;
use crate::domain::otp_check::{apply, Counters, Decision};
use crate::domain::ratelimit::Pacer;
use crate::store::sessions::{self, ResultEvents};
use crate::store::{self, batch};
use serde::{Deserialize, Serialize};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::time::Duration;
use worker::wasm_bindgen::JsValue;
use worker::{
    console_error, durable_object, Delay, DurableObject, Env, ListOptions, Request, Response,
    Result, State, Storage,
};

/// The binding (wrangler.toml `[durable_objects]`).
pub const BINDING: &str = "OTP_SESSION";
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
    fn row(&self) -> Session {
        let s = &self.session;
        Session {
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
    /// A new session (a repeated open of the same session changes nothing). `store`: write
    /// it to storage now, because its KV record was not written; otherwise the object keeps
    /// it in memory until a check changes it, and restores it from KV if it restarted.
    Open {
        session: Opening,
        #[serde(default)]
        store: bool,
    },
    /// Check a candidate for `account_id`: `mac` is the candidate's hex MAC.
    /// `key_hash`: the API key presented, which must be a live key of `account_id` (the
    /// object asks the key's object once and keeps the answer); `None` when the caller
    /// has checked the credential itself (a login session).
    Check {
        id: String,
        account_id: String,
        key_hash: Option<String>,
        mac: String,
    },
    /// The session's state, for its owner (already authenticated by the caller).
    Get { id: String, account_id: String },
    /// Approve without a code (Twilio Verify's `Status=approved`): a check whose code
    /// matched, under the same rules.
    Approve {
        id: String,
        account_id: String,
        key_hash: Option<String>,
    },
    /// The key was revoked: refuse it from now on (final).
    RevokeKey { key_hash: String },
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
        session: Session,
    },
    Wrong {
        session: Session,
    },
    Refused {
        ended: Ended,
        session: Session,
    },
    State {
        session: Session,
    },
    /// The object holds no session (never opened here, or cleared long after its end), or
    /// not one of this account: the caller looks in D1.
    Unknown,
    /// The key presented is not a live key of the account: nothing was looked at.
    KeyRefused,
    /// A revocation was recorded.
    Revoked,
}

#[durable_object]
pub struct OtpSession {
    state: State,
    env: Env,
    /// Sessions once read, by id: the object is their only writer, so these are current.
    cache: RefCell<HashMap<String, Stored>>,
    /// When the object's alarm is due, as this instance last set or read it (`None`: not
    /// known since the object started; `i64::MAX`: no alarm).
    alarm_at: Rc<Cell<Option<i64>>>,
    /// Sessions whose D1 mirror is due (`mirror_later`).
    pending: Rc<RefCell<Pending>>,
    /// The API keys this object has checked: whose each is while live, and revocations.
    keys: RefCell<HashMap<String, KeyMemo>>,
    /// Loads on their way (`Loading`).
    loads: Cell<u32>,
}

/// A load on its way, counted while it lives (see `OtpSession::remember`).
struct Loading<'a>(&'a Cell<u32>);

impl<'a> Loading<'a> {
    fn start(loads: &'a Cell<u32>) -> Loading<'a> {
        loads.set(loads.get() + 1);
        Loading(loads)
    }
}

impl Drop for Loading<'_> {
    fn drop(&mut self) {
        self.0.set(self.0.get().saturating_sub(1));
    }
}

struct KeyMemo {
    /// The key's account while it is live (`None`: unknown or not live).
    account_id: Option<String>,
    /// Revoked keys stay revoked.
    revoked: bool,
    checked_at: i64,
}

/// How long a key's answer is used before the key's object is asked again (a backstop for
/// changes that reach D1 by another path; revocations are told at once).
const KEY_REVALIDATE_MS: i64 = 60_000;

#[derive(Default)]
struct Pending {
    /// The latest state of each session to mirror.
    states: HashMap<String, Stored>,
    /// A mirror is on its way; it takes these when it is done.
    flushing: bool,
    /// Paces the batches (`MIRROR_BURST`, `MIRROR_EVERY_MS`).
    pacer: Pacer,
}

/// A session's storage key.
fn session_key(id: &str) -> String {
    format!("{SESSION_PREFIX}{id}")
}

impl OtpSession {
    async fn load(&self, id: &str) -> Result<Option<Stored>> {
        if let Some(s) = self.cache.borrow().get(id) {
            return Ok(Some(s.clone()));
        }
        let _loading = Loading::start(&self.loads);
        let stored = match self.state.storage().get::<String>(&session_key(id)).await? {
            Some(json) => Some(serde_json::from_str::<Stored>(&json)?),
            None => None,
        };
        // Another event may have filled the cache while storage answered; it is newer (and
        // still there: memory does not start over while a load is on its way).
        if let Some(s) = self.cache.borrow().get(id) {
            return Ok(Some(s.clone()));
        }
        if let Some(s) = &stored {
            self.remember(s);
        }
        Ok(stored)
    }

    /// `load`, and for a session this object has neither in memory nor in storage, its KV
    /// record: a session opened in memory (`Op::Open` without `store`) that this instance
    /// no longer holds (the object restarted, or its memory started over) is restored from
    /// the facts its send wrote (nothing was counted: a counted session is in storage).
    async fn load_or_restore(&self, id: &str) -> Result<Option<Stored>> {
        let _loading = Loading::start(&self.loads);
        if let Some(s) = self.load(id).await? {
            return Ok(Some(s));
        }
        let record = sessions::get_kv(&self.env, id)
            .await
            .map_err(|e| worker::Error::RustError(e.to_string()))?;
        let Some((kv, created_at)) = record.and_then(|r| r.created_at.map(|at| (r, at))) else {
            return Ok(None);
        };
        // Another event may have restored or changed the session while KV answered.
        if let Some(s) = self.cache.borrow().get(id) {
            return Ok(Some(s.clone()));
        }
        let s = Stored {
            counters: Counters::new(otp::MAX_ATTEMPTS, kv.expires_at),
            session: Opening {
                id: id.to_owned(),
                account_id: kv.account_id,
                phone: kv.phone,
                channel: kv.channel,
                code_mac: kv.code_mac,
                created_at,
                expires_at: kv.expires_at,
                max_attempts: otp::MAX_ATTEMPTS,
            },
            expiry_seen: false,
        };
        self.remember(&s);
        Ok(Some(s))
    }

    /// Keeps `s` in memory (the object is its only writer). Past `CACHE_SESSIONS` the
    /// memory starts over, but never while a load is on its way: a load that finds nothing
    /// in storage relies on a state saved meanwhile still being in memory.
    fn remember(&self, s: &Stored) {
        let mut cache = self.cache.borrow_mut();
        let full = cache.len() >= CACHE_SESSIONS && !cache.contains_key(&s.session.id);
        if full && self.loads.get() == 0 {
            cache.clear();
        }
        cache.insert(s.session.id.clone(), s.clone());
    }

    /// Remembers `s` and writes it to storage: nothing else is awaited before this. Then
    /// the alarm that clears it after its end is due no later than that.
    async fn save(&self, s: &Stored) -> Result<()> {
        let json = serde_json::to_string(s)?;
        self.remember(s);
        self.state
            .storage()
            .put(&session_key(&s.session.id), json)
            .await?;
        self.alarm_by(s.session.expires_at + KEEP_AFTER_END_MS)
            .await
    }

    /// Makes the alarm due no later than `at` (one alarm per object: the earliest wanted).
    async fn alarm_by(&self, at: i64) -> Result<()> {
        if self.alarm_at.get().is_none() {
            let set = self.state.storage().get_alarm().await?;
            if self.alarm_at.get().is_none() {
                self.alarm_at.set(Some(set.unwrap_or(i64::MAX)));
            }
        }
        if self.alarm_at.get().is_some_and(|due| due <= at) {
            return Ok(());
        }
        self.alarm_at.set(Some(at));
        self.state.storage().set_alarm((at - now_ms()).max(0)).await
    }

    /// Whether `key_hash` is a live key of `account_id`: from memory, else (first use, or
    /// an answer older than `KEY_REVALIDATE_MS`) from the key's object.
    async fn key_live(&self, key_hash: &str, account_id: &str) -> Result<bool> {
        let now = now_ms();
        if let Some(m) = self.keys.borrow().get(key_hash) {
            if m.revoked {
                return Ok(false);
            }
            if now - m.checked_at < KEY_REVALIDATE_MS {
                return Ok(m.account_id.as_deref() == Some(account_id));
            }
        }
        let answer = api_key::account(&self.env, key_hash)
            .await
            .map_err(|e| worker::Error::RustError(e.detail().to_owned()))?;
        let mut keys = self.keys.borrow_mut();
        // A revocation told while the key's object answered wins.
        if keys.get(key_hash).is_some_and(|m| m.revoked) {
            return Ok(false);
        }
        if keys.len() >= CACHE_SESSIONS {
            keys.retain(|_, m| m.revoked);
        }
        let live = answer.account_id.as_deref() == Some(account_id);
        keys.insert(
            key_hash.to_owned(),
            KeyMemo {
                account_id: answer.account_id,
                revoked: false,
                checked_at: now,
            },
        );
        Ok(live)
    }

    fn revoke_key(&self, key_hash: &str) -> Outcome {
        let memo = KeyMemo {
            account_id: None,
            revoked: true,
            checked_at: now_ms(),
        };
        self.keys.borrow_mut().insert(key_hash.to_owned(), memo);
        Outcome::Revoked
    }

    async fn open(&self, session: Opening, store: bool) -> Result<Outcome> {
        if self.load(&session.id).await?.is_some() {
            return Ok(Outcome::Opened);
        }
        let s = Stored {
            counters: Counters::new(session.max_attempts, session.expires_at),
            session,
            expiry_seen: false,
        };
        if store {
            self.save(&s).await?;
        } else {
            self.remember(&s);
        }
        Ok(Outcome::Opened)
    }

    async fn check(&self, id: &str, account_id: &str, mac: Option<&str>) -> Result<Outcome> {
        let Some(mut s) = self.load_or_restore(id).await? else {
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
    async fn get(&self, id: &str, account_id: &str) -> Result<Outcome> {
        let Some(mut s) = self.load_or_restore(id).await? else {
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

    /// Brings D1 in line after the answer. Mirrors are coalesced: while one D1 batch is
    /// on its way, the sessions checked meanwhile wait and go in the next batch together
    /// (each with its latest state; copies converge in D1). Batches are paced: an object
    /// starts up to `MIRROR_BURST` at once, then one per `MIRROR_EVERY_MS` while checks keep
    /// coming, so a busy object (an attack, a load test) writes to D1 at a bounded rate and
    /// each batch carries every session checked meanwhile. A failure is noted in storage and
    /// retried by the alarm.
    fn mirror_later(&self, s: &Stored) {
        let start = {
            let mut p = self.pending.borrow_mut();
            p.states.insert(s.session.id.clone(), s.clone());
            !std::mem::replace(&mut p.flushing, true)
        };
        if !start {
            return;
        }
        let env = self.env.clone();
        let storage = self.state.storage();
        let alarm_at = Rc::clone(&self.alarm_at);
        let pending = Rc::clone(&self.pending);
        self.state.wait_until(async move {
            loop {
                let wait = {
                    let mut p = pending.borrow_mut();
                    if p.states.is_empty() {
                        p.flushing = false;
                        return;
                    }
                    p.pacer.wait_ms(now_ms(), MIRROR_EVERY_MS, MIRROR_BURST)
                };
                if wait > 0 {
                    // Sessions checked meanwhile join this batch.
                    Delay::from(Duration::from_millis(wait.unsigned_abs())).await;
                }
                let due: Vec<Stored> = {
                    let mut p = pending.borrow_mut();
                    let ids: Vec<String> = p.states.keys().take(MIRROR_BATCH).cloned().collect();
                    ids.iter().filter_map(|id| p.states.remove(id)).collect()
                };
                let refs: Vec<&Stored> = due.iter().collect();
                if let Err(e) = mirror(&env, &refs).await {
                    console_error!(
                        "otp sessions' D1 mirror failed (retried by alarm): {}",
                        e.detail()
                    );
                    note_retries(&storage, &alarm_at, &due).await;
                }
            }
        });
    }

    /// Every stored key under `prefix` with its value, a page at a time.
    async fn list(&self, prefix: &str) -> Result<Vec<(String, JsValue)>> {
        let mut out: Vec<(String, JsValue)> = Vec::new();
        loop {
            let after = out.last().map(|(k, _)| k.clone());
            let mut options = ListOptions::new().prefix(prefix).limit(LIST_PAGE);
            if let Some(after) = after.as_deref() {
                options = options.start(after);
            }
            let page = self.state.storage().list_with_options(options).await?;
            let mut added = 0;
            page.for_each(&mut |value, key| {
                if let Some(key) = key.as_string() {
                    if after.as_deref() != Some(key.as_str()) {
                        out.push((key, value));
                        added += 1;
                    }
                }
            });
            if added == 0 || page.size() < LIST_PAGE as u32 {
                return Ok(out);
            }
        }
    }
}

/// Notes sessions whose mirror failed, for the alarm to retry; sets the alarm unless this
/// instance knows of an earlier one.
async fn note_retries(storage: &Storage, alarm_at: &Cell<Option<i64>>, due: &[Stored]) {
    for s in due {
        let key = format!("{RETRY_PREFIX}{}", s.session.id);
        if let Err(e) = storage.put(&key, 1).await {
            console_error!("otp session {} retry not noted: {e}", s.session.id);
        }
    }
    let retry_at = now_ms() + MIRROR_RETRY_MS;
    if alarm_at.get().is_some_and(|at| at <= retry_at) {
        return;
    }
    alarm_at.set(Some(retry_at));
    if let Err(e) = storage.set_alarm(MIRROR_RETRY_MS).await {
        console_error!("otp sessions' retry alarm: {e}");
    }
}

/// D1 mirror batches an object starts at once before they are paced, and the pace then.
const MIRROR_BURST: i64 = 8;
const MIRROR_EVERY_MS: i64 = 250;
/// Sessions mirrored into D1 per batch (two statements each); also the sessions cleared per
/// storage call (Durable Object storage deletes ≤ 128 keys at once).
const MIRROR_BATCH: usize = 50;
/// Sessions kept in memory per object before the memory starts over (storage has them all).
const CACHE_SESSIONS: usize = 4096;
/// Stored keys read per storage list call.
const LIST_PAGE: usize = 500;
/// A swept object looks again no sooner than this (sessions end continually).
const SWEEP_EVERY_MS: i64 = 10 * 60 * 1000;
const SESSION_PREFIX: &str = "s:";
const RETRY_PREFIX: &str = "retry:";

/// The sessions' counters into their D1 rows, and their result events (once per type), in
/// one batch; then the account's dispatcher is woken if an event was recorded.
async fn mirror(env: &Env, sessions: &[&Stored]) -> std::result::Result<(), AppError> {
    let Some(first) = sessions.first() else {
        return Ok(());
    };
    let db = store::db(env)?;
    let now = now_ms();
    let mut statements = Vec::with_capacity(2 * sessions.len());
    for s in sessions {
        let events = if s.expiry_seen {
            ResultEvents::All
        } else {
            ResultEvents::OfCheck
        };
        statements.push(sessions::mirror_statement(
            &db,
            &s.session.id,
            s.counters.attempts,
            s.counters.verified_at,
        )?);
        statements.push(sessions::result_event_statement(
            &db,
            &s.session.id,
            now,
            events,
        )?);
    }
    let results = batch(&db, statements).await?;
    let recorded = results
        .iter()
        .skip(1)
        .step_by(2)
        .any(|r| store::changes(r) >= 1);
    if recorded {
        // One account per object: its sessions share the dispatcher.
        webhook_dispatcher::kick(env, &first.session.account_id).await?;
    }
    Ok(())
}

impl DurableObject for OtpSession {
    fn new(state: State, env: Env) -> Self {
        Self {
            state,
            env,
            cache: RefCell::new(HashMap::new()),
            alarm_at: Rc::new(Cell::new(None)),
            pending: Rc::new(RefCell::new(Pending::default())),
            keys: RefCell::new(HashMap::new()),
            loads: Cell::new(0),
        }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        let op: Op = match super::command::receive(&mut req).await {
            Ok(op) => op,
            Err(e) => return Response::error(format!("bad command: {e}"), 400),
        };
        let outcome = match op {
            Op::Open { session, store } => self.open(session, store).await?,
            Op::Check {
                id,
                account_id,
                key_hash,
                mac,
            } => match key_hash {
                Some(k) if !self.key_live(&k, &account_id).await? => Outcome::KeyRefused,
                _ => self.check(&id, &account_id, Some(&mac)).await?,
            },
            Op::Approve {
                id,
                account_id,
                key_hash,
            } => match key_hash {
                Some(k) if !self.key_live(&k, &account_id).await? => Outcome::KeyRefused,
                _ => self.check(&id, &account_id, None).await?,
            },
            Op::RevokeKey { key_hash } => self.revoke_key(&key_hash),
            Op::Get { id, account_id } => self.get(&id, &account_id).await?,
        };
        Response::from_json(&outcome)
    }

    /// Retries the D1 mirrors that failed, and clears sessions long after their end (each
    /// mirrored once more first, in case a mirror after an answer was lost).
    async fn alarm(&self) -> Result<Response> {
        self.alarm_at.set(Some(i64::MAX));
        let now = now_ms();
        let storage = self.state.storage();
        let mut retry = false;
        for (key, _) in self.list(RETRY_PREFIX).await? {
            let id = key.trim_start_matches(RETRY_PREFIX);
            let Some(s) = self.load(id).await? else {
                storage.delete(&key).await?;
                continue;
            };
            match mirror(&self.env, &[&s]).await {
                Ok(()) => {
                    storage.delete(&key).await?;
                }
                Err(e) => {
                    console_error!("otp session {id} D1 mirror failed again: {}", e.detail());
                    retry = true;
                }
            }
        }
        let mut ended: Vec<Stored> = Vec::new();
        let mut next: Option<i64> = None;
        for (_, value) in self.list(SESSION_PREFIX).await? {
            let Some(s) = value
                .as_string()
                .and_then(|json| serde_json::from_str::<Stored>(&json).ok())
            else {
                continue;
            };
            let cleanup_at = s.session.expires_at + KEEP_AFTER_END_MS;
            if now >= cleanup_at {
                ended.push(s);
            } else {
                next = Some(next.map_or(cleanup_at, |n| n.min(cleanup_at)));
            }
        }
        for chunk in ended.chunks(MIRROR_BATCH) {
            let touched: Vec<&Stored> = chunk
                .iter()
                .filter(|s| {
                    s.counters.attempts > 0 || s.counters.verified_at.is_some() || s.expiry_seen
                })
                .collect();
            if let Err(e) = mirror(&self.env, &touched).await {
                console_error!("otp sessions' final D1 mirror failed: {}", e.detail());
                retry = true;
                continue;
            }
            let keys: Vec<String> = chunk.iter().map(|s| session_key(&s.session.id)).collect();
            {
                let mut cache = self.cache.borrow_mut();
                for s in chunk {
                    cache.remove(&s.session.id);
                }
            }
            storage.delete_multiple(keys).await?;
        }
        let mut due = next.map(|n| n.max(now + SWEEP_EVERY_MS));
        if retry {
            due = Some(now + MIRROR_RETRY_MS);
        }
        if let Some(due) = due {
            self.alarm_by(due).await?;
        }
        Response::ok("ok")
    }
}

/// Sends one command to a session's object (Worker side).
/// `object` is the session's object's name (`domain::otp::session_object`).
pub async fn call(env: &Env, object: &str, op: &Op) -> std::result::Result<Outcome, AppError> {
    super::command::send(env, BINDING, "otp session object", object, op).await
}

/// Tells each of the account's objects that the key was revoked (they keep the keys they
/// checked in memory), before the revocation is answered.
pub async fn revoke_key(
    env: &Env,
    account_id: &str,
    key_hash: &str,
) -> std::result::Result<(), AppError> {
    let op = Op::RevokeKey {
        key_hash: key_hash.to_owned(),
    };
    let calls = (0..SESSION_SHARDS).map(|shard| {
        let object = otp::shard_object(account_id, shard);
        let op = &op;
        async move { call(env, &object, op).await }
    });
    for answer in futures_util::future::join_all(calls).await {
        answer?;
    }
    Ok(())
}
