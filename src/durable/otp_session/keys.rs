//! The API keys an object has checked: whose each is while it is live, its scopes, and
//! revocations (final). An answer is used for `KEY_REVALIDATE_MS`, then the key's object is
//! asked again (a backstop for changes that reach D1 by another path; revocations and
//! changes of scopes are told at once).
use super::state::CACHE_SESSIONS;
use crate::domain::scope::Scope;
use std::collections::HashMap;

/// How long a key's answer is used before the key's object is asked again.
pub const KEY_REVALIDATE_MS: i64 = 60_000;

struct KeyMemo {
    /// The key's account while it is live (`None`: unknown or not live).
    account_id: Option<String>,
    /// Its scopes as stored (`domain::scope`; `None`: every scope).
    scopes: Option<String>,
    /// Revoked keys stay revoked.
    revoked: bool,
    checked_at: i64,
}

#[derive(Default)]
pub struct Keys {
    memos: HashMap<String, KeyMemo>,
}

impl Keys {
    /// Whether `key_hash` is a live key of `account_id`, as far as memory knows: `None` when
    /// the key's object is to be asked (first use, or an answer too old).
    pub fn known(&self, key_hash: &str, account_id: &str, now_ms: i64) -> Option<bool> {
        let m = self.memos.get(key_hash)?;
        if m.revoked {
            return Some(false);
        }
        (now_ms - m.checked_at < KEY_REVALIDATE_MS)
            .then(|| m.account_id.as_deref() == Some(account_id))
    }

    /// Keeps the key's object's answer (`owner`: the key's account while it is live) and
    /// says whether the key is live for `account_id`. A revocation told while the key's
    /// object answered wins.
    pub fn learn(
        &mut self,
        key_hash: &str,
        (owner, scopes): (Option<String>, Option<String>),
        account_id: &str,
        now_ms: i64,
    ) -> bool {
        if self.memos.get(key_hash).is_some_and(|m| m.revoked) {
            return false;
        }
        if self.memos.len() >= CACHE_SESSIONS {
            self.memos.retain(|_, m| m.revoked);
        }
        let live = owner.as_deref() == Some(account_id);
        let memo = KeyMemo {
            account_id: owner,
            scopes,
            revoked: false,
            checked_at: now_ms,
        };
        self.memos.insert(key_hash.to_owned(), memo);
        live
    }

    /// Whether a key known live holds `scope` (`domain::scope::allows`).
    pub fn holds(&self, key_hash: &str, scope: Scope) -> bool {
        let scopes = self.memos.get(key_hash).and_then(|m| m.scopes.as_deref());
        crate::domain::scope::allows(scopes, scope)
    }

    /// The key changed (its scopes): its object is asked again on its next use.
    pub fn forget(&mut self, key_hash: &str) {
        if self.memos.get(key_hash).is_some_and(|m| !m.revoked) {
            self.memos.remove(key_hash);
        }
    }

    /// The key was revoked: refused from now on.
    pub fn revoke(&mut self, key_hash: &str, now_ms: i64) {
        let memo = KeyMemo {
            account_id: None,
            scopes: None,
            revoked: true,
            checked_at: now_ms,
        };
        self.memos.insert(key_hash.to_owned(), memo);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_000_000;

    #[test]
    fn a_live_key_is_known_until_its_answer_is_old() {
        let mut keys = Keys::default();
        assert_eq!(keys.known("k", "a", NOW), None);
        assert!(keys.learn("k", (Some("a".into()), None), "a", NOW));
        assert_eq!(
            keys.known("k", "a", NOW + KEY_REVALIDATE_MS - 1),
            Some(true)
        );
        assert_eq!(keys.known("k", "b", NOW), Some(false));
        assert_eq!(keys.known("k", "a", NOW + KEY_REVALIDATE_MS), None);
    }

    #[test]
    fn a_key_of_another_account_or_none_is_not_live() {
        let mut keys = Keys::default();
        assert!(!keys.learn("k", (Some("b".into()), None), "a", NOW));
        assert!(!keys.learn("gone", (None, None), "a", NOW));
        assert_eq!(keys.known("gone", "a", NOW), Some(false));
    }

    #[test]
    fn a_revocation_is_final_and_wins_over_an_answer_on_its_way() {
        let mut keys = Keys::default();
        assert!(keys.learn("k", (Some("a".into()), None), "a", NOW));
        keys.revoke("k", NOW);
        assert_eq!(
            keys.known("k", "a", NOW + 10 * KEY_REVALIDATE_MS),
            Some(false)
        );
        assert!(!keys.learn("k", (Some("a".into()), None), "a", NOW + 1));
        assert_eq!(keys.known("k", "a", NOW + 1), Some(false));
    }

    #[test]
    fn scopes_are_kept_and_a_change_is_forgotten_but_not_a_revocation() {
        let mut keys = Keys::default();
        let held = (Some("a".into()), Some("otp:send".into()));
        assert!(keys.learn("k", held, "a", NOW));
        assert!(!keys.holds("k", Scope::OtpVerify));
        assert!(keys.holds("k", Scope::OtpSend));
        keys.forget("k");
        assert_eq!(keys.known("k", "a", NOW), None);
        assert!(keys.learn("all", (Some("a".into()), None), "a", NOW));
        assert!(keys.holds("all", Scope::OtpVerify));
        keys.revoke("r", NOW);
        keys.forget("r");
        assert_eq!(keys.known("r", "a", NOW), Some(false));
    }

    #[test]
    fn a_full_memory_forgets_live_keys_but_not_revocations() {
        let mut keys = Keys::default();
        keys.revoke("revoked", NOW);
        for i in 0..CACHE_SESSIONS {
            keys.learn(&format!("k{i}"), (Some("a".into()), None), "a", NOW);
        }
        assert!(keys.learn("new", (Some("a".into()), None), "a", NOW));
        assert_eq!(keys.known("k1", "a", NOW), None);
        assert_eq!(keys.known("revoked", "a", NOW), Some(false));
        assert_eq!(keys.known("new", "a", NOW), Some(true));
    }
}
