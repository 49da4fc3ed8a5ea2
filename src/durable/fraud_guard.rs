//! One Durable Object per account (`FraudGuard`, named by the account id): the fraud guard's
//! counters, blocks and safe list, and a copy of the account's policy (D1 holds the policy;
//! `PUT /v1/fraud/policy` tells the object before it answers). The account's first send
//! creates it, so it lives near the account's callers like the OTP-session objects, and a
//! send's decision is one near round trip. Each decision is made on the state in memory with
//! nothing awaited between reading and changing it (`domain::fraud::Guard::decide`), so a
//! parallel burst is counted one by one; a block it makes is written to the object's
//! storage before it answers, the counts shortly after (`durable::fraud_counts`). The same
//! decision first takes the tokens of the Twilio Verify rate limits the send names
//! (`durable::verify_limits`): exact under parallel sends too.
use super::fraud_counts::{Dirty, COUNTRY, PREFIX};
use crate::clock::now_ms;
use crate::domain::error::AppError;
use crate::domain::fraud::{Block, Decision, Guard, Policy, Safe, Send, Verdict};
use crate::domain::ids::new_id;
use crate::domain::verify_limits::{Counters, Take, Taken};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use worker::{durable_object, DurableObject, Env, Request, Response, Result, State};

/// The binding (wrangler.toml `[durable_objects]`).
pub const BINDING: &str = "FRAUD_GUARD";
const POLICY_KEY: &str = "policy";

/// A command, with the account the object serves (its name).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Command {
    pub account_id: String,
    pub op: Op,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    /// Take the send's rate-limit tokens (all or none), then decide the send and count it
    /// (unless `risk_check` is false).
    Decide(Decide),
    /// Checks of codes sent to these numbers were approved (one entry per approval).
    Converted {
        phones: Vec<String>,
    },
    Policy,
    SetPolicy {
        policy: Policy,
    },
    Blocks {
        cursor: Option<String>,
        limit: usize,
    },
    Lift {
        id: String,
    },
    SafeList,
    SafeGet {
        phone: String,
    },
    /// Adds the number (keeping the entry it has, if any).
    SafeAdd {
        phone: String,
        sid: String,
    },
    SafeRemove {
        phone: String,
    },
    /// Blocks the number by hand (`manual`, until lifted); a number already blocked so
    /// keeps its block.
    BlockPhone {
        phone: String,
        id: String,
    },
}

/// A send to decide.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Decide {
    pub phone: String,
    pub country: Option<String>,
    #[serde(default)]
    pub limits: Vec<Take>,
    #[serde(default = "yes")]
    pub risk_check: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Answer {
    Decided {
        verdict: Verdict,
    },
    /// A rate-limit bucket is spent: nothing taken, nothing decided.
    Limited {
        retry_after_s: u64,
    },
    Done,
    Policy {
        policy: Policy,
    },
    Blocks {
        blocks: Vec<Block>,
        next_cursor: Option<String>,
    },
    Lifted {
        block: Option<Block>,
    },
    Safe {
        entries: Vec<(String, Safe)>,
    },
    SafeOne {
        entry: Option<(String, Safe)>,
    },
}

/// Sends one command to the account's guard (Worker side).
pub async fn call(env: &Env, account_id: &str, op: Op) -> std::result::Result<Answer, AppError> {
    let command = Command {
        account_id: account_id.to_owned(),
        op,
    };
    super::command::send(env, BINDING, "fraud guard", account_id, &command).await
}

#[cfg_attr(feature = "front", durable_object)]
pub struct FraudGuard {
    pub(super) state: State,
    env: Env,
    pub(super) guard: Rc<RefCell<Guard>>,
    /// The counts changed since their last write (`fraud_counts`).
    pub(super) dirty: Rc<Dirty>,
    policy: RefCell<Option<Policy>>,
    pub(super) loaded: Cell<bool>,
    pub(super) counters: RefCell<Counters>,
    /// When the object's alarm is due, as this instance set it (`None`: none set by it).
    pub(super) alarm_at: Cell<Option<i64>>,
}

fn yes() -> bool {
    true
}

pub(super) fn key(kind: char, name: &str) -> String {
    format!("{kind}:{name}")
}

pub(super) fn json<T: Serialize>(v: &T) -> Value {
    Value::String(serde_json::to_string(v).unwrap_or_default())
}

impl FraudGuard {
    /// Reads the stored state once per instance (the policy from D1 the first time ever).
    async fn load(&self, account_id: &str) -> std::result::Result<(), AppError> {
        if self.loaded.get() {
            return Ok(());
        }
        let fail = |e: worker::Error| AppError::internal(format!("fraud guard storage: {e}"));
        let stored = self.state.storage().list().await.map_err(fail)?;
        let mut guard = Guard::default();
        let mut counters = Counters::default();
        let mut policy: Option<Policy> = None;
        stored.for_each(&mut |value, k| {
            let (Some(k), Some(v)) = (k.as_string(), value.as_string()) else {
                return;
            };
            let (kind, name) = k.split_once(':').unwrap_or((k.as_str(), ""));
            let name = name.to_owned();
            match kind {
                "p" => _ = crate::domain::json::read(&v).map(|w| guard.prefixes.insert(name, w)),
                "c" => _ = crate::domain::json::read(&v).map(|w| guard.countries.insert(name, w)),
                "b" => _ = crate::domain::json::read(&v).map(|b| guard.blocks.insert(name, b)),
                "s" => _ = crate::domain::json::read(&v).map(|s| guard.safe.insert(name, s)),
                "r" => _ = crate::domain::json::read(&v).map(|c| counters.map.insert(name, c)),
                POLICY_KEY => policy = crate::domain::json::read(&v).ok(),
                _ => {}
            }
        });
        // The policy is read from D1 once in the object's life, then kept in its storage.
        let (policy, from_d1) = match policy {
            Some(p) => (p, false),
            None => {
                let db = crate::store::db(&self.env)?;
                let json = crate::store::fraud::policy(&db, account_id).await?;
                let p = json.and_then(|j| crate::domain::json::read(&j).ok());
                (p.unwrap_or_default(), true)
            }
        };
        if self.loaded.get() {
            return Ok(());
        }
        self.loaded.set(true);
        *self.guard.borrow_mut() = guard;
        *self.counters.borrow_mut() = counters;
        *self.policy.borrow_mut() = Some(policy.clone());
        if from_d1 {
            let put = self.state.storage().put(POLICY_KEY, json(&policy)).await;
            put.map_err(fail)?;
        }
        Ok(())
    }

    fn policy(&self) -> Policy {
        self.policy.borrow().clone().unwrap_or_default()
    }

    async fn write(&self, values: Map<String, Value>, gone: Vec<String>) -> Result<()> {
        let storage = self.state.storage();
        if !values.is_empty() {
            storage.put_multiple(Value::Object(values)).await?;
        }
        if !gone.is_empty() {
            storage.delete_multiple(gone).await?;
        }
        Ok(())
    }

    async fn decide(&self, d: &Decide, now: i64) -> Result<Answer> {
        let send = Send {
            phone: &d.phone,
            country: d.country.as_deref(),
            now_ms: now,
            block_id: format!("blk_{now:013}{}", new_id("").unwrap_or_default()),
        };
        // From here to the storage write nothing is awaited: the next decision sees this one.
        let mut values = Map::new();
        let next_end = match self.counters.borrow_mut().take(&d.limits, now) {
            Taken::Over { retry_after_s } => return Ok(Answer::Limited { retry_after_s }),
            Taken::Allowed(changed) => super::verify_limits::stage(&mut values, &changed),
        };
        if !d.risk_check {
            self.write(values, Vec::new()).await?;
            self.prune_by(next_end).await?;
            return Ok(Answer::Decided {
                verdict: Verdict::Allow,
            });
        }
        let d: Decision = self.guard.borrow_mut().decide(&self.policy(), send);
        for (kind, w) in [(PREFIX, &d.prefix), (COUNTRY, &d.country)] {
            if let Some((name, _)) = w {
                self.count_changed(kind, name);
            }
        }
        if let Some(b) = &d.block {
            values.insert(key('b', &b.id), json(b));
        }
        let gone = d.expired.iter().map(|id| key('b', id)).collect();
        self.write(values, gone).await?;
        self.prune_by(next_end).await?;
        Ok(Answer::Decided { verdict: d.verdict })
    }

    async fn block_phone(&self, phone: &str, id: String, now: i64) -> Result<Answer> {
        let block = self.guard.borrow_mut().block_phone(phone, id, now);
        let mut values = Map::new();
        values.insert(key('b', &block.id), json(&block));
        self.write(values, Vec::new()).await?;
        Ok(Answer::Lifted { block: Some(block) })
    }

    async fn run(&self, op: Op) -> Result<Answer> {
        let now = now_ms();
        Ok(match op {
            Op::Decide(d) => self.decide(&d, now).await?,
            Op::Converted { phones } => {
                let policy = self.policy();
                for phone in &phones {
                    let (name, _) = self.guard.borrow_mut().converted(&policy, phone, now);
                    self.count_changed(PREFIX, &name);
                }
                Answer::Done
            }
            Op::Policy => Answer::Policy {
                policy: self.policy(),
            },
            Op::SetPolicy { policy } => {
                *self.policy.borrow_mut() = Some(policy.clone());
                self.state.storage().put(POLICY_KEY, json(&policy)).await?;
                Answer::Done
            }
            Op::Blocks { cursor, limit } => {
                let gone = self.guard.borrow_mut().drop_expired(now);
                let (blocks, next_cursor) = self.guard.borrow().page(cursor.as_deref(), limit);
                self.write(Map::new(), gone.iter().map(|id| key('b', id)).collect())
                    .await?;
                Answer::Blocks {
                    blocks,
                    next_cursor,
                }
            }
            Op::Lift { id } => {
                let lifted = self.guard.borrow_mut().lift(&id, now);
                let mut values = Map::new();
                if let Some((_, Some((name, w)))) = &lifted {
                    values.insert(key(PREFIX, name), json(w));
                }
                self.write(values, vec![key('b', &id)]).await?;
                Answer::Lifted {
                    block: lifted.map(|(b, _)| b),
                }
            }
            Op::SafeList => Answer::Safe {
                entries: self.guard.borrow().safe.clone().into_iter().collect(),
            },
            Op::SafeGet { phone } => Answer::SafeOne {
                entry: self
                    .guard
                    .borrow()
                    .safe
                    .get(&phone)
                    .map(|s| (phone, s.clone())),
            },
            Op::SafeAdd { phone, sid } => {
                let entry = Safe {
                    sid,
                    created_at: now,
                };
                let entry = (self.guard.borrow_mut().safe.entry(phone.clone()))
                    .or_insert(entry)
                    .clone();
                self.state
                    .storage()
                    .put(&key('s', &phone), json(&entry))
                    .await?;
                Answer::SafeOne {
                    entry: Some((phone, entry)),
                }
            }
            Op::BlockPhone { phone, id } => self.block_phone(&phone, id, now).await?,
            Op::SafeRemove { phone } => {
                let entry = self.guard.borrow_mut().safe.remove(&phone);
                self.state.storage().delete(&key('s', &phone)).await?;
                Answer::SafeOne {
                    entry: entry.map(|e| (phone, e)),
                }
            }
        })
    }
}

#[cfg(feature = "front")]
impl DurableObject for FraudGuard {
    fn new(state: State, env: Env) -> Self {
        Self {
            state,
            env,
            guard: Rc::new(RefCell::new(Guard::default())),
            dirty: Rc::new(Dirty::default()),
            policy: RefCell::new(None),
            loaded: Cell::new(false),
            counters: RefCell::new(Counters::default()),
            alarm_at: Cell::new(None),
        }
    }

    async fn fetch(&self, req: Request) -> Result<Response> {
        super::command::serve(req, async |command: Command| {
            if let Err(e) = self.load(&command.account_id).await {
                return Response::error(e.detail().to_owned(), 500);
            }
            Response::from_json(&self.run(command.op).await?)
        })
        .await
    }

    /// Removes rate-limit counters whose window ended (`durable::verify_limits`).
    async fn alarm(&self) -> Result<Response> {
        self.prune_counters().await?;
        Response::ok("ok")
    }
}
