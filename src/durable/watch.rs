//! One `ObjectWatch` Durable Object per watched object that has no object of its own (a
//! rent, `id_from_name("rent:<id>")`): a change counter and the requests waiting for it to
//! move. The writer bumps it after its D1 write; a long-poll reads D1, and only if nothing
//! is new there waits here (from the `since` it read), so no change slips between the two.
use super::signal::{wait_for, Waiters};
use crate::domain::live::MAX_WAIT_SECS;
use serde::{Deserialize, Serialize};
use std::time::Duration;
use worker::{durable_object, DurableObject, Env, Request, Response, Result, State};

const SEQ_KEY: &str = "seq";

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum WatchOp {
    /// The object changed; its sequence number is now at least `seq`.
    Bump { seq: u64 },
    /// Answers when the sequence number passes `since`, or after `wait_ms`.
    Wait { since: u64, wait_ms: u64 },
}

#[derive(Debug, Serialize, Deserialize)]
struct Seen {
    seq: u64,
}

#[cfg_attr(feature = "front", durable_object)]
pub struct ObjectWatch {
    state: State,
    waiters: Waiters,
}

impl ObjectWatch {
    async fn seq(&self) -> Result<u64> {
        Ok(self.state.storage().get::<u64>(SEQ_KEY).await?.unwrap_or(0))
    }
}

#[cfg(feature = "front")]
impl DurableObject for ObjectWatch {
    fn new(state: State, _env: Env) -> Self {
        Self {
            state,
            waiters: Waiters::default(),
        }
    }

    async fn fetch(&self, req: Request) -> Result<Response> {
        super::command::serve(req, async |op: WatchOp| match op {
            WatchOp::Bump { seq } => {
                if seq > self.seq().await? {
                    self.state.storage().put(SEQ_KEY, seq).await?;
                    self.waiters.wake_all();
                }
                Response::from_json(&Seen {
                    seq: self.seq().await?,
                })
            }
            WatchOp::Wait { since, wait_ms } => {
                let wake = self.waiters.next();
                let seq = self.seq().await?;
                if seq <= since {
                    let cap = u64::from(MAX_WAIT_SECS) * 1000;
                    wait_for(wake, Duration::from_millis(wait_ms.min(cap))).await;
                }
                Response::from_json(&Seen {
                    seq: self.seq().await?,
                })
            }
        })
        .await
    }
}

async fn send(env: &Env, name: &str, op: &WatchOp) -> Result<u64> {
    super::command::send::<_, Seen>(env, "WATCH", "watch object", name, op)
        .await
        .map(|seen| seen.seq)
        .map_err(|e| worker::Error::RustError(e.detail().to_owned()))
}

/// Tells the waiters of `name` that it reached `seq`.
pub async fn bump(env: &Env, name: &str, seq: u64) -> Result<u64> {
    send(env, name, &WatchOp::Bump { seq }).await
}

/// Waits until `name` passes `since` (or `wait_ms`); answers the sequence number then.
pub async fn wait(env: &Env, name: &str, since: u64, wait_ms: u64) -> Result<u64> {
    send(env, name, &WatchOp::Wait { since, wait_ms }).await
}
