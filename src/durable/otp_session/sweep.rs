//! The object's alarm: retries the D1 mirrors that failed, and clears sessions long after
//! their end (each mirrored once more first, in case a mirror after an answer was lost).
#![cfg(target_arch = "wasm32")]
use super::mirror::{mirror, MIRROR_BATCH, MIRROR_RETRY_MS};
use super::object::OtpSession;
use super::state::{self, session_key, Stored, RETRY_PREFIX, SESSION_PREFIX};
use crate::clock::now_ms;
use crate::domain::json;
use worker::{console_error, Result};

/// A swept object looks again no sooner than this (sessions end continually).
const SWEEP_EVERY_MS: i64 = 10 * 60 * 1000;

impl OtpSession {
    pub(super) async fn sweep(&self) -> Result<()> {
        self.alarm_at.set(Some(i64::MAX));
        let now = now_ms();
        let mut retry = self.retry_mirrors().await?;
        let stored: Vec<Stored> = (self.list(SESSION_PREFIX).await?)
            .into_iter()
            .filter_map(|(_, value)| {
                let json = value.as_string()?;
                json::read::<Stored>(&json).ok()
            })
            .collect();
        let (ended, next) = state::sweep(stored, now);
        retry |= self.clear(&ended).await?;
        let next_window = self.sweep_windows(now).await?;
        let next = next.into_iter().chain(next_window).min();
        let mut due = next.map(|n| n.max(now + SWEEP_EVERY_MS));
        if retry {
            due = Some(now + MIRROR_RETRY_MS);
        }
        if let Some(due) = due {
            self.alarm_by(due).await?;
        }
        Ok(())
    }

    /// Mirrors the sessions noted for a retry; true when one failed again.
    async fn retry_mirrors(&self) -> Result<bool> {
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
        Ok(retry)
    }

    /// Clears ended sessions from memory and storage, each touched one mirrored first (one
    /// batch per `MIRROR_BATCH`); true when a mirror failed (those are kept for a retry).
    async fn clear(&self, ended: &[Stored]) -> Result<bool> {
        let mut retry = false;
        for chunk in ended.chunks(MIRROR_BATCH) {
            let touched: Vec<&Stored> = chunk.iter().filter(|s| s.touched()).collect();
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
            self.state.storage().delete_multiple(keys).await?;
        }
        Ok(retry)
    }
}
