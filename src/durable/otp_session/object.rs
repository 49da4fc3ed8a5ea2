//! The object itself: its memory, and the commands it answers (open, check, approve, cancel,
//! get, revoke a key).
#![cfg(target_arch = "wasm32")]
use super::keys::Keys;
use super::mirror::Pending;
use super::protocol::{Op, Opening, Outcome};
use super::state::Stored;
use crate::clock::now_ms;
use crate::domain::otp_check::Decision;
use crate::domain::scope::Scope;
use crate::durable::api_key;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use worker::{durable_object, DurableObject, Env, Request, Response, Result, State};

#[cfg_attr(feature = "front", durable_object)]
pub struct OtpSession {
    pub(super) state: State,
    pub(super) env: Env,
    /// Sessions once read, by id: the object is their only writer, so these are current.
    pub(super) cache: RefCell<HashMap<String, Stored>>,
    /// When the object's alarm is due, as this instance last set or read it (`None`: not
    /// known since the object started; `i64::MAX`: no alarm).
    pub(super) alarm_at: Rc<Cell<Option<i64>>>,
    /// Sessions whose D1 mirror is due (`mirror_later`).
    pub(super) pending: Rc<RefCell<Pending>>,
    /// The API keys this object has checked.
    pub(super) keys: RefCell<Keys>,
    /// Loads on their way (`storage::Loading`).
    pub(super) loads: Cell<u32>,
}

impl OtpSession {
    /// Whether `key_hash` is a live key of `account_id`: from memory, else (first use, or
    /// an answer too old) from the key's object.
    pub(super) async fn key_live(&self, key_hash: &str, account_id: &str) -> Result<bool> {
        let now = now_ms();
        if let Some(live) = self.keys.borrow().known(key_hash, account_id, now) {
            return Ok(live);
        }
        let answer = api_key::account(&self.env, key_hash)
            .await
            .map_err(|e| worker::Error::RustError(e.detail().to_owned()))?;
        let known = (answer.account_id, answer.scopes);
        let live = (self.keys.borrow_mut()).learn(key_hash, known, account_id, now);
        Ok(live)
    }

    async fn open(&self, session: Opening) -> Result<Outcome> {
        if self.load(&session.id).await?.is_some() {
            return Ok(Outcome::Opened);
        }
        let s = Stored::opened(session);
        let workflow = super::workflow::pending_at(&s, now_ms());
        self.save(&s).await?;
        if workflow.is_some() {
            self.schedule(&s.session.id, workflow).await?;
        }
        Ok(Outcome::Opened)
    }

    /// The session `id` when it is `account_id`'s: another account's is as unknown as none.
    async fn owned(&self, id: &str, account_id: &str) -> Result<Option<Stored>> {
        let s = self.load_or_restore(id).await?;
        Ok(s.filter(|s| s.session.account_id == account_id))
    }

    /// One check (`mac`: the candidate's; `None`: an approval).
    async fn check(&self, id: &str, account_id: &str, mac: Option<&str>) -> Result<Outcome> {
        let Some(mut s) = self.owned(id, account_id).await? else {
            return Ok(Outcome::Unknown);
        };
        // From `load` (which answers from memory once the state was read) to the storage
        // write nothing is awaited: this check sees the state every earlier check left, and
        // the next sees this one's.
        let (decision, changed) = s.check(mac, now_ms());
        if changed {
            self.save(&s).await?;
            self.mirror_later(&s);
        }
        if matches!(decision, Decision::Verified) {
            self.converted(&s.session);
        }
        Ok(Outcome::of_check(decision, s.row()))
    }

    /// The state for its owner; seeing it expired records `otp.expired` (once), as a check
    /// would.
    async fn get(&self, id: &str, account_id: &str) -> Result<Outcome> {
        let Some(mut s) = self.owned(id, account_id).await? else {
            return Ok(Outcome::Unknown);
        };
        if s.look(now_ms()) {
            self.save(&s).await?;
            self.mirror_later(&s);
        }
        Ok(Outcome::State { session: s.row() })
    }

    /// A cancel (`Op::Cancel`), serialized with the checks as a check is.
    async fn cancel(&self, id: &str, account_id: &str) -> Result<Outcome> {
        let Some(mut s) = self.owned(id, account_id).await? else {
            return Ok(Outcome::Unknown);
        };
        match s.cancel(now_ms()) {
            Ok(changed) => {
                if changed {
                    self.save(&s).await?;
                    // The workflow stops: no later step goes out.
                    self.schedule(id, None).await?;
                }
                Ok(Outcome::Cancelled { session: s.row() })
            }
            Err(ended) => Ok(Outcome::Refused {
                ended: ended.into(),
                session: s.row(),
            }),
        }
    }

    /// Runs one command.
    async fn run(&self, op: Op) -> Result<Outcome> {
        Ok(match op {
            Op::Open { session } => self.open(session).await?,
            Op::Check {
                id,
                account_id,
                key_hash,
                mac,
            } => {
                self.check_by(&id, &account_id, key_hash, Some(&mac))
                    .await?
            }
            Op::Approve {
                id,
                account_id,
                key_hash,
            } => self.check_by(&id, &account_id, key_hash, None).await?,
            Op::Cancel {
                id,
                account_id,
                key_hash,
            } => match key_hash {
                Some(k) if !self.key_live(&k, &account_id).await? => Outcome::KeyRefused,
                _ => self.cancel(&id, &account_id).await?,
            },
            Op::Settle { id, account_id } => self.settle(&id, &account_id).await?,
            Op::RevokeKey { key_hash } => {
                self.keys.borrow_mut().revoke(&key_hash, now_ms());
                Outcome::Revoked
            }
            Op::KeyChanged { key_hash } => {
                self.keys.borrow_mut().forget(&key_hash);
                Outcome::KeyForgotten
            }
            Op::Get { id, account_id } => self.get(&id, &account_id).await?,
            Op::Advance {
                id,
                account_id,
                asked,
            } => self.advance(&id, &account_id, asked).await?,
            Op::SeeJti { id, expires_at } => self.see_jti(&id, expires_at).await?,
            Op::WindowSend { window_id, send } => self.window_send(window_id, send).await?,
            Op::WindowCheck {
                account_id,
                phone,
                key_hash,
                mac,
            } => {
                self.window_check(&account_id, &phone, key_hash, &mac)
                    .await?
            }
        })
    }

    /// A check or approval by a presented key, which must be a live key of `account_id`
    /// holding the `otp:verify` scope.
    async fn check_by(
        &self,
        id: &str,
        account_id: &str,
        key_hash: Option<String>,
        mac: Option<&str>,
    ) -> Result<Outcome> {
        match key_hash {
            Some(k) if !self.key_live(&k, account_id).await? => Ok(Outcome::KeyRefused),
            Some(k) if !self.keys.borrow().holds(&k, Scope::OtpVerify) => Ok(Outcome::ScopeRefused),
            _ => self.check(id, account_id, mac).await,
        }
    }
}

#[cfg(feature = "front")]
impl DurableObject for OtpSession {
    fn new(state: State, env: Env) -> Self {
        Self {
            state,
            env,
            cache: RefCell::new(HashMap::new()),
            alarm_at: Rc::new(Cell::new(None)),
            pending: Rc::new(RefCell::new(Pending::default())),
            keys: RefCell::new(Keys::default()),
            loads: Cell::new(0),
        }
    }

    async fn fetch(&self, req: Request) -> Result<Response> {
        crate::durable::command::serve(req, async |op: Op| {
            Response::from_json(&self.run(op).await?)
        })
        .await
    }

    /// Retries the D1 mirrors that failed, clears sessions long after their end, runs the
    /// workflows whose next step fell due and forgets expired JWT ids.
    async fn alarm(&self) -> Result<Response> {
        self.sweep().await?;
        self.run_workflows().await?;
        if let Some(at) = self.forget_jtis().await? {
            self.alarm_by(at).await?;
        }
        Response::ok("ok")
    }
}
