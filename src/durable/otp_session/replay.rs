//! The JWT ids a session's object has seen (Vonage applications' tokens), until their token
//! expires: a second use of the same id is refused. The Worker sends each id to the account's
//! object its hash names (`domain::otp::session_object`), so every use of one id meets the
//! same object, near the account's servers (no D1 round trip on a check).
#![cfg(target_arch = "wasm32")]
use super::object::OtpSession;
use super::protocol::Outcome;
use crate::clock::now_ms;
use worker::Result;

pub const JTI_PREFIX: &str = "jti:";

impl OtpSession {
    /// `Op::SeeJti`: records `id` until `expires_at`; `fresh: false` when it was seen before
    /// and has not expired. Storage reads and writes keep other events out between them.
    pub(super) async fn see_jti(&self, id: &str, expires_at: i64) -> Result<Outcome> {
        let key = format!("{JTI_PREFIX}{id}");
        let storage = self.state.storage();
        let seen = storage.get::<i64>(&key).await?;
        if seen.is_some_and(|until| until > now_ms()) {
            return Ok(Outcome::Jti { fresh: false });
        }
        storage.put(&key, expires_at).await?;
        self.alarm_by(expires_at).await?;
        Ok(Outcome::Jti { fresh: true })
    }

    /// The alarm's part: forgets ids whose token has expired; returns when the next expires.
    pub(super) async fn forget_jtis(&self) -> Result<Option<i64>> {
        let now = now_ms();
        let mut next: Option<i64> = None;
        let mut expired = Vec::new();
        for (key, value) in self.list(JTI_PREFIX).await? {
            let until = value.as_f64().map_or(0, |v| v as i64);
            if until <= now {
                expired.push(key);
            } else {
                next = Some(next.map_or(until, |n| n.min(until)));
            }
        }
        for chunk in expired.chunks(128) {
            self.state.storage().delete_multiple(chunk.to_vec()).await?;
        }
        Ok(next)
    }
}
