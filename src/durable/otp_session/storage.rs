//! The object's storage and memory: loading a session (from memory, storage, or restored
//! from the KV record a send writes when it could not open the object), saving it before
//! anything else is awaited, and the alarm.
#![cfg(target_arch = "wasm32")]
use super::object::OtpSession;
use super::protocol::Opening;
use super::state::{self, session_key, Stored};
use crate::clock::now_ms;
use crate::domain::{json, otp};
use crate::store::sessions;
use std::cell::Cell;
use worker::wasm_bindgen::JsValue;
use worker::{ListOptions, Result};

/// Stored keys read per storage list call.
const LIST_PAGE: usize = 500;

/// A load on its way, counted while it lives (see `state::remember`).
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

impl OtpSession {
    pub(super) async fn load(&self, id: &str) -> Result<Option<Stored>> {
        if let Some(s) = self.cache.borrow().get(id) {
            return Ok(Some(s.clone()));
        }
        let _loading = Loading::start(&self.loads);
        let stored = match self.state.storage().get::<String>(&session_key(id)).await? {
            Some(json) => Some(json::read::<Stored>(&json)?),
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
    /// record: a session whose open never reached the object (its send wrote the record
    /// instead) is restored from the facts the send wrote (nothing was counted: a counted
    /// session is in storage).
    pub(super) async fn load_or_restore(&self, id: &str) -> Result<Option<Stored>> {
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
        let s = Stored::opened(Opening {
            id: id.to_owned(),
            account_id: kv.account_id,
            phone: kv.phone,
            channel: kv.channel,
            code_mac: kv.code_mac,
            created_at,
            expires_at: kv.expires_at,
            max_attempts: otp::MAX_ATTEMPTS,
            workflow: None,
        });
        self.remember(&s);
        Ok(Some(s))
    }

    /// Keeps `s` in memory (`state::remember`).
    pub(super) fn remember(&self, s: &Stored) {
        state::remember(&mut self.cache.borrow_mut(), s, self.loads.get() > 0);
    }

    /// Remembers `s` and writes it to storage: nothing else is awaited before this. Then
    /// the alarm that clears it after its end is due no later than that.
    pub(super) async fn save(&self, s: &Stored) -> Result<()> {
        let json = serde_json::to_string(s)?;
        self.remember(s);
        self.state
            .storage()
            .put(&session_key(&s.session.id), json)
            .await?;
        self.alarm_by(s.cleanup_at()).await
    }

    /// Makes the alarm due no later than `at` (one alarm per object: the earliest wanted).
    pub(super) async fn alarm_by(&self, at: i64) -> Result<()> {
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

    /// Every stored key under `prefix` with its value, a page at a time.
    pub(super) async fn list(&self, prefix: &str) -> Result<Vec<(String, JsValue)>> {
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
