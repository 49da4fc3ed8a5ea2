//! One Durable Object per activation (`id_from_name(activation_id)`): it alone changes that
//! activation's status. Every event (SMS, complete, cancel, retry, the expiry alarm) is a
//! small JSON command. The object reads its state from its own storage, applies the pure
//! rules (`domain::activation`), and WRITES the new state to storage before it awaits
//! anything else; the runtime delivers no other event while the object awaits its own
//! storage, so two events can never both act on the same old state. Only then does it bring
//! D1 in line (status mirror, lease release, refund): idempotent, guarded by a transition
//! counter, and retried from the alarm until it succeeds.
use super::signal::{wait_for, Waiters};
use super::webhook_dispatcher;
use crate::clock::now_ms;
use crate::domain::activation::{
    apply, is_due, Change, Command, Facts, Refusal, SmsEntry, Status, View,
};
use crate::domain::error::AppError;
use crate::domain::events;
use crate::domain::live::{self, Kind, Replay};
use crate::store::activations::{self, ActivationSync};
use crate::store::webhooks::Event;
use serde::{Deserialize, Serialize};
use worker::{console_error, durable_object, DurableObject, Env, Request, Response, Result, State};

/// How soon a failed D1 sync is tried again.
const SYNC_RETRY_MS: i64 = 30_000;
const STATE_KEY: &str = "state";
/// SMS kept in the object's state (the newest; all stay in D1's inbound_sms). Bounds the
/// stored value, which the storage API limits in size.
const MAX_SMS_KEPT: usize = 20;

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Stored {
    id: String,
    account_id: String,
    number: String,
    cost: i64,
    status: Status,
    sms: Vec<SmsEntry>,
    cancel_allowed_at_ms: i64,
    expires_at_ms: i64,
    /// Transitions so far, and the last one D1 is known to reflect.
    version: i64,
    synced_version: i64,
    /// The changes, newest `live::LOG_CAP` (seq = `version` after each): what event streams
    /// and long-polls replay. Absent in objects stored before it existed.
    #[serde(default)]
    log: Vec<live::Entry>,
}

impl Stored {
    fn facts(&self) -> Facts {
        Facts {
            status: self.status,
            sms_count: self.sms.len(),
            cancel_allowed_at_ms: self.cancel_allowed_at_ms,
            expires_at_ms: self.expires_at_ms,
        }
    }

    fn view(&self) -> View {
        View {
            id: self.id.clone(),
            number: self.number.clone(),
            cost: self.cost,
            status: self.status,
            sms: self.sms.clone(),
            cancel_allowed_at_ms: self.cancel_allowed_at_ms,
            expires_at_ms: self.expires_at_ms,
            seq: self.version,
        }
    }

    /// The state right after one logged change (its status and the SMS held then).
    fn view_at(&self, e: &live::Entry) -> View {
        let mut v = self.view();
        v.status = match e.status.as_str() {
            "waiting" => Status::Waiting,
            "received" => Status::Received,
            "complete" => Status::Complete,
            "cancelled" => Status::Cancelled,
            _ => Status::Expired,
        };
        v.sms.truncate(e.sms_count);
        v.seq = i64::try_from(e.seq).unwrap_or(i64::MAX);
        v
    }

    /// What a client that has seen `since` is owed (None: a snapshot of now).
    fn changes_since(&self, since: Option<u64>) -> Option<Vec<Change>> {
        let current = u64::try_from(self.version).unwrap_or(0);
        match live::replay(&self.log, current, since) {
            Replay::Snapshot => None,
            Replay::Entries(entries) => Some(
                entries
                    .into_iter()
                    .map(|e| Change {
                        kind: e.kind,
                        view: self.view_at(e),
                    })
                    .collect(),
            ),
        }
    }
}

/// What the Worker asks of the object.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    /// Load the state (from D1 on first use) and arm the expiry alarm.
    Init,
    Get,
    Sms {
        sms: SmsEntry,
    },
    /// complete, cancel or retry.
    Set {
        command: Command,
    },
    /// The changes after `since` (None: the state now, as a snapshot). When there are none
    /// and the activation is live, waits up to `wait_ms` (at most 55 s) for the next one.
    Changes {
        since: Option<u64>,
        wait_ms: u64,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Call {
    id: String,
    op: Op,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Ok {
        view: View,
    },
    Refused {
        refusal: Refusal,
        view: View,
    },
    NotFound,
    /// The answer to `Op::Changes`: the state now, and the changes owed (None: snapshot).
    Changes {
        view: View,
        changes: Option<Vec<Change>>,
    },
}

#[cfg_attr(feature = "front", durable_object)]
pub struct Activation {
    state: State,
    env: Env,
    /// Long-polls and event streams waiting for this activation's next change.
    waiters: Waiters,
}

impl Activation {
    async fn stored(&self) -> Result<Option<Stored>> {
        self.state.storage().get::<Stored>(STATE_KEY).await
    }

    /// The state, created from the D1 row on first use.
    async fn load(&self, id: &str) -> Result<Option<Stored>> {
        if let Some(s) = self.stored().await? {
            return Ok(Some(s));
        }
        let db = self.env.d1("DB")?;
        let row = activations::activation(&db, id)
            .await
            .map_err(|e| worker::Error::RustError(e.to_string()))?;
        let Some(row) = row else { return Ok(None) };
        // Another event may have initialised the object while D1 answered.
        if let Some(s) = self.stored().await? {
            return Ok(Some(s));
        }
        let s = Stored {
            id: row.id,
            account_id: row.account_id,
            number: row.number,
            cost: row.cost,
            status: Status::Waiting,
            sms: Vec::new(),
            cancel_allowed_at_ms: row.cancel_allowed_at,
            expires_at_ms: row.expires_at,
            version: 0,
            synced_version: 0,
            log: Vec::new(),
        };
        self.state.storage().put(STATE_KEY, &s).await?;
        self.schedule(&s).await?;
        Ok(Some(s))
    }

    /// Applies one command and stores the result before returning; `Ok(Err(_))` when the
    /// rules refuse it (nothing changes).
    async fn transition(
        &self,
        s: &mut Stored,
        command: Command,
        sms: Option<SmsEntry>,
        now: i64,
    ) -> Result<std::result::Result<(), Refusal>> {
        let t = match apply(&s.facts(), command, now) {
            Ok(t) => t,
            Err(r) => return Ok(Err(r)),
        };
        s.status = t.to;
        if t.records_sms {
            if let Some(entry) = sms {
                s.sms.push(entry);
                let excess = s.sms.len().saturating_sub(MAX_SMS_KEPT);
                s.sms.drain(..excess);
            }
        }
        s.version += 1;
        let kind = match command {
            Command::Sms => Kind::Sms,
            Command::Expire => Kind::Expiry,
            _ => Kind::Status,
        };
        let entry = live::Entry {
            seq: u64::try_from(s.version).unwrap_or(0),
            kind,
            status: s.status.as_str().to_owned(),
            sms_count: s.sms.len(),
            at_ms: now,
        };
        live::record(&mut s.log, entry);
        self.state.storage().put(STATE_KEY, &*s).await?;
        // Stored: whoever waits for a change may look now.
        self.waiters.wake_all();
        Ok(Ok(()))
    }

    /// Expires first if the lifetime is over (the alarm may be late).
    async fn catch_up(&self, s: &mut Stored, now: i64) -> Result<()> {
        if is_due(&s.facts(), now) {
            let _ = self.transition(s, Command::Expire, None, now).await?;
        }
        Ok(())
    }

    /// Brings D1 in line with `s` (see `store::activations::sync_state`), then records it.
    async fn sync(&self, s: &Stored) -> Result<()> {
        if s.synced_version >= s.version {
            return Ok(());
        }
        let db = self.env.d1("DB")?;
        let latest = s.sms.last();
        let event = s.status.event_type().map(|event_type| Event {
            account_id: &s.account_id,
            event_type,
            object_id: &s.id,
            version: s.version,
            data: events::activation(
                &s.id,
                s.status.as_str(),
                &s.number,
                latest.map(|m| m.text.as_str()),
                latest.and_then(|m| m.code.as_deref()),
            ),
        });
        let has_event = event.is_some();
        let sync = ActivationSync {
            id: &s.id,
            account_id: &s.account_id,
            cost: s.cost,
            status: s.status.as_str(),
            terminal: s.status.is_terminal(),
            refund: s.status.is_refunded(),
            version: s.version,
            now_ms: now_ms(),
            event,
        };
        if let Err(e) = activations::sync_state(&db, &sync).await {
            console_error!("activation {} D1 sync failed (retried by alarm): {e}", s.id);
            return Ok(());
        }
        if has_event {
            if let Err(e) = webhook_dispatcher::kick(&self.env, &s.account_id).await {
                console_error!("webhook kick: {}", e.detail());
            }
        }
        // Other events may have moved on meanwhile: record only what was synced.
        if let Some(mut current) = self.stored().await? {
            if current.synced_version < s.version {
                current.synced_version = s.version;
                self.state.storage().put(STATE_KEY, &current).await?;
            }
        }
        Ok(())
    }

    /// One alarm: at expiry while live, sooner while D1 lags behind.
    async fn schedule(&self, s: &Stored) -> Result<()> {
        let now = now_ms();
        let mut at = if s.status.is_terminal() {
            None
        } else {
            Some(s.expires_at_ms)
        };
        if s.synced_version < s.version {
            let retry = now + SYNC_RETRY_MS;
            at = Some(at.map_or(retry, |a| a.min(retry)));
        }
        match at {
            Some(at) => self.state.storage().set_alarm((at - now).max(0)).await,
            None => self.state.storage().delete_alarm().await,
        }
    }

    async fn handle(&self, call: Call) -> Result<Outcome> {
        let now = now_ms();
        // Registered before the state is read, so no change can slip between the read and
        // the wait.
        let wake = matches!(call.op, Op::Changes { .. }).then(|| self.waiters.next());
        let changes = match call.op {
            Op::Changes { since, wait_ms } => Some((since, wait_ms)),
            _ => None,
        };
        let Some(mut s) = self.load(&call.id).await? else {
            return Ok(Outcome::NotFound);
        };
        let version = s.version;
        self.catch_up(&mut s, now).await?;
        // A read that changed nothing has nothing to sync or schedule (the alarm was set
        // when the state last changed): no storage write, so reads do not queue on writes.
        if matches!(call.op, Op::Get) && s.version == version && s.synced_version >= s.version {
            return Ok(Outcome::Ok { view: s.view() });
        }
        let result = match call.op {
            Op::Init | Op::Get | Op::Changes { .. } => Ok(()),
            Op::Sms { sms } => {
                if s.sms.iter().any(|e| e.id == sms.id) {
                    Ok(()) // redelivery of an SMS the object already has
                } else {
                    self.transition(&mut s, Command::Sms, Some(sms), now)
                        .await?
                }
            }
            // Not the customer's to send: only the supplier's SMS and the clock.
            Op::Set {
                command: Command::Sms | Command::Expire,
            } => Ok(()),
            Op::Set { command } => self.transition(&mut s, command, None, now).await?,
        };
        // The new state is stored; D1 follows.
        self.sync(&s).await?;
        // The alarm follows whatever is stored now (other events may have run meanwhile);
        // the answer describes the state this event produced.
        let latest = self.stored().await?.unwrap_or_else(|| s.clone());
        self.schedule(&latest).await?;
        if let (Some((since, wait_ms)), Some(wake)) = (changes, wake) {
            let mut latest = latest;
            let seen = since.is_some_and(|v| v == u64::try_from(latest.version).unwrap_or(0));
            if seen && !latest.status.is_terminal() && wait_ms > 0 {
                let cap = u64::from(live::MAX_WAIT_SECS) * 1000;
                wait_for(wake, std::time::Duration::from_millis(wait_ms.min(cap))).await;
                if let Some(now_stored) = self.stored().await? {
                    latest = now_stored;
                }
            }
            return Ok(Outcome::Changes {
                view: latest.view(),
                changes: latest.changes_since(since),
            });
        }
        Ok(match result {
            Ok(()) => Outcome::Ok { view: s.view() },
            Err(refusal) => Outcome::Refused {
                refusal,
                view: s.view(),
            },
        })
    }
}

#[cfg(feature = "front")]
impl DurableObject for Activation {
    fn new(state: State, env: Env) -> Self {
        Self {
            state,
            env,
            waiters: Waiters::default(),
        }
    }

    async fn fetch(&self, req: Request) -> Result<Response> {
        super::command::serve(req, async |call: Call| {
            Response::from_json(&self.handle(call).await?)
        })
        .await
    }

    async fn alarm(&self) -> Result<Response> {
        let Some(mut s) = self.stored().await? else {
            return Response::ok("no state");
        };
        self.catch_up(&mut s, now_ms()).await?;
        self.sync(&s).await?;
        let latest = self.stored().await?.unwrap_or(s);
        self.schedule(&latest).await?;
        Response::ok("ok")
    }
}

/// Sends one command to an activation's object (Worker side).
pub async fn call(
    env: &Env,
    activation_id: &str,
    op: Op,
) -> std::result::Result<Outcome, AppError> {
    let call = Call {
        id: activation_id.to_owned(),
        op,
    };
    super::command::send(env, "ACTIVATION", "activation object", activation_id, &call).await
}
