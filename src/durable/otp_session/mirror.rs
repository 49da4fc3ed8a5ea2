//! Bringing D1 in line after the answer: each checked session's counters into its
//! `otp_sessions` row and its result event, coalesced and paced; a failure is noted in
//! storage and retried by the alarm. The numbers verified meanwhile go to the account's fraud
//! guard in the same paced passes, one call for all of them.
#![cfg(target_arch = "wasm32")]
use super::object::OtpSession;
use super::protocol::{Opening, Outcome};
use super::state::{retry_key, Stored};
use crate::clock::now_ms;
use crate::domain::error::AppError;
use crate::domain::ids::is_uuid;
use crate::domain::ratelimit::Pacer;
use crate::durable::{fraud_guard, webhook_dispatcher};
use crate::store::sessions::{self, ResultEvents};
use crate::store::vonage;
use crate::store::{self, batch};
use std::cell::Cell;
use std::collections::HashMap;
use std::rc::Rc;
use std::time::Duration;
use worker::{console_error, Delay, Env, Storage};

/// How soon a failed D1 mirror is tried again.
pub(super) const MIRROR_RETRY_MS: i64 = 30_000;
/// D1 mirror batches an object starts at once before they are paced, and the pace then.
const MIRROR_BURST: i64 = 8;
const MIRROR_EVERY_MS: i64 = 250;
/// Sessions mirrored into D1 per batch (two statements each); also the sessions cleared per
/// storage call (Durable Object storage deletes ≤ 128 keys at once).
pub(super) const MIRROR_BATCH: usize = 50;

#[derive(Default)]
pub(super) struct Pending {
    /// The latest state of each session to mirror.
    states: HashMap<String, Stored>,
    /// Numbers whose code was verified, not yet told to the account's fraud guard, and the
    /// account (one per object).
    converted: Vec<String>,
    account_id: String,
    /// A mirror is on its way; it takes these when it is done.
    flushing: bool,
    /// Paces the batches (`MIRROR_BURST`, `MIRROR_EVERY_MS`).
    pacer: Pacer,
}

impl OtpSession {
    /// Brings D1 in line after the answer. Mirrors are coalesced: while one D1 batch is
    /// on its way, the sessions checked meanwhile wait and go in the next batch together
    /// (each with its latest state; copies converge in D1). Batches are paced: an object
    /// starts up to `MIRROR_BURST` at once, then one per `MIRROR_EVERY_MS` while checks keep
    /// coming, so a busy object (an attack, a load test) writes to D1 at a bounded rate and
    /// each batch carries every session checked meanwhile. A failure is noted in storage and
    /// retried by the alarm.
    pub(super) fn mirror_later(&self, s: &Stored) {
        let start = {
            let mut p = self.pending.borrow_mut();
            p.states.insert(s.session.id.clone(), s.clone());
            !std::mem::replace(&mut p.flushing, true)
        };
        if start {
            self.flush_later();
        }
    }

    /// Tells the account's fraud guard that a code sent to `session`'s number was verified,
    /// after the answer (the guard's conversion counts are not the check's business): with
    /// the next paced mirror pass, which carries every number verified meanwhile in one call.
    pub(super) fn converted(&self, session: &Opening) {
        let start = {
            let mut p = self.pending.borrow_mut();
            p.converted.push(session.phone.clone());
            p.account_id.clone_from(&session.account_id);
            !std::mem::replace(&mut p.flushing, true)
        };
        if start {
            self.flush_later();
        }
    }

    /// The paced passes: each takes up to `MIRROR_BATCH` sessions and every number verified,
    /// until nothing is pending.
    fn flush_later(&self) {
        let env = self.env.clone();
        let storage = self.state.storage();
        let alarm_at = Rc::clone(&self.alarm_at);
        let pending = Rc::clone(&self.pending);
        self.state.wait_until(async move {
            loop {
                let wait = {
                    let mut p = pending.borrow_mut();
                    if p.states.is_empty() && p.converted.is_empty() {
                        p.flushing = false;
                        return;
                    }
                    p.pacer.wait_ms(now_ms(), MIRROR_EVERY_MS, MIRROR_BURST)
                };
                if wait > 0 {
                    // Sessions checked meanwhile join this batch.
                    Delay::from(Duration::from_millis(wait.unsigned_abs())).await;
                }
                let (due, phones, account_id) = {
                    let mut p = pending.borrow_mut();
                    let ids: Vec<String> = p.states.keys().take(MIRROR_BATCH).cloned().collect();
                    let due: Vec<Stored> =
                        ids.iter().filter_map(|id| p.states.remove(id)).collect();
                    (due, std::mem::take(&mut p.converted), p.account_id.clone())
                };
                let refs: Vec<&Stored> = due.iter().collect();
                let (mirrored, told) = futures_util::future::join(
                    mirror(&env, &refs),
                    tell_guard(&env, &account_id, phones),
                )
                .await;
                if let Err(e) = told {
                    console_error!("fraud guard conversions: {}", e.detail());
                }
                if let Err(e) = mirrored {
                    console_error!(
                        "otp sessions' D1 mirror failed (retried by alarm): {}",
                        e.detail()
                    );
                    note_retries(&storage, &alarm_at, &due).await;
                }
            }
        });
    }
}

/// The verified numbers to the account's fraud guard, in one call (none: no call).
async fn tell_guard(env: &Env, account_id: &str, phones: Vec<String>) -> Result<(), AppError> {
    if phones.is_empty() {
        return Ok(());
    }
    let op = fraud_guard::Op::Converted { phones };
    fraud_guard::call(env, account_id, op).await.map(|_| ())
}

impl OtpSession {
    /// `Op::Settle`: mirrors an ended session's state now (a state never changed by a check
    /// is already D1's). Err when the mirror failed (asked again by the next pass).
    pub(super) async fn settle(&self, id: &str, account_id: &str) -> worker::Result<Outcome> {
        let Some(s) = self.load(id).await? else {
            return Ok(Outcome::Unknown);
        };
        if s.session.account_id != account_id {
            return Ok(Outcome::Unknown);
        }
        if s.touched() {
            mirror(&self.env, &[&s])
                .await
                .map_err(|e| worker::Error::RustError(e.detail().to_owned()))?;
        }
        Ok(Outcome::State { session: s.row() })
    }
}

/// Notes sessions whose mirror failed, for the alarm to retry; sets the alarm unless this
/// instance knows of an earlier one.
async fn note_retries(storage: &Storage, alarm_at: &Cell<Option<i64>>, due: &[Stored]) {
    for s in due {
        if let Err(e) = storage.put(&retry_key(&s.session.id), 1).await {
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

/// The sessions' counters into their D1 rows, and their result events (once per type, and a
/// Vonage request's summary callback), in one batch; then the account's dispatcher is woken
/// if an event was recorded.
pub(super) async fn mirror(env: &Env, sessions: &[&Stored]) -> Result<(), AppError> {
    let Some(first) = sessions.first() else {
        return Ok(());
    };
    let db = store::db(env)?;
    let now = now_ms();
    let mut statements = Vec::with_capacity(2 * sessions.len());
    // Which statements record an event (the others mirror a row).
    let mut records = Vec::with_capacity(2 * sessions.len());
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
        records.push(false);
        statements.push(sessions::result_event_statement(
            &db,
            &s.session.id,
            now,
            events,
        )?);
        records.push(true);
        // A Vonage request's summary (its id is a UUID; the statement finds nothing for
        // a session that is not a request of an application that takes callbacks).
        if is_uuid(&s.session.id) {
            let expiry = events == ResultEvents::All;
            let id = &s.session.id;
            statements.push(vonage::summary_statement(&db, id, now, false, expiry)?);
            records.push(true);
        }
    }
    let results = batch(&db, statements).await?;
    let recorded = (results.iter().zip(&records)).any(|(r, rec)| *rec && store::changes(r) >= 1);
    if recorded {
        // One account per object: its sessions share the dispatcher.
        webhook_dispatcher::kick(env, &first.session.account_id).await?;
    }
    Ok(())
}
