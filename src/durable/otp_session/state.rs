//! A session as its object holds it, and the pure rules the object applies to it: a check
//! (the candidate's MAC against the stored one, then `domain::otp_check`), an expiry seen by
//! the owner, which sessions memory keeps and which the sweep clears.
use super::protocol::Opening;
use crate::domain::crypto::{constant_time_eq, from_hex};
use crate::domain::otp::Terminal;
use crate::domain::otp_check::{apply, Counters, Decision, Session};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// How long after its end the object keeps the session (D1 has it for good).
pub const KEEP_AFTER_END_MS: i64 = 60 * 60 * 1000;
/// Sessions kept in memory per object before the memory starts over (storage has them all).
pub const CACHE_SESSIONS: usize = 4096;
pub const SESSION_PREFIX: &str = "s:";
pub const RETRY_PREFIX: &str = "retry:";

/// A session's storage key.
pub fn session_key(id: &str) -> String {
    format!("{SESSION_PREFIX}{id}")
}

/// The storage key noting that a session's D1 mirror is to be retried.
pub fn retry_key(id: &str) -> String {
    format!("{RETRY_PREFIX}{id}")
}

/// One session in the object's storage (JSON under `session_key`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stored {
    pub session: Opening,
    pub counters: Counters,
    /// A check by the owner found the session expired: `otp.expired` is to be recorded.
    pub expiry_seen: bool,
    /// Cancelled by its owner: it ended then (`cancel`).
    #[serde(default)]
    pub cancelled: bool,
}

impl Stored {
    /// A session as its send opened it: nothing counted yet.
    pub fn opened(session: Opening) -> Stored {
        Stored {
            counters: Counters::new(session.max_attempts, session.expires_at),
            session,
            expiry_seen: false,
            cancelled: false,
        }
    }

    pub fn row(&self) -> Session {
        let s = &self.session;
        Session {
            id: s.id.clone(),
            account_id: s.account_id.clone(),
            phone: s.phone.clone(),
            channel: s.channel.clone(),
            created_at: s.created_at,
            expires_at: s.expires_at,
            attempts: self.counters.attempts,
            max_attempts: self.counters.max_attempts,
            verified_at: self.counters.verified_at,
        }
    }

    /// When the sweep clears it.
    pub fn cleanup_at(&self) -> i64 {
        self.session.expires_at + KEEP_AFTER_END_MS
    }

    /// Whether a check or its owner changed it since it was opened (only then does D1
    /// need its state).
    pub fn touched(&self) -> bool {
        self.counters.attempts > 0 || self.counters.verified_at.is_some() || self.expiry_seen
    }

    /// Applies one check: `mac` is the candidate's hex MAC, compared with the stored one
    /// in constant time (`None`: an approval, which counts as the right code). Returns the
    /// decision and whether the state changed, which must then be stored before the answer.
    pub fn check(&mut self, mac: Option<&str>, now_ms: i64) -> (Decision, bool) {
        let matched = mac.is_none_or(|mac| mac_matches(&self.session.code_mac, mac));
        let decision = apply(&mut self.counters, matched, now_ms);
        let newly_expired = decision == Decision::Refused(Terminal::Expired) && self.see_expiry();
        (decision, decision.counted() || newly_expired)
    }

    /// The owner looked at it: an expiry seen for the first time records `otp.expired`
    /// (once; a cancelled session did not expire). True when that changed the state.
    pub fn look(&mut self, now_ms: i64) -> bool {
        !self.cancelled
            && self.counters.terminal(now_ms) == Some(Terminal::Expired)
            && self.see_expiry()
    }

    /// Cancels a live session: it ends now, so no later check is evaluated. Ok(true) when
    /// this changed it (to be stored before the answer), Ok(false) when it was cancelled
    /// already, Err when it had ended otherwise (verified, attempts spent, expired).
    pub fn cancel(&mut self, now_ms: i64) -> Result<bool, Terminal> {
        if self.cancelled {
            return Ok(false);
        }
        if let Some(ended) = self.counters.terminal(now_ms) {
            return Err(ended);
        }
        self.cancelled = true;
        self.counters.expires_at = now_ms;
        self.session.expires_at = now_ms;
        if let Some(w) = self.session.workflow.as_mut() {
            w.cancelled = true;
        }
        Ok(true)
    }

    fn see_expiry(&mut self) -> bool {
        !std::mem::replace(&mut self.expiry_seen, true)
    }
}

/// Whether a candidate's hex MAC equals a stored hex MAC, compared in constant time (a MAC
/// that is not hex, or an empty stored one, never matches).
pub fn mac_matches(stored: &str, candidate: &str) -> bool {
    let stored = from_hex(stored).unwrap_or_default();
    let candidate = from_hex(candidate).unwrap_or_default();
    !stored.is_empty() && constant_time_eq(&stored, &candidate)
}

/// Keeps `s` in memory (the object is its only writer). Past `CACHE_SESSIONS` the memory
/// starts over, but never while a load is on its way (`loading`): a load that finds nothing
/// in storage relies on a state saved meanwhile still being in memory.
pub fn remember(cache: &mut HashMap<String, Stored>, s: &Stored, loading: bool) {
    let full = cache.len() >= CACHE_SESSIONS && !cache.contains_key(&s.session.id);
    if full && !loading {
        cache.clear();
    }
    cache.insert(s.session.id.clone(), s.clone());
}

/// The sweep at `now_ms`: the sessions to clear, and when the next of the others is due.
pub fn sweep(stored: Vec<Stored>, now_ms: i64) -> (Vec<Stored>, Option<i64>) {
    let mut next: Option<i64> = None;
    let mut ended = Vec::new();
    for s in stored {
        let cleanup_at = s.cleanup_at();
        if now_ms >= cleanup_at {
            ended.push(s);
        } else {
            next = Some(next.map_or(cleanup_at, |n| n.min(cleanup_at)));
        }
    }
    (ended, next)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::crypto::to_hex;
    use crate::domain::otp::code_mac;

    const NOW: i64 = 1_000_000;

    fn opened(id: &str, expires_at: i64) -> Stored {
        Stored::opened(Opening {
            id: id.into(),
            account_id: "acc".into(),
            phone: "+14155550100".into(),
            channel: "sms".into(),
            code_mac: to_hex(&code_mac("secret", id, "123456")),
            created_at: NOW,
            expires_at,
            max_attempts: 5,
            workflow: None,
        })
    }

    fn mac(id: &str, code: &str) -> String {
        to_hex(&code_mac("secret", id, code))
    }

    #[test]
    fn the_right_mac_verifies_once_and_a_wrong_one_counts() {
        let mut s = opened("s1", NOW + 60_000);
        assert_eq!(
            s.check(Some(&mac("s1", "000000")), NOW),
            (Decision::Wrong, true)
        );
        assert_eq!(s.row().attempts, 1);
        assert_eq!(
            s.check(Some(&mac("s1", "123456")), NOW),
            (Decision::Verified, true)
        );
        let again = s.check(Some(&mac("s1", "123456")), NOW);
        assert_eq!(again, (Decision::Refused(Terminal::AlreadyVerified), false));
        assert!(s.touched());
    }

    #[test]
    fn a_mac_that_is_not_hex_or_of_another_session_never_matches() {
        let mut s = opened("s1", NOW + 60_000);
        assert_eq!(s.check(Some("zz"), NOW).0, Decision::Wrong);
        assert_eq!(s.check(Some(&mac("s2", "123456")), NOW).0, Decision::Wrong);
        let mut no_mac = opened("s3", NOW + 60_000);
        no_mac.session.code_mac = String::new();
        assert_eq!(no_mac.check(Some(""), NOW).0, Decision::Wrong);
    }

    #[test]
    fn an_approval_is_the_right_code() {
        let mut s = opened("s1", NOW + 60_000);
        assert_eq!(s.check(None, NOW), (Decision::Verified, true));
        assert_eq!(s.row().verified_at, Some(NOW));
    }

    #[test]
    fn an_expiry_is_stored_once_whether_checked_or_looked_at() {
        let end = NOW + 60_000;
        let mut checked = opened("s1", end);
        assert!(!checked.touched());
        let first = checked.check(Some(&mac("s1", "123456")), end);
        assert_eq!(first, (Decision::Refused(Terminal::Expired), true));
        assert!(checked.touched());
        assert!(!checked.check(None, end).1);
        let mut looked = opened("s2", end);
        assert!(!looked.look(end - 1));
        assert!(looked.look(end));
        assert!(!looked.look(end));
    }

    #[test]
    fn a_cancel_ends_a_live_session_once_and_never_a_verified_one() {
        let mut s = opened("s1", NOW + 60_000);
        assert_eq!(s.cancel(NOW), Ok(true));
        assert_eq!(s.cancel(NOW + 1), Ok(false));
        let late = s.check(Some(&mac("s1", "123456")), NOW + 1).0;
        assert_eq!(late, Decision::Refused(Terminal::Expired));
        assert_eq!(
            s.check(None, NOW + 1).0,
            Decision::Refused(Terminal::Expired)
        );
        assert!(!s.look(NOW + 2), "a cancelled session records no expiry");
        let mut verified = opened("s2", NOW + 60_000);
        assert_eq!(verified.check(None, NOW).0, Decision::Verified);
        assert_eq!(verified.cancel(NOW), Err(Terminal::AlreadyVerified));
    }

    #[test]
    fn memory_starts_over_when_full_unless_a_load_is_on_its_way() {
        let mut cache = HashMap::new();
        for i in 0..CACHE_SESSIONS {
            remember(&mut cache, &opened(&format!("s{i}"), NOW), false);
        }
        remember(&mut cache, &opened("new", NOW), true);
        assert_eq!(cache.len(), CACHE_SESSIONS + 1);
        remember(&mut cache, &opened("s0", NOW), false);
        assert_eq!(cache.len(), CACHE_SESSIONS + 1);
        remember(&mut cache, &opened("newer", NOW), false);
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn the_sweep_clears_sessions_an_hour_after_their_end() {
        let stored = vec![
            opened("old", NOW),
            opened("late", NOW + 10),
            opened("live", NOW + 5),
        ];
        let (ended, next) = sweep(stored.clone(), NOW + KEEP_AFTER_END_MS);
        assert_eq!(ended, vec![stored[0].clone()]);
        assert_eq!(next, Some(NOW + 5 + KEEP_AFTER_END_MS));
        assert_eq!(sweep(stored, NOW).0.len(), 0);
        assert_eq!(session_key("x"), "s:x");
        assert_eq!(retry_key("x"), "retry:x");
    }
}
