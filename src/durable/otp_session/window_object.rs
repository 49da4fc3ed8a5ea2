//! The object's side of verification windows (`window`): a send joining its number's
//! window, a check by number, and the sweep of ended windows. A window is read from storage
//! and written back with nothing else awaited in between: the runtime delivers no other
//! event to the object while its storage answers (input gates), so parallel checks of a
//! window are serialized as a session's are.
#![cfg(target_arch = "wasm32")]
use super::object::OtpSession;
use super::protocol::{Opening, Outcome};
use super::window::{window_key, Window, WINDOW_PREFIX};
use super::workflow::pending_at;
use crate::clock::now_ms;
use crate::domain::json;
use crate::domain::otp_check::Decision;
use crate::domain::scope::Scope;
use worker::Result;

impl OtpSession {
    pub(super) async fn load_window(&self, phone: &str) -> Result<Option<Window>> {
        match self
            .state
            .storage()
            .get::<String>(&window_key(phone))
            .await?
        {
            Some(json) => Ok(Some(json::read::<Window>(&json)?)),
            None => Ok(None),
        }
    }

    pub(super) async fn save_window(&self, w: &Window) -> Result<()> {
        let json = serde_json::to_string(w)?;
        let key = window_key(&w.current.session.phone);
        self.state.storage().put(&key, json).await?;
        self.alarm_by(w.cleanup_at()).await
    }

    /// A send joins its number's open window (a retry), or opens a new one as `window_id`.
    /// The send's fallback steps (if any) replace those of the window's earlier send.
    pub(super) async fn window_send(&self, window_id: String, send: Opening) -> Result<Outcome> {
        let now = now_ms();
        let anchor = super::window::anchor(&send.phone);
        let (w, retry) = match self.load_window(&send.phone).await? {
            Some(mut w) if w.is_open(now) && w.current.session.account_id == send.account_id => {
                w.add(send, now);
                (w, true)
            }
            _ => (Window::open(window_id, send), false),
        };
        self.save_window(&w).await?;
        self.schedule(&anchor, pending_at(&w.current, now)).await?;
        Ok(Outcome::WindowOpened { id: w.id, retry })
    }

    /// A check by number against its window's codes (`Unknown` when it has none).
    pub(super) async fn window_check(
        &self,
        account_id: &str,
        phone: &str,
        key_hash: Option<String>,
        mac: &str,
    ) -> Result<Outcome> {
        if let Some(k) = key_hash {
            if !self.key_live(&k, account_id).await? {
                return Ok(Outcome::KeyRefused);
            }
            if !self.keys.borrow().holds(&k, Scope::OtpVerify) {
                return Ok(Outcome::ScopeRefused);
            }
        }
        let Some(mut w) = self.load_window(phone).await? else {
            return Ok(Outcome::Unknown);
        };
        if w.current.session.account_id != account_id {
            return Ok(Outcome::Unknown);
        }
        let (decision, changed) = w.check(mac, now_ms());
        if changed {
            self.save_window(&w).await?;
            self.mirror_later(&w.current);
        }
        if matches!(decision, Decision::Verified) {
            self.converted(&w.current.session);
        }
        Ok(Outcome::of_check(decision, w.row()))
    }

    /// Clears the windows past their cleanup time; when the next one is due.
    pub(super) async fn sweep_windows(&self, now: i64) -> Result<Option<i64>> {
        let mut next: Option<i64> = None;
        let mut ended = Vec::new();
        for (key, value) in self.list(WINDOW_PREFIX).await? {
            let Some(w) = (value.as_string()).and_then(|j| json::read::<Window>(&j).ok()) else {
                continue;
            };
            if now >= w.cleanup_at() {
                ended.push(key);
            } else {
                next = Some(next.map_or(w.cleanup_at(), |n| n.min(w.cleanup_at())));
            }
        }
        for chunk in ended.chunks(super::mirror::MIRROR_BATCH) {
            self.state.storage().delete_multiple(chunk.to_vec()).await?;
        }
        Ok(next)
    }
}
