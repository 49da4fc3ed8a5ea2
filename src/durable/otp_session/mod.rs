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
//!
//! One file per job: `protocol` (the commands and answers), `state` (a session as the object
//! holds it and the pure rules it applies), `keys` (the API keys it has checked), `object`
//! (the commands it answers), `storage` (memory, storage, restore from KV, the alarm),
//! `mirror` (D1 after the answer), `sweep` (the alarm's work), `workflow` (the channel
//! fallback engine: its API is documented there), `replay` (JWT ids seen), `window` and
//! `window_object` (a number's verification window: several live codes, one set of counters)
//! and `client` (the Worker's side).
//! `protocol`, `state`, `keys` and `workflow`'s rules are pure, compiled and tested
//! natively; the others touch the runtime and compile for wasm32 only.
mod client;
mod keys;
mod mirror;
mod object;
mod protocol;
mod replay;
mod state;
mod storage;
mod sweep;
mod window;
mod window_object;
mod workflow;

#[cfg(target_arch = "wasm32")]
pub use client::{call, key_changed, revoke_key};
#[cfg(target_arch = "wasm32")]
pub use object::OtpSession;
#[cfg(target_arch = "wasm32")]
pub use protocol::{Op, Opening, Outcome, StepDue, StepGo};
#[cfg(target_arch = "wasm32")]
pub use window::anchor as window_anchor;
